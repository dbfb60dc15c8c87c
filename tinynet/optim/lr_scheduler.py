"""Learning-rate schedules: each sets every group's ``lr`` from its epoch count, in closed form.

Usage, as in PyTorch: build the scheduler after the optimizer (this sets the epoch-0 rate) and call
``scheduler.step()`` once per epoch, after the optimizer's steps. ``lr`` at epoch e (the number of
``step()`` calls so far) is ``base_lr · factor(e)``, where ``base_lr`` is each group's ``lr`` when
the scheduler was built (kept in the group as ``"initial_lr"``).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from .._checks import check_int, check_real
from .optimizer import Optimizer

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LinearLR", "StepLR"]


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets each group's ``lr`` to ``get_lr()``.

    Subclasses implement ``_factor(epoch, base_lr) -> lr``.

    Raises
    ------
    TypeError
        If ``optimizer`` is not a tinynet Optimizer.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: optimizer must be a tinynet.optim.Optimizer, got "
                f"{type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [
            float(group["initial_lr"]) for group in optimizer.param_groups
        ]
        self.last_epoch = -1
        self._last_lr: list[float] = []
        self.step()

    def _lr(self, epoch: int, base_lr: float) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rate of each group at the current epoch (closed form)."""
        return [self._lr(self.last_epoch, base) for base in self.base_lrs]

    def step(self) -> None:
        """Advance one epoch and set each group's ``lr``."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer: numbers and lists, for :func:`tinynet.save`."""
        return {
            key: copy.deepcopy(value) for key, value in self.__dict__.items() if key != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by :meth:`state_dict` (the groups' ``lr`` comes from the
        optimizer's own state dict).

        Raises
        ------
        ValueError
            If ``state_dict`` lacks an attribute of this scheduler or has one it does not know.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: expected a dict, got "
                f"{type(state_dict).__name__}"
            )
        own = set(self.state_dict())
        missing, unknown = own - set(state_dict), set(state_dict) - own
        if missing or unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: missing {sorted(missing)}, unexpected "
                f"{sorted(map(str, unknown))}"
            )
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: {len(state_dict['base_lrs'])} base_lrs "
                f"for {len(self.optimizer.param_groups)} parameter groups"
            )
        self.__dict__.update(copy.deepcopy(state_dict))

    def __repr__(self) -> str:
        options = ", ".join(
            f"{k}={v!r}" for k, v in self.state_dict().items() if k not in {"base_lrs", "_last_lr"}
        )
        return f"{type(self).__name__}({options})"


class StepLR(LRScheduler):
    """``lr = base_lr · gamma ** floor(epoch / step_size)``: decay by ``gamma`` every ``step_size``
    epochs.

    Raises
    ------
    TypeError
        If ``step_size`` is not an int or ``gamma`` not a real number.
    ValueError
        If ``step_size`` is < 1 or ``gamma`` is not a positive finite number.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_int("StepLR", "step_size", step_size, minimum=1)
        self.gamma = check_real("StepLR", "gamma", gamma, minimum=0, strict_min=True)
        super().__init__(optimizer)

    def _lr(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """``lr = base_lr · gamma ** epoch``.

    Raises
    ------
    TypeError
        If ``gamma`` is not a real number.
    ValueError
        If ``gamma`` is not a positive finite number.
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = check_real("ExponentialLR", "gamma", gamma, minimum=0, strict_min=True)
        super().__init__(optimizer)

    def _lr(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) · (1 + cos(π · epoch / T_max)) / 2`` (Loshchilov &
    Hutter, SGDR, without restarts): from ``base_lr`` at epoch 0 down to ``eta_min`` at ``T_max``;
    past ``T_max`` the cosine continues (rising again), as PyTorch's closed form does.

    Raises
    ------
    TypeError
        If ``T_max`` is not an int or ``eta_min`` not a real number.
    ValueError
        If ``T_max`` is < 1 or ``eta_min`` is negative or not finite.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = check_int("CosineAnnealingLR", "T_max", T_max, minimum=1)
        self.eta_min = check_real("CosineAnnealingLR", "eta_min", eta_min, minimum=0)
        super().__init__(optimizer)

    def _lr(self, epoch: int, base_lr: float) -> float:
        return (
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        )


class LinearLR(LRScheduler):
    """Linear warm-up (or decay) of the factor:
    ``lr = base_lr · (start + (end - start) · min(epoch, total_iters) / total_iters)``.

    With the defaults the rate goes from base_lr / 3 to base_lr over 5 epochs, then stays.

    Raises
    ------
    TypeError
        If a factor is not a real number or ``total_iters`` not an int.
    ValueError
        If ``start_factor`` is not in (0, 1], ``end_factor`` not in [0, 1], or ``total_iters`` is
        < 1.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        self.start_factor = check_real(
            "LinearLR", "start_factor", start_factor, minimum=0, maximum=1, strict_min=True
        )
        self.end_factor = check_real("LinearLR", "end_factor", end_factor, minimum=0, maximum=1)
        self.total_iters = check_int("LinearLR", "total_iters", total_iters, minimum=1)
        super().__init__(optimizer)

    def _lr(self, epoch: int, base_lr: float) -> float:
        progress = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
