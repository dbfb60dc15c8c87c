"""Theory beside measurement: the mean-field prediction of every layer's std for the network at hand.

For a chain of weight layers, each followed by one elementwise activation (an MLP), mean-field
theory (:mod:`tinynet.theory.meanfield`; Poole et al. 2016) predicts the second moment q of each
layer's pre-activations from the weights' and biases' *measured* variances and the probe's mean
square alone:

    q¹ = σ_w,1² · mean(x²) + σ_b,1²,   q^{l+1} = σ_w,l+1² · E[φ_l(√q^l z)²] + σ_b,l+1²,

with ``σ_w,l² = fan_in · mean(W_l²)`` and ``σ_b,l² = mean(b_l²)``, ``z ~ N(0, 1)`` by Gauss–Hermite
quadrature. The predicted pre-activation std is √q^l, the activation std
``sqrt(E[φ(√q z)²] − E[φ(√q z)]²)``. The theory assumes independent weights of mean 0 and infinite
width; a measured std far from its prediction means one of those does not hold (a constant init,
a trained network whose weights have become correlated with its inputs, a narrow layer).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import no_grad
from ..init.model import is_layer
from ..nn.activation import Activation
from ..nn.dropout import Dropout
from ..nn.flatten import Flatten
from ..tensor import Tensor
from ..theory import meanfield as mf

__all__ = ["mean_field_chain", "mean_field_prediction"]

#: modules that pass the second moment through unchanged (Dropout: the probe runs in eval mode)
_TRANSPARENT = (Dropout, Flatten)


def mean_field_chain(model: Any) -> list[tuple[Any, Any]] | None:
    """``[(layer, activation or None), ...]`` when ``model``'s leaf modules, in order, are weight
    layers each followed by at most one :class:`~tinynet.nn.Activation` (Dropout and Flatten pass
    through); None for anything else (normalization, residual blocks, an activation first, two in
    a row), where the layer-by-layer theory does not apply."""
    chain: list[list[Any]] = []
    for _, module in model.named_modules():
        if is_layer(module):
            chain.append([module, None])
        elif isinstance(module, Activation):
            if not chain or chain[-1][1] is not None:
                return None
            chain[-1][1] = module
        elif isinstance(module, _TRANSPARENT):
            continue
        elif not list(module.children()):  # any other leaf module changes the statistics
            return None
    return [(layer, act) for layer, act in chain] or None


def _moments(act: Any, q: float) -> tuple[float, float]:
    """``(E[φ(√q z)], E[φ(√q z)²])`` by Gauss–Hermite quadrature, evaluating ``act`` on a Tensor."""
    z, w = mf.quadrature()
    with no_grad():
        phi = np.asarray(act(Tensor(math.sqrt(q) * z)).data, dtype=np.float64)
    return float(w @ phi), float(w @ (phi * phi))


def mean_field_prediction(model: Any, probe: Any) -> list[dict[str, float | None]] | None:
    """One dict per weight layer of ``model``, in order: ``sigma_w2``, ``sigma_b2`` (measured),
    ``q`` and ``pre_std`` (predicted second moment and std of its output) and ``act_std`` (the
    predicted std of the activation after it; None for a layer without one), from the probe's mean
    square (module docstring). None when :func:`mean_field_chain` finds no plain chain, or when a
    prediction is not finite (a diverging network).

    ``probe`` is the model's input batch (an array or Tensor); only ``mean(probe²)`` is used.
    """
    chain = mean_field_chain(model)
    if chain is None:
        return None
    x = np.asarray(getattr(probe, "data", probe), dtype=np.float64)
    q_in = float(np.mean(x * x))
    rows: list[dict[str, float | None]] = []
    for layer, act in chain:
        w = np.asarray(layer.weight.data, dtype=np.float64)
        bias = getattr(layer, "bias", None)
        b = np.zeros(1) if bias is None else np.asarray(bias.data, dtype=np.float64)
        sigma_w2 = float(layer.fans()[0]) * float(np.mean(w * w))
        sigma_b2 = float(np.mean(b * b))
        q = sigma_w2 * q_in + sigma_b2
        if not math.isfinite(q):
            return None
        row: dict[str, float | None] = {
            "sigma_w2": sigma_w2, "sigma_b2": sigma_b2, "q": q, "pre_std": math.sqrt(q), "act_std": None,
        }  # fmt: skip
        if act is not None:
            mean, second = _moments(act, q)  # q = 0: every node at 0, E[φ] = φ(0)
            if not (math.isfinite(mean) and math.isfinite(second)):
                return None
            row["act_std"] = math.sqrt(max(second - mean * mean, 0.0))
            q_in = second
        rows.append(row)
    return rows
