r"""Learning-rate transfer across width (Yang et al. 2022, Tensor Programs V, fig. 1 and 3): the
training loss after a fixed budget over a grid of learning rates a factor 2 apart, at several
widths, under each parametrization.

Under µP the best learning rate found on the narrow model is (up to a grid point) the best on the
wide one, because every layer's update stays of order one as the width grows; under SP the output
layer's update grows with the width, so the best rate shrinks (or the wide model diverges at the
narrow model's best rate).

Every run (a parametrization, a width, a learning rate and a seed) is one independent task
(:func:`lr_task`, a plain dict in and out) run through :func:`tinynet.experiments.grid.run_tasks`,
so the grid runs on a process pool, on Dask (``client.get_executor()``) or on any other executor,
unchanged. Each run is :func:`tinynet.experiments.run` with ``Config(parametrization=...,
base_width=...)``: the one training run re-initializes the MLP by the table and builds the optimizer
from its ``lr_mult`` groups.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import numpy as np

from ... import init as tinit
from ..._checks import check_int, check_real
from ..._files import json_ready
from ...training import evaluate
from ..config import Config, ConfigError, validate
from ..grid import cached_dataset, error_result, run_tasks
from ..run import run

__all__ = [
    "LR_LOG2",
    "LR_PARAMETRIZATIONS",
    "LR_WIDTHS",
    "best_index",
    "least_shift",
    "lr_config",
    "lr_task",
    "lr_tasks",
    "lr_transfer",
    "tied_indices",
]

#: the parametrizations, widths and log₂ learning rates (Adam) of the default study
LR_PARAMETRIZATIONS = ("sp", "mup")
LR_WIDTHS = (64, 256, 1024)
LR_LOG2 = tuple(range(-14, -3))

_KEYS = ("parametrization", "width", "log2_lr", "seed")


def lr_config(
    width: int, *, parametrization: str = "mup", base_width: int = 64, optimizer: str = "adam",
    log2_lr: float = -8.0, epochs: int = 4, limit: int = 4000, batch_size: int = 64, seed: int = 0,
) -> Config:
    r"""The validated :class:`~tinynet.experiments.Config` of one run of the study: an MLP
    ``784-width-width-10`` with ReLU (``depth=2``) on the first ``limit`` built-in synthetic digits,
    parametrized by ``parametrization`` at ``base_width``, trained with ``optimizer`` at
    :math:`\eta = 2^{\text{log2\_lr}}` for ``epochs`` epochs, the Monitor probing 128 digits.

    Raises
    ------
    ConfigError
        For a bad field (naming it), before anything is built.
    """
    config = Config(
        activation="relu", depth=2, width=width, optimizer=optimizer, lr=2.0 ** float(log2_lr),
        batch_size=batch_size, epochs=epochs, seed=seed, limit=limit, probe_size=min(limit, 128),
        parametrization=parametrization, base_width=base_width,
    )  # fmt: skip
    return validate(config)


def lr_tasks(
    parametrizations: Sequence[str], widths: Sequence[int], log2_lrs: Sequence[float], config: Config,
    seeds: Sequence[int] = (0,),
) -> list[dict[str, Any]]:
    """One task per run, widest first (the longest runs start first), then parametrization, then
    learning rate, then seed: ``{"config": ..., "parametrization": p, "width": w, "log2_lr": k,
    "seed": s}`` with the config's ``parametrization``, ``width``, ``lr`` and ``seed`` set."""
    return [
        {
            "config": replace(
                config, parametrization=p, width=int(w), lr=2.0 ** float(k), seed=int(s)
            ).to_dict(),
            "parametrization": p,
            "width": int(w),
            "log2_lr": float(k),
            "seed": int(s),
        }
        for w in sorted(widths, reverse=True)
        for p in parametrizations
        for k in log2_lrs
        for s in seeds
    ]


def lr_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train one run of the grid and measure it: a module-level function of a plain dict (one of
    :func:`lr_tasks`), returning a plain dict, so that any executor can pickle it.

    The run is :func:`tinynet.experiments.run` (Monitor at initialization and after the last step,
    no histograms, nothing printed) on the config's data (loaded once per process); afterwards the
    trained model is evaluated on the whole training split,
    :math:`L = \\frac{1}{N}\\sum_i \\ell(f(x_i), y_i)`.

    Returns
    -------
    dict
        ``parametrization``, ``width``, ``log2_lr``, ``seed``; ``train_loss`` (that :math:`L`; None
        when the run diverged or the loss is not finite), ``train_accuracy``, ``final_loss`` (mean
        training loss over the last epoch's batches), ``steps``, ``diverged`` (True when the
        divergence guard stopped the run or :math:`L` is not finite), ``seconds``, and ``error``
        (None, or the message when the run raised).
    """
    config = Config(**task["config"])
    out: dict[str, Any] = {key: task[key] for key in _KEYS if key in task}
    began = time.perf_counter()
    try:
        data = cached_dataset(config)
        result = run(config, dataset=data, quiet=True, record_every=0, record_final=True, bins=1)
        loss, accuracy = (math.inf, None) if result.diverged else evaluate(result.model, data.x_train,
                                                                          data.y_train)  # fmt: skip
    except Exception as error:  # one broken run must not sink the whole grid
        out.update(**error_result(error), seconds=time.perf_counter() - began)
        return json_ready(out)
    last = result.fit.history[-1] if result.fit.history else {}
    diverged = bool(result.diverged) or not math.isfinite(loss)
    out.update(
        train_loss=None if diverged else loss,
        train_accuracy=None if diverged else accuracy,
        final_loss=last.get("train_loss"),
        steps=result.fit.steps,
        diverged=diverged,
        seconds=time.perf_counter() - began,
        error=None,
    )
    return json_ready(out)


def best_index(losses: Sequence[float | None]) -> int | None:
    r"""The index of the smallest loss, :math:`\arg\min_j L_j` over the finite entries (a diverged
    run, None or non-finite, never wins; the first of equal losses wins); None when none is finite."""
    finite = [(v, j) for j, v in enumerate(losses) if v is not None and math.isfinite(v)]
    return min(finite)[1] if finite else None


def tied_indices(losses: Sequence[float], stds: Sequence[float | None], best: int | None) -> list[int]:
    r"""The grid points the seeds cannot tell from the optimum ``best``: every ``j`` with

    .. math:: L_j \le L_{j^*} + \max(s_{j^*}, s_j),

    ``s`` the sample std over the seeds (None counts as 0, so with one seed only ``best`` itself
    and exact equals are tied). Empty when ``best`` is None."""
    if best is None:
        return []
    s_best = stds[best] or 0.0
    return [j for j, (v, e) in enumerate(zip(losses, stds))
            if math.isfinite(v) and v <= losses[best] + max(s_best, e or 0.0)]  # fmt: skip


def least_shift(tied: Sequence[Sequence[int]]) -> int | None:
    r"""The movement of the optimum once ties are ties: the smallest
    :math:`\max_w t_w - \min_w t_w` over every choice of one tied point :math:`t_w` per width
    (None when a width has none). It is at most the movement of the plain optima."""
    if not tied or any(not t for t in tied):
        return None
    lows = sorted({j for t in tied for j in t})
    # a window [a, a + d] works when every width has a tied point in it; try every start a
    return min(max(min((j for j in t if j >= a), default=math.inf) for t in tied) - a for a in lows
               if all(any(j >= a for j in t) for t in tied))  # fmt: skip


def _summary(p: str, widths: list[int], log2_lrs: list[float], runs: list[dict[str, Any]]
             ) -> dict[str, Any]:
    """One parametrization's grid: losses per (width, lr), the optimum per width, its movement."""
    loss, spread, diverged = [], [], []
    for w in widths:
        row, row_std, row_div = [], [], []
        for k in log2_lrs:
            mine = [r for r in runs if r["parametrization"] == p and r["width"] == w and r["log2_lr"] == k]
            ok = [r for r in mine if not r.get("error")]
            values = [math.inf if r.get("diverged") or r.get("train_loss") is None else r["train_loss"]
                      for r in ok]  # fmt: skip
            row_div.append(sum(1 for r in ok if r.get("diverged")))
            # a point counts as diverged when any of its seeds diverged: its mean is infinite
            row.append(float(np.mean(values)) if values else math.inf)
            finite = [v for v in values if math.isfinite(v)]
            row_std.append(float(np.std(finite, ddof=1)) if len(finite) > 1 and len(finite) == len(values)
                           else None)  # fmt: skip
        loss.append(row)
        spread.append(row_std)
        diverged.append(row_div)
    best = [best_index(row) for row in loss]
    known = [b for b in best if b is not None]
    shift = max(known) - min(known) if len(known) == len(best) and known else None
    tied = [tied_indices(row, row_std, b) for row, row_std, b in zip(loss, spread, best)]
    # the widest model trained at the narrowest model's best rate
    widest_at_base = None if best[0] is None else loss[-1][best[0]]
    widest_diverges = widest_at_base is not None and not math.isfinite(widest_at_base)
    return {
        "parametrization": p,
        "loss": loss,
        "loss_std": spread,
        "diverged": diverged,
        "best": best,
        "best_log2_lr": [None if b is None else log2_lrs[b] for b in best],
        "best_loss": [None if b is None else row[b] for b, row in zip(best, loss)],
        "shift": shift,
        "moves": shift is not None and shift >= 2,
        "transfers": shift is not None and shift <= 1,
        "tied": tied,
        "shift_within_noise": least_shift(tied) if shift is not None else None,
        "widest_diverges_at_base_best": widest_diverges,
    }


def lr_transfer(
    parametrizations: Sequence[str] = LR_PARAMETRIZATIONS,
    widths: Sequence[int] = LR_WIDTHS,
    log2_lrs: Sequence[float] = LR_LOG2,
    *,
    base_width: int = 64,
    optimizer: str = "adam",
    epochs: int = 4,
    limit: int = 4000,
    batch_size: int = 64,
    seeds: Sequence[int] = (0, 1, 2),
    executor: Executor | None = None,
    jobs: int | None = None,
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
) -> dict[str, Any]:
    r"""Train an MLP ``784-w-w-10`` (ReLU) at every (parametrization, width, learning rate, seed)
    and find, per width, the learning rate with the smallest training loss.

    Each run (:func:`lr_config`, :func:`lr_task`) trains for ``epochs`` epochs on the first
    ``limit`` built-in synthetic digits at :math:`\eta_j = 2^{k_j}`, ``k_j`` in ``log2_lrs``, with
    the parametrization's multipliers (:func:`tinynet.init.parametrize` at ``base_width``), once per
    seed (the seed draws the weights and shuffles the batches); one task per run through
    :func:`tinynet.experiments.grid.run_tasks`, on ``executor`` (any
    :class:`concurrent.futures.Executor`, not shut down) or the default pool of ``jobs`` workers.

    A point's loss is the mean over its seeds of the trained model's loss on the whole training
    split; a point where any seed diverged has loss :math:`\infty` (None in the JSON) and never is
    the optimum. The optimum of width ``w`` is :math:`j^*(w) = \arg\min_j L(w, \eta_j)`
    (:func:`best_index`) and the movement of the optimum is
    :math:`\max_w j^*(w) - \min_w j^*(w)` grid points.

    Returns
    -------
    dict
        The settings (``parametrizations``, ``widths``, ``log2_lrs``, ``lrs``, ``seeds``,
        ``base_width``, ``optimizer``, ``epochs``, ``steps``, ``limit``, ``batch_size``);
        ``results``: one record per parametrization with ``loss`` (one row per width, one column
        per learning rate; None = diverged), ``loss_std`` (sample std over the seeds, None with one
        seed or a diverged seed), ``diverged`` (diverged seeds per point), ``best`` (index of the
        optimum per width, None when every rate diverged), ``best_log2_lr``, ``best_loss``,
        ``shift`` (the movement in grid points; None when a width has no optimum), ``moves``
        (shift >= 2), ``transfers`` (shift <= 1), ``tied`` (per width, the points the seeds
        cannot tell from its optimum: :func:`tied_indices`), ``shift_within_noise`` (the movement
        once ties are ties: :func:`least_shift`), ``widest_diverges_at_base_best`` (the widest
        model diverged at the narrowest model's best rate); ``runs`` (every :func:`lr_task`
        result, task order); ``errors``; ``seconds``, ``jobs``, ``executor``.

    Raises
    ------
    ValueError
        For an empty or repeated grid, an unknown parametrization, or a bad config field (before
        anything trains).
    """
    op = "lr_transfer"
    names = list(parametrizations)
    known = tinit.parametrization_names()
    for name in names:
        if name not in known:
            raise ValueError(f"{op}: unknown parametrization {name!r}; valid: {', '.join(known)}")
    columns = [check_real(op, "log2_lrs", k, minimum=-60.0, maximum=10.0) for k in log2_lrs]
    rows = sorted(check_int(op, "widths", w, minimum=1) for w in widths)
    seed_list = [check_int(op, "seeds", s, minimum=0) for s in seeds]
    for label, values in (("parametrizations", names), ("widths", rows), ("log2_lrs", columns),
                          ("seeds", seed_list)):  # fmt: skip
        if not values or len(set(values)) != len(values):
            raise ValueError(f"{op}: {label} must be non-empty and distinct, got {list(values)}")
    columns = sorted(columns)
    try:
        base = lr_config(
            max(rows), parametrization=names[0], base_width=base_width, optimizer=optimizer,
            log2_lr=columns[0], epochs=epochs, limit=limit, batch_size=batch_size, seed=seed_list[0],
        )  # fmt: skip
    except ConfigError as error:
        raise ValueError(f"{op}: {error}") from None
    tasks = lr_tasks(names, rows, columns, base, seed_list)
    done = run_tasks(
        lr_task, tasks, executor=executor, jobs=jobs, on_result=on_result,
        keep=_KEYS,
        prepare=lambda: cached_dataset(base),
    )  # fmt: skip
    runs = done.results
    steps = next((r["steps"] for r in runs if r.get("steps") is not None), None)
    return json_ready(
        {
            "parametrizations": names,
            "widths": rows,
            "log2_lrs": columns,
            "lrs": [2.0**k for k in columns],
            "seeds": seed_list,
            "base_width": base_width,
            "optimizer": optimizer,
            "epochs": epochs,
            "steps": steps,
            "limit": limit,
            "batch_size": batch_size,
            "results": [_summary(p, rows, columns, runs) for p in names],
            "runs": runs,
            "errors": [r["error"] for r in runs if r.get("error")],
            "seconds": done.seconds,
            "jobs": done.jobs,
            "executor": done.executor,
        }
    )
