"""Normalization rescuing a bad initialization, and what it costs (Ioffe & Szegedy 2015; Ba et al.
2016).

A deep ReLU MLP with ``normal(std=0.01)`` weights multiplies the signal's std by about
``0.01·sqrt(width/2)`` per layer (0.08 at width 128): after 20 layers nothing is left, and plain
SGD cannot start. ``nn.BatchNorm1d`` between each Linear and its ReLU rescales every unit to zero
mean and unit variance over the batch, whatever the weights' scale, so the same weights train;
``nn.LayerNorm`` rescales each example over its units instead. The price is measured: time per
training step and parameters, against the plain network, and against a good init without any
normalization (He).

Every run is :func:`tinynet.experiments.run` of ``Config(arch="mlp", norm=...)``, through
:func:`~.common.run_configs`. The activation std at init comes from a training-mode forward pass
(:func:`~.common.initial_profile`), so BatchNorm normalizes by the batch as it does in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..._checks import check_choice
from ..architectures import NORMS
from ..config import Config
from .common import resolve_scheme, variant_study

__all__ = ["NORMALIZATION_VARIANTS", "normalization_config", "normalization_study"]

#: the study's variants: ``(weights, norm)``; ``bad`` is the study's ``bad_init``, ``good`` its
#: ``good_init``
NORMALIZATION_VARIANTS: dict[str, tuple[str, str | None]] = {
    "bad": ("bad", None),
    "bad+batchnorm": ("bad", "batchnorm"),
    "bad+layernorm": ("bad", "layernorm"),
    "good": ("good", None),
}


def normalization_config(
    init: str, norm: str | None, *, depth: int = 20, width: int = 128, activation: str = "relu",
    epochs: int = 3, limit: int = 1000, lr: float = 0.01, momentum: float = 0.9, batch_size: int = 64,
    probe_size: int = 128, seed: int = 0,
) -> Config:
    """The :class:`~tinynet.experiments.Config` of one run: an MLP of ``depth`` hidden layers of
    ``width`` units, ``norm`` (None, ``"batchnorm"``, ``"layernorm"``) before every activation,
    weights ``init`` (a spec or preset), SGD at ``lr`` with ``momentum``.

    Raises
    ------
    ValueError
        For an unknown norm or scheme.
    """
    if norm is not None:
        check_choice("normalization_study", "norm", norm, NORMS)
    weight, bias = resolve_scheme(init)
    return Config(
        arch="mlp", depth=depth, width=width, init=weight, bias_init=bias, norm=norm,
        activation=activation, optimizer="sgd", lr=lr, momentum=momentum, batch_size=batch_size,
        epochs=epochs, limit=limit, probe_size=probe_size, seed=seed,
    )  # fmt: skip


def normalization_study(
    variants: Sequence[str] = tuple(NORMALIZATION_VARIANTS),
    *,
    bad_init: str = "normal(std=0.01)",
    good_init: str = "he",
    seeds: Sequence[int] = (0, 1),
    jobs: int | None = 1,
    executor: Any = None,
    **settings: Any,
) -> dict[str, Any]:
    """Train the MLP of :func:`normalization_config` once per variant and seed.

    Parameters
    ----------
    variants
        Keys of :data:`NORMALIZATION_VARIANTS`.
    bad_init, good_init
        The schemes the variants call ``bad`` and ``good``.
    seeds
        One run per seed and variant.
    jobs, executor
        As in :func:`tinynet.experiments.grid.run_tasks`. Time per step is measured in each
        worker; with ``jobs > 1`` the workers share the machine, so compare the variants of one
        run only.
    settings
        Keyword arguments of :func:`normalization_config`.

    Returns
    -------
    dict
        ``settings``, ``bad_init``, ``good_init``, ``runs`` (:func:`~.common.train_task` results
        with ``variant``, ``seed``, ``init``, ``norm``), ``variants``
        (:func:`~.common.summarize_variants`, each with ``parameters``, and ``cost``: its median
        seconds per step over that of ``bad``, None without a ``bad`` run).

    Raises
    ------
    ValueError
        For an unknown variant or a bad setting, before anything trains.
    """
    schemes = {"bad": bad_init, "good": good_init}
    runs = []
    for v in variants:
        check_choice("normalization_study", "variant", v, tuple(NORMALIZATION_VARIANTS))
        which, norm = NORMALIZATION_VARIANTS[v]
        for s in seeds:
            keys = {"variant": v, "seed": int(s), "init": schemes[which], "norm": norm}
            runs.append((keys, normalization_config(schemes[which], norm, seed=int(s), **settings)))
    record = variant_study("normalization_study", variants, runs, jobs=jobs, executor=executor)
    summary = record["variants"]
    base = next((v["seconds_per_step"]["mean"] for v in summary if v["variant"] == "bad"), None)
    for v in summary:
        mine = [r for r in record["runs"] if r["variant"] == v["variant"] and not r.get("error")]
        v["parameters"] = mine[0]["parameters"] if mine else None
        t = v["seconds_per_step"]["mean"]
        v["cost"] = t / base if base and t is not None else None
    return {"settings": record["settings"], "bad_init": bad_init, "good_init": good_init,
            "runs": record["runs"], "variants": summary}  # fmt: skip
