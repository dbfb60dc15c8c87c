"""What ops share: the dtype rules of two operands, the ``Binary`` base that applies them, axis checks."""

from __future__ import annotations

from typing import Any

from .._checks import is_int
from ..function import Function
from ..tensor import Tensor, constant


def operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of one float dtype.

    Numbers and arrays take the dtype of the tensor operand; an integer tensor is converted to the
    float tensor's dtype. Two float tensors of different dtypes are an error rather than a silent
    promotion of float32 to float64.

    Raises
    ------
    TypeError
        If neither operand is a Tensor, an operand is not numeric, or two float dtypes differ.
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


class Binary(Function):
    """An op of two operands under numpy broadcasting (add, sub, mul, div, pow, matmul).

    Its operands follow :func:`operands` (one float dtype; numbers and arrays take the tensor's), and a
    broadcasting failure names the op (its class name in lower case) and both shapes.
    """

    @classmethod
    def _operands(cls, a: Any, b: Any) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        if type(a) is Tensor and type(b) is Tensor and a.data.dtype == b.data.dtype:
            return a, b  # the common case: nothing to convert
        return operands(a, b, cls.__name__.lower())

    @classmethod
    def _explain(
        cls, error: Exception, inputs: tuple[Tensor, ...], options: dict[str, Any]
    ) -> Exception | None:
        a, b = inputs
        if isinstance(error, ValueError) and a.shape != b.shape:
            return ValueError(
                f"{cls.__name__.lower()}: shapes {a.shape} and {b.shape} cannot be broadcast together"
            )
        return None


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
    items = (axis,) if is_int(axis) else axis
    if not isinstance(items, (tuple, list)) or not all(is_int(a) for a in items):
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
