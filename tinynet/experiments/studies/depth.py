"""Signal propagation with depth: what a deep MLP does to a batch at initialization, layer by layer
(activation std, saturation, dead units, back-propagated signal, weight-gradient norm; Glorot & Bengio
2010; He et al. 2015; Klambauer et al. 2017). A profile is one Monitor record at step 0: no training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._files import json_ready
from ...diagnostics import Monitor
from ..build import Dataset, build_mlp
from .common import resolve_scheme, study_data

__all__ = ["DEPTH_ACTIVATIONS", "DEPTH_INITS", "depth_study", "signal_profile", "std_ratio"]

#: activations of the depth study (Glorot & Bengio: sigmoid, tanh; He: ReLU; Klambauer: SELU)
DEPTH_ACTIVATIONS = ("sigmoid", "tanh", "relu", "selu")
#: schemes of the depth study; ``default`` is PyTorch's weight init U(±1/√fan_in) with zero biases
#: (the "standard" init of Glorot & Bengio), ``pytorch`` the preset with PyTorch's bias init too
DEPTH_INITS = (
    "default", "pytorch", "xavier", "he", "lecun", "orthogonal", "lsuv", "normal(std=1.0)",
)  # fmt: skip


def signal_profile(
    activation: str,
    init: str,
    depth: int,
    width: int,
    x: np.ndarray,
    y: np.ndarray,
    *,
    bias_init: str = "zeros",
    rng: int = 0,
) -> dict[str, Any]:
    """What a deep MLP does to a batch at initialization, layer by layer.

    Builds ``build_mlp(in, C, depth, width, activation, init, bias_init, rng)`` and takes one
    :class:`tinynet.diagnostics.Monitor` record on ``(x, y)`` (forward and cross-entropy backward).

    Returns
    -------
    dict
        ``activation``, ``init``, ``depth``, ``width``; per hidden layer ``k = 1..depth`` (lists of
        length ``depth``): ``act_mean``, ``act_std`` (of the activation output), ``pre_std`` (of the
        Linear output), ``act_std_theory`` and ``pre_std_theory`` (their mean-field predictions from
        the drawn weights' variances, :mod:`tinynet.diagnostics.prediction`), ``saturated`` (for
        an activation that declares ``saturates``, such as tanh and sigmoid, else None), ``dead``
        (for one that declares ``can_die``, such as ReLU, else None), ``grad_std`` (std of dL/d
        activation); per layer including the output layer (length ``depth + 1``): ``out_grad_std``
        (std of dL/d layer output, the back-propagated signal) and ``weight_grad_norm``; and
        ``gradient_flow`` (``out_grad_std`` of the first layer over that of the last hidden one),
        ``weight_grad_ratio`` (``||dL/dW_first|| / ||dL/dW_last||``), ``loss``, ``ln_classes``.
    """
    n_classes = int(np.max(y)) + 1
    model = build_mlp(
        x.shape[1], n_classes, depth, width, activation, init, bias_init, rng=rng, data=x
    )
    monitor = Monitor(model, x, y, bins=1)  # no histograms are drawn from a profile
    record = monitor.history[0]
    monitor.remove()
    acts = {m["layer"]: m for m in record["modules"] if m["role"] == "activation"}
    pres = {m["layer"]: m for m in record["modules"] if m["role"] == "layer"}
    hidden = range(1, depth + 1)
    return json_ready(
        {
            "activation": activation,
            "init": init,
            "bias_init": bias_init,
            "depth": depth,
            "width": width,
            "act_mean": [acts[k]["mean"] for k in hidden],
            "act_std": [acts[k]["std"] for k in hidden],
            "pre_std": [pres[k]["std"] for k in hidden],
            "act_std_theory": [record["layers"][k - 1]["act_std_theory"] for k in hidden],
            "pre_std_theory": [record["layers"][k - 1]["pre_std_theory"] for k in hidden],
            "saturated": [acts[k]["saturated"] for k in hidden],
            "dead": [acts[k]["dead"] for k in hidden],
            "grad_std": [acts[k]["grad_std"] for k in hidden],
            "out_grad_std": [row.get("out_grad_std") for row in record["layers"]],
            "weight_grad_norm": [row["weight_grad_norm"] for row in record["layers"]],
            "gradient_flow": record["gradient_flow"],
            "weight_grad_ratio": record.get("weight_grad_ratio"),
            "loss": record["loss"],
            "ln_classes": record["ln_classes"],
        }
    )


def std_ratio(profile: dict[str, Any], last: int | None = None, first: int = 1) -> float:
    """``act_std[last] / act_std[first]`` of a :func:`signal_profile` (layers numbered from 1;
    ``last=None`` is the deepest hidden layer). ``nan`` when the first std is 0 or missing."""
    stds = profile["act_std"]
    last = len(stds) if last is None else last
    if not 1 <= first <= last <= len(stds):
        raise ValueError(
            f"std_ratio: need 1 <= first <= last <= {len(stds)}, got first={first}, last={last}"
        )
    a, b = stds[first - 1], stds[last - 1]
    if a is None or b is None or not a > 0:
        return float("nan")
    return float(b / a)


def depth_study(
    activations: Sequence[str] = DEPTH_ACTIVATIONS,
    inits: Sequence[str] = DEPTH_INITS,
    *,
    depth: int = 32,
    width: int = 128,
    probe_size: int = 512,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> list[dict[str, Any]]:
    """:func:`signal_profile` of every (activation, scheme) pair on the same digits probe.

    Schemes may be presets (``"pytorch"``: PyTorch's weight *and* bias defaults); see
    :func:`resolve_scheme`. Returns the profiles, activation-major.
    """
    data = study_data(dataset, probe_size)
    x, y = data.x_train[:probe_size], data.y_train[:probe_size]
    out = []
    for activation in activations:
        for name in inits:
            weight, bias = resolve_scheme(name)
            profile = signal_profile(activation, weight, depth, width, x, y, bias_init=bias, rng=seed)
            profile["scheme"] = name
            out.append(profile)
    return out
