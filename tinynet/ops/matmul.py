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
        raise ValueError(f"matmul: operands must have at least 1 dimension, got {x.shape} @ {y.shape}")
    inner_b = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if x.shape[-1] != inner_b:
        raise ValueError(f"matmul: {x.shape} @ {y.shape} (inner dimensions {x.shape[-1]} != {inner_b})")
    try:
        return MatMul.apply(x, y)
    except ValueError as error:
        raise ValueError(f"matmul: {x.shape} @ {y.shape} (batch axes do not broadcast)") from error
