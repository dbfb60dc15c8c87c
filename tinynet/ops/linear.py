"""The fused linear op ``x @ W + b``: one op on the hot path of every layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Context, Function
from ..tensor import Tensor
from .common import operands


class Linear(Function):
    """z = x @ W + b for x of shape (..., in), W (in, out), b (out,).

    dL/dx = g @ Wᵀ, dL/dW = xᵀ @ g (over all leading axes), dL/db = Σ g over leading axes.
    Fused so that the bias is added in place into the fresh product: one op and one temporary fewer than
    ``x @ W + b`` on the hot path of every layer.
    """

    fresh_grads = True  # three new arrays: two matrix products and a reduction

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, *bias: np.ndarray) -> np.ndarray:
        ctx.saved_tensors = (x, weight)  # save_for_backward's effect, one call fewer per layer
        out = x @ weight
        if bias:
            out += bias[0]
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, weight = ctx.saved_tensors
        return _linear_grads(x, weight, ctx.needs_input_grad, grad)


def _linear_grads(
    x: np.ndarray, weight: np.ndarray, needs: tuple[bool, ...], grad: np.ndarray
) -> tuple[np.ndarray | None, ...]:
    """(dL/dx, dL/dW[, dL/db]) of ``x @ W + b`` for ``grad`` = dL/dz; None where ``needs`` says no."""
    need_x, need_w = needs[0], needs[1]
    if x.ndim != 2:
        x = x.reshape(-1, x.shape[-1])
        flat = grad.reshape(-1, grad.shape[-1])
    else:
        flat = grad
    grad_x = grad @ weight.T if need_x else None
    grad_w = x.T @ flat if need_w else None
    if len(needs) == 2:
        return grad_x, grad_w
    # np.add.reduce rather than flat.sum(): the method's wrapper costs about a microsecond per layer.
    return grad_x, grad_w, (np.add.reduce(flat, axis=0) if needs[2] else None)


class LinearRelu(Function):
    """z = max(x @ W + b, 0): :class:`Linear` followed by ReLU, as one op (``nn.Sequential`` uses it
    for a ``Linear`` directly followed by a ``ReLU``).

    dL/d(x @ W + b) = g · [z > 0], then :class:`Linear`'s backward. The same numpy operations in the same
    order as the two ops apart (the maximum is taken in place into the fresh product), so the values
    and gradients are bit for bit those of ``relu(linear(x, W, b))``; one node, and one array, fewer.
    """

    fresh_grads = True

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, *bias: np.ndarray) -> np.ndarray:
        out = x @ weight
        if bias:
            out += bias[0]
        np.maximum(out, 0, out=out)
        ctx.saved_tensors = (x, weight, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, weight, out = ctx.saved_tensors
        return _linear_grads(x, weight, ctx.needs_input_grad, grad * (out > 0))


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """``x @ weight + bias`` as one op; ``weight`` has shape (in, out) and ``bias`` (out,) or None.

    Raises
    ------
    ValueError
        If ``x``'s last dimension is not ``weight``'s first, or the bias is not of shape (out,).
    """
    x, w = operands(x, weight, "linear")
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[0]:
        raise ValueError(f"linear: {x.shape} @ {w.shape} (inner dimensions do not match)")
    if bias is None:
        return Linear.apply(x, w)
    _, b = operands(w, bias, "linear")
    if b.shape != (w.shape[1],):
        raise ValueError(f"linear: bias has shape {b.shape}, expected ({w.shape[1]},)")
    return Linear.apply(x, w, b)
