"""Ops that move elements without changing them: reshape, transpose, indexing."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import is_int
from ..function import Context, Function
from ..tensor import Tensor, as_tensor


class Reshape(Function):
    """z = a viewed with a new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(ctx.shape)

    @classmethod
    def _explain(
        cls, error: Exception, inputs: tuple[Tensor, ...], options: dict[str, Any]
    ) -> Exception | None:
        if isinstance(error, ValueError):
            return ValueError(f"reshape: cannot reshape {inputs[0].shape} into {options['shape']}")
        return None


class Transpose(Function):
    """z = a with axes permuted;  the gradient is permuted by the inverse permutation."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
        ctx.axes = axes
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        if ctx.axes is None:
            return np.transpose(grad)
        return np.transpose(grad, np.argsort(ctx.axes))


def _is_basic(index: Any) -> bool:
    """True when indexing makes a view (ints, slices, None, Ellipsis): no element can repeat."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    """z = a[index];  the gradient is scattered back into zeros, summing at repeated indices."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: Any) -> np.ndarray:
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        out = np.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_basic(ctx.index):
            out[ctx.index] = grad
        else:
            np.add.at(out, ctx.index, grad)
        return out

    @classmethod
    def _explain(
        cls, error: Exception, inputs: tuple[Tensor, ...], options: dict[str, Any]
    ) -> Exception | None:
        if isinstance(error, IndexError):
            return IndexError(f"getitem: {error} (tensor of shape {inputs[0].shape})")
        return None


def _varargs(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """``f(x, 2, 3)`` and ``f(x, (2, 3))`` alike: one tuple or list argument stands for its items."""
    return tuple(values[0]) if len(values) == 1 and isinstance(values[0], (tuple, list)) else values


def reshape(a: Any, *shape: int | tuple[int, ...]) -> Tensor:
    """The elements of ``a`` in ``shape``, given as ints or one tuple (one entry may be -1).

    Raises
    ------
    TypeError
        If an entry of the shape is not an int.
    ValueError
        If the element counts differ, naming both shapes.
    """
    dims = _varargs(shape)
    for s in dims:
        if type(s) is not int and not is_int(s):
            raise TypeError(f"reshape: the shape must be ints, got {dims!r}")
    return Reshape.apply(a, shape=tuple([int(s) for s in dims]))


def transpose(a: Any, *axes: int | tuple[int, ...] | None) -> Tensor:
    """Permute the axes of ``a``, given as ints or one tuple; reversed when none (or None) are given.

    Raises
    ------
    TypeError
        If an axis is not an int.
    ValueError
        If ``axes`` is not a permutation of the tensor's axes.
    """
    order = () if len(axes) == 1 and axes[0] is None else _varargs(axes)
    if not order:
        return Transpose.apply(a, axes=None)
    for i in order:
        if not is_int(i):
            raise TypeError(f"transpose: axes must be ints, got {order!r}")
    x = as_tensor(a)
    order = tuple([int(i) % x.ndim if x.ndim else int(i) for i in order])
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {order} are not a permutation of {x.ndim} axes")
    return Transpose.apply(x, axes=order)


def _plain_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    return index


def getitem(a: Any, index: Any) -> Tensor:
    """``a[index]`` for ints, slices, None, Ellipsis, and integer or boolean arrays (or Tensors).

    Raises
    ------
    IndexError
        If an index is out of range (numpy's message, prefixed with the tensor's shape).
    """
    return GetItem.apply(a, index=_plain_index(index))
