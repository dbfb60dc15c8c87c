"""``Dropout``: inverted dropout, the identity in evaluation mode."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_real
from ..random import as_generator
from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout: in training mode each element is zeroed with probability ``p`` and the
    others are scaled by 1 / (1 - p), so the expected output equals the input; in evaluation mode,
    the identity.

    Parameters
    ----------
    p
        Drop probability in [0, 1].
    rng
        Generator or int seed for the masks; None (default) draws from tinynet's default Generator
        at each call, so ``tn.manual_seed`` makes training reproducible.

    Raises
    ------
    TypeError
        If ``p`` is not a real number.
    ValueError
        If ``p`` is not in [0, 1].
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.p = check_real("Dropout", "p", p, minimum=0, maximum=1)
        self.rng = None if rng is None else as_generator(rng)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
