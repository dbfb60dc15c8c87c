"""Turning op arguments into tensors of agreeing dtype, and checking axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, get_default_dtype


def constant(value: Any, dtype: np.dtype | None) -> Tensor:
    """Wrap a number or array as a tensor that does not require grad.

    With a float ``dtype`` (that of the tensor it meets) the value is converted to it; otherwise numpy
    arrays keep their dtype and Python numbers and lists take the default float dtype.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected a number, array or Tensor, got {type(value).__name__}")
    if dtype is not None and dtype.kind == "f":
        target = dtype
    elif isinstance(value, (np.ndarray, np.generic)) or (
        dtype is not None and array.dtype.kind != "f"
    ):
        target = array.dtype
    else:
        target = get_default_dtype()
    if array.dtype != target:
        array = array.astype(target)
    return Tensor._make(array, False, None)


def operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of one float dtype.

    Numbers and arrays take the dtype of the tensor operand; an integer tensor is converted to the
    float tensor's dtype. Two float tensors of different dtypes are an error rather than a silent
    promotion of float32 to float64.
    """
    a_is, b_is = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is and b_is:
        da, db = a.data.dtype, b.data.dtype
        if da != db:
            if da.kind == "f" and db.kind == "f":
                raise TypeError(
                    f"{op}: dtype mismatch {da} and {db}; convert one side explicitly, "
                    f"e.g. tn.tensor(x, dtype=np.{da})"
                )
            if da.kind == "f":
                b = constant(b.data, da)
            elif db.kind == "f":
                a = constant(a.data, db)
        return a, b
    if a_is:
        b = constant(b, a.data.dtype)
        if a.data.dtype.kind != "f" and b.data.dtype.kind == "f":  # int tensor meets a float: take its dtype
            a = constant(a.data, b.data.dtype)
        return a, b
    if b_is:
        a = constant(a, b.data.dtype)
        if b.data.dtype.kind != "f" and a.data.dtype.kind == "f":
            b = constant(b.data, a.data.dtype)
        return a, b
    raise TypeError(f"{op}: expected at least one Tensor operand")


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant tensor (floats keep their dtype)."""
    if isinstance(x, Tensor):
        return x
    return constant(x, None)


def normalize_axis(
    axis: int | tuple[int, ...] | list[int] | None, ndim: int, op: str
) -> tuple[int, ...]:
    """Axes as a sorted tuple of non-negative ints; ``None`` means every axis.

    Raises
    ------
    ValueError
        If an axis is out of range or repeated.
    TypeError
        If ``axis`` is not an int, a tuple of ints, or None.
    """
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(items, (tuple, list)) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in items
    ):
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    axes = tuple(int(a) for a in items)
    result = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        result.append(a % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))
