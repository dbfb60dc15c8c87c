"""Trainability at depth: a deep MLP trained with plain SGD under each scheme (He et al. 2015, fig. 3)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..._files import json_ready
from ..build import Dataset
from ..config import Config
from ..run import run
from .common import resolve_scheme, study_data

__all__ = ["TRAINABILITY_SCHEMES", "trainability"]

#: schemes of the trainability study; ``pytorch`` is the preset (weight and bias as PyTorch does)
TRAINABILITY_SCHEMES = ("he", "xavier", "pytorch")


def trainability(
    schemes: Sequence[str] = TRAINABILITY_SCHEMES,
    *,
    depth: int = 30,
    width: int = 128,
    activation: str = "relu",
    epochs: int = 10,
    limit: int = 2000,
    lr: float = 0.01,
    batch_size: int = 64,
    probe_size: int = 512,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> list[dict[str, Any]]:
    """Train a deep MLP with plain SGD (no momentum) under each scheme (He et al. 2015, fig. 3).

    Each run is :func:`tinynet.experiments.run` of a :class:`~tinynet.experiments.Config` with
    ``optimizer="sgd", momentum=0``, recording at initialization and after the last step; ``limit``
    training (and test) digits; the Monitor probes ``probe_size`` of them.

    Returns
    -------
    list of dict
        One per scheme: ``scheme``, ``init``, ``bias_init``, ``train_loss`` (mean training loss per
        epoch), ``final_loss``, ``ln_classes``, ``loss_ratio`` (``final_loss / ln C``),
        ``initial_loss`` (probe loss at step 0), ``gradient_flow`` (at step 0),
        ``test_accuracy``, ``diverged``, ``seconds``.
    """
    data = study_data(dataset, limit)
    out = []
    for name in schemes:
        weight, bias = resolve_scheme(name)
        config = Config(
            init=weight, bias_init=bias, activation=activation, depth=depth, width=width,
            optimizer="sgd", lr=lr, momentum=0.0, batch_size=batch_size, epochs=epochs, seed=seed,
            limit=limit, probe_size=probe_size,
        )  # fmt: skip
        result = run(config, dataset=data, quiet=True, record_every=0, record_final=True, bins=1)
        first = result.monitor.history[0]
        losses = [h["train_loss"] for h in result.fit.history]
        final = losses[-1] if losses else float("nan")
        ln_c = math.log(data.n_classes)
        out.append(
            json_ready(
                {
                    "scheme": name,
                    "init": weight,
                    "bias_init": bias,
                    "depth": depth,
                    "width": width,
                    "train_loss": losses,
                    "final_loss": final,
                    "ln_classes": ln_c,
                    "loss_ratio": final / ln_c,
                    "initial_loss": first["loss"],
                    "gradient_flow": first["gradient_flow"],
                    "test_accuracy": result.fit.history[-1]["test_accuracy"]
                    if result.fit.history
                    else None,
                    "diverged": result.diverged,
                    "seconds": result.seconds.get("train"),
                }
            )
        )
    return out
