"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import SCRATCH_MIN_BYTES, Optimizer, check_nonnegative, effective_lr

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's ``torch.optim.SGD`` algorithm).

    For each parameter θ with gradient g, at step t = 1, 2, ...::

        g ← g + λ θ                          if weight_decay λ ≠ 0
        if momentum μ ≠ 0:
            b ← g                            at t = 1 (no dampening on the first step)
            b ← μ b + (1 - τ) g              for t > 1 (τ = dampening)
            g ← g + μ b   if nesterov  else  g ← b
        θ ← θ - lr · lr_mult · g              (lr_mult: the group's, default 1)

    Parameters
    ----------
    params
        Parameters, or parameter groups (dicts) with per-group options.
    lr
        Learning rate (required, >= 0).
    momentum, dampening, weight_decay
        Numbers >= 0.
    nesterov
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.

    Raises
    ------
    TypeError
        For an option that is not a real number.
    ValueError
        For a negative option or an invalid Nesterov setting.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("momentum", "dampening", "weight_decay"):
            check_nonnegative("SGD", key, group[key])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum="
                f"{group['momentum']}, dampening={group['dampening']}"
            )

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"momentum_buffer": None}

    def _step_group(self, group: dict[str, Any]) -> None:
        if group["momentum"] != 0 or group["weight_decay"] != 0:
            super()._step_group(group)
            return
        # θ ← θ - lr · lr_mult · g, the same operations as _update's last line, without its per-parameter
        # option lookups: plain SGD is the common case of the examples and the benchmark.
        lr = effective_lr(group)
        states, scratch = self.state, self._scratch
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if p not in states:
                states[p] = self._init_state(p.data, group)
            param = p.data
            if param.nbytes < SCRATCH_MIN_BYTES:  # _scratch's own test, without its call
                param -= np.multiply(grad, lr)
            else:
                param -= np.multiply(grad, lr, scratch(param))

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # Each temporary of the formula goes into a scratch buffer (Optimizer._scratch; None means
        # "allocate"); the operations and their order are the docstring's, so the rounding is too.
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        g = grad
        if weight_decay != 0:  # g + λθ
            g = np.multiply(param, weight_decay, self._scratch(param, 1))
            g += grad
        if momentum != 0:
            buf = state["momentum_buffer"]
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= momentum
                dampening = group["dampening"]
                if dampening == 0:
                    buf += g  # (1 - 0) · g is g exactly
                else:
                    buf += np.multiply(g, 1 - dampening, self._scratch(param))
            if group["nesterov"]:  # g + μ b, into g's own scratch when it has one
                nudge = np.multiply(buf, momentum, self._scratch(param))
                if g is grad:
                    g = np.add(grad, nudge, nudge)
                else:
                    g += nudge
            else:
                g = buf
        param -= np.multiply(g, effective_lr(group), self._scratch(param))
