"""Adagrad: per-element learning rates from the accumulated squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_lr

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's ``torch.optim.Adagrad`` algorithm.

    For each parameter θ with gradient g, at step t = 1, 2, ... (s starts at
    ``initial_accumulator_value``)::

        lr_t = lr · lr_mult / (1 + (t - 1) · lr_decay)     (lr_mult: the group's, default 1)
        g ← g + λ θ                           if weight_decay λ ≠ 0
        s ← s + g²
        θ ← θ - lr_t · g / (√s + ε)

    Parameters
    ----------
    params
        Parameters, or parameter groups (dicts) with per-group options.
    lr, lr_decay, weight_decay, initial_accumulator_value, eps
        Numbers >= 0.

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
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative("Adagrad", key, group[key])

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        state["step"] += 1
        lr = effective_lr(group) / (1 + (state["step"] - 1) * group["lr_decay"])
        # Each temporary of the formula goes into a scratch buffer (Optimizer._scratch; None means
        # "allocate"), computed with the docstring's operations in its order, so the rounding is too.
        if group["weight_decay"] != 0:  # g + λθ
            decayed = np.multiply(param, group["weight_decay"], self._scratch(param, 1))
            decayed += grad
            grad = decayed
        s = state["sum"]
        s += np.multiply(grad, grad, self._scratch(param))
        step = np.sqrt(s, self._scratch(param))  # lr_t · g / (√s + ε)
        step += group["eps"]
        step = np.divide(grad, step, step)
        step *= lr
        param -= step
