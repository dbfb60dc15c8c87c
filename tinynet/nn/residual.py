"""``Residual``: a skip connection around a branch, ``y = x + branch(x)``, optionally with a learnable
scale on the branch (ReZero, SkipInit)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_real
from ..tensor import Tensor, constant, get_default_dtype
from .module import Module, Parameter

__all__ = ["Residual"]


class Residual(Module):
    """``y = x + branch(x)``, or ``y = x + s · branch(x)`` with ``s`` a learnable scalar.

    Parameters
    ----------
    branch
        The residual branch, a Module whose output has the shape of its input; registered as the child
        ``branch``, so its parameters are named ``branch.…``.
    scale
        None for a plain skip connection; a number to learn ``s`` (a Parameter of shape ``()``,
        attribute ``scale``) starting from that value. ``scale=0.0`` makes the block the identity at
        initialization: ReZero (Bachlechner et al. 2020) and SkipInit (De & Smith 2020).
    dtype
        dtype of ``scale``; None means :func:`tinynet.get_default_dtype` at construction.

    Residual blocks declare ``is_residual = True``: :mod:`tinynet.init` (Fixup) finds them by that
    declaration and reads their ``branch``.

    Raises
    ------
    TypeError
        If ``branch`` is not a Module or ``scale`` not a real number.
    ValueError
        If ``scale`` is not finite; in forward, if the branch changes the shape of its input.
    """

    is_residual = True

    def __init__(self, branch: Module, scale: float | None = None, *, dtype: Any = None) -> None:
        super().__init__()
        if not isinstance(branch, Module):
            raise TypeError(f"Residual: branch must be an nn.Module, got {type(branch).__name__}")
        self.branch = branch
        if scale is None:
            self.register_parameter("scale", None)
        else:
            value = check_real("Residual", "scale", scale)
            dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
            self.scale = Parameter(np.array(value, dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        out = self.branch(x)
        if not isinstance(x, Tensor):
            x = constant(x, out.dtype)
        if out.shape != x.shape:
            raise ValueError(
                f"Residual: the branch maps input shape {x.shape} to {out.shape}; a residual block "
                "needs the same shape to add them"
            )
        if self.scale is None:
            return x + out
        return x + self.scale * out

    def extra_repr(self) -> str:
        return "" if self.scale is None else f"scale={float(self.scale.data):g}"
