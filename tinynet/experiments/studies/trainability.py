"""Trainability: a deep MLP trained under each scheme with a chosen optimizer (He et al. 2015, fig. 3),
and how far the verdict depends on that optimizer (plain SGD against Adam)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..._checks import check_choice
from ..._files import json_ready
from ..build import Dataset
from ..config import Config, ConfigError, validate
from ..run import run
from .common import resolve_scheme, study_data

__all__ = ["TRAINABILITY_LR", "TRAINABILITY_OPTIMIZERS", "TRAINABILITY_SCHEMES", "trainability"]

#: schemes of the trainability study; ``pytorch`` is the preset (weight and bias as PyTorch does)
TRAINABILITY_SCHEMES = ("he", "xavier", "pytorch")
#: the study's optimizers and their default learning rates: plain SGD at 0.01 (the rate of the
#: He et al. comparison), Adam at its usual 1e-3
TRAINABILITY_LR: dict[str, float] = {"sgd": 0.01, "adam": 1e-3}
TRAINABILITY_OPTIMIZERS = tuple(TRAINABILITY_LR)


def trainability(
    schemes: Sequence[str] = TRAINABILITY_SCHEMES,
    *,
    depth: int = 30,
    width: int = 128,
    activation: str = "relu",
    epochs: int = 10,
    limit: int = 2000,
    optimizer: str = "sgd",
    lr: float | None = None,
    momentum: float = 0.0,
    batch_size: int = 64,
    probe_size: int = 512,
    seed: int = 0,
    dataset: Dataset | None = None,
) -> list[dict[str, Any]]:
    """Train a deep MLP under each scheme with one optimizer (He et al. 2015, fig. 3).

    Each run is :func:`tinynet.experiments.run` of a :class:`~tinynet.experiments.Config` with
    the given ``optimizer``, recording at initialization and after the last step; ``limit`` training
    (and test) digits; the Monitor probes ``probe_size`` of them. The default is the paper's setting,
    plain SGD (``momentum=0``) at lr 0.01. With ``optimizer="adam"`` each parameter's step is
    normalized by its own gradient scale, so a signal that is merely *small* (Xavier with ReLU at
    depth 30, or the fixed scale ``normal(std=0.01)``) no longer means a step that is too small to
    learn: the study shows which verdicts hold for SGD only.

    Parameters
    ----------
    schemes
        Init specs or presets (see :func:`resolve_scheme`; biases zero unless a preset says so).
    optimizer
        ``"sgd"`` or ``"adam"``.
    lr
        Learning rate; None takes :data:`TRAINABILITY_LR` of the optimizer.
    momentum
        SGD momentum (0: plain SGD); must be 0 for Adam.

    Returns
    -------
    list of dict
        One per scheme: ``scheme``, ``init``, ``bias_init``, ``activation``, ``optimizer``, ``lr``,
        ``momentum``, ``depth``, ``width``, ``train_loss`` (mean training loss per epoch),
        ``final_loss``, ``ln_classes``, ``loss_ratio`` (``final_loss / ln C``), ``initial_loss``
        (probe loss at step 0), ``gradient_flow`` (back-propagated signal ratio at step 0),
        ``test_accuracy``, ``diverged``, ``divergence`` (``{"step", "reason"}`` or None), ``seconds``.

    Raises
    ------
    ValueError
        For an unknown scheme or optimizer, momentum given to Adam, or bad sizes.
    """
    check_choice("trainability", "optimizer", optimizer, TRAINABILITY_OPTIMIZERS)
    rate = TRAINABILITY_LR[optimizer] if lr is None else lr
    configs = []
    for name in schemes:  # every scheme and field checked before anything trains
        weight, bias = resolve_scheme(name)
        config = Config(
            init=weight, bias_init=bias, activation=activation, depth=depth, width=width,
            optimizer=optimizer, lr=rate, momentum=momentum, batch_size=batch_size, epochs=epochs,
            seed=seed, limit=limit, probe_size=probe_size,
        )  # fmt: skip
        try:
            configs.append(validate(config))
        except ConfigError as error:
            raise ValueError(f"trainability: {error}") from None
    data = study_data(dataset, limit)
    out = []
    for name, config in zip(schemes, configs):
        weight, bias = config.init, config.bias_init
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
                    "activation": activation,
                    "optimizer": optimizer,
                    "lr": rate,
                    "momentum": momentum,
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
                    "divergence": None
                    if result.fit.divergence is None
                    else {"step": result.fit.divergence.step, "reason": result.fit.divergence.reason},
                    "seconds": result.seconds.get("train"),
                }
            )
        )
    return out
