"""``Flatten``: merge a range of dimensions into one."""

from __future__ import annotations

import math
from typing import Any

from .._checks import check_int
from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Reshape ``x`` so that dimensions ``start_dim`` .. ``end_dim`` (inclusive) become one:
    (N, 28, 28) -> (N, 784) with the defaults ``start_dim=1, end_dim=-1``.

    Raises
    ------
    TypeError
        If ``start_dim`` or ``end_dim`` is not an int.
    ValueError
        If the dimensions are out of range for the input or ``start_dim`` comes after ``end_dim``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim)
        self.end_dim = check_int("Flatten", "end_dim", end_dim)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        n = x.ndim
        start = self.start_dim + n if self.start_dim < 0 else self.start_dim
        end = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not (0 <= start < max(n, 1) and 0 <= end < max(n, 1) and start <= end):
            raise ValueError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}): invalid for an "
                f"input of shape {x.shape}"
            )
        if n == 0:
            return x.reshape(1)
        shape = (*x.shape[:start], math.prod(x.shape[start : end + 1]), *x.shape[end + 1 :])
        return x if shape == x.shape else x.reshape(shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
