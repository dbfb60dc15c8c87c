"""Gains: the factor multiplying an initializer's std to offset an activation's shrinkage.

:func:`calculate_gain` is PyTorch's table; :func:`estimate_gain` computes a gain for any activation;
:func:`check_gain` validates the ``gain`` argument of a scheme and :func:`gain_value` turns it into
a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import check_real, closest
from ..function import no_grad
from ..tensor import tensor

_UNIT_GAIN = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)
NONLINEARITIES: tuple[str, ...] = (*_UNIT_GAIN, "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for a nonlinearity: PyTorch's ``torch.nn.init.calculate_gain`` table.

    ==================================================  =============================
    nonlinearity                                        gain
    ==================================================  =============================
    linear, conv1d/2d/3d, conv_transpose1d/2d/3d        1
    sigmoid                                             1
    tanh                                                5/3
    relu                                                sqrt(2)
    leaky_relu                                          sqrt(2 / (1 + s**2)), s = param or 0.01
    selu                                                3/4
    ==================================================  =============================

    Raises
    ------
    TypeError
        For a ``nonlinearity`` that is not a string, or a ``param`` for ``leaky_relu`` that is not a
        real number (bools are rejected).
    ValueError
        For an unknown ``nonlinearity`` (the message lists the valid ones) or a NaN ``param``.
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(
            f"calculate_gain: nonlinearity must be a str, got {type(nonlinearity).__name__}"
        )
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01
        if param is not None:
            slope = check_real("calculate_gain", "param (negative_slope) for leaky_relu", param, finite=False)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; "
        f"valid: {', '.join(NONLINEARITIES)}"
        " (use init.estimate_gain(fn) for any other activation)"
    )


def _quadrature(half_width: float = 16.0, panel: float = 0.125, order: int = 12):
    """Nodes and weights of a composite Gauss-Legendre rule for E[g(z)], z ~ N(0, 1).

    Panel edges fall on every multiple of ``panel`` (so on every integer): the kinks of common
    activations (ReLU at 0, hardtanh at +-1, ReLU6 at 6, hardswish at +-3) sit on panel edges, where
    the rule stays exact to high order. Beyond +-16 the normal density is below 1e-55.
    """
    edges = np.arange(-half_width, half_width + panel / 2, panel)
    x, w = np.polynomial.legendre.leggauss(order)
    mids = (edges[:-1] + edges[1:]) / 2
    nodes = (mids[:, None] + x[None, :] * panel / 2).ravel()
    density = np.exp(-0.5 * nodes**2) / math.sqrt(2 * math.pi)
    weights = np.tile(w * panel / 2, len(mids)) * density
    return nodes, weights


_NODES, _WEIGHTS = _quadrature()


def _evaluate(fn: Callable[[Any], Any], z: np.ndarray) -> np.ndarray:
    """Call ``fn`` on a numpy array; if it only accepts tinynet Tensors, call it on one."""
    try:
        out = fn(z)
    except (TypeError, AttributeError):
        with no_grad():
            out = fn(tensor(z, dtype=np.float64))
    if hasattr(out, "data") and not isinstance(out, np.ndarray):
        out = out.data
    return np.asarray(out, dtype=np.float64)


def estimate_gain(fn: Callable[[Any], Any]) -> float:
    """Gain that preserves the second moment of a standard-normal pre-activation through ``fn``.

    ``gain = 1 / sqrt(E[fn(z)**2])`` with ``z ~ N(0, 1)``, computed by a deterministic composite
    Gauss-Legendre quadrature (12 nodes on each of 256 panels of width 1/8 over [-16, 16]). Gives
    ``sqrt(2)`` for ReLU, about 1.5927 for tanh, 1 for the identity and (to quadrature accuracy) for
    SELU. ``fn`` is elementwise and takes a numpy array or, failing that, a tinynet Tensor.

    Raises
    ------
    ValueError
        If ``fn`` returns a result of the wrong shape, a non-finite value, or is zero almost
        everywhere (no gain can restore a zero second moment).
    """
    if not callable(fn):
        raise TypeError(f"estimate_gain: fn must be callable, got {type(fn).__name__}")
    with np.errstate(all="ignore"):  # non-finite results are reported below, by name
        values = _evaluate(fn, _NODES.copy())
    if values.shape != _NODES.shape:
        raise ValueError(
            f"estimate_gain: fn must be elementwise; input shape {_NODES.shape} gave {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("estimate_gain: fn returned non-finite values on N(0, 1) inputs")
    with np.errstate(over="ignore"):
        second_moment = float(np.dot(_WEIGHTS, values**2))
    if not math.isfinite(second_moment):
        raise ValueError("estimate_gain: E[fn(z)^2] is not finite (non-finite values or overflow)")
    if not second_moment > 0:
        raise ValueError("estimate_gain: E[fn(z)^2] is 0, so no gain can preserve the variance")
    return 1.0 / math.sqrt(second_moment)


def check_gain(owner: str, gain: Any) -> float | str:
    """A scheme's ``gain`` argument, checked: a real number >= 0 (returned as a float), ``"auto"``
    (the gain of the activation after the layer) or a nonlinearity name of :func:`calculate_gain`.

    Raises
    ------
    TypeError
        If ``gain`` is neither a string nor a real number.
    ValueError
        For a negative or non-finite number, or an unknown name (with the closest match).
    """
    if isinstance(gain, str):
        if gain == "auto" or gain in NONLINEARITIES:
            return gain
        hint = closest(gain, ("auto", *NONLINEARITIES))
        raise ValueError(
            f"{owner}: gain must be a number, 'auto' or one of {', '.join(NONLINEARITIES)}, "
            f"got {gain!r}" + (f" (closest match: {hint!r})" if hint else "")
        )
    return check_real(owner, "gain", gain, minimum=0.0)


def gain_value(gain: float | str) -> float:
    """Numeric value of a checked gain; ``"auto"`` outside a model means 1.0."""
    if gain == "auto":
        return 1.0
    if isinstance(gain, str):
        return calculate_gain(gain)
    return float(gain)
