"""Matrix product with numpy's ``@`` semantics (1-D operands, batched stacks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Context, Function
from ..tensor import Tensor
from .common import operands


class MatMul(Function):
    """z = a @ b;  dL/da = g @ bᵀ, dL/db = aᵀ @ g (transposing the last two axes).

    A 1-D ``a`` is a row vector and a 1-D ``b`` a column vector, as in numpy; batch axes broadcast and the
    engine sums their gradients back.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshaping
            return (grad @ b.T if need_a else None), (a.T @ grad if need_b else None)
        if a.ndim == 1 and b.ndim == 1:  # inner product: a scalar output
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        grad_a = grad_b = None
        if need_a:
            grad_a = g @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                grad_a = grad_a[..., 0, :]
        if need_b:
            grad_b = np.swapaxes(a2, -1, -2) @ g
            if b.ndim == 1:
                grad_b = grad_b[..., :, 0]
        return grad_a, grad_b


def matmul(a: Any, b: Any) -> Tensor:
    """``a @ b``.

    Raises
    ------
    ValueError
        If an operand is 0-d or the inner dimensions (or batch axes) disagree, as ``matmul: (3, 4) @ (5, 2)``.
    """
    x, y = operands(a, b, "matmul")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got {x.shape} @ {y.shape}"
        )
    inner_b = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if x.shape[-1] != inner_b:
        raise ValueError(
            f"matmul: {x.shape} @ {y.shape} (inner dimensions {x.shape[-1]} != {inner_b})"
        )
    try:
        return MatMul.apply(x, y)
    except ValueError as error:
        raise ValueError(f"matmul: {x.shape} @ {y.shape} (batch axes do not broadcast)") from error


class Linear(Function):
    """z = x @ W + b for x of shape (..., in), W (in, out), b (out,).

    dL/dx = g @ Wᵀ, dL/dW = xᵀ @ g (over all leading axes), dL/db = Σ g over leading axes.
    Fused so that the bias is added in place into the fresh product: one op and one temporary fewer than
    ``x @ W + b`` on the hot path of every layer.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, weight: np.ndarray, *bias: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, weight)
        out = x @ weight
        if bias:
            out += bias[0]
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, weight = ctx.saved_tensors
        need_x, need_w, *need_b = ctx.needs_input_grad
        if x.ndim != 2:
            x = x.reshape(-1, x.shape[-1])
            flat = grad.reshape(-1, grad.shape[-1])
        else:
            flat = grad
        grad_x = grad @ weight.T if need_x else None
        grad_w = x.T @ flat if need_w else None
        if not need_b:
            return grad_x, grad_w
        # np.add.reduce rather than flat.sum(): the method's wrapper costs about a microsecond per layer.
        return grad_x, grad_w, (np.add.reduce(flat, axis=0) if need_b[0] else None)


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
