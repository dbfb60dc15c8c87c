"""The array figures behind the Monitor: symmetry of a weight (distinct units, largest cosine,
numerical rank), saturated and dead shares read off an activation's derivative at its inputs, the
update:data ratio, the gradient-flow ratio and histogram binning.

Each function takes plain arrays (numpy arrays or Tensors) and returns plain numbers, so it can be
used and tested without a Monitor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import check_choice, check_real
from ..nn.activation import ACTIVATIONS, SATURATION_FACTOR, Activation, make_activation
from ..tensor import Tensor

__all__ = [
    "array_of",
    "dead_fraction",
    "distinct_units",
    "gradient_flow",
    "histogram",
    "max_cosine",
    "mean_of",
    "norm_of",
    "numerical_rank",
    "saturation_fraction",
    "std_of",
    "update_ratio",
]


def array_of(x: Any) -> np.ndarray:
    """The numpy array of a Tensor, or ``np.asarray(x)``."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def std_of(a: np.ndarray) -> float:
    """``std(a)`` accumulated in float64; nan for an empty array."""
    return float(a.std(dtype=np.float64)) if a.size else float("nan")


def mean_of(a: np.ndarray) -> float:
    """``mean(a)`` accumulated in float64; nan for an empty array."""
    return float(a.mean(dtype=np.float64)) if a.size else float("nan")


def norm_of(a: np.ndarray) -> float:
    """Frobenius norm ``sqrt(sum(a**2))`` in float64."""
    flat = a.ravel().astype(np.float64, copy=False)
    return float(math.sqrt(flat @ flat))


# ---------------------------------------------------------------------------------------- symmetry
def _units(weight: Any, name: str) -> np.ndarray:
    """The units of a weight of shape ``(in, out)`` as rows of an ``(out, in)`` float64 matrix."""
    w = array_of(weight)
    if w.ndim < 2:
        raise ValueError(
            f"{name}: weight must have at least 2 dimensions (..., in, out), got shape {w.shape}"
        )
    return w.reshape(-1, w.shape[-1]).T.astype(np.float64)


def _close_pairs(units: np.ndarray, tol: float) -> np.ndarray:
    """Boolean matrix: pairwise distance of units within ``tol`` times the largest unit norm."""
    sq = np.einsum("ij,ij->i", units, units)
    gram = units @ units.T
    dist2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * gram, 0.0)
    scale = float(np.sqrt(sq.max()))
    # The Gram form loses ~1e-8 relative precision in float64; never compare below that.
    threshold = max(tol, 1e-7) * scale
    return dist2 <= threshold * threshold


def distinct_units(weight: Any, tol: float = 1e-3) -> int:
    """Number of distinct units (columns) of a weight of shape ``(in, out)``.

    Columns ``i`` and ``j`` are the same unit when ``||w_i - w_j|| <= tol * max_k ||w_k||``; units
    are grouped greedily (each unit joins the first earlier group it is that close to). An all-zero
    weight has 1 distinct unit. N-D kernels ``(..., in, out)`` (one unit per output channel) are
    flattened to ``(prod(shape[:-1]), out)``.

    Raises
    ------
    TypeError
        If ``tol`` is not a real number.
    ValueError
        If the weight has fewer than 2 dimensions or ``tol`` is negative.
    """
    tol = check_real("distinct_units", "tol", tol, minimum=0)
    units = _units(weight, "distinct_units")
    if units.shape[0] == 0:
        return 0
    close = _close_pairs(units, tol)
    assigned = np.zeros(units.shape[0], dtype=bool)
    count = 0
    for i in range(units.shape[0]):
        if not assigned[i]:
            count += 1
            assigned |= close[i]
    return count


def max_cosine(weight: Any, tol: float = 1e-3) -> float:
    """Largest cosine similarity ``w_i·w_j / (||w_i|| ||w_j||)`` over pairs of columns ``i != j``.

    Identical units (see :func:`distinct_units`, including two all-zero units) count as cosine 1; a
    zero unit next to a non-zero one counts as 0. A layer with one unit gives ``nan``.

    Raises
    ------
    TypeError
        If ``tol`` is not a real number.
    ValueError
        If the weight has fewer than 2 dimensions or ``tol`` is negative.
    """
    tol = check_real("max_cosine", "tol", tol, minimum=0)
    units = _units(weight, "max_cosine")
    n = units.shape[0]
    if n < 2:
        return float("nan")
    norms = np.sqrt(np.einsum("ij,ij->i", units, units))
    safe = np.where(norms > 0, norms, 1.0)
    cos = (units @ units.T) / safe[:, None] / safe[None, :]
    close = _close_pairs(units, tol)
    cos = np.where(close, 1.0, cos)
    np.fill_diagonal(cos, -np.inf)
    return float(min(cos.max(), 1.0))


def numerical_rank(weight: Any) -> int:
    """Numerical rank: singular values above ``s_max * max(in, out) * eps(dtype)``.

    This is numpy's ``matrix_rank`` rule, with ``eps`` of the weight's own float dtype. A zero
    matrix has rank 0.

    Raises
    ------
    ValueError
        If the weight has fewer than 2 dimensions.
    """
    w = array_of(weight)
    if w.ndim < 2:
        raise ValueError(f"numerical_rank: weight must have at least 2 dimensions, got shape {w.shape}")
    w = w.reshape(-1, w.shape[-1])
    if w.size == 0:
        return 0
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    s = np.linalg.svd(w.astype(dtype), compute_uv=False)
    threshold = s.max() * max(w.shape) * np.finfo(dtype).eps
    return int((s > threshold).sum())


# ------------------------------------------------------------------------------------ activations
def _declaring(owner: str, activation: str | Activation, declaration: str) -> Activation:
    """The activation (an instance, or a built-in by name) that declares ``declaration`` True."""
    if isinstance(activation, Activation):
        if not getattr(activation, declaration):
            raise ValueError(
                f"{owner}: activation must declare {declaration} = True, got {type(activation).__name__}"
            )
        return activation
    names = [name for name, cls in ACTIVATIONS.items() if getattr(cls, declaration) is True]
    return make_activation(check_choice(owner, "activation", activation, names))


def _slopes(owner: str, pre_activations: Any, activation: Activation) -> np.ndarray:
    """``|φ'(h)|`` of the activation at its inputs, as float64 of the inputs' shape."""
    h = array_of(pre_activations)
    slopes = np.abs(np.asarray(activation.derivative(h), dtype=np.float64))
    if slopes.shape != h.shape:
        raise ValueError(
            f"{owner}: {type(activation).__name__}.derivative must return the shape of its input "
            f"{h.shape}, got {slopes.shape}"
        )
    return slopes


def saturation_fraction(pre_activations: Any, activation: str | Activation) -> float:
    """Share of saturated inputs h of an activation φ: ``mean(|φ'(h)| < SATURATION_FACTOR · max|φ'|)``.

    ``SATURATION_FACTOR`` = 1 - 0.97² ≈ 0.059 (:data:`tinynet.nn.activation.SATURATION_FACTOR`) and
    max|φ'| is the activation's ``max_derivative``; there the gradient on its way back is multiplied
    by less than 6% of the activation's best slope. For tanh this is exactly ``|tanh(h)| > 0.97``,
    for sigmoid an output below 0.015 or above 0.985. The share is over every element, which for a
    channels-last image ``(N, H, W, C)`` is also the mean over its channels of each channel's
    share (every channel has ``N * H * W`` elements).

    Parameters
    ----------
    pre_activations
        The activation's inputs h, any shape (array or Tensor); an empty array gives 0.
    activation
        An ``nn.Activation`` that declares ``saturates = True``, or the name of such a built-in
        (``"tanh"``, ``"sigmoid"``).

    Raises
    ------
    TypeError
        If ``activation`` is neither a string nor an ``nn.Activation``.
    ValueError
        If ``activation`` names no saturating built-in, or does not declare ``saturates = True``.
    """
    act = _declaring("saturation_fraction", activation, "saturates")
    slopes = _slopes("saturation_fraction", pre_activations, act)
    if slopes.size == 0:
        return 0.0
    return float(np.mean(slopes < SATURATION_FACTOR * act.max_derivative))


def dead_fraction(pre_activations: Any, activation: str | Activation = "relu") -> float:
    """Share of units whose slope ``φ'(h)`` is exactly 0 on every example of the batch.

    ``pre_activations`` holds the activation's inputs h. For a 2-D batch ``(N, units)`` (or 1-D
    ``(N,)``: one unit) a unit is a column. For 3 or more dimensions the input is channels-last,
    such as an NHWC image ``(N, H, W, C)``: a unit is a *channel*, and every example at every
    position is one of its ``N * H * W`` samples, so a channel is dead when ``φ'(h) = 0`` at every
    pixel of every example (a convolution's output channel shares its filter over all positions).
    No gradient passes a dead unit for any of these examples, so the weights in front of it do not
    learn from them. For ReLU a unit is dead when ``h <= 0`` on every sample; a unit of ELU, SELU
    or GELU with negative inputs still passes gradient (those declare ``can_die = False``). An
    empty batch gives 0.

    Raises
    ------
    TypeError
        If ``activation`` is neither a string nor an ``nn.Activation``.
    ValueError
        If ``activation`` names no built-in that can die (``"relu"``), or does not declare
        ``can_die = True``.
    """
    act = _declaring("dead_fraction", activation, "can_die")
    slopes = _slopes("dead_fraction", pre_activations, act)
    if slopes.ndim == 0 or slopes.shape[0] == 0:
        return 0.0
    channels = slopes.shape[-1] if slopes.ndim >= 3 else math.prod(slopes.shape[1:])
    if channels == 0 or slopes.size == 0:
        return 0.0
    flat = slopes.reshape(-1, channels)
    return float(np.mean(np.all(flat == 0, axis=0)))


# ---------------------------------------------------------------------------------------- training
def update_ratio(before: Any, after: Any) -> float | None:
    """``log10(std(after - before) / std(after))``: one optimizer update relative to the weight.

    About -3 is healthy for SGD-like training (Karpathy's rule of thumb). Returns None when the
    weight has zero spread or the update is exactly zero (the logarithm is undefined).
    """
    new = array_of(after).astype(np.float64)
    delta = new - array_of(before).astype(np.float64)
    spread = float(new.std())
    change = float(delta.std())
    if not (spread > 0 and change > 0) or not (math.isfinite(spread) and math.isfinite(change)):
        return None
    return math.log10(change / spread)


def gradient_flow(first: float | None, last: float | None) -> float | None:
    """``first / last``, the ratio of a gradient figure at the first layer to the same figure at a
    later one: below 1, gradients shrink on their way back to the first layer.

    The Monitor's ``gradient_flow`` passes ``std(dL/d out_first)`` and ``std(dL/d out_last)``, the
    back-propagated signal at the first and the last hidden weight layer; its ``weight_grad_ratio``
    passes the weight-gradient norms of the first and the last layer. None when either figure is
    None or not finite, or ``last`` is not positive; 0 when no gradient reaches the first layer.
    """
    if first is None or last is None or not (math.isfinite(first) and math.isfinite(last)):
        return None
    if last <= 0:
        return None
    return first / last


def histogram(
    a: Any, bins: int, value_range: tuple[float, float] | None = None
) -> dict[str, list[float]] | None:
    """``{"counts": [...], "edges": [...]}`` of the finite values of ``a`` in ``bins`` bins, or
    None when there is none.

    The range is ``value_range`` when given (an activation's declared ``output_range``, e.g.
    ``(-1, 1)`` for tanh), else the data's own; a range too narrow to split into ``bins`` float64
    bins (or a constant array) becomes a unit range centred on the data.
    """
    # float64: numpy cannot cut the range of a near-constant float32 layer into `bins` finite bins.
    values = array_of(a).ravel().astype(np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    if value_range is not None:
        lo, hi = float(value_range[0]), float(value_range[1])
    else:
        lo, hi = float(values.min()), float(values.max())
        # Too narrow to split even in float64 (or constant): one spike in the middle of a unit range.
        if hi - lo < 64 * bins * np.spacing(max(abs(lo), abs(hi), 1.0)):
            middle = (lo + hi) / 2
            lo, hi = middle - 0.5, middle + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {"counts": counts.tolist(), "edges": edges.tolist()}
