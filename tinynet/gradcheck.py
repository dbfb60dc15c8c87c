"""Finite-difference gradient check, used by the tests and by anyone writing a new op."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .function import no_grad
from .tensor import Tensor, get_default_dtype, set_default_dtype


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numeric gradients disagree."""


def _project(out: Any, weights: np.ndarray) -> float:
    data = out.data if isinstance(out, Tensor) else np.asarray(out)
    return float(np.sum(data.astype(np.float64) * weights))


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 2000,
    seed: int = 0,
) -> bool:
    """Compare ``fn``'s backward with central differences, in float64.

    ``fn(*inputs)`` must return a Tensor. Every Tensor input with ``requires_grad=True`` is checked; other
    inputs (arrays of targets, options) are passed through unchanged. The inputs are copied to float64 and
    the default dtype is float64 while ``fn`` runs. A non-scalar output is reduced to a scalar with fixed
    random weights w (seeded), so one backward gives the gradient of Σ w·fn. Each checked element x_i gets
    numeric = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps); an input with more than ``max_elements``
    elements is checked on a seeded random subset of that many.

    Returns
    -------
    bool
        True when every checked element satisfies |analytic - numeric| <= atol + rtol |numeric|.

    Raises
    ------
    GradcheckError
        Naming the input, the worst element's index, the analytic and numeric values and their difference.
    ValueError
        If no input requires grad.
    """
    rng = np.random.default_rng(seed)
    previous_dtype = get_default_dtype()
    set_default_dtype(np.float64)
    try:
        args = [
            Tensor(np.array(x.data, dtype=np.float64), requires_grad=x.requires_grad)
            if isinstance(x, Tensor) and x.dtype.kind == "f"
            else x
            for x in inputs
        ]
        checked = [i for i, x in enumerate(args) if isinstance(x, Tensor) and x.requires_grad]
        if not checked:
            raise ValueError(
                "gradcheck: no input requires grad; pass tensors with requires_grad=True"
            )
        out = fn(*args)
        weights = rng.standard_normal(out.shape)
        (out * Tensor(weights)).sum().backward()
        for i in checked:
            x = args[i]
            analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
            size = x.data.size
            flat_indices = (
                np.arange(size)
                if size <= max_elements
                else np.sort(rng.choice(size, max_elements, replace=False))
            )
            flat = x.data.reshape(-1)
            numeric = np.empty(len(flat_indices))
            with no_grad():
                for k, j in enumerate(flat_indices):
                    original = flat[j]
                    flat[j] = original + eps
                    f_plus = _project(fn(*args), weights)
                    flat[j] = original - eps
                    f_minus = _project(fn(*args), weights)
                    flat[j] = original
                    numeric[k] = (f_plus - f_minus) / (2 * eps)
            got = analytic.reshape(-1)[flat_indices]
            excess = np.abs(got - numeric) - (atol + rtol * np.abs(numeric))
            if np.any(excess > 0) or not np.all(np.isfinite(got)):
                worst = int(np.nanargmax(np.where(np.isfinite(excess), excess, np.inf)))
                where = np.unravel_index(flat_indices[worst], x.shape)
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {x.shape}) disagrees at index {tuple(map(int, where))}: "
                    f"analytic {got[worst]:.10g}, numeric {numeric[worst]:.10g}, "
                    f"difference {abs(got[worst] - numeric[worst]):.3g} "
                    f"(allowed {atol + rtol * abs(numeric[worst]):.3g}); "
                    f"{int(np.sum(excess > 0))} of {len(flat_indices)} checked elements fail"
                )
        return True
    finally:
        set_default_dtype(previous_dtype)
