"""The fused softmax cross-entropy of logits against integer class indices, and the checks every loss shares:
class targets and the reduction.

One op rather than ``-log_softmax(a)[rows, t]``: stable for logits of ±1e4 (the row max is subtracted first)
and one backward, ``softmax - onehot``, instead of a chain. Tests compare it with the composed twin.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._checks import check_choice
from ..function import Context, Function
from ..tensor import Tensor, as_tensor

#: The ``reduction`` of every loss: the mean over the batch, the sum, or one loss per sample.
REDUCTIONS = ("mean", "sum", "none")


@functools.lru_cache(maxsize=16)
def _row_indices(n: int) -> np.ndarray:
    """``arange(n)``, read-only and made once per batch size (as a numpy loop would hoist it)."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


class CrossEntropy(Function):
    """loss_i = -log softmax(a_i)[t_i] for logits ``a`` of shape (N, C) and class indices ``t`` of shape (N,).

    dloss_i/da_i = softmax(a_i) - onehot(t_i), scaled by the reduction (1/N for ``mean``).
    """

    fresh_grads = True  # d = exp / total, a new (N, C) array of the logits' dtype

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
        rows = _row_indices(a.shape[0])
        # ufunc.reduce instead of a.max()/a.sum(): the methods' Python wrappers cost more than the work
        # at MNIST batch sizes, where this op runs once per step.
        shifted = a - np.maximum.reduce(a, axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = np.add.reduce(exp, axis=1, keepdims=True)
        losses = np.log(total[:, 0])
        losses -= shifted[rows, target]
        # Keep e**shifted and its row sums: backward's softmax is then one division, not a second exp;
        # and the row indices, so backward makes no second arange.
        ctx.saved_tensors = (exp, total, target)  # save_for_backward's effect, one call fewer
        ctx.reduction = reduction
        ctx.rows = rows
        if reduction == "mean":
            n = len(losses)
            return np.asarray(np.add.reduce(losses) / n if n else np.nan, dtype=a.dtype)
        if reduction == "sum":
            return np.asarray(np.add.reduce(losses), dtype=a.dtype)
        return losses

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        exp, total, target = ctx.saved_tensors
        n = exp.shape[0]
        d = exp / total
        d[ctx.rows, target] -= 1
        if ctx.reduction == "none":
            d *= grad[:, None]
        else:
            # A Python float keeps d's dtype and skips a 0-d array temporary.
            d *= float(grad) / n if ctx.reduction == "mean" else float(grad)
        return d


def check_reduction(reduction: Any, op: str) -> str:
    """``reduction`` if it is one of :data:`REDUCTIONS`.

    Raises
    ------
    TypeError
        If it is not a string.
    ValueError
        If it is another string (the message lists the valid ones and the closest match).
    """
    if type(reduction) is not str or reduction not in REDUCTIONS:  # checked on every call: keep it cheap
        check_choice(op, "reduction", reduction, REDUCTIONS)
    return reduction


def class_targets(target: Any, n: int, classes: int, op: str) -> np.ndarray:
    """Validate integer class indices: shape (n,), values in [0, classes).

    Raises
    ------
    TypeError
        If the targets are not integers.
    ValueError
        If the shape or a value is out of range, naming the first bad value.
    """
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"{op}: target shape {t.shape} does not match the batch: expected ({n},)")
    # ufunc.reduce for the same reason as in CrossEntropy.forward: this check runs every step. For
    # int64 (numpy's default integers) one reduction does: seen as uint64, a negative index is at
    # least 2**63, above any class count.
    if t.dtype == np.int64:
        out_of_range = t.size and np.maximum.reduce(t.view(np.uint64)) >= classes
    else:
        out_of_range = t.size and (np.minimum.reduce(t) < 0 or np.maximum.reduce(t) >= classes)
    if out_of_range:
        bad = t[(t < 0) | (t >= classes)][0]
        raise ValueError(f"{op}: target value {bad} is not a class index in [0, {classes})")
    return t


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits (N, C) against integer class indices (N,).

    ``reduction``: ``"mean"`` (default), ``"sum"``, or ``"none"`` (a loss per sample, shape (N,)).

    Raises
    ------
    TypeError
        If the targets are not integers or ``reduction`` is not a string.
    ValueError
        If ``logits`` is not 2-D, the target shape or a class index is wrong, or the reduction is unknown.
    """
    x = logits if isinstance(logits, Tensor) else as_tensor(logits)
    if type(reduction) is not str or reduction not in REDUCTIONS:  # check_reduction's test, inlined
        check_reduction(reduction, "cross_entropy")
    shape = x.data.shape  # the array's, not the Tensor property's: this runs every step
    if len(shape) != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {shape}")
    t = class_targets(target, shape[0], shape[1], "cross_entropy")
    return CrossEntropy.apply(x, target=t, reduction=reduction)
