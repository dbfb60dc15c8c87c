"""Activation modules. Each exposes ``gain``: the factor an initializer should use for the layer in
front of it (``gain="auto"`` reads it).

Gains. For ReLU, LeakyReLU, Tanh, Sigmoid and Identity the values are those of PyTorch's
``calculate_gain`` table. SELU uses 1, not PyTorch's 3/4 (see :class:`SELU`). ELU, GELU and
Softplus, which the table does not cover, use the gain that preserves the second moment of a
standard normal pre-activation, ``1 / sqrt(E[f(z)**2])`` with ``z ~ N(0, 1)``, computed by
:func:`tinynet.init.estimate_gain` (a deterministic quadrature):

=====================  ==================
activation             gain
=====================  ==================
ELU (alpha=1)          1.2451983
GELU (exact)           1.5335304
GELU (tanh approx.)    1.5335805
Softplus               1.0418668
=====================  ==================

A user's own subclass of :class:`Activation` that does not set ``gain`` gets the same estimate for
its ``forward``, computed on first use.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .. import init
from ..function import no_grad
from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "Activation",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softplus",
    "Tanh",
]


def _as_array(out: Any) -> np.ndarray:
    return out.data if isinstance(out, Tensor) else np.asarray(out)


class Activation(Module):
    """A parameter-free elementwise module with a ``gain`` (see the module docstring).

    ``gain`` defaults to ``tinynet.init.estimate_gain`` of this module's ``forward``, i.e.
    ``1 / sqrt(E[forward(z)**2])`` for ``z ~ N(0, 1)``, computed once per instance. A subclass may
    set its own as a class attribute or property, and any instance accepts ``act.gain = value``.

    Raises
    ------
    ValueError
        On assignment of a gain that is not a positive finite number.
    """

    @property
    def gain(self) -> float:
        cached = self.__dict__.get("_gain")
        if cached is None:

            def fn(z: np.ndarray) -> np.ndarray:
                with no_grad():
                    return _as_array(self.forward(Tensor(np.asarray(z, dtype=np.float64))))

            cached = float(init.estimate_gain(fn))
            self.__dict__["_gain"] = cached
        return cached

    @gain.setter
    def gain(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"{type(self).__name__}.gain must be a number, got {type(value).__name__}"
            )
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{type(self).__name__}.gain must be positive and finite, got {value}")
        self.__dict__["_gain"] = float(value)


@functools.lru_cache(maxsize=64)
def _moment_gain(kind: str, param: float | str) -> float:
    """Second-moment-preserving gain of a built-in activation (cached: one quadrature per
    setting)."""
    if kind == "elu":
        return init.estimate_gain(lambda z: _as_array(F.elu(z, param)))
    if kind == "gelu":
        return init.estimate_gain(lambda z: _as_array(F.gelu(z, approximate=param)))
    return init.estimate_gain(lambda z: _as_array(F.softplus(z)))


class ReLU(Activation):
    """``max(x, 0)``. gain = √2 (half the inputs are zeroed, halving the second moment)."""

    gain = math.sqrt(2.0)

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Activation):
    """``x`` for x ≥ 0, ``negative_slope · x`` otherwise.

    gain = √(2 / (1 + s²)) with s = negative_slope (PyTorch's table).
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(
            negative_slope, (int, float, np.integer, np.floating)
        ):
            raise TypeError(
                f"LeakyReLU: negative_slope must be a number, got {type(negative_slope).__name__}"
            )
        self.negative_slope = float(negative_slope)

    @property
    def gain(self) -> float:  # type: ignore[override]
        return math.sqrt(2.0 / (1.0 + self.negative_slope**2))

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Activation):
    """``x`` for x > 0, ``alpha (eˣ - 1)`` otherwise.

    gain = 1 / √E[elu(z)²], z ~ N(0, 1): 1.2451983 for alpha = 1 (computed for the instance's
    alpha).
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
            raise TypeError(f"ELU: alpha must be a number, got {type(alpha).__name__}")
        self.alpha = float(alpha)

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("elu", self.alpha)

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Activation):
    """``scale · elu(x, alpha)`` with Klambauer et al.'s alpha ≈ 1.6733, scale ≈ 1.0507.

    gain = 1, where PyTorch's ``calculate_gain("selu")`` says 3/4. Self-normalizing networks rely on
    the fixed point mean 0, variance 1 of SELU, which holds when each layer's weights have variance
    1/fan_in: LeCun normal, i.e. gain 1 on fan_in. SELU was built so that E[selu(z)²] = 1 for
    z ~ N(0, 1), so the second-moment-preserving estimate is 1 as well. PyTorch's 3/4 deliberately
    gives up that fixed point in exchange for steadier gradients in non-square layers (its
    documentation says to pass ``nonlinearity="linear"`` for self-normalizing nets); tinynet's
    ``gain="auto"`` picks the self-normalizing choice.
    """

    gain = 1.0

    def forward(self, x: Any) -> Tensor:
        return F.selu(x)


class GELU(Activation):
    """``x Φ(x)`` (Φ the standard normal CDF); ``approximate="tanh"`` uses the tanh approximation.

    gain = 1 / √E[gelu(z)²], z ~ N(0, 1): 1.5335304 (exact), 1.5335805 (tanh).

    Raises
    ------
    ValueError
        If ``approximate`` is not ``"none"`` or ``"tanh"``.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("gelu", self.approximate)

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class Tanh(Activation):
    """``tanh(x)``. gain = 5/3, PyTorch's table value (the second-moment estimate would be
    1.5925)."""

    gain = 5.0 / 3.0

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Sigmoid(Activation):
    """``1 / (1 + e⁻ˣ)``. gain = 1, PyTorch's table value."""

    gain = 1.0

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Softplus(Activation):
    """``ln(1 + eˣ)`` (PyTorch's ``beta`` and ``threshold`` are not supported).

    gain = 1 / √E[softplus(z)²], z ~ N(0, 1) = 1.0418668.
    """

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("softplus", "")

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x)


class Identity(Activation):
    """Returns its input unchanged (constructor arguments are accepted and ignored). gain = 1."""

    gain = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x
