"""Fused, numerically stable softmax and log-softmax (the fused cross-entropy is in ``cross_entropy.py``).

Each exists as one op for stability (the max is subtracted before exponentiating, so logits of ±1e4 stay
finite) and for speed (one backward instead of a chain). Tests compare each with its composed twin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Context, Function
from ..tensor import Tensor, as_tensor
from .common import normalize_axis


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class LogSoftmax(Function):
    """z = a - log Σ e**a along ``axis``;  dL/da = g - softmax(a) Σ g."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        out = _log_softmax(a, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * np.sum(grad, axis=ctx.axis, keepdims=True)


class Softmax(Function):
    """z = e**a / Σ e**a along ``axis``;  dL/da = z (g - Σ g z)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        e = np.exp(a - np.max(a, axis=axis, keepdims=True))
        out = e / np.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (out,) = ctx.saved_tensors
        return out * (grad - np.sum(grad * out, axis=ctx.axis, keepdims=True))


def log_softmax(a: Any, axis: int = -1) -> Tensor:
    """log(softmax(a)) along ``axis``, computed stably in one op."""
    x = as_tensor(a)
    (ax,) = normalize_axis(axis, x.ndim, "log_softmax")
    return LogSoftmax.apply(x, axis=ax)


def softmax(a: Any, axis: int = -1) -> Tensor:
    """e**a / Σ e**a along ``axis``, computed stably in one op."""
    x = as_tensor(a)
    (ax,) = normalize_axis(axis, x.ndim, "softmax")
    return Softmax.apply(x, axis=ax)
