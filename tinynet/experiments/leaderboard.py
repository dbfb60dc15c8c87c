"""The leaderboard: the figures of one run (:func:`summarize`), aggregated per scheme over seeds
(:func:`leaderboard`), ranked with ties where the seeds cannot tell schemes apart
(:func:`rank_labels`), and rendered as a text or Markdown table (:func:`format_leaderboard`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._files import json_ready
from .._text import render_table

__all__ = ["COLUMNS", "LeaderboardRow", "format_leaderboard", "leaderboard", "rank_labels", "summarize"]

#: leaderboard columns: (key, header)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("test_accuracy", "test acc %"),
    ("train_loss", "final loss"),
    ("initial_loss", "initial loss"),
    ("gradient_flow", "grad flow @init"),
    ("distinct_units", "distinct units"),
    ("dead", "dead % @init"),
    ("saturated", "sat % @init"),
    ("seconds", "time s"),
)


def _weighted_fraction(record: dict[str, Any], key: str) -> float | None:
    """Share of hidden activation units (``dead``) or outputs (``saturated``) over all layers."""
    rows = [
        m for m in record["modules"] if m["role"] == "activation" and m.get(key) is not None
    ]
    if not rows:
        return None
    sizes = np.array([float(np.prod(m["shape"][1:])) for m in rows])
    return float(np.dot(sizes, [m[key] for m in rows]) / sizes.sum())


def _min_distinct(record: dict[str, Any]) -> tuple[int | None, int | None]:
    """(distinct units, units) of the hidden layer with the fewest distinct units."""
    hidden = [row for row in record["layers"][:-1] if row["distinct_units"] is not None]
    if not hidden:
        return None, None
    worst = min(hidden, key=lambda row: row["distinct_units"] / max(row["units"], 1))
    return int(worst["distinct_units"]), int(worst["units"])


def summarize(result: Any, scheme: str | None = None) -> dict[str, Any]:
    """The leaderboard figures of one :class:`tinynet.experiments.ExperimentResult`, JSON-ready.

    Keys: ``init`` (the row: ``scheme`` when given, e.g. a preset's name, else the config's
    ``init``), ``weight_init`` and ``bias_init`` (the specs the run used), ``seed``,
    ``test_accuracy``, ``test_loss``, ``train_loss`` (mean training loss of the last epoch),
    ``initial_loss`` (probe loss at step 0), ``ln_classes``, ``gradient_flow`` (the Monitor's
    back-propagated signal ratio ``std(dL/d out_first) / std(dL/d out_last hidden)`` at step 0: far
    below 1, gradients vanish toward the input), ``weight_grad_ratio`` (the old
    ``||dL/dW_first|| / ||dL/dW_last||``, blind to vanishing), ``distinct_units``/``units`` (hidden
    layer with the fewest distinct units, at the end) and ``distinct_units_init``, ``dead`` and
    ``saturated`` (share of hidden units/outputs at step 0) and their ``*_end`` values, ``act_std``
    (std of each hidden activation at step 0), ``diverged``, ``message``, ``history`` (per epoch:
    ``epoch``, ``train_loss``, ``test_loss``, ``test_accuracy``) and ``seconds`` (training time).
    """
    first, last = result.monitor.history[0], result.monitor.history[-1]
    distinct, units = _min_distinct(last)
    distinct_init, _ = _min_distinct(first)
    history = [
        {k: h.get(k) for k in ("epoch", "train_loss", "test_loss", "test_accuracy")}
        for h in result.fit.history
    ]
    final = history[-1] if history else {}
    act_std = [
        m["std"] for m in first["modules"] if m["role"] == "activation" and m["std"] is not None
    ]
    return json_ready(
        {
            "init": result.config.init if scheme is None else scheme,
            "weight_init": result.config.init,
            "bias_init": result.config.bias_init,
            "seed": result.config.seed,
            "test_accuracy": final.get("test_accuracy"),
            "test_loss": final.get("test_loss"),
            "train_loss": final.get("train_loss"),
            "initial_loss": first["loss"],
            "ln_classes": first["ln_classes"],
            "gradient_flow": first["gradient_flow"],
            "weight_grad_ratio": first.get("weight_grad_ratio"),
            "distinct_units": distinct,
            "distinct_units_init": distinct_init,
            "units": units,
            "dead": _weighted_fraction(first, "dead"),
            "saturated": _weighted_fraction(first, "saturated"),
            "dead_end": _weighted_fraction(last, "dead"),
            "saturated_end": _weighted_fraction(last, "saturated"),
            "act_std": act_std,
            "diverged": result.diverged,
            "message": result.fit.message,
            "history": history,
            "seconds": result.seconds.get("train"),
        }
    )


@dataclass
class LeaderboardRow:
    """One scheme's runs aggregated: ``stats[key] = (mean, std, n)`` for each numeric figure.

    ``std`` is the sample standard deviation (``ddof=1``), None for a single run; ``n`` counts the
    runs where the figure exists. ``errors`` holds the messages of runs that raised. ``rank`` is
    the row's label from :func:`rank_labels` (``"3"``, or ``"=3"`` in a tie), set by
    :func:`leaderboard`.
    """

    init: str
    runs: int
    stats: dict[str, tuple[float | None, float | None, int]]
    units: int | None = None
    diverged: int = 0
    errors: list[str] = field(default_factory=list)
    rank: str = ""

    def mean(self, key: str) -> float | None:
        """Mean of ``key`` over the runs (None if no run has it)."""
        return self.stats.get(key, (None, None, 0))[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``rank``, ``init``, ``runs``, ``units``, ``diverged``, ``errors`` and, per
        figure, ``{"mean", "std", "n"}``."""
        out: dict[str, Any] = {
            "rank": self.rank,
            "init": self.init,
            "runs": self.runs,
            "units": self.units,
            "diverged": self.diverged,
            "errors": self.errors,
        }
        for key, (mean, std, n) in self.stats.items():
            out[key] = {"mean": mean, "std": std, "n": n}
        return json_ready(out)


_NUMERIC = (
    "test_accuracy", "test_loss", "train_loss", "initial_loss", "gradient_flow", "weight_grad_ratio",
    "distinct_units", "distinct_units_init", "dead", "saturated", "dead_end", "saturated_end",
    "seconds",
)  # fmt: skip


def leaderboard(runs: Sequence[dict[str, Any]]) -> list[LeaderboardRow]:
    """Aggregate :func:`summarize` rows per ``init``: mean ± sample std of every figure.

    Rows are sorted by mean test accuracy, best first (schemes without one last), then by name, and
    each gets its :func:`rank_labels` label as ``rank``.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(run["init"], []).append(run)
    rows = []
    for init, group in groups.items():
        stats: dict[str, tuple[float | None, float | None, int]] = {}
        for key in _NUMERIC:
            values = [
                float(r[key])
                for r in group
                if r.get(key) is not None and math.isfinite(float(r[key]))
            ]
            if not values:
                stats[key] = (None, None, 0)
                continue
            std = float(np.std(values, ddof=1)) if len(values) > 1 else None
            stats[key] = (float(np.mean(values)), std, len(values))
        units = next((r["units"] for r in group if r.get("units") is not None), None)
        rows.append(
            LeaderboardRow(
                init=init,
                runs=len(group),
                stats=stats,
                units=units,
                diverged=sum(bool(r.get("diverged")) for r in group),
                errors=[r["error"] for r in group if r.get("error")],
            )
        )

    def order(row: LeaderboardRow) -> tuple[float, str]:
        acc = row.mean("test_accuracy")
        return (-(acc if acc is not None else -1.0), row.init)

    ranked = sorted(rows, key=order)
    for row, label in zip(ranked, rank_labels(ranked)):
        row.rank = label
    return ranked


def rank_labels(rows: Sequence[LeaderboardRow], key: str = "test_accuracy") -> list[str]:
    """Ranks of rows in the given order (best first), with ties where the seeds cannot separate them.

    The rule: walk down the rows. The first row opens a group and is its *leader*. Each next row
    joins the current group when

        ``|mean_leader - mean_row| <= max(std_leader, std_row)``

    (means and sample stds of ``key`` over seeds; a missing std, i.e. a single run, counts as 0, so
    two single-seed rows tie only when their means are equal); otherwise it opens a new group and
    becomes its leader. The test is symmetric in the pair, and a group is a run of consecutive rows
    all within the spread of its leader. A row without a mean (every run diverged or failed) never
    ties. A group of one row is labelled with its position (``"4"``); every member of a larger
    group shows the leader's position with ``=`` (``"=2", "=2", "=2"``, then ``"5"``): standard
    competition ranking.

    Returns
    -------
    list of str
        One label per row, in the rows' order.
    """
    spread = [row.stats.get(key, (None, None, 0))[:2] for row in rows]
    labels: list[str] = []
    start = 0
    while start < len(rows):
        lead_mean, lead_std = spread[start]
        end = start + 1
        while lead_mean is not None and end < len(rows):
            mean, std = spread[end]
            if mean is None or abs(lead_mean - mean) > max(lead_std or 0.0, std or 0.0):
                break
            end += 1
        size = end - start
        labels += [f"={start + 1}" if size > 1 else str(start + 1)] * size
        start = end
    return labels


def _cell(row: LeaderboardRow, key: str) -> str:
    mean, std, _ = row.stats.get(key, (None, None, 0))
    if mean is None:
        if key == "test_accuracy" and row.errors:
            return "error"
        return "diverged" if key == "test_accuracy" and row.diverged else "-"
    if key == "distinct_units":
        text = f"{mean:.0f}/{row.units}" if float(mean).is_integer() else f"{mean:.1f}/{row.units}"
        return text
    scale, fmt = {
        "test_accuracy": (100.0, "{:.1f}"),
        "dead": (100.0, "{:.0f}"),
        "saturated": (100.0, "{:.0f}"),
        "seconds": (1.0, "{:.1f}"),
        "train_loss": (1.0, "{:.3f}"),
        "initial_loss": (1.0, "{:.3f}"),
    }.get(key, (1.0, "{:.3g}"))
    if key == "gradient_flow" and (abs(mean) >= 1e4 or 0 < abs(mean) < 1e-3):
        fmt = "{:.1e}"
    text = fmt.format(mean * scale)
    if std is not None:
        text += " ± " + fmt.format(std * scale)
    return text


def format_leaderboard(rows: Sequence[LeaderboardRow], markdown: bool = False) -> str:
    """The leaderboard as an aligned text table, or a Markdown table with ``markdown=True``.

    Columns: rank (:func:`rank_labels` of the rows in the given order: ``=k`` for schemes whose mean
    test accuracies lie within the seeds' spread of each other), init, runs, then :data:`COLUMNS`
    (mean ± std over seeds when there are several); a diverged run is marked with ``*`` after the
    scheme's name.
    """
    header = ["#", "init", "runs", *(title for _, title in COLUMNS)]
    lines = []
    for rank, row in zip(rank_labels(rows), rows):
        name = row.init + ("*" if row.diverged else "")
        lines.append([rank, name, str(row.runs), *(_cell(row, key) for key, _ in COLUMNS)])
    return render_table(header, lines, left=(1,), markdown=markdown)
