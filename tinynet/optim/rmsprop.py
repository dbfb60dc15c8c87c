"""RMSprop, optionally centered and with momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_lr

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes; centered form from Graves, 2013), PyTorch's algorithm.

    For each parameter θ with gradient g (v, g_avg and the momentum buffer b start at 0)::

        g ← g + λ θ                           if weight_decay λ ≠ 0
        v ← α v + (1 - α) g²
        if centered:  g_avg ← α g_avg + (1 - α) g;   d = √(v - g_avg²) + ε
        else:         d = √v + ε
        if momentum μ > 0:  b ← μ b + g / d;   θ ← θ - lr · lr_mult · b
        else:               θ ← θ - lr · lr_mult · g / d     (lr_mult: the group's, default 1)

    Parameters
    ----------
    params
        Parameters, or parameter groups (dicts) with per-group options.
    lr, alpha, eps, weight_decay, momentum
        Numbers >= 0 (alpha is the smoothing constant α).
    centered
        Normalize by an estimate of the gradient's variance instead of its second moment.

    Raises
    ------
    TypeError
        For an option that is not a real number.
    ValueError
        For a negative option.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("alpha", "eps", "weight_decay", "momentum"):
            check_nonnegative("RMSprop", key, group[key])

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {"step": 0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        alpha, weight_decay, momentum = group["alpha"], group["weight_decay"], group["momentum"]
        state["step"] += 1
        # Each temporary of the formula goes into a scratch buffer (Optimizer._scratch; None means
        # "allocate"), computed with the docstring's operations in its order, so the rounding is too.
        if weight_decay != 0:  # g + λθ
            decayed = np.multiply(param, weight_decay, self._scratch(param, 2))
            decayed += grad
            grad = decayed
        v = state["square_avg"]
        v *= alpha
        square = np.multiply(grad, grad, self._scratch(param))
        square *= 1 - alpha
        v += square
        if group["centered"]:  # √(v - g_avg²) + ε
            g_avg = state["grad_avg"]
            g_avg *= alpha
            g_avg += np.multiply(grad, 1 - alpha, self._scratch(param))
            denom = np.multiply(g_avg, g_avg, self._scratch(param, 1))
            denom = np.subtract(v, denom, denom)
            denom = np.sqrt(denom, denom)
        else:  # √v + ε
            denom = np.sqrt(v, self._scratch(param, 1))
        denom += group["eps"]
        ratio = np.divide(grad, denom, self._scratch(param))
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += ratio
            param -= np.multiply(buf, effective_lr(group), ratio)
        else:
            ratio *= effective_lr(group)
            param -= ratio
