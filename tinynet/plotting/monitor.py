"""Figures of what a :class:`tinynet.diagnostics.Monitor` recorded: activation and gradient
histograms, update:data ratios, activation std against depth, training curves, and a dashboard
with all of them on one page.

They read the Monitor's plain records (``select``, ``histograms``, ``updates``) and a fit's
``history``; nothing here imports the diagnostics or the training loop. Each ``plot_*`` function
draws on ``ax`` when given (and returns it), or makes a figure, saves it to ``path`` as PNG when
given, and returns the figure. matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._figure import finish, integer_ticks, new_figure, target_axes

__all__ = [
    "plot_activation_histograms",
    "plot_activation_std",
    "plot_dashboard",
    "plot_gradient_histograms",
    "plot_training_curves",
    "plot_update_ratios",
]


def _record(monitor: Any, step: Any) -> dict[str, Any]:
    return monitor.select(step)


def _label(module: dict[str, Any]) -> str:
    return f"layer {module['layer']} ({module['kind']})"


def _density_lines(ax: Any, entries: list[tuple[str, dict[str, list[float]] | None]]) -> None:
    for label, hist in entries:
        if hist is None:
            continue
        counts = np.asarray(hist["counts"], dtype=np.float64)
        edges = np.asarray(hist["edges"], dtype=np.float64)
        widths = np.diff(edges)
        density = counts / max(counts.sum(), 1.0) / np.where(widths > 0, widths, 1.0)
        ax.plot(0.5 * (edges[:-1] + edges[1:]), density, label=label)
    if ax.lines:
        ax.legend(fontsize="small")


def _observed_modules(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The activation outputs of the record, or the layer outputs when the model has none."""
    acts = [m for m in record["modules"] if m["role"] == "activation" and m["std"] is not None]
    return acts or [m for m in record["modules"] if m["std"] is not None]


def plot_activation_histograms(
    monitor: Any, path: str | os.PathLike[str] | None = None, step: Any = "last", ax: Any = None
) -> Any:
    """Distribution of each activation's output on the probe, one line per layer (as in Glorot &
    Bengio 2010, fig. 6); the legend gives mean, std and % saturated or dead."""
    fig, ax = target_axes(ax)
    record = _record(monitor, step)
    hists = monitor.histograms.get(record["step"], {})
    entries = []
    for m in _observed_modules(record):
        extra = ""
        if m["saturated"] is not None:
            extra = f", sat {100 * m['saturated']:.0f}%"
        elif m["dead"] is not None:
            extra = f", dead {100 * m['dead']:.0f}%"
        label = f"{_label(m)}: mean {m['mean']:+.2f}, std {m['std']:.2f}{extra}"
        entries.append((label, hists.get(m["name"], {}).get("values")))
    _density_lines(ax, entries)
    ax.set_title(f"activation distribution (step {record['step']})")
    ax.set_xlabel("activation value")
    ax.set_ylabel("density")
    return finish(fig, path, ax)


def plot_gradient_histograms(
    monitor: Any,
    path: str | os.PathLike[str] | None = None,
    step: Any = "last",
    ax: Any = None,
    weights: bool = False,
) -> Any:
    """Distribution of ``dL/d(activation)`` per layer on the probe (``weights=True``: of each
    layer's weight gradient); the legend gives the std."""
    fig, ax = target_axes(ax)
    record = _record(monitor, step)
    hists = monitor.histograms.get(record["step"], {})
    entries = []
    if weights:
        grads = hists.get("weight_grads", {})
        for row in record["layers"]:
            label = f"layer {row['layer']} weight: std {_num(row['weight_grad_std'])}"
            entries.append((label, grads.get(row["name"])))
        what = "weight gradient"
    else:
        for m in _observed_modules(record):
            label = f"{_label(m)}: std {_num(m['grad_std'])}"
            entries.append((label, hists.get(m["name"], {}).get("grads")))
        what = "activation gradient"
    _density_lines(ax, entries)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    ax.set_title(f"{what} distribution (step {record['step']})")
    ax.set_xlabel(what)
    ax.set_ylabel("density")
    return finish(fig, path, ax)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.2e}"


def plot_update_ratios(monitor: Any, path: str | os.PathLike[str] | None = None, ax: Any = None) -> Any:
    """``log10(std(ΔW) / std(W))`` of each weight over optimizer steps, with the 10⁻³ reference line
    (updates much above it rewrite the weights each step; much below, they barely move)."""
    fig, ax = target_axes(ax)
    for name, series in monitor.updates.items():
        points = [(s, v) for s, v in series if v is not None]
        if points:
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, label=name, linewidth=1)
    ax.axhline(-3.0, color="black", linestyle="--", linewidth=1, label="10⁻³")
    ax.set_title("update:data ratio per step")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("log10 std(ΔW) / std(W)")
    ax.legend(fontsize="small")
    return finish(fig, path, ax)


def plot_activation_std(
    monitors: Any,
    path: str | os.PathLike[str] | None = None,
    steps: tuple[Any, ...] = ("first", "last"),
    ax: Any = None,
) -> Any:
    """Std of each hidden activation against depth (log scale), for one Monitor at the given
    ``steps`` or for a ``{label: Monitor}`` mapping (e.g. one per initialization scheme)."""
    fig, ax = target_axes(ax)
    items = monitors.items() if isinstance(monitors, Mapping) else [("", monitors)]
    for label, monitor in items:
        seen = set()
        for step in steps:
            record = _record(monitor, step)
            if record["step"] in seen:
                continue
            seen.add(record["step"])
            rows = [m for m in _observed_modules(record) if m["layer"] >= 1]
            if not rows:
                continue
            name = f"{label} step {record['step']}".strip()
            ax.plot([m["layer"] for m in rows], [m["std"] for m in rows], marker="o", label=name)
    ax.set_yscale("log")
    integer_ticks(ax)
    ax.set_title("activation std against depth")
    ax.set_xlabel("layer")
    ax.set_ylabel("std of activation output")
    if ax.lines:
        ax.legend(fontsize="small")
    return finish(fig, path, ax)


def _history(result: Any) -> list[dict[str, Any]]:
    return list(getattr(result, "history", result))


def plot_training_curves(
    result: Any,
    path: str | os.PathLike[str] | None = None,
    ax: Any = None,
    metric: str = "loss",
) -> Any:
    """Train and test ``metric`` (``"loss"`` or ``"accuracy"``) per epoch from a
    :class:`tinynet.training.FitResult` or its ``history`` list.

    Raises
    ------
    ValueError
        For another ``metric``.
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"plot_training_curves: metric must be 'loss' or 'accuracy', got {metric!r}")
    fig, ax = target_axes(ax)
    history = _history(result)
    for split in ("train", "test"):
        key = f"{split}_{metric}"
        points = [(h["epoch"], h[key]) for h in history if h.get(key) is not None]
        if points:
            epochs, values = zip(*points, strict=True)
            ax.plot(epochs, values, marker="o", label=split)
    integer_ticks(ax)
    ax.set_title(metric)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if ax.lines:
        ax.legend(fontsize="small")
    return finish(fig, path, ax)


def plot_dashboard(monitor: Any, result: Any = None, path: str | os.PathLike[str] | None = None) -> Any:
    """One page: activation and gradient histograms (latest record), update:data ratios, activation
    std against depth (first and latest record), and loss and accuracy curves when ``result`` (a
    FitResult or history) is given. Returns the figure; saved as PNG to ``path`` if given."""
    fig = new_figure(15, 8.5)
    axes = fig.subplots(2, 3)
    plot_activation_histograms(monitor, ax=axes[0, 0])
    plot_gradient_histograms(monitor, ax=axes[0, 1])
    plot_update_ratios(monitor, ax=axes[0, 2])
    plot_activation_std(monitor, ax=axes[1, 0])
    if result is not None:
        plot_training_curves(result, ax=axes[1, 1], metric="loss")
        plot_training_curves(result, ax=axes[1, 2], metric="accuracy")
    else:
        axes[1, 1].set_visible(False)
        axes[1, 2].set_visible(False)
    return finish(fig, path)
