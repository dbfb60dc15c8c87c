"""Fans of a weight shape: how many inputs feed, and how many outputs read, one weight."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .._checks import check_real, is_int

#: a weight's shape, as every strategy's ``sample`` receives it
Shape = tuple[int, ...]
#: ``(fan_in, fan_out)``, as every strategy's ``sample`` receives it
Fans = tuple[float, float]


def as_shape(shape: int | Iterable[int], op: str = "init") -> Shape:
    """Coerce ``shape`` (an int or a sequence of ints) to a tuple of non-negative ints.

    Raises
    ------
    TypeError
        If ``shape`` is not an int or an iterable of ints.
    ValueError
        If a dimension is negative.
    """
    if is_int(shape):
        shape = (shape,)  # type: ignore[assignment]
    try:
        dims = tuple(shape)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{op}: shape must be an int or a sequence of ints, got {type(shape).__name__}"
        ) from None
    for d in dims:
        if not is_int(d):
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
    check_real("init", name, value, minimum=0.0)
    return value  # as given: a layer's int fans stay ints for a user's function


def resolve_fans(
    shape: Shape, fan_in: float | None = None, fan_out: float | None = None, *, needed: bool = True
) -> Fans:
    """``(fan_in, fan_out)``: the explicit ones where given, the rest from :func:`fans` of ``shape``.

    Explicit fans win: a layer knows its fans better than its weight's shape does. A 0-d shape has
    no fans of its own; for a strategy that does not use them (``needed=False``) a missing fan is
    then NaN instead of an error.

    Raises
    ------
    TypeError
        If an explicit fan is not a real number.
    ValueError
        If an explicit fan is negative or not finite, or (with ``needed=True``) a fan is missing
        for a 0-d shape.
    """
    fan_in = _check_fan("fan_in", fan_in)
    fan_out = _check_fan("fan_out", fan_out)
    if fan_in is None or fan_out is None:
        if not shape and not needed:
            shape_in, shape_out = math.nan, math.nan
        else:
            shape_in, shape_out = fans(shape)
        fan_in = shape_in if fan_in is None else fan_in
        fan_out = shape_out if fan_out is None else fan_out
    return fan_in, fan_out
