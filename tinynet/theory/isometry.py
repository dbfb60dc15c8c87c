"""The input-output Jacobian of a network and the spectrum theory predicts for it.

For ``x^l = φ(h^l)``, ``h^l = W^l x^{l-1} + b^l`` the Jacobian of the output with respect to the input
is the product ``J = D^L W^L ··· D^1 W^1``, with ``D^l = diag(φ'(h^l))``. χ₁ = 1 (the critical line
of :mod:`tinynet.theory.meanfield`) makes the *mean* squared singular value of J equal to 1 at every
depth, so gradients neither vanish nor explode on average; *dynamical isometry* asks more, that all
singular values stay near 1. Pennington, Schoenholz & Ganguli 2017 ("Resurrecting the sigmoid in deep
learning through dynamical isometry") computed the spectrum of ``JJᵀ`` with free probability: with
``μ_k = E[φ'(√q* z)^{2k}]`` and ``s₁`` the first coefficient of the S-transform of ``WWᵀ`` (−1 for
Gaussian weights, 0 for orthogonal ones), its eigenvalues have, at criticality (``σ_w² μ₁ = 1``)::

    mean     = (σ_w² μ₁)^L = 1
    variance = L (μ₂/μ₁² - 1 - s₁)

Orthogonal weights with an activation nearly linear around its operating point (tanh at small q*)
keep the variance small however deep the network; Gaussian weights add about 1 per layer, and so does
ReLU (``μ₂/μ₁² = 2``) even with orthogonal weights.

:func:`jacobian` and :func:`singular_values` measure J for any model through tinynet's autograd;
:func:`jjt_moments` gives the prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_choice, check_int, check_real
from ..function import enable_grad
from ..tensor import Tensor
from . import meanfield

__all__ = ["S1", "jacobian", "jjt_moments", "singular_values"]

#: first S-transform coefficient of WWᵀ for each weight distribution (square layers)
S1: dict[str, float] = {"orthogonal": 0.0, "gaussian": -1.0}


def _dtype(model: Any) -> np.dtype:
    """The dtype of the model's first parameter (float64 for a model without parameters)."""
    params = getattr(model, "parameters", None)
    if callable(params):
        for p in params():
            data = getattr(p, "data", None)
            if isinstance(data, np.ndarray) and data.dtype.kind == "f":
                return data.dtype
    return np.dtype(np.float64)


def _saved_grads(model: Any) -> list[tuple[Any, np.ndarray | None]]:
    params = getattr(model, "parameters", None)
    if not callable(params):
        return []
    return [(p, None if p.grad is None else np.array(p.grad)) for p in params()]


def jacobian(model: Any, x: Any) -> np.ndarray:
    """The input-output Jacobian ``J[b, k, i] = ∂y[b, k] / ∂x[b, i]`` of a model, by autograd.

    ``model`` is any callable from a Tensor of shape ``(batch, in)`` to one of shape ``(batch, out)``
    (an ``nn.Module``, an ``nn.Sequential``, a function of Tensors) that acts **row-wise**: row b of
    the output depends on row b of the input only (no batch normalisation in training mode). Then
    ``∂(Σ_b y[b, k]) / ∂x[b, :] = J[b, k, :]``, so one backward pass per output unit gives row k of
    every example's Jacobian: ``out`` backward passes in all. Put a model with dropout in eval mode
    first. The computation runs in the dtype of the model's first parameter (float64 for a model
    without parameters), so build the model in float64 for an accurate Jacobian; the gradients of its
    parameters are restored to what they were.

    Parameters
    ----------
    model
        Callable Tensor → Tensor, row-wise.
    x
        Inputs, shape ``(batch, in)``: a numpy array or Tensor of numbers.

    Returns
    -------
    np.ndarray
        float64, shape ``(batch, out, in)``.

    Raises
    ------
    TypeError
        If ``model`` is not callable, ``x`` is not numeric, or the model does not return a Tensor.
    ValueError
        If ``x`` is not 2-D or the output is not ``(batch, out)``.
    """
    if not callable(model):
        raise TypeError(f"jacobian: model must be callable on a Tensor, got {type(model).__name__}")
    array = x.data if isinstance(x, Tensor) else np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"jacobian: x must be numeric, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"jacobian: x must have shape (batch, in), got shape {array.shape}")
    leaf = Tensor(np.array(array, dtype=_dtype(model)), requires_grad=True)
    saved = _saved_grads(model)
    try:
        with enable_grad():
            y = model(leaf)
        if not isinstance(y, Tensor):
            raise TypeError(f"jacobian: model must return a Tensor, got {type(y).__name__}")
        if y.ndim != 2 or y.shape[0] != leaf.shape[0]:
            raise ValueError(
                f"jacobian: model must map (batch, in) = {leaf.shape} to (batch, out), got shape {y.shape}"
            )
        out = y.shape[1]
        result = np.zeros((leaf.shape[0], out, leaf.shape[1]))
        if y.requires_grad:
            for k in range(out):
                seed = np.zeros(y.shape, dtype=y.dtype)
                seed[:, k] = 1.0
                leaf.grad = None
                y.backward(seed, retain_graph=k < out - 1)
                if leaf.grad is not None:
                    result[:, k, :] = leaf.grad
    finally:
        for p, grad in saved:
            p.grad = grad
    return result


def singular_values(model: Any, x: Any) -> np.ndarray:
    """Singular values of each example's input-output Jacobian (:func:`jacobian`), descending.

    Parameters
    ----------
    model, x
        As for :func:`jacobian`.

    Returns
    -------
    np.ndarray
        float64, shape ``(batch, min(out, in))``; the eigenvalues of ``JJᵀ`` are their squares.

    Raises
    ------
    TypeError, ValueError
        As for :func:`jacobian`.
    """
    return np.linalg.svd(jacobian(model, x), compute_uv=False)


def jjt_moments(
    act: Any,
    q_star: float,
    depth: int,
    weights: str = "orthogonal",
    *,
    nodes: int = meanfield.DEFAULT_NODES,
) -> tuple[float, float]:
    """Mean and variance of the eigenvalues of ``JJᵀ`` of a deep, wide network at criticality.

    The network has ``depth`` = L layers of width N → ∞, fixed point q*, and the critical weight
    variance for it, ``σ_w² = 1/μ₁`` (bias variance from :func:`meanfield.critical_line`). With
    ``μ_k = E[φ'(√q* z)^{2k}]`` (:func:`meanfield.slope_moment`), free probability gives
    (Pennington, Schoenholz & Ganguli 2017)::

        mean     = (σ_w² μ₁)^L = 1
        variance = L (μ₂/μ₁² - 1 - s₁),   s₁ = 0 (orthogonal), -1 (gaussian)

    For tanh at q* = 1/64: about 0.0135 (L = 8) and 0.054 (L = 32) with orthogonal weights, 8.01 and
    32.05 with Gaussian ones.

    Parameters
    ----------
    act, nodes
        As for :func:`meanfield.q_map`.
    q_star
        The fixed-point variance of the pre-activations (finite, > 0).
    depth
        Number of layers L (int >= 0).
    weights
        ``"orthogonal"`` (scaled orthogonal matrices) or ``"gaussian"`` (i.i.d. entries).

    Returns
    -------
    (mean, variance) : tuple of float

    Raises
    ------
    TypeError, ValueError
        For arguments of the wrong type or out of range (an unknown ``weights`` lists both choices);
        ``ValueError`` also when the critical point at q* would need a negative bias variance.
    """
    owner = "jjt_moments"
    q = check_real(owner, "q_star", q_star, minimum=0.0, strict_min=True)
    layers = check_int(owner, "depth", depth, minimum=0)
    s1 = S1[check_choice(owner, "weights", weights, tuple(S1))]
    sigma_w2, sigma_b2 = meanfield.critical_line(act, np.array([q]), nodes=nodes)
    if np.isnan(sigma_b2[0]):
        raise ValueError(
            f"{owner}: no critical point has q_star = {q!r} for this activation (it would need a "
            "negative sigma_b2; see meanfield.critical_line)"
        )
    mu1 = meanfield.slope_moment(act, q, 2, nodes=nodes)
    mu2 = meanfield.slope_moment(act, q, 4, nodes=nodes)
    mean = float((sigma_w2[0] * mu1) ** layers)
    return mean, float(layers * (mu2 / mu1**2 - 1.0 - s1))
