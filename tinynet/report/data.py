"""The plain data a report embeds: runs (each a Monitor's records), a sweep's leaderboard, study panels.

Everything here reads plain, JSON-ready dicts (what :meth:`tinynet.diagnostics.Monitor.to_dict`, a
sweep's ``to_dict`` and the studies return) and builds plain dicts; nothing here knows a model, a
layer or a training loop. The one transformation of the records is lossless: a histogram whose
edges are exactly ``numpy.linspace(lo, hi, bins + 1)`` (what ``numpy.histogram`` makes from a range)
is stored as ``{"counts", "range": [lo, hi]}`` instead of its ``bins + 1`` edges, and
:func:`expand_histograms` gives the edges back bit for bit.

Wall-clock times (every key named ``seconds``) and the configuration's output paths (the report's
own, ``--plot``, ``--save``, ...) are left out, so that the same seed gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._files import json_ready

__all__ = [
    "FORMAT_VERSION",
    "compact_histograms",
    "expand_histograms",
    "panel",
    "report_data",
    "run_entry",
    "series",
    "strip_outputs",
    "strip_timings",
    "sweep_section",
]

#: version of the embedded data's layout (``data["tinynet_report"]``)
FORMAT_VERSION = 1
#: keys dropped everywhere from the embedded data: wall-clock times differ from run to run
TIMING_KEYS = frozenset({"seconds"})
#: keys dropped from the embedded configuration (and a study's ``figures``): where the outputs went
#: (the report itself, figures, checkpoints) and how they were shown, which the same run may vary
OUTPUT_KEYS = frozenset(
    {"report", "plot", "json", "markdown", "save", "resume", "force", "figures", "no_progress", "wide"}
)


def strip_timings(value: Any) -> Any:
    """A copy of ``value`` without any dict entry whose key is in :data:`TIMING_KEYS`."""
    if isinstance(value, Mapping):
        return {k: strip_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, (list, tuple)):
        return [strip_timings(v) for v in value]
    return value


def strip_outputs(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``config`` (a command line's flags, a Config) without its :data:`OUTPUT_KEYS`, so
    that the same run written to another file name gives the same bytes."""
    if config is None:
        return None
    return {k: v for k, v in config.items() if k not in OUTPUT_KEYS}


def _is_histogram(value: Any) -> bool:
    return isinstance(value, Mapping) and "counts" in value and ("edges" in value or "range" in value)


def _compact_one(h: Mapping[str, Any]) -> dict[str, Any]:
    if "edges" not in h:
        return dict(h)
    edges = list(h["edges"])
    counts = list(h["counts"])
    if len(edges) == len(counts) + 1 and len(edges) >= 2:
        lo, hi = float(edges[0]), float(edges[-1])
        if np.linspace(lo, hi, len(counts) + 1).tolist() == [float(e) for e in edges]:
            return {"counts": counts, "range": [lo, hi]}
    return {"counts": counts, "edges": edges}


def _expand_one(h: Mapping[str, Any]) -> dict[str, Any]:
    if "range" not in h:
        return dict(h)
    counts = list(h["counts"])
    lo, hi = h["range"]
    return {"counts": counts, "edges": np.linspace(float(lo), float(hi), len(counts) + 1).tolist()}


def _walk(value: Any, leaf: Any) -> Any:
    if value is None:
        return None
    if _is_histogram(value):
        return leaf(value)
    if isinstance(value, Mapping):
        return {k: _walk(v, leaf) for k, v in value.items()}
    return value


def compact_histograms(histograms: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Monitor's ``histograms`` (by step, then module) with uniform edges stored as a range.

    Lossless: ``expand_histograms(compact_histograms(h)) == h`` for what ``numpy.histogram``
    produced; a histogram whose edges are not exactly uniform keeps them.
    """
    return _walk(histograms, _compact_one)


def expand_histograms(histograms: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Inverse of :func:`compact_histograms`: every ``range`` back to its ``bins + 1`` edges."""
    return _walk(histograms, _expand_one)


def run_entry(
    label: str,
    monitor: Mapping[str, Any],
    *,
    fit: Mapping[str, Any] | None = None,
    seed: int | None = None,
    note: str = "",
    max_losses: int = 2000,
) -> dict[str, Any]:
    """One run of the report: its Monitor dict and, optionally, what ``fit`` returned.

    Parameters
    ----------
    label
        The name shown (the scheme, e.g. ``"he"``); unique within a report.
    monitor
        ``Monitor.to_dict(histograms=True)`` (``history``, ``findings``, optional ``updates`` and
        ``histograms``), taken as is apart from the lossless histogram compaction.
    fit
        ``FitResult.to_dict()`` or a dict with its ``history`` (per epoch) and ``step_losses``; the
        step losses are thinned to at most ``max_losses`` points (bucket means, each at the
        bucket's last step) so that a long run stays small.
    seed, note
        Shown beside the label.
    """
    mon = dict(monitor)
    if "histograms" in mon:
        mon["histograms"] = compact_histograms(mon["histograms"])
    entry: dict[str, Any] = {"label": str(label), "seed": seed, "note": note, "monitor": mon}
    if fit is not None:
        losses = list(fit.get("step_losses") or [])
        entry["fit"] = {
            "history": list(fit.get("history") or []),
            "losses": _thin(losses, max_losses),
            "steps": fit.get("steps"),
            "diverged": bool(fit.get("diverged", False)),
            "divergence": fit.get("divergence"),
        }
    return entry


def _thin(losses: Sequence[float | None], limit: int) -> list[list[float | None]]:
    """``[[step, loss], ...]`` with steps from 1, averaged over equal buckets when longer than
    ``limit``."""
    n = len(losses)
    if n <= limit:
        return [[i + 1, v] for i, v in enumerate(losses)]
    out: list[list[float | None]] = []
    size = math.ceil(n / limit)
    for start in range(0, n, size):
        chunk = [v for v in losses[start : start + size] if v is not None and math.isfinite(v)]
        out.append([min(start + size, n), sum(chunk) / len(chunk) if chunk else None])
    return out


def series(
    name: str, x: Iterable[Any], y: Iterable[Any], *, dashed: bool = False, mark: int | None = None
) -> dict[str, Any]:
    """One line of a :func:`panel`: ``name`` and paired ``x``, ``y`` values (None: a gap);
    ``dashed`` for a prediction; ``mark`` the index of one point to ring (e.g. the best)."""
    line: dict[str, Any] = {"name": str(name), "x": list(x), "y": list(y), "dashed": bool(dashed)}
    if mark is not None:
        line["mark"] = int(mark)
    return line


def panel(
    title: str,
    lines: Sequence[Mapping[str, Any]],
    *,
    x: str,
    y: str,
    log_x: bool = False,
    log_y: bool = False,
    note: str = "",
    reference: float | None = None,
) -> dict[str, Any]:
    """A generic chart of a study: ``lines`` (:func:`series`) on axes labelled ``x`` and ``y``;
    ``reference`` draws a horizontal guide (e.g. ln C); ``note`` is one sentence on how to read it."""
    return {
        "title": title,
        "series": [dict(s) for s in lines],
        "x": x,
        "y": y,
        "log_x": log_x,
        "log_y": log_y,
        "note": note,
        "reference": reference,
    }


def sweep_section(
    sweep: Mapping[str, Any], columns: Sequence[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The leaderboard part of a report from a sweep's ``to_dict()``: ``leaderboard`` rows,
    ``columns`` (key, header) to show, each run's per-epoch ``history`` (for the loss curves), the
    ``inits`` and ``seeds``. Per-run Monitor dicts, when the sweep kept them, go to
    :func:`report_data`'s ``runs`` instead."""
    rows = list(sweep.get("leaderboard") or [])
    cols = [list(c) for c in (columns or [])]
    runs = [
        {
            "init": r.get("init"),
            "seed": r.get("seed"),
            "history": r.get("history") or [],
            "diverged": r.get("diverged"),
            "error": r.get("error"),
        }
        for r in sweep.get("runs") or []
    ]
    return {
        "leaderboard": rows,
        "columns": [c for c in cols if c[0] not in TIMING_KEYS],
        "runs": runs,
        "inits": list(sweep.get("inits") or []),
        "seeds": list(sweep.get("seeds") or []),
    }


def report_data(
    title: str,
    *,
    subtitle: str = "",
    runs: Sequence[Mapping[str, Any]] = (),
    sweep: Mapping[str, Any] | None = None,
    panels: Sequence[Mapping[str, Any]] = (),
    studies: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything a report embeds, JSON-ready and without wall-clock times.

    Parameters
    ----------
    title, subtitle
        The page's heading and the line under it (e.g. the run's description).
    runs
        :func:`run_entry` dicts: each gets the per-layer views (ridgelines, std, gradients,
        saturation, dead units, update:data, mean-field prediction, findings, loss).
    sweep
        :func:`sweep_section`: the sortable leaderboard and every run's loss per epoch.
    panels
        :func:`panel` dicts: the studies' charts.
    studies
        The studies' raw results (plain dicts), embedded for whoever wants the numbers.
    config
        The command line or Config, shown in the page's footer; its output paths and display
        flags (:data:`OUTPUT_KEYS`) are left out.

    Raises
    ------
    ValueError
        If two runs share a label, or there is nothing to show (no runs, sweep, panels or studies).
    """
    labels = [r["label"] for r in runs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"report: run labels must be distinct, got {labels}")
    if not runs and sweep is None and not panels and not studies:
        raise ValueError("report: nothing to show; give runs, a sweep, panels or studies")
    data = {
        "tinynet_report": FORMAT_VERSION,
        "title": str(title),
        "subtitle": str(subtitle),
        "runs": [dict(r) for r in runs],
        "sweep": None if sweep is None else dict(sweep),
        "panels": [dict(p) for p in panels],
        "studies": strip_outputs(studies),
        "config": strip_outputs(config),
    }
    return json_ready(strip_timings(data))
