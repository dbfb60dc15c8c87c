"""Matrix product with numpy's ``@`` semantics (1-D operands, batched stacks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Context
from ..tensor import Tensor
from .common import Binary


class MatMul(Binary):
    """z = a @ b;  dL/da = g @ bᵀ, dL/db = aᵀ @ g (transposing the last two axes).

    A 1-D ``a`` is a row vector and a 1-D ``b`` a column vector, as in numpy; batch axes broadcast and the
    engine sums their gradients back. A failure names both shapes, as ``matmul: (3, 4) @ (5, 2)``: an operand
    that is 0-d, inner dimensions that disagree, or batch axes that do not broadcast.
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

    @classmethod
    def _explain(
        cls, error: Exception, inputs: tuple[Tensor, ...], options: dict[str, Any]
    ) -> Exception | None:
        if not isinstance(error, ValueError):
            return None
        a, b = inputs
        if a.ndim == 0 or b.ndim == 0:
            return ValueError(f"matmul: operands must have at least 1 dimension, got {a.shape} @ {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            return ValueError(f"matmul: {a.shape} @ {b.shape} (inner dimensions {a.shape[-1]} != {inner_b})")
        return ValueError(f"matmul: {a.shape} @ {b.shape} (batch axes do not broadcast)")


matmul = MatMul.apply
