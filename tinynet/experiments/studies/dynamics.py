"""Activation dynamics: mean and std of each hidden activation on a fixed probe over training (Glorot &
Bengio 2010, fig. 2: the top sigmoid layer saturating at 0)."""

from __future__ import annotations

from typing import Any

from ..._files import json_ready
from ..build import Dataset
from ..config import Config
from ..run import run
from .common import resolve_scheme, study_data

__all__ = ["activation_dynamics"]


def activation_dynamics(
    init: str = "default",
    *,
    activation: str = "sigmoid",
    depth: int = 4,
    width: int = 256,
    epochs: int = 2,
    limit: int = 10000,
    lr: float = 0.1,
    momentum: float = 0.0,
    batch_size: int = 10,
    record_every: int = 50,
    probe_size: int = 300,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> dict[str, Any]:
    """Mean and std of each hidden activation on a fixed probe over training (Glorot & Bengio 2010,
    fig. 2).

    ``init`` may be a preset (see :func:`resolve_scheme`). With sigmoid units and the standard
    init ``U(±1/√fan_in)`` (``"default"``), the paper reports the top hidden layer driven to 0
    (saturated) early in training while the lower layers stay near 0.5.

    Returns
    -------
    dict
        ``init``, ``activation``, ``steps`` (record steps), ``mean`` and ``std`` (per hidden
        layer, one value per record), ``saturated`` (idem; tanh/sigmoid), ``test_accuracy``,
        ``train_loss``, ``diverged``.
    """
    data = study_data(dataset, limit)
    weight, bias = resolve_scheme(init)
    config = Config(
        init=weight, bias_init=bias, activation=activation, depth=depth, width=width, optimizer="sgd",
        lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs, seed=seed, limit=limit,
        probe_size=probe_size,
    )  # fmt: skip
    run_result = run(config, dataset=data, quiet=True, record_every=record_every, record_final=True, bins=1)
    result, monitor = run_result.fit, run_result.monitor

    def series(key: str) -> list[list[Any]]:
        rows = []
        for layer in range(1, depth + 1):
            rows.append(
                [
                    next(
                        m[key]
                        for m in r["modules"]
                        if m["role"] == "activation" and m["layer"] == layer
                    )
                    for r in monitor.history
                ]
            )
        return rows

    last = result.history[-1] if result.history else {}
    return json_ready(
        {
            "init": init,
            "activation": activation,
            "depth": depth,
            "width": width,
            "steps": [r["step"] for r in monitor.history],
            "mean": series("mean"),
            "std": series("std"),
            "saturated": series("saturated"),
            "test_accuracy": last.get("test_accuracy"),
            "train_loss": last.get("train_loss"),
            "diverged": result.diverged,
        }
    )
