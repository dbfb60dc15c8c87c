"""Losses as modules: ``loss = criterion(prediction, target)``, reduced per ``reduction``."""

from __future__ import annotations

from typing import Any

from .._checks import check_choice
from ..ops.cross_entropy import REDUCTIONS
from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_choice(type(self).__name__, "reduction", reduction, REDUCTIONS)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy: ``loss_i = -log softmax(logits_i)[target_i] = logsumexp(logits_i) -
    logits_i[target_i]``; logits (N, C), target (N,) integer class indices (array or Tensor).

    ``reduction``: ``"mean"`` (default) over N, ``"sum"``, or ``"none"`` (shape (N,)). PyTorch's
    ``weight``, ``ignore_index`` and ``label_smoothing`` are not supported.

    Raises
    ------
    ValueError
        For an unknown reduction, non-2-D logits, or targets of the wrong shape or out of range.
    TypeError
        For non-integer targets.
    """

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, self.reduction)


class MSELoss(_Loss):
    """Squared error ``(input - target)²`` elementwise, reduced (mean over all elements by default).

    Raises
    ------
    ValueError
        If the shapes differ or the reduction is unknown.
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits: ``-(y log σ(x) + (1 - y) log(1 - σ(x))) = softplus(x) - x
    y``, finite for any x; ``target`` holds probabilities in [0, 1] with the shape of the logits.

    Raises
    ------
    ValueError
        If the shapes differ or the reduction is unknown.
    """

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, self.reduction)
