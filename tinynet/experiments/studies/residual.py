"""A very deep residual MLP at initialization and in training: plain He-initialized blocks against
Fixup (Zhang et al. 2019) and ReZero (Bachlechner et al. 2020).

A block ``x + f(x)`` with He-initialized branches adds a branch output of the stream's own variance
(times the ReLU factor) to the stream, so the variance grows by a constant factor per block:
``Var[x_{l+1}] ≈ 2·Var[x_l]`` here, about ``2^64 ≈ 2e19`` after 64 blocks (std ``≈ 4e9`` times the
input's). Fixup zeroes each branch's last layer (and the classifier) and scales the others by
``L^{-1/(2m-2)}``; ReZero multiplies each branch by a learnable scalar that starts at 0. Both start
every block at the identity, so the stream keeps the std of the input layer, and both train.

Every run is :func:`tinynet.experiments.run` of a ``Config(arch="resmlp", residual=...)``, through
:func:`~.common.run_configs` (``jobs`` worker processes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..._checks import unknown_choice
from ..config import Config
from .common import variant_study

__all__ = ["RESIDUAL_VARIANTS", "residual_config", "residual_study"]

#: the study's variants: ``Config.residual`` of each (``plain``: None, He blocks as they are)
RESIDUAL_VARIANTS: dict[str, str | None] = {"plain": None, "fixup": "fixup", "rezero": "rezero"}


def residual_config(
    variant: str, *, depth: int = 64, width: int = 64, init: str = "he", epochs: int = 2, limit: int = 500,
    lr: float = 0.01, momentum: float = 0.9, batch_size: int = 64, probe_size: int = 128, seed: int = 0,
) -> Config:
    """The :class:`~tinynet.experiments.Config` of one run: a residual MLP (``arch="resmlp"``) of
    ``depth`` blocks of ``width`` ReLU units, weights ``init``, blocks started as ``variant`` says
    (a key of :data:`RESIDUAL_VARIANTS`), SGD at ``lr`` with ``momentum`` on the first ``limit``
    synthetic digits.

    Raises
    ------
    ValueError
        For an unknown variant (listing them).
    """
    if variant not in RESIDUAL_VARIANTS:
        raise ValueError(f"residual_study: {unknown_choice('variant', variant, RESIDUAL_VARIANTS)}")
    return Config(
        arch="resmlp", depth=depth, width=width, init=init, residual=RESIDUAL_VARIANTS[variant],
        activation="relu", optimizer="sgd", lr=lr, momentum=momentum, batch_size=batch_size,
        epochs=epochs, limit=limit, probe_size=probe_size, seed=seed,
    )  # fmt: skip


def residual_study(
    variants: Sequence[str] = tuple(RESIDUAL_VARIANTS),
    *,
    seeds: Sequence[int] = (0, 1),
    jobs: int | None = 1,
    executor: Any = None,
    **settings: Any,
) -> dict[str, Any]:
    """Train the residual MLP of :func:`residual_config` once per variant and seed.

    Parameters
    ----------
    variants
        Keys of :data:`RESIDUAL_VARIANTS`.
    seeds
        One run per seed and variant (init and shuffling).
    jobs, executor
        As in :func:`tinynet.experiments.grid.run_tasks`.
    settings
        Keyword arguments of :func:`residual_config` (``depth``, ``width``, ``epochs``, ...).

    Returns
    -------
    dict
        ``settings`` (the Config of the first run), ``runs`` (one :func:`~.common.train_task`
        result per variant and seed, with ``variant`` and ``seed``; ``stream_std`` is the std of
        the residual stream after each block at init) and ``variants``
        (:func:`~.common.summarize_variants`).

    Raises
    ------
    ValueError
        For an unknown variant or a bad setting, before anything trains.
    """
    runs = [({"variant": v, "seed": int(s)}, residual_config(v, seed=int(s), **settings))
            for v in variants for s in seeds]  # fmt: skip
    return variant_study("residual_study", variants, runs, jobs=jobs, executor=executor)
