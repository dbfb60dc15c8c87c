"""Adam and AdamW (decoupled weight decay), with optional AMSGrad."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, check_unit_interval, effective_lr

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's ``torch.optim.Adam`` algorithm.

    For each parameter θ with gradient g, at step t = 1, 2, ... (m, v, v_max start at 0)::

        g ← g + λ θ                           if weight_decay λ ≠ 0 (L2 penalty in the gradient)
        m ← β₁ m + (1 - β₁) g
        v ← β₂ v + (1 - β₂) g²
        m̂ = m / (1 - β₁ᵗ)
        v_max ← max(v_max, v);  v̂ = v_max / (1 - β₂ᵗ)      if amsgrad
        v̂ = v / (1 - β₂ᵗ)                                 otherwise
        θ ← θ - lr · lr_mult · m̂ / (√v̂ + ε)     (lr_mult: the group's, default 1)

    Parameters
    ----------
    params
        Parameters, or parameter groups (dicts) with per-group options.
    lr
        Learning rate (>= 0).
    betas
        (β₁, β₂), each in [0, 1).
    eps
        Added to the denominator (>= 0).
    weight_decay
        L2 penalty λ (>= 0), added to the gradient. For decoupled decay use :class:`AdamW`.
    amsgrad
        Use the running maximum of v (Reddi et al., 2018).

    Raises
    ------
    TypeError
        For an option that is not a real number, or ``betas`` that is not a pair.
    ValueError
        For an option out of range.
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, (tuple, list)) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        name = type(self).__name__
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_unit_interval(name, "betas[0]", betas[0])
        check_unit_interval(name, "betas[1]", betas[1])
        check_nonnegative(name, "eps", group["eps"])
        check_nonnegative(name, "weight_decay", group["weight_decay"])

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {
            "step": 0,
            "exp_avg": np.zeros_like(param),
            "exp_avg_sq": np.zeros_like(param),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, eps, weight_decay = effective_lr(group), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        # Each temporary of the formula goes into a scratch buffer (Optimizer._scratch; None means
        # "allocate"), computed with the docstring's operations in its order, so the rounding is too.
        if weight_decay != 0:
            if self._decoupled:
                param *= 1 - lr * weight_decay
            else:  # g + λθ
                decayed = np.multiply(param, weight_decay, self._scratch(param, 2))
                decayed += grad
                grad = decayed
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += np.multiply(grad, 1 - beta1, self._scratch(param))
        v *= beta2
        square = np.multiply(grad, grad, self._scratch(param))
        square *= 1 - beta2
        v += square
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = np.sqrt(v, self._scratch(param, 1))  # √v / √(1 - β₂ᵗ) + ε
        denom /= math.sqrt(bias_correction2)
        denom += eps
        step = np.multiply(m, lr / bias_correction1, self._scratch(param))
        step /= denom
        param -= step


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's
    ``torch.optim.AdamW``.

    As :class:`Adam`, except that weight decay shrinks the parameter directly instead of entering
    the gradient (so it is not rescaled by √v̂)::

        θ ← θ - lr · lr_mult · λ · θ          first, at every step
        m, v, m̂, v̂ as in Adam with the raw gradient g
        θ ← θ - lr · lr_mult · m̂ / (√v̂ + ε)

    A group's ``lr_mult`` scales the decoupled decay too: the decay is ``lr · λ · θ`` with the
    rate the group actually gets, as in the ``mup`` package's ``MuAdamW`` (which scales a group's
    ``lr`` itself), so that ``λ`` means the same thing at every width.

    The default ``weight_decay`` is 1e-2, as in PyTorch.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
