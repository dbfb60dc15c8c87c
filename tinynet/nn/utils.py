"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (in place on ``.grad``)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .._checks import check_real
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters: Tensor | Iterable[Tensor], op: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors, got {type(p).__name__}")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    ``total = (Σ_p ||g_p||^q)^(1/q)`` over every parameter's gradient (``q = norm_type``; ``inf``
    gives the largest |g|). If ``total > max_norm`` each gradient is multiplied in place by
    ``max_norm / (total + 1e-6)`` (PyTorch's formula). Parameters without a gradient are ignored.

    Returns
    -------
    float
        The total norm *before* clipping.

    Raises
    ------
    TypeError
        If ``max_norm`` or ``norm_type`` is not a real number.
    ValueError
        If ``max_norm`` is negative or ``norm_type`` is not positive; if ``error_if_nonfinite`` and
        the total norm is nan or inf.
    """
    check_real("clip_grad_norm_", "max_norm", max_norm, minimum=0, finite=False)
    check_real("clip_grad_norm_", "norm_type", norm_type, minimum=0, strict_min=True, finite=False)
    grads = [p.grad for p in _with_grads(parameters, "clip_grad_norm_")]
    if not grads:
        return 0.0
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        norms = [float(np.linalg.norm(g.ravel().astype(np.float64), ord=norm_type)) for g in grads]
        total = float(np.linalg.norm(np.asarray(norms), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise ValueError(
            f"clip_grad_norm_: the total gradient norm is {total}; set error_if_nonfinite=False to "
            "clip anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    Raises
    ------
    TypeError
        If ``clip_value`` is not a real number.
    ValueError
        If ``clip_value`` is negative or NaN.
    """
    check_real("clip_grad_value_", "clip_value", clip_value, minimum=0, finite=False)
    for p in _with_grads(parameters, "clip_grad_value_"):
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)
