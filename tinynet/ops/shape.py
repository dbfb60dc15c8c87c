"""Ops that move elements without changing them: reshape, transpose, indexing."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Context, Function
from ..tensor import Tensor
from .common import as_tensor


class Reshape(Function):
    """z = a viewed with a new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(ctx.shape)


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


def reshape(a: Any, shape: tuple[int, ...]) -> Tensor:
    """The elements of ``a`` in ``shape`` (one entry may be -1).

    Raises
    ------
    ValueError
        If the element counts differ, naming both shapes.
    """
    x = as_tensor(a)
    try:
        return Reshape.apply(x, shape=tuple(int(s) for s in shape))
    except ValueError as error:
        raise ValueError(f"reshape: cannot reshape {x.shape} into {tuple(shape)}") from error


def transpose(a: Any, axes: tuple[int, ...] | None = None) -> Tensor:
    """Permute the axes of ``a`` (reverse them when ``axes`` is None).

    Raises
    ------
    ValueError
        If ``axes`` is not a permutation of the tensor's axes.
    """
    x = as_tensor(a)
    if axes is not None:
        axes = tuple(int(i) % x.ndim if x.ndim else int(i) for i in axes)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {x.ndim} axes")
    return Transpose.apply(x, axes=axes)


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
    x = as_tensor(a)
    index = _plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor of shape {x.shape})") from error
