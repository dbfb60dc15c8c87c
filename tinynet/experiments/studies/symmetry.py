"""Symmetry: zero, constant and random weights; distinct units per layer over training steps,
exactly-zero hidden weight gradients under zero init, and which parameters learn at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._files import json_ready
from ..build import Dataset
from ..config import Config
from ..run import run
from .common import study_data

__all__ = ["SYMMETRY_INITS", "symmetry_study"]

#: the symmetry study's default schemes: zero, constant and one random
SYMMETRY_INITS = ("zeros", "constant(value=0.05)", "he")


def symmetry_study(
    inits: Sequence[str] = SYMMETRY_INITS,
    *,
    depth: int = 2,
    width: int = 64,
    activation: str = "relu",
    epochs: int = 3,
    limit: int = 5000,
    lr: float = 0.05,
    momentum: float = 0.9,
    batch_size: int = 64,
    record_every: int = 20,
    probe_size: int = 512,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> list[dict[str, Any]]:
    """Train one MLP per scheme (plain SGD with ``momentum``, through :func:`tinynet.experiments.run`)
    and follow its symmetry over training steps.

    Zero or constant weights make every unit of a layer compute the same function, receive the same
    gradient, and stay identical: the layer has 1 distinct unit however long it trains. With all
    weights zero and ``act(0) = 0`` (ReLU, tanh), every weight gradient is exactly zero (the output
    layer sees zero inputs, the hidden layers receive ``dL/dh = dL/dz · W_outᵀ = 0``), so only the
    output bias learns and the network predicts the class prior.

    Returns
    -------
    list of dict
        One per scheme: ``init``, ``steps`` (record steps, 0 = initialization), ``units`` (per
        layer), ``distinct`` (per layer, the distinct-unit count at each record),
        ``weight_grad_norm``/``bias_grad_norm`` (per layer, at each record),
        ``hidden_grads_zero`` (every hidden weight gradient exactly 0 at every record), ``learned``
        (names of the parameters that changed at all), ``test_accuracy``, ``train_loss``,
        ``diverged``.

    Raises
    ------
    ValueError
        For an unknown init spec or activation, or bad sizes.
    """
    data = study_data(dataset, limit, seed=0)
    out = []
    for spec in inits:
        config = Config(
            init=spec, activation=activation, depth=depth, width=width, optimizer="sgd", lr=lr,
            momentum=momentum, batch_size=batch_size, epochs=epochs, seed=seed, limit=limit,
            probe_size=probe_size,
        )  # fmt: skip
        run_result = run(
            config, dataset=data, quiet=True, record_every=record_every, record_final=True, bins=1
        )
        result, model, before = run_result.fit, run_result.model, run_result.initial_state
        records = run_result.monitor.history
        n_layers = len(records[0]["layers"])
        learned = [
            name
            for name, p in model.named_parameters()
            if not np.array_equal(p.data, before[name])
        ]
        hidden_zero = all(
            r["layers"][i]["weight_grad_norm"] == 0.0 for r in records for i in range(n_layers - 1)
        )
        last = result.history[-1] if result.history else {}
        out.append(
            json_ready(
                {
                    "init": spec,
                    "activation": activation,
                    "steps": [r["step"] for r in records],
                    "units": [row["units"] for row in records[0]["layers"]],
                    "distinct": [
                        [r["layers"][i]["distinct_units"] for r in records] for i in range(n_layers)
                    ],
                    "weight_grad_norm": [
                        [r["layers"][i]["weight_grad_norm"] for r in records]
                        for i in range(n_layers)
                    ],
                    "bias_grad_norm": [
                        [r["layers"][i]["bias_grad_norm"] for r in records] for i in range(n_layers)
                    ],
                    "hidden_grads_zero": hidden_zero,
                    "learned": learned,
                    "test_accuracy": last.get("test_accuracy"),
                    "train_loss": last.get("train_loss"),
                    "diverged": result.diverged,
                }
            )
        )
    return out
