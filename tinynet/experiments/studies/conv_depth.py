"""A deep plain CNN under He against Xavier (He et al. 2015, fig. 3, with convolutions): ReLU
halves the variance a layer passes on, so Xavier's ``Var[W] = 2/(fan_in + fan_out)`` (equal fans
here: ``1/fan_in``) shrinks the signal by about 2 per layer and a deep stack starts with almost no
signal at its output and almost no gradient at its input; He's ``2/fan_in`` keeps it.

The network is ``Config(arch="cnn")``: ``depth`` 3×3 "same" conv layers of ``width`` channels
(2×2 max-pooling after the first two, so most layers see 7×7 maps of 28×28 digits), then a
Linear classifier. Every run is :func:`tinynet.experiments.run`, through
:func:`~.common.run_configs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import Config
from .common import resolve_scheme, variant_study

__all__ = ["CONV_DEPTH_SCHEMES", "conv_depth_config", "conv_depth_study"]

#: the study's schemes; ``pytorch`` is the preset (PyTorch's Conv2d weight *and* bias defaults)
CONV_DEPTH_SCHEMES = ("he", "xavier", "pytorch")


def conv_depth_config(
    scheme: str, *, depth: int = 12, width: int = 8, activation: str = "relu", epochs: int = 3,
    limit: int = 1000, lr: float = 0.02, momentum: float = 0.9, batch_size: int = 64,
    probe_size: int = 128, seed: int = 0,
) -> Config:
    """The :class:`~tinynet.experiments.Config` of one run: the plain CNN of ``depth`` conv layers
    of ``width`` channels, weights and biases from ``scheme`` (:func:`~.common.resolve_scheme`),
    SGD at ``lr`` with ``momentum`` on the first ``limit`` synthetic digits.

    Raises
    ------
    ValueError
        For an unknown scheme.
    """
    weight, bias = resolve_scheme(scheme)
    return Config(
        arch="cnn", depth=depth, width=width, init=weight, bias_init=bias, activation=activation,
        optimizer="sgd", lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs, limit=limit,
        probe_size=probe_size, seed=seed,
    )  # fmt: skip


def conv_depth_study(
    schemes: Sequence[str] = CONV_DEPTH_SCHEMES,
    *,
    seeds: Sequence[int] = (0, 1),
    jobs: int | None = 1,
    executor: Any = None,
    **settings: Any,
) -> dict[str, Any]:
    """Train the CNN of :func:`conv_depth_config` once per scheme and seed.

    Parameters
    ----------
    schemes
        Init specs or presets.
    seeds
        One run per seed and scheme.
    jobs, executor
        As in :func:`tinynet.experiments.grid.run_tasks`.
    settings
        Keyword arguments of :func:`conv_depth_config`.

    Returns
    -------
    dict
        ``settings``, ``runs`` (:func:`~.common.train_task` results with ``variant`` = the scheme
        and ``seed``; ``act_std`` is the std after every ReLU at init, layer by layer) and
        ``variants`` (:func:`~.common.summarize_variants`).

    Raises
    ------
    ValueError
        For an unknown scheme or a bad setting, before anything trains.
    """
    runs = [({"variant": name, "seed": int(s)}, conv_depth_config(name, seed=int(s), **settings))
            for name in schemes for s in seeds]  # fmt: skip
    return variant_study("conv_depth_study", schemes, runs, jobs=jobs, executor=executor)
