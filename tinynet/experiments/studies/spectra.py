"""Dynamical isometry: the spectrum of ``JJᵀ`` for the input-output Jacobian J of deep random networks
at criticality, orthogonal against Gaussian weights, tanh against ReLU (Pennington, Schoenholz &
Ganguli 2017), measured on real tinynet networks beside the free-probability prediction
(:func:`tinynet.theory.isometry.jjt_moments`).

At χ₁ = 1 the *mean* eigenvalue of JJᵀ is 1 at every depth; its *variance* is
``L (μ₂/μ₁² - 1 - s₁)``: with orthogonal weights (s₁ = 0) and tanh at a small q* (μ₂/μ₁² close to
1) it stays small however deep the network, while Gaussian weights (s₁ = -1) add about 1 per layer
and ReLU (μ₂/μ₁² = 2) adds 1 per layer even with orthogonal weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import init as tinit
from ... import nn
from ..._checks import check_choice, check_int, check_real
from ..._files import json_ready
from ...tensor import get_default_dtype, set_default_dtype
from ...theory import isometry
from ...theory import meanfield as mf

__all__ = ["SPECTRA_CASES", "SPECTRA_DEPTHS", "critical_point", "jacobian_spectra", "spectra_network"]

#: (activation, weights) pairs of the default spectra study
SPECTRA_CASES = (("tanh", "orthogonal"), ("tanh", "gaussian"), ("relu", "orthogonal"), ("relu", "gaussian"))
#: depths of the default spectra study
SPECTRA_DEPTHS = (8, 32, 128)


def critical_point(activation: str, q_star: float) -> tuple[float, float]:
    """``(σ_w², σ_b²)`` on the critical line with fixed point q* (:func:`tinynet.theory.meanfield.
    critical_line`); ReLU's only critical point is (2, 0), He's initialization, for every q*."""
    sw, sb = mf.critical_line(activation, np.array([q_star]))
    if not (np.isfinite(sw[0]) and np.isfinite(sb[0])):
        raise ValueError(f"critical_point: {activation!r} has no critical point with q* = {q_star!r}")
    return float(sw[0]), float(sb[0])


def spectra_network(activation: str, weights: str, depth: int, width: int, sigma_w2: float,
                    sigma_b2: float, rng: int = 0) -> Any:
    """``nn.Sequential`` of ``depth`` blocks ``Linear(width, width)`` and the activation, in float64.

    Weights: ``"orthogonal"``, scaled orthogonal matrices ``√σ_w² Q`` (every singular value √σ_w²),
    or ``"gaussian"``, i.i.d. ``N(0, σ_w²/width)``; biases ``N(0, σ_b²)`` (zero for σ_b² = 0),
    drawn by :func:`tinynet.init.apply` from the seed ``rng``."""
    check_choice("spectra_network", "weights", weights, tuple(isometry.S1))
    previous = get_default_dtype()
    set_default_dtype(np.float64)  # the layers take the default dtype: float64 for an exact J
    try:
        blocks: list[Any] = []
        for _ in range(depth):
            blocks += [nn.Linear(width, width, weight_init="zeros"), nn.make_activation(activation)]
        model = nn.Sequential(*blocks)
    finally:
        set_default_dtype(previous)
    spec = (f"orthogonal(gain={math.sqrt(sigma_w2)!r})" if weights == "orthogonal"
            else f"normal(std={math.sqrt(sigma_w2 / width)!r})")  # fmt: skip
    bias = "zeros" if sigma_b2 == 0 else f"normal(std={math.sqrt(sigma_b2)!r})"
    return tinit.apply(model, weight=spec, bias=bias, rng=rng)


def _input(width: int, q: float, sw: float, sb: float, rng: int) -> np.ndarray:
    """One input row whose first pre-activations have variance q over the weights."""
    x = np.random.default_rng([rng, 11]).standard_normal(width)
    return (x * math.sqrt(width) / np.linalg.norm(x) * math.sqrt(max(q - sb, 0.0) / sw))[None, :]


def jacobian_spectra(
    cases: Sequence[tuple[str, str]] = SPECTRA_CASES,
    *,
    depths: Sequence[int] = SPECTRA_DEPTHS,
    width: int = 200,
    q_star: float = 1.0 / 64.0,
    seeds: Sequence[int] = (0, 1),
) -> list[dict[str, Any]]:
    """Eigenvalues of ``JJᵀ`` of deep critical networks, measured and predicted.

    For each (activation, weights) case and depth: the critical point of the activation with fixed
    point ``q_star`` (:func:`critical_point`; ReLU: (2, 0)), one :func:`spectra_network` per seed,
    and its input-output Jacobian at one input whose first pre-activations have variance q*
    (:func:`tinynet.theory.isometry.singular_values`, by autograd: ``width`` backward passes). The
    eigenvalues of JJᵀ (the squared singular values) of every seed are pooled.

    Returns
    -------
    list of dict
        Case-major, then depth: ``activation``, ``weights``, ``depth``, ``width``, ``q_star``,
        ``sigma_w2``, ``sigma_b2``, ``seeds``, ``eigenvalues`` (pooled, ascending), ``mean`` and
        ``variance`` (of the pooled eigenvalues), ``seed_variance`` (per seed), ``max``, ``min``,
        ``predicted_mean`` and ``predicted_variance`` (:func:`tinynet.theory.isometry.jjt_moments`
        at ``q_star``: the width → ∞ limit).
    """
    q = check_real("jacobian_spectra", "q_star", q_star, minimum=0.0, strict_min=True)
    n = check_int("jacobian_spectra", "width", width, minimum=1)
    layers = [check_int("jacobian_spectra", "depths", d, minimum=1) for d in depths]
    seed_list = [check_int("jacobian_spectra", "seeds", s, minimum=0) for s in seeds]
    if not seed_list or not layers:
        raise ValueError("jacobian_spectra: depths and seeds must not be empty")
    out = []
    for activation, weights in cases:
        check_choice("jacobian_spectra", "weights", weights, tuple(isometry.S1))
        sw, sb = critical_point(activation, q)
        for depth in layers:
            pooled, per_seed = [], []
            for seed in seed_list:
                model = spectra_network(activation, weights, depth, n, sw, sb, rng=seed)
                s = isometry.singular_values(model, _input(n, q, sw, sb, seed))[0]
                pooled.append(s**2)
                per_seed.append(float(np.var(s**2)))
            eig = np.sort(np.concatenate(pooled))
            mean, variance = isometry.jjt_moments(activation, q, depth, weights)
            out.append(
                json_ready(
                    {
                        "activation": activation,
                        "weights": weights,
                        "depth": depth,
                        "width": n,
                        "q_star": q,
                        "sigma_w2": sw,
                        "sigma_b2": sb,
                        "seeds": seed_list,
                        "eigenvalues": eig.tolist(),
                        "mean": float(eig.mean()),
                        "variance": float(eig.var()),
                        "seed_variance": per_seed,
                        "max": float(eig.max()),
                        "min": float(eig.min()),
                        "predicted_mean": mean,
                        "predicted_variance": variance,
                    }
                )
            )
    return out
