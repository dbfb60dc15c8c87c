"""What the studies share: schemes that may be presets, their default data, and the one task that
trains a :class:`~tinynet.experiments.Config` through :func:`~tinynet.experiments.run` and measures
it (the architecture studies run several of them through :func:`~tinynet.experiments.grid.run_tasks`)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from ... import init as tinit
from ... import nn
from ..._checks import closest
from ..._files import json_ready
from ...function import no_grad
from ..architectures import build_model, needs_images
from ..build import Dataset, load_dataset
from ..config import Config, ConfigError, validate
from ..grid import cached_dataset, error_result, run_tasks
from ..run import run

__all__ = [
    "initial_profile",
    "resolve_scheme",
    "run_configs",
    "seed_summary",
    "study_data",
    "summarize_variants",
    "train_task",
    "variant_study",
]


def resolve_scheme(name: str, bias_init: str = "zeros") -> tuple[str, str]:
    """``(weight spec, bias spec)`` of a scheme: a preset of :data:`tinynet.init.PRESETS` gives both
    (``"pytorch"``: ``("default", "default_bias")``, PyTorch's ``nn.Linear`` weight *and* bias rule;
    ``"keras"``, ``"flax"``); any other name is an init spec for the weights, with ``bias_init``
    (zero biases by default) for the biases, except that a weight strategy declaring a
    ``bias_partner`` (``edge_of_chaos``: ``N(0, σ_b²)``, without which it is not critical) gets that
    instead of zeros. The sweep and every study resolve names here.

    Raises
    ------
    ValueError
        If ``name`` is neither a preset nor a valid init spec (the message lists the valid names,
        the presets and the closest preset), or ``bias_init`` is not a valid spec.
    TypeError
        For a spec that is neither a string nor an initializer (as :func:`tinynet.init.get`).
    """
    if isinstance(name, str) and name in tinit.PRESETS:
        return tinit.PRESETS[name]
    try:
        weight = tinit.get(name)
    except ValueError as error:
        hint = closest(name, tinit.PRESETS) if isinstance(name, str) else None
        text = f"{error}; or a preset: {', '.join(tinit.PRESETS)}"
        raise ValueError(text + (f" (closest preset: {hint!r})" if hint else "")) from None
    tinit.get(bias_init)
    partner = getattr(weight, "bias_partner", None)
    if partner is not None and bias_init == "zeros":  # a scheme defined with its biases
        return name, partner
    return name, bias_init


def study_data(dataset: Dataset | None, limit: int, seed: int = 0) -> Dataset:
    """``dataset``, or the first ``limit`` built-in synthetic digits of each split."""
    return dataset if dataset is not None else load_dataset("synthetic", limit=limit, seed=seed)


def _std(array: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.std(array.astype(np.float64)))


def initial_profile(config: Config, data: Dataset) -> dict[str, Any]:
    """What the network of ``config`` does to the probe at initialization, in *training* mode.

    The model is built exactly as :func:`~tinynet.experiments.run` builds it (same architecture,
    scheme, seed, one stream per parameter, so the same weights), and the first
    ``config.probe_size`` training examples go through it once without gradients. Training mode
    matters for ``nn.BatchNorm1d``: it normalizes by the batch's statistics, as in every training
    step (the Monitor records in evaluation mode, where a fresh BatchNorm's running statistics,
    mean 0 and variance 1, leave the signal as it is).

    Returns
    -------
    dict
        ``act_std``: the std of every ``nn.Activation``'s output, in order; ``stream_std``: the std
        of every ``nn.Residual``'s output ``x + f(x)`` (the residual stream after each block;
        empty for a plain network); ``output_std``: the std of the model's output (the logits);
        ``parameters``: the number of parameter entries. Overflowing values give ``inf``/``nan``.
    """
    images = data.as_images() if needs_images(config.arch) else data
    probe = images.x_train[: min(config.probe_size, len(images.x_train))]
    model = build_model(
        config.arch, images.in_shape, images.n_classes, config.depth, config.width, config.activation,
        config.init, config.bias_init, rng=config.seed, data=probe, residual=config.residual,
        norm=config.norm,
    )  # fmt: skip
    acts: list[float] = []
    stream: list[float] = []
    handles = []
    for module in model.modules():
        if isinstance(module, nn.Activation):
            handles.append(module.register_forward_hook(lambda m, i, out: acts.append(_std(out.data))))
        elif isinstance(module, nn.Residual):
            handles.append(module.register_forward_hook(lambda m, i, out: stream.append(_std(out.data))))
    model.train()
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        output = model(probe).data
    for handle in handles:
        handle.remove()
    return json_ready(
        {
            "act_std": acts,
            "stream_std": stream,
            "output_std": _std(output),
            "parameters": int(sum(p.data.size for p in model.parameters())),
        }
    )


def train_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train one :class:`~tinynet.experiments.Config` and measure it: a module-level function of a
    plain dict (``{"config": Config.to_dict(), ...}``; every other key is copied into the result),
    so that any executor can pickle it.

    The run is :func:`tinynet.experiments.run` (Monitor at initialization and after the last step,
    no histograms, nothing printed) on the config's data (loaded once per process). Time per step
    is the median of the intervals between consecutive optimizer steps within an epoch (the
    step's forward, backward and update, and fetching its batch; no evaluation, no Monitor).

    Returns
    -------
    dict
        The task's keys but ``config``; :func:`initial_profile` (``act_std``, ``stream_std``,
        ``output_std``, ``parameters``); from the run: ``initial_loss`` and ``gradient_flow`` (the
        Monitor's first record), ``train_loss`` (mean training loss per epoch), ``step_loss``
        (every step's), ``final_loss`` (the last epoch's mean; None if none finished),
        ``test_accuracy``, ``diverged``, ``divergence`` (``{"step", "reason"}`` or None),
        ``steps``, ``seconds_per_step``, ``seconds``; and ``error`` (None, or the message when the
        run raised).
    """
    config = Config(**task["config"])
    out: dict[str, Any] = {k: v for k, v in task.items() if k != "config"}
    began = time.perf_counter()
    stamps: list[float] = []
    try:
        data = cached_dataset(config)
        out.update(initial_profile(config, data))
        with np.errstate(over="ignore", invalid="ignore"):  # an exploding run is reported, not warned
            result = run(config, dataset=data, quiet=True, record_every=0, record_final=True, bins=1,
                         on_step=lambda step, model: stamps.append(time.perf_counter()))  # fmt: skip
    except Exception as error:  # one broken run must not sink the whole study
        out.update(**error_result(error), seconds=time.perf_counter() - began)
        return json_ready(out)
    per_epoch = math.ceil(len(data.x_train) / config.batch_size)
    gaps = [b - a for k, (a, b) in enumerate(pairwise(stamps), start=1) if k % per_epoch]
    first = result.monitor.history[0]
    losses = [h["train_loss"] for h in result.fit.history]
    divergence = result.fit.divergence
    out.update(
        initial_loss=first["loss"],
        gradient_flow=first["gradient_flow"],
        train_loss=losses,
        step_loss=list(result.fit.step_losses),
        final_loss=losses[-1] if losses else None,
        test_accuracy=result.fit.history[-1]["test_accuracy"] if result.fit.history else None,
        diverged=result.diverged,
        divergence=None if divergence is None else {"step": divergence.step, "reason": divergence.reason},
        steps=result.fit.steps,
        seconds_per_step=float(np.median(gaps)) if gaps else None,
        seconds=time.perf_counter() - began,
        error=None,
    )
    return json_ready(out)


def run_configs(
    op: str, runs: Sequence[tuple[dict[str, Any], Config]], *, jobs: int | None = 1, executor: Any = None
) -> list[dict[str, Any]]:
    """Validate every config (naming the study ``op`` and the bad field), then :func:`train_task`
    each ``(keys, config)`` through :func:`~tinynet.experiments.grid.run_tasks`: ``jobs`` worker
    processes (1: this process) or the ``executor`` given. Results in the order of ``runs``.

    Raises
    ------
    ValueError
        For a bad config field, before anything trains.
    """
    for _, config in runs:
        try:
            validate(config)
        except ConfigError as error:
            raise ValueError(f"{op}: {error}") from None
    tasks = [{**keys, "config": config.to_dict()} for keys, config in runs]
    keep = tuple(runs[0][0]) if runs else ()
    return run_tasks(train_task, tasks, jobs=jobs, executor=executor, keep=keep).results


def variant_study(
    op: str,
    variants: Sequence[str],
    runs: Sequence[tuple[dict[str, Any], Config]],
    *,
    jobs: int | None = 1,
    executor: Any = None,
) -> dict[str, Any]:
    """The record of a study that compares ``variants`` over seeds: :func:`run_configs` of
    ``runs`` (each keyed by at least ``variant`` and ``seed``), then ``{"settings": the first run's
    Config, "runs": every result, "variants": summarize_variants(...)}`` (JSON-ready).

    Raises
    ------
    ValueError
        For a bad config field, before anything trains.
    """
    results = run_configs(op, runs, jobs=jobs, executor=executor)
    return json_ready(
        {
            "settings": runs[0][1].to_dict() if runs else {},
            "runs": results,
            "variants": summarize_variants(results, list(variants)),
        }
    )


def seed_summary(values: Sequence[float | None]) -> dict[str, float | None]:
    """``{"mean", "min", "max"}`` of the finite values (None where there is none)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return {"mean": None, "min": None, "max": None}
    return {"mean": float(np.mean(finite)), "min": min(finite), "max": max(finite)}


def summarize_variants(runs: Sequence[dict[str, Any]], variants: Sequence[str]) -> list[dict[str, Any]]:
    """Per variant (the ``"variant"`` key of the runs of :func:`train_task`), over its seeds:
    ``final_loss``, ``test_accuracy``, ``initial_loss``, ``output_std``, ``last_act_std`` (the
    deepest activation's std at init), ``last_stream_std`` (the residual stream's after the last
    block; None for a plain net) and ``seconds_per_step`` as :func:`seed_summary`; ``seeds``,
    ``diverged`` (how many seeds diverged or ended without a finite loss), ``errors`` (messages)."""
    out = []
    for variant in variants:
        mine = [r for r in runs if r.get("variant") == variant]
        ok = [r for r in mine if not r.get("error")]
        failed = [r for r in ok if r["diverged"] or not math.isfinite(r["final_loss"] or math.nan)]
        out.append(
            json_ready(
                {
                    "variant": variant,
                    "seeds": [r.get("seed") for r in mine],
                    "diverged": len(failed),
                    "errors": [r["error"] for r in mine if r.get("error")],
                    "final_loss": seed_summary([r["final_loss"] for r in ok if r not in failed]),
                    "test_accuracy": seed_summary([r["test_accuracy"] for r in ok if r not in failed]),
                    "initial_loss": seed_summary([r["initial_loss"] for r in ok]),
                    "output_std": seed_summary([r["output_std"] for r in ok]),
                    "last_act_std": seed_summary([r["act_std"][-1] for r in ok if r["act_std"]]),
                    "last_stream_std": seed_summary([r["stream_std"][-1] for r in ok if r["stream_std"]]),
                    "seconds_per_step": seed_summary([r["seconds_per_step"] for r in ok]),
                }
            )
        )
    return out
