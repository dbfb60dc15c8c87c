"""The trainability "tent" (Schoenholz et al. 2017, fig. 5): training accuracy of a deep tanh MLP
over a grid of weight variances σ_w² and depths L, beside the correlation depth scale ξ_c(σ_w²).

Mean-field theory says a network can be trained only as deep as a signal's correlations survive,
about 6 ξ_c layers in the paper's long runs. ξ_c diverges at the critical σ_w² (1.761 for tanh at
σ_b² = 0.05), so the trainable region is a tent over the grid with its peak on the edge of chaos.
A small training budget trains less deep: :func:`calibrate_depth_multiple` finds the multiple k of
ξ_c that bounds *this* budget's trainable region.

Every run (a grid point and a seed) is one independent task (:func:`tent_task`, a plain dict in
and out) run through :func:`tinynet.experiments.grid.run_tasks`, so the grid runs on a process
pool, on Dask (``client.get_executor()``) or on any other executor, unchanged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import numpy as np

from ..._checks import check_int, check_real
from ..._files import json_ready
from ...theory import meanfield as mf
from ...training import evaluate
from ..config import Config, ConfigError, validate
from ..grid import cached_dataset, error_result, run_tasks
from ..run import run

__all__ = [
    "TENT_DEPTHS",
    "TENT_SIGMA_W2",
    "calibrate_depth_multiple",
    "tent_config",
    "tent_task",
    "tent_tasks",
    "trainability_tent",
    "trainable_depth",
    "weight_spec",
]

#: σ_w² columns of the default tent: denser around the critical 1.761
TENT_SIGMA_W2 = (1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0)
#: depth rows of the default tent
TENT_DEPTHS = (10, 20, 30, 40, 50, 60, 80, 100)


_KEYS = ("sigma_w2", "sigma_b2", "depth", "seed")


def weight_spec(sigma_w2: float) -> str:
    """The init spec of weights ``N(0, σ_w²/fan_in)``: ``variance_scaling(scale=σ_w², ...)``."""
    return f"variance_scaling(scale={float(sigma_w2)!r}, mode='fan_in', distribution='normal')"


def _bias_spec(sigma_b2: float) -> str:
    return "zeros" if sigma_b2 == 0 else f"normal(std={math.sqrt(sigma_b2)!r})"


def tent_config(
    depth: int, *, width: int = 64, epochs: int = 10, limit: int = 1000, optimizer: str = "sgd",
    lr: float = 0.001, momentum: float | None = 0.9, batch_size: int = 32, seed: int = 0,
    sigma_b2: float = 0.05,
) -> Config:
    """The validated :class:`~tinynet.experiments.Config` of the tent's deepest point: a tanh MLP on
    the first ``limit`` synthetic digits, the Monitor probing at most 128 of them, weights at the
    first column's spec (each task replaces ``init`` and ``depth``). ``momentum`` None: none (or
    SGD's default); give None for optimizers without momentum.

    Raises
    ------
    ConfigError
        For a bad field (naming it), before anything is built.
    """
    config = Config(
        activation="tanh", depth=depth, width=width, optimizer=optimizer, lr=lr, momentum=momentum,
        batch_size=batch_size, epochs=epochs, seed=seed, limit=limit, probe_size=min(limit, 128),
        init=weight_spec(1.0), bias_init=_bias_spec(sigma_b2),
    )  # fmt: skip
    return validate(config)


def tent_tasks(
    sigma_w2: Sequence[float], depths: Sequence[int], config: Config, sigma_b2: float,
    seeds: Sequence[int] = (0,),
) -> list[dict[str, Any]]:
    """One task per grid point and seed, depth-major, then σ_w², then seed: ``{"config": ...,
    "sigma_w2": s, "sigma_b2": b, "depth": L, "seed": k}`` with the config's ``init``,
    ``bias_init``, ``depth`` and ``seed`` set for that run."""
    return [
        {
            "config": replace(
                config, init=weight_spec(s), bias_init=_bias_spec(sigma_b2), depth=int(depth),
                seed=int(seed),
            ).to_dict(),
            "sigma_w2": float(s),
            "sigma_b2": float(sigma_b2),
            "depth": int(depth),
            "seed": int(seed),
        }
        for depth in depths
        for s in sigma_w2
        for seed in seeds
    ]


def tent_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train one grid point of the tent and measure it: a module-level function of a plain dict
    (one of :func:`tent_tasks`), returning a plain dict, so that any executor can pickle it.

    The run is :func:`tinynet.experiments.run` (Monitor at initialization and after the last step,
    no histograms, nothing printed) on the config's data (loaded once per process); afterwards the
    trained model is evaluated on the whole training split.

    Returns
    -------
    dict
        ``sigma_w2``, ``sigma_b2``, ``depth``, ``seed``; ``train_accuracy`` and ``train_loss`` (the trained
        model on every training digit), ``final_loss`` (mean training loss over the last epoch's
        batches), ``test_accuracy``, ``initial_loss`` (probe loss at step 0), ``gradient_flow``
        (back-propagated signal ratio at step 0), ``steps``, ``diverged``, ``seconds``, and
        ``error`` (None, or the message when the run raised).
    """
    config = Config(**task["config"])
    out: dict[str, Any] = {key: task[key] for key in _KEYS if key in task}
    began = time.perf_counter()
    try:
        data = cached_dataset(config)
        result = run(config, dataset=data, quiet=True, record_every=0, record_final=True, bins=1)
        loss, accuracy = evaluate(result.model, data.x_train, data.y_train)
    except Exception as error:  # one broken point must not sink the whole grid
        out.update(**error_result(error), seconds=time.perf_counter() - began)
        return json_ready(out)
    last = result.fit.history[-1] if result.fit.history else {}
    first = result.monitor.history[0]
    out.update(
        train_accuracy=accuracy,
        train_loss=loss,
        final_loss=last.get("train_loss"),
        test_accuracy=last.get("test_accuracy"),
        initial_loss=first["loss"],
        gradient_flow=first["gradient_flow"],
        steps=result.fit.steps,
        diverged=result.diverged,
        seconds=time.perf_counter() - began,
        error=None,
    )
    return json_ready(out)


def _xi_c(sigma_w2: float, sigma_b2: float) -> float:
    """ξ_c of tanh, ``inf`` on the critical line."""
    return mf.depth_scales("tanh", sigma_w2, sigma_b2)[1]


def trainable_depth(depths: Sequence[int], accuracy: Sequence[float | None], threshold: float
                    ) -> float | None:
    """How deep one σ_w² column trains: walking down the ``depths`` (ascending), the depth where the
    training ``accuracy`` first falls below ``threshold``, interpolated linearly between the last
    depth at or above it and that one. ``depths[-1]`` when no depth falls below (the grid ends
    first), None when the shallowest already does. A missing accuracy counts as below."""
    previous = None
    for depth, acc in zip(depths, accuracy):
        value = -math.inf if acc is None else acc
        if value < threshold:
            if previous is None:
                return None
            d0, a0 = previous
            if not math.isfinite(value):
                return float(d0)
            return float(d0 + (depth - d0) * (a0 - threshold) / (a0 - value))
        previous = (depth, value)
    return float(depths[-1])


def calibrate_depth_multiple(
    points: Sequence[dict[str, Any]], xi_c: dict[float, float | None], threshold: float
) -> dict[str, Any]:
    """The multiple k of ξ_c that best separates the trainable points from the others.

    A point (σ_w², L) counts as trainable when its ``train_accuracy`` is at least ``threshold``;
    the rule "trainable iff L <= k ξ_c(σ_w²)" is scored by the share of points it classifies
    right. The rule changes only at the ratios ``L / ξ_c`` of the points, so k is scored on each
    range between two neighbouring ratios; the chosen k is the geometric middle of the lowest
    best-scoring range (from the largest ratio it includes to the smallest it excludes). A ξ_c of
    None stands for infinity (ratio 0: always predicted trainable). Points with an error are left
    out.

    Returns
    -------
    dict
        ``k`` and its range ``k_low``, ``k_high`` (``k_high`` None when unbounded; all three None,
        with ``status`` saying why, when every point or none trained), ``best_low`` and
        ``best_high`` (the smallest and largest k that score as well, over every best range),
        ``agreement`` (share classified right at k), ``misclassified`` (the ``(σ_w², L)`` pairs it
        gets wrong), ``paper_k`` (6) and ``paper_agreement`` (the share at k = 6), ``points``.
    """
    scored = []
    for p in points:
        if p.get("error") or p.get("train_accuracy") is None:
            continue
        xi = xi_c.get(p["sigma_w2"])
        ratio = 0.0 if xi is None or not math.isfinite(xi) else p["depth"] / xi
        scored.append((ratio, p["train_accuracy"] >= threshold, (p["sigma_w2"], p["depth"])))

    def agreement(k: float) -> float:
        return sum((r <= k) == ok for r, ok, _ in scored) / len(scored)

    trained = sum(ok for _, ok, _ in scored)
    if not 0 < trained < len(scored):  # nothing to separate: k is not determined
        status = "no point" if not scored else "no point trained" if not trained else "every point trained"
        return json_ready({"k": None, "k_low": None, "k_high": None, "best_low": None,
                           "best_high": None, "agreement": None,
                           "misclassified": [], "paper_k": 6.0, "status": status,
                           "paper_agreement": agreement(6.0) if scored else None,
                           "points": len(scored)})  # fmt: skip
    # k equal to a ratio includes that point; just below the next ratio excludes the next point
    cuts = sorted({0.0, *(r for r, _, _ in scored)})
    ends = [*cuts[1:], None]  # the rule is the same for every k in [cuts[i], ends[i])
    scores = [agreement(k) for k in cuts]
    best = max(scores)
    first = scores.index(best)
    last = len(scores) - 1 - scores[::-1].index(best)
    low, high = cuts[first], ends[first]
    k = low if high is None else (math.sqrt(low * high) if low > 0 else high / 2)
    wrong = [where for r, ok, where in scored if (r <= k) != ok]
    return json_ready(
        {
            "k": k,
            "k_low": low,
            "k_high": high,
            "best_low": cuts[first],
            "best_high": ends[last],
            "agreement": agreement(k),
            "misclassified": wrong,
            "paper_k": 6.0,
            "paper_agreement": agreement(6.0),
            "status": "calibrated",
            "points": len(scored),
        }
    )


def trainability_tent(
    sigma_w2: Sequence[float] = TENT_SIGMA_W2,
    depths: Sequence[int] = TENT_DEPTHS,
    *,
    sigma_b2: float = 0.05,
    width: int = 64,
    epochs: int = 10,
    limit: int = 1000,
    optimizer: str = "sgd",
    lr: float = 0.001,
    momentum: float | None = 0.9,
    batch_size: int = 32,
    seeds: Sequence[int] = (0, 1, 2),
    threshold: float = 0.5,
    executor: Executor | None = None,
    jobs: int | None = None,
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
) -> dict[str, Any]:
    """Train a tanh MLP at every (σ_w², L) of a grid and compare the trainable region with ξ_c.

    Each point is a ``depth``-layer MLP of ``width`` tanh units, weights ``N(0, σ_w²/fan_in)``
    (:func:`weight_spec`), biases ``N(0, σ_b²)``, trained with one optimizer for ``epochs`` epochs on
    the first ``limit`` built-in synthetic digits (:func:`tent_config`), once per seed (the seed
    draws the weights and shuffles the batches; the data are the same): one task per run
    (:func:`tent_task`) through :func:`tinynet.experiments.grid.run_tasks`, on ``executor`` (any
    :class:`concurrent.futures.Executor`, not shut down) or the default pool of ``jobs`` workers.
    A point is trainable when its training accuracy, averaged over the seeds, reaches
    ``threshold``.

    Returns
    -------
    dict
        The settings (``sigma_w2``, ``depths``, ``seeds``, ``sigma_b2``, ``width``, ``epochs``,
        ``steps``, ``limit``, ``optimizer``, ``lr``, ``momentum``, ``batch_size``, ``threshold``);
        ``critical_sigma_w2``; ``xi_c`` (per column; None = infinite); ``xi_curve``
        (``{"sigma_w2", "xi_c"}``: ξ_c on a dense grid over the columns' range, for drawing);
        ``runs`` (every :func:`tent_task` result, task order); ``points`` (per grid point, depth-
        major: mean and std over the seeds of ``train_accuracy``, mean ``final_loss``);
        ``accuracy`` and ``final_loss`` (those means as grids, one row per depth, one column per
        σ_w²); ``deepest`` (per column, the deepest grid depth whose mean accuracy reached the
        threshold, or None); ``trainable_depth`` and ``trainable_depth_std`` (per column, mean and
        std over the seeds of :func:`trainable_depth`, 0 for a seed whose shallowest run already
        failed); ``depth_over_xi`` (that mean over ξ_c: the multiple of ξ_c each column reaches);
        ``peak`` (``sigma_w2``: the column of the largest mean trainable depth,
        ``depth``, ``distance``: |σ_w² - critical|, ``tied``: the columns the seeds cannot tell
        from it, whose mean lies within the larger of the two stds, ``tied_distance``: the largest
        |σ_w² - critical| among those; all None when nothing trained); ``calibration``
        (:func:`calibrate_depth_multiple` of the points); ``errors`` (the runs' error messages);
        ``seconds``, ``jobs``, ``executor``.

    Raises
    ------
    ValueError
        For an empty or non-positive grid, a column without a fixed point q* > 0 (σ_b² = 0 and
        σ_w² <= 1), a bad threshold, or a bad config field (before anything trains).
    """
    columns = [check_real("trainability_tent", "sigma_w2", s, minimum=0.0, strict_min=True) for s in sigma_w2]
    rows = [check_int("trainability_tent", "depths", d, minimum=1) for d in depths]
    if not columns or not rows:
        raise ValueError("trainability_tent: sigma_w2 and depths must not be empty")
    if len(set(columns)) != len(columns) or len(set(rows)) != len(rows):
        raise ValueError(f"trainability_tent: repeated grid values in {columns} or {rows}")
    seed_list = [check_int("trainability_tent", "seeds", k, minimum=0) for k in seeds]
    if not seed_list or len(set(seed_list)) != len(seed_list):
        raise ValueError(f"trainability_tent: seeds must be distinct ints >= 0, got {list(seeds)}")
    check_real("trainability_tent", "threshold", threshold, minimum=0.0, maximum=1.0)
    sb = check_real("trainability_tent", "sigma_b2", sigma_b2, minimum=0.0)
    for s in columns:
        q = mf.q_star("tanh", s, sb)
        if not 0.0 < q < math.inf:
            raise ValueError(
                f"trainability_tent: at sigma_w2={s!r}, sigma_b2={sb!r} the signal dies out (q* = {q!r}), "
                "so xi_c is undefined; use sigma_b2 > 0 or sigma_w2 > 1"
            )
    try:
        base = tent_config(
            max(rows), width=width, epochs=epochs, limit=limit, optimizer=optimizer, lr=lr,
            momentum=momentum, batch_size=batch_size, seed=seed_list[0], sigma_b2=sb,
        )  # fmt: skip
    except ConfigError as error:
        raise ValueError(f"trainability_tent: {error}") from None
    xi = {s: _xi_c(s, sb) for s in columns}
    critical = mf.critical_sigma_w2("tanh", sb)
    dense = np.linspace(min(columns), max(columns), 61)
    near = critical + np.array([-0.01, -0.002, 0.002, 0.01])  # the spike at the critical point
    dense = np.unique(np.concatenate([dense, near[(near > dense[0]) & (near < dense[-1])]]))
    tasks = tent_tasks(columns, rows, base, sb, seed_list)
    done = run_tasks(
        tent_task, tasks, executor=executor, jobs=jobs, on_result=on_result,
        keep=_KEYS,
        prepare=lambda: cached_dataset(base),
    )  # fmt: skip
    runs = done.results
    points = _aggregate(runs, columns, rows)
    at = {(p["sigma_w2"], p["depth"]): p for p in points}
    accuracy = [[at[(s, d)]["train_accuracy"] for s in columns] for d in rows]
    final = [[at[(s, d)]["final_loss"] for s in columns] for d in rows]
    by_run = {(r["sigma_w2"], r["depth"], r["seed"]): r.get("train_accuracy") for r in runs}
    deepest, reach, spread = [], [], []
    for j, s in enumerate(columns):
        column = [accuracy[i][j] for i in range(len(rows))]
        ok = [d for d, a in zip(rows, column) if a is not None and a >= threshold]
        deepest.append(max(ok) if ok else None)
        per_seed = [trainable_depth(rows, [by_run.get((s, d, k)) for d in rows], threshold) or 0.0
                    for k in seed_list]  # fmt: skip
        reach.append(float(np.mean(per_seed)))
        spread.append(float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else None)
    steps = next((r["steps"] for r in runs if r.get("steps") is not None), None)
    return json_ready(
        {
            "activation": "tanh",
            "sigma_w2": columns,
            "depths": rows,
            "seeds": seed_list,
            "sigma_b2": sb,
            "width": width,
            "epochs": epochs,
            "steps": steps,
            "limit": limit,
            "optimizer": optimizer,
            "lr": lr,
            "momentum": base.momentum,
            "batch_size": batch_size,
            "threshold": threshold,
            "critical_sigma_w2": critical,
            "xi_c": [xi[s] for s in columns],
            "xi_curve": {"sigma_w2": dense.tolist(), "xi_c": [_xi_c(float(v), sb) for v in dense]},
            "runs": runs,
            "points": points,
            "accuracy": accuracy,
            "final_loss": final,
            "deepest": deepest,
            "trainable_depth": reach,
            "trainable_depth_std": spread,
            "depth_over_xi": [r / xi[s] if math.isfinite(xi[s]) else None for s, r in zip(columns, reach)],
            "peak": _peak(columns, reach, spread, critical),
            "calibration": calibrate_depth_multiple(points, xi, threshold),
            "errors": [r["error"] for r in runs if r.get("error")],
            "seconds": done.seconds,
            "jobs": done.jobs,
            "executor": done.executor,
        }
    )


def _peak(columns: Sequence[float], reach: Sequence[float], spread: Sequence[float | None],
          critical: float) -> dict[str, Any]:
    """The column that trains deepest, and those the seeds cannot tell from it (all None when no
    column trains even at the shallowest depth)."""
    best = int(np.argmax(reach))
    if reach[best] <= 0:
        return {"sigma_w2": None, "depth": None, "distance": None, "tied": [], "tied_distance": None}
    tied = [s for s, r, e in zip(columns, reach, spread)
            if r >= reach[best] - max(spread[best] or 0.0, e or 0.0)]  # fmt: skip
    return {
        "sigma_w2": columns[best],
        "depth": reach[best],
        "distance": abs(columns[best] - critical),
        "tied": tied,
        "tied_distance": max(abs(s - critical) for s in tied),
    }


def _aggregate(runs: Sequence[dict[str, Any]], columns: Sequence[float], rows: Sequence[int]
               ) -> list[dict[str, Any]]:
    """One record per grid point (depth-major): the mean and sample std over its seeds' runs of
    the training accuracy and final loss (runs with an error left out; None when none is left)."""
    out = []
    for depth in rows:
        for s in columns:
            mine = [r for r in runs if r["sigma_w2"] == s and r["depth"] == depth and not r.get("error")]
            acc = [r["train_accuracy"] for r in mine if r.get("train_accuracy") is not None]
            loss = [r["final_loss"] for r in mine if r.get("final_loss") is not None]
            out.append({
                "sigma_w2": s, "depth": depth, "runs": len(mine),
                "train_accuracy": float(np.mean(acc)) if acc else None,
                "train_accuracy_std": float(np.std(acc, ddof=1)) if len(acc) > 1 else None,
                "final_loss": float(np.mean(loss)) if loss else None,
            })  # fmt: skip
    return out
