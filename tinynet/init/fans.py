"""Fans of a weight shape: how many inputs feed, and how many outputs read, one weight."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def as_shape(shape: int | Iterable[int], op: str = "init") -> tuple[int, ...]:
    """Coerce ``shape`` (an int or a sequence of ints) to a tuple of non-negative ints.

    Raises
    ------
    TypeError
        If ``shape`` is not an int or an iterable of ints.
    ValueError
        If a dimension is negative.
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{op}: shape must be an int or a sequence of ints, got {type(shape).__name__}"
        ) from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: shape must contain ints, got {dims!r}")
        if d < 0:
            raise ValueError(f"{op}: shape dimensions must be >= 0, got {dims!r}")
    return tuple(int(d) for d in dims)


def fans(shape: int | Iterable[int]) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight of the given shape.

    Conventions (tinynet stores weights input-first, kernels channels-last):

    - 1-D ``(n,)``: ``fan_in = fan_out = n``;
    - 2-D ``(n_in, n_out)``: ``fan_in = n_in``, ``fan_out = n_out``;
    - N-D ``(k1, ..., kd, c_in, c_out)``: the receptive field ``r = k1 * ... * kd`` multiplies both,
      ``fan_in = r * c_in``, ``fan_out = r * c_out``.

    Raises
    ------
    ValueError
        For a 0-d shape ``()``, which has no fans.
    """
    dims = as_shape(shape, "init.fans")
    if len(dims) == 0:
        raise ValueError("init.fans: a 0-d shape () has no fans; pass fan_in/fan_out explicitly")
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive = math.prod(dims[:-2])
    return dims[-2] * receptive, dims[-1] * receptive


def _check_fan(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"init: {name} must be a number or None, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"init: {name} must be finite and >= 0, got {value!r}")
    return value


def resolve_fans(
    shape: tuple[int, ...], fan_in: float | None, fan_out: float | None
) -> tuple[float, float]:
    """Fill in whichever of ``fan_in``/``fan_out`` is None from :func:`fans` of ``shape``.

    Explicit fans win: a layer knows its fans better than its weight's shape does.
    """
    fan_in = _check_fan("fan_in", fan_in)
    fan_out = _check_fan("fan_out", fan_out)
    if fan_in is None or fan_out is None:
        shape_in, shape_out = fans(shape)
        fan_in = shape_in if fan_in is None else fan_in
        fan_out = shape_out if fan_out is None else fan_out
    return fan_in, fan_out
