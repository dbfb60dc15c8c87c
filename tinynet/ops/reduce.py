"""Reductions over axes: sum, mean, max, min."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Context, Function
from ..tensor import Tensor, as_tensor
from .common import normalize_axis


def _expand(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Re-insert the reduced axes (as length 1) so ``grad`` broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    """z = Σ_axes a;  dz/da = 1 for every element (the gradient is broadcast back)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        return np.sum(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdims), ctx.shape)


class Mean(Function):
    """z = (1/n) Σ_axes a, n the number of reduced elements;  dz/da = 1/n."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        ctx.count = int(np.prod([a.shape[i] for i in axes]))
        return np.mean(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        scaled = _expand(grad, ctx.axes, ctx.keepdims) * (1.0 / ctx.count) if ctx.count else grad
        return np.broadcast_to(scaled, ctx.shape)


class Max(Function):
    """z = max_axes a;  dz/da = 1/k at each of the k elements equal to the maximum, 0 elsewhere.

    Sharing the gradient equally among ties keeps it a valid subgradient and makes max symmetric.
    ``Min`` is max of -a.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
        out = np.max(a, axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved_tensors
        mask = a == out
        share = mask / mask.sum(axis=ctx.axes, keepdims=True, dtype=a.dtype)
        return _expand(grad, ctx.axes, ctx.keepdims) * share


def _reduce(fn: type[Function], a: Any, axis: Any, keepdims: bool, name: str) -> Tensor:
    x = as_tensor(a)
    axes = normalize_axis(axis, x.ndim, name)
    if fn is Max and x.data.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    return fn.apply(x, axes=axes, keepdims=bool(keepdims))


def sum(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (int, tuple of ints, or None for all)."""
    return _reduce(Sum, a, axis, keepdims, "sum")


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (int, tuple of ints, or None for all)."""
    return _reduce(Mean, a, axis, keepdims, "mean")


def max(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; ties share the gradient equally."""
    return _reduce(Max, a, axis, keepdims, "max")


def min(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``, as -max(-a); ties share the gradient equally."""
    x = as_tensor(a)
    return -_reduce(Max, -x, axis, keepdims, "min")
