"""Stateless neural-network functions: activations, the softmax family, losses, dropout, and the
image ops (conv2d, max_pool2d, avg_pool2d on NHWC).

Activations compose the engine's primitives where that is exact and stable (leaky_relu, elu, selu);
sigmoid, tanh, softplus, gelu, softmax, log_softmax and cross_entropy are primitives for stability.
Every loss takes ``reduction="mean" | "sum" | "none"``; targets may be numpy arrays or Tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from .._checks import check_real
from ..ops.cross_entropy import check_reduction, class_targets, cross_entropy
from ..ops.softmax import log_softmax, softmax
from ..random import as_generator
from ..tensor import Tensor, as_tensor, constant

__all__ = [
    "avg_pool2d",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "elu",
    "gelu",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "relu",
    "selu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

relu = ops.relu
tanh = ops.tanh
sigmoid = ops.sigmoid
softplus = ops.softplus
gelu = ops.gelu
linear = ops.linear
conv2d = ops.conv2d
max_pool2d = ops.max_pool2d
avg_pool2d = ops.avg_pool2d


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """max(x, 0) + s min(x, 0), written relu(x) - s relu(-x)."""
    x = as_tensor(x)
    return ops.relu(x) - negative_slope * ops.relu(-x)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (e**x - 1) otherwise; written relu(x) + alpha (e**(-relu(-x)) - 1)."""
    x = as_tensor(x)
    return ops.relu(x) + alpha * (ops.exp(-ops.relu(-x)) - 1.0)


def selu(x: Any) -> Tensor:
    """scale · elu(x, alpha) with Klambauer et al.'s alpha ≈ 1.6733 and scale ≈ 1.0507."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def _reduce(losses: Tensor, reduction: str, op: str) -> Tensor:
    check_reduction(reduction, op)
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: loss_i = -log_probs[i, target_i]; log_probs (N, C), target (N,) ints.

    Raises
    ------
    ValueError
        If ``log_probs`` is not 2-D or the targets do not fit it.
    """
    lp = as_tensor(log_probs)
    if lp.ndim != 2:
        raise ValueError(f"nll_loss: log_probs must have shape (N, C), got {lp.shape}")
    t = class_targets(target, lp.shape[0], lp.shape[1], "nll_loss")
    return _reduce(-lp[np.arange(lp.shape[0]), t], reduction, "nll_loss")


def _float_target(target: Any, like: Tensor, op: str) -> Tensor:
    t = target if isinstance(target, Tensor) else constant(target, like.dtype)
    if t.shape != like.shape:
        raise ValueError(f"{op}: input shape {like.shape} and target shape {t.shape} differ")
    return t


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)**2, reduced; shapes must be equal.

    Raises
    ------
    ValueError
        If the shapes differ (broadcasting a target is almost always a bug) or the reduction is unknown.
    """
    x = as_tensor(input)
    diff = x - _float_target(target, x, "mse_loss")
    return _reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log σ(x) + (1 - y) log(1 - σ(x))), written softplus(x) - x y, which is finite for any x.

    ``target`` holds probabilities in [0, 1] with the shape of ``logits``.
    """
    x = as_tensor(logits)
    y = _float_target(target, x, "binary_cross_entropy_with_logits")
    return _reduce(ops.softplus(x) - x * y, reduction, "binary_cross_entropy_with_logits")


def dropout(x: Any, p: float = 0.5, training: bool = True, rng: Any = None) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    The identity when ``training`` is False or ``p`` is 0. ``rng`` as everywhere in tinynet (None: the
    default Generator).

    Raises
    ------
    TypeError
        If ``p`` is not a real number.
    ValueError
        If ``p`` is not in [0, 1].
    """
    check_real("dropout", "p", p, minimum=0, maximum=1)
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = as_generator(rng).random(x.shape) >= p
    return x * (keep * (1.0 / (1.0 - p))).astype(x.dtype)
