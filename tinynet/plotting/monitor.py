"""Figures of what a :class:`tinynet.diagnostics.Monitor` recorded: activation and gradient
histograms at initialization and at the latest record, activation std and back-propagated signal
against depth, update:data ratios, training curves per optimizer step, and a dashboard with all of
them on one page.

They read the Monitor's plain records (``select``, ``history``, ``histograms``, ``updates``) and a
fit's ``history`` and ``step_losses``; nothing here imports the diagnostics or the training loop.
Each ``plot_*`` function draws on ``ax`` when given (and returns it), or makes a figure, saves it
to ``path`` as PNG when given, and returns the figure. matplotlib is imported only when a figure
is drawn.

Reading rules shared by every figure: densities are drawn on a log axis (a spike of one bin then
leaves the rest of the distribution visible); a std against depth gets a log axis only when its
values span more than a factor :data:`~tinynet.plotting._figure.LOG_SPREAD`, else a linear one from
zero; the entries of one legend never share a colour (layers take evenly spaced colours of one
colormap, dark at the input), and a layer keeps its colour from panel to panel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._text import format_number, format_percent, plural
from ._figure import (
    colours,
    finish,
    integer_ticks,
    new_figure,
    running_mean,
    spread_scale,
    target_axes,
)

__all__ = [
    "plot_activation_histograms",
    "plot_activation_std",
    "plot_dashboard",
    "plot_gradient_histograms",
    "plot_gradient_std",
    "plot_training_curves",
    "plot_update_ratios",
]

#: the records drawn by default: the one at initialization and the latest
INIT_AND_LATEST = ("first", "last")
REFERENCE = "black"  # reference lines and markers: never one of the layer colours
Entry = tuple[int, str, "dict[str, list[float]] | None"]  # (layer, legend label, histogram)


# ---------------------------------------------------------------------------------- reading
def _records(monitor: Any, steps: Any) -> list[dict[str, Any]]:
    """The distinct records that ``steps`` selects (one selector or a list/tuple of them), in order."""
    selectors = list(steps) if isinstance(steps, (list, tuple)) else [steps]
    out: list[dict[str, Any]] = []
    for selector in selectors:
        record = monitor.select(selector)
        if all(record["step"] != r["step"] for r in out):
            out.append(record)
    return out


def _when(monitor: Any, record: dict[str, Any]) -> str:
    """``"initialization (step 0)"``, ``"step 938, latest"`` or ``"step 400"``."""
    if record["step"] == 0:
        return "initialization (step 0)"
    latest = bool(monitor.history) and monitor.history[-1]["step"] == record["step"]
    return f"step {record['step']}" + (", latest" if latest else "")


def _observed_modules(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The activation outputs of the record, or the layer outputs when the model has none."""
    acts = [m for m in record["modules"] if m["role"] == "activation" and m["std"] is not None]
    return acts or [m for m in record["modules"] if m["std"] is not None]


def _n_layers(monitor: Any) -> int:
    return len(monitor.history[-1]["layers"]) if monitor.history else 0


def _palette(layers: Sequence[int], total: int) -> list[Any]:
    """One colour per entry: layer ``l`` takes colour ``l`` of ``total`` evenly spaced ones (the same
    in every panel) when the entries' layers are distinct and within ``1..total``; otherwise the
    entries take evenly spaced colours in their order."""
    if len(set(layers)) == len(layers) and all(1 <= layer <= total for layer in layers):
        scale = colours(total, ordered=True)
        return [scale[layer - 1] for layer in layers]
    return colours(len(layers), ordered=True)


def _out_grad_std(record: dict[str, Any]) -> list[tuple[int, float | None]]:
    """``(layer, std of dL/d out_l)`` per weight layer: the record's ``out_grad_std`` when it has
    one, else the ``grad_std`` of the layer's own module row (the same figure), else None."""
    by_name = {m["name"]: m for m in record["modules"] if m["role"] == "layer"}
    out = []
    for row in record["layers"]:
        value = row.get("out_grad_std")
        if value is None:
            value = by_name.get(row["name"], {}).get("grad_std")
        out.append((row["layer"], value))
    return out


def _legend(ax: Any) -> None:
    """The legend of ``ax`` if it has labelled entries, smaller when there are more than four."""
    n = len(ax.get_legend_handles_labels()[0])
    if n:
        ax.legend(fontsize="small" if n <= 4 else "x-small")


def _note(ax: Any, text: str, height: float = 0.5) -> None:
    ax.text(0.5, height, text, ha="center", va="center", transform=ax.transAxes, fontsize="small")


# ---------------------------------------------------------------------------------- histograms
def _draw_density(
    ax: Any, hist: dict[str, list[float]], colour: Any, style: str, label: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One histogram as its outline on a log density axis, empty bins left as gaps.

    Returns ``(densities, spike_x, spike_y)``: the finite densities drawn, and the centre and height
    of every bin with no filled neighbour (a spike), which the caller draws as a stem from the floor
    of the axis once that is known, so that a lone bin cannot vanish into a dash.
    """
    counts = np.asarray(hist["counts"], dtype=np.float64)
    edges = np.asarray(hist["edges"], dtype=np.float64)
    widths = np.diff(edges)
    density = counts / max(counts.sum(), 1.0) / np.where(widths > 0, widths, 1.0)
    density[counts <= 0] = np.nan
    ax.stairs(density, edges, baseline=None, color=colour, linestyle=style, linewidth=1.4, label=label)
    filled = np.pad(counts > 0, 1)
    lone = filled[1:-1] & ~filled[:-2] & ~filled[2:]
    centres = 0.5 * (edges[:-1] + edges[1:])
    return density[np.isfinite(density)], centres[lone], density[lone]


def _finish_density_axes(ax: Any, drawn: list[tuple[Any, str, Any]]) -> None:
    """Limits of a density panel from what was drawn on it: x over every histogram's whole range
    plus 2% (a spike then shows where it sits), y from half the lowest to twice the highest density, and
    each spike as a stem up from that floor. ``drawn`` holds ``(hist, style, (densities, x, y,
    colour))`` per histogram."""
    densities = [d for _, _, (values, _, _, _) in drawn for d in values]
    if not densities:
        return
    low, high = min(densities) / 2, max(densities) * 2
    ax.set_ylim(low, high)
    left, right = min(h["edges"][0] for h, _, _ in drawn), max(h["edges"][-1] for h, _, _ in drawn)
    margin = 0.02 * (right - left)  # a spike in the first or last bin stays clear of the frame
    ax.set_xlim(left - margin, right + margin)
    for _, style, (_, xs, ys, colour) in drawn:
        if len(xs):
            ax.vlines(xs, low, ys, color=colour, linestyle=style, linewidth=1.4)
            ax.plot(xs, ys, "o", color=colour, markersize=4)


def _histogram_figure(
    monitor: Any,
    step: Any,
    ax: Any,
    path: str | os.PathLike[str] | None,
    entries_of: Callable[[dict[str, Any], dict[str, Any]], list[Entry]],
    what: str,
) -> Any:
    """Draw one density panel per selected record (``ax``: None, one axes, or one axes per record).

    On a single ``ax`` several records overlay: earlier ones dashed, the latest solid, and the
    legend lists each layer once (with the latest figures) plus one black entry per line style.
    """
    records = _records(monitor, step)
    total = _n_layers(monitor)
    fig = None
    if ax is None:
        fig = new_figure(5.4 * len(records) + 0.4, 4.4)
        axes = list(fig.subplots(1, len(records), squeeze=False)[0])
    elif isinstance(ax, (list, tuple, np.ndarray)):
        axes = list(ax)
        if len(axes) < len(records):
            raise ValueError(
                f"plot {what} histograms: {len(records)} records need {len(records)} axes, got {len(axes)}"
            )
        for spare in axes[len(records) :]:
            _note(spare, f"no later record\n(only {_when(monitor, records[0])})")
            spare.set_axis_off()
    else:
        axes = [ax] * len(records)
    overlay = len(set(map(id, axes[: len(records)]))) < len(records)
    drawn: dict[int, list[tuple[Any, str, Any]]] = {}
    for k, (target, record) in enumerate(zip(axes, records, strict=False)):
        entries = entries_of(record, monitor.histograms.get(record["step"], {}))
        palette = _palette([layer for layer, _, _ in entries], total)
        latest = k == len(records) - 1
        style = "-" if latest or not overlay else "--"
        on_target = drawn.setdefault(id(target), [])
        for colour, (_, label, hist) in zip(palette, entries, strict=True):
            if hist is not None:
                shown = label if latest or not overlay else None  # one legend entry per layer
                values, xs, ys = _draw_density(target, hist, colour, style, shown)
                on_target.append((hist, style, (values, xs, ys, colour)))
        if overlay:
            target.plot([], [], color=REFERENCE, linestyle=style, label=_when(monitor, record))
        if not overlay or latest:
            target.set_yscale("log")
            _finish_density_axes(target, on_target)
            target.set_ylabel("density (log)")
            target.set_xlabel(what)
            when = "init vs latest" if overlay else _when(monitor, record)
            target.set_title(f"{what} distribution, {when}", fontsize="medium")
            if what != "activation value":
                target.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
            if on_target:
                _legend(target)
            else:
                _note(target, f"no {what} recorded")
    return finish(fig, path, ax)


def _activation_entries(record: dict[str, Any], hists: dict[str, Any]) -> list[Entry]:
    entries: list[Entry] = []
    for m in _observed_modules(record):
        extra = ""
        if m.get("saturated") is not None:
            extra = f", sat {format_percent(m['saturated'], 0)}%"
        elif m.get("dead") is not None:
            extra = f", dead {format_percent(m['dead'], 0)}%"
        label = f"layer {m['layer']} {m['kind']}: std {format_number(m['std'])}{extra}"
        entries.append((m["layer"], label, hists.get(m["name"], {}).get("values")))
    return entries


def plot_activation_histograms(
    monitor: Any,
    path: str | os.PathLike[str] | None = None,
    step: Any = INIT_AND_LATEST,
    ax: Any = None,
) -> Any:
    """Distribution of each activation's output on the probe, one outline per layer, on a log
    density axis (as in Glorot & Bengio 2010, fig. 6): at initialization and at the latest record by
    default, one panel each; the legend gives each layer's std and % saturated or dead.

    Parameters
    ----------
    monitor
        A Monitor (anything with ``select``, ``history`` and ``histograms``).
    path
        Where to save the PNG (only when the figure is made here, ``ax`` None).
    step
        A record selector (``"first"``, ``"last"``, a step number, a record) or a list/tuple of them;
        records selected twice are drawn once.
    ax
        None (a new figure, one panel per record), one axes (records overlaid: earlier dashed, the
        latest solid), or a list of axes, one per record (spare ones say there is no later record).

    Returns
    -------
    The figure, or ``ax`` when drawn on a caller's axes.

    Raises
    ------
    ValueError
        If the monitor has no record at a selected step, or a list ``ax`` has fewer axes than records.
    """
    return _histogram_figure(monitor, step, ax, path, _activation_entries, "activation value")


def plot_gradient_histograms(
    monitor: Any,
    path: str | os.PathLike[str] | None = None,
    step: Any = INIT_AND_LATEST,
    ax: Any = None,
    weights: bool = False,
) -> Any:
    """Distribution of ``dL/d(activation output)`` per layer on the probe (``weights=True``: of each
    layer's weight gradient ``dL/dW``), on a log density axis, at initialization and at the latest
    record by default; the legend gives each layer's std. ``step`` and ``ax`` as in
    :func:`plot_activation_histograms` (same returns and errors)."""

    def entries(record: dict[str, Any], hists: dict[str, Any]) -> list[Entry]:
        if weights:
            grads = hists.get("weight_grads", {})
            return [
                (row["layer"], f"layer {row['layer']} dL/dW: std {format_number(row['weight_grad_std'])}",
                 grads.get(row["name"]))
                for row in record["layers"]
            ]  # fmt: skip
        return [
            (m["layer"], f"layer {m['layer']} {m['kind']}: std {format_number(m['grad_std'])}",
             hists.get(m["name"], {}).get("grads"))
            for m in _observed_modules(record)
        ]  # fmt: skip

    what = "weight gradient" if weights else "activation gradient"
    return _histogram_figure(monitor, step, ax, path, entries, what)


# ---------------------------------------------------------------------------------- per step
def plot_update_ratios(monitor: Any, path: str | os.PathLike[str] | None = None, ax: Any = None) -> Any:
    """``log10(std(ΔW) / std(W))`` of each weight over optimizer steps, with the 10⁻³ reference line
    (updates much above it rewrite the weights each step; much below, they barely move). One colour
    per layer, as in the other panels."""
    fig, ax = target_axes(ax)
    rows = monitor.history[-1]["layers"] if monitor.history else []
    layer_of = {row["weight"]: row["layer"] for row in rows}
    names = list(monitor.updates)
    layers = [layer_of.get(name, 0) for name in names]
    for colour, name, layer in zip(_palette(layers, _n_layers(monitor)), names, layers, strict=True):
        points = [(s, v) for s, v in monitor.updates[name] if v is not None]
        if points:
            steps, values = zip(*points, strict=True)
            label = f"layer {layer} ({name})" if layer else name
            marker = "." if len(points) < 3 else None  # a line of one or two points stays visible
            ax.plot(steps, values, color=colour, linewidth=0.9, marker=marker, label=label)
    if not ax.lines:
        stepped = any(monitor.updates.values())  # steps taken, but no ratio defined (std(W) = 0)
        undefined = "update:data undefined at every step\n(weights with std 0)"
        _note(ax, undefined if stepped else "no optimizer step", height=0.7)  # clear of the 10⁻³ line
    ax.axhline(-3.0, color=REFERENCE, linestyle="--", linewidth=1, label="10⁻³")
    ax.set_title("update:data ratio per step", fontsize="medium")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("log10 std(ΔW) / std(W)")
    _legend(ax)
    return finish(fig, path, ax)


# ---------------------------------------------------------------------------------- against depth
def _depth_figure(
    monitors: Any,
    path: str | os.PathLike[str] | None,
    steps: Any,
    ax: Any,
    profile: Callable[[dict[str, Any]], tuple[list[int], list[float | None], str]],
    title: str,
    ylabel: str,
    xlabel: str = "layer",
    theory: Callable[[dict[str, Any]], tuple[list[int], list[float | None]]] | None = None,
) -> Any:
    """Lines of one figure per layer, one per (monitor, record); the scale follows the spread.
    ``theory(record)`` gives the predicted values of a record, drawn dotted in its line's colour
    for the first selected record of each monitor (training makes the weights depend on the data,
    which the theory does not model)."""
    fig, ax = target_axes(ax)
    items = list(monitors.items()) if isinstance(monitors, Mapping) else [("", monitors)]
    lines = []
    for label, monitor in items:
        records = _records(monitor, steps)
        for k, record in enumerate(records):
            layers, values, extra = profile(record)
            if any(v is not None for v in values):
                name = f"{label} {_when(monitor, record)}{extra}".strip()
                # the theory assumes independent weights: drawn for the first (initial) record only
                predicted = theory(record) if theory is not None and k == 0 else ([], [])
                lines.append((name, layers, values, "--" if k < len(records) - 1 else "-", predicted))
    every = [v for line in lines for v in line[2]] + [v for line in lines for v in line[4][1]]
    scale = spread_scale(ax, every)
    below = predicted_any = False
    for colour, (name, layers, values, style, predicted) in zip(colours(len(lines)), lines, strict=True):
        drawn = [np.nan if v is None or (scale == "log" and v <= 0) else float(v) for v in values]
        ax.plot(layers, drawn, color=colour, linestyle=style, marker="o", label=name)
        if any(v is not None for v in predicted[1]):
            guess = [np.nan if v is None or (scale == "log" and v <= 0) else float(v) for v in predicted[1]]
            ax.plot(predicted[0], guess, color=colour, linestyle=":", linewidth=2.5, alpha=0.8)
            predicted_any = True
        zeros = [x for x, v in zip(layers, values, strict=True) if v is not None and v <= 0]
        if scale == "log" and zeros:  # off a log axis: marked on its floor instead of dropped
            ax.plot(zeros, [0.0] * len(zeros), "v", color=colour, markersize=7,
                    transform=ax.get_xaxis_transform(), clip_on=False)  # fmt: skip
            below = True
    if below:
        ax.plot([], [], "v", color=REFERENCE, label="▼ exactly 0 (off the log axis)")
    if predicted_any:
        ax.plot([], [], ":", color=REFERENCE, linewidth=2.5, label="mean-field prediction (first record)")
    if not lines:
        _note(ax, "nothing recorded")
    elif all(v == 0 for line in lines for v in line[2] if v is not None):
        _note(ax, "every value is exactly 0")
    integer_ticks(ax)
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log)" if scale == "log" else ""))
    _legend(ax)
    return finish(fig, path, ax)


def plot_activation_std(
    monitors: Any,
    path: str | os.PathLike[str] | None = None,
    steps: Any = INIT_AND_LATEST,
    ax: Any = None,
) -> Any:
    """Std of each hidden activation's output against depth, for one Monitor at the given ``steps``
    (initialization dashed, latest solid) or for a ``{label: Monitor}`` mapping (e.g. one per scheme).
    Dotted in each line's colour: the mean-field prediction of the same record (``act_std_theory``),
    where the model is a plain chain of layers and activations.

    The y axis is logarithmic only when the values span more than a factor 3, else linear from zero
    (a std that holds between 0.97 and 1.0 then reads as flat); on a log axis a std of exactly 0 is
    marked ▼ on the floor. Raises ``ValueError`` when a monitor has no record at a selected step.
    """

    def profile(record: dict[str, Any]) -> tuple[list[int], list[float | None], str]:
        rows = [m for m in _observed_modules(record) if m["layer"] >= 1]
        return [m["layer"] for m in rows], [m["std"] for m in rows], ""

    def theory(record: dict[str, Any]) -> tuple[list[int], list[float | None]]:
        rows = [r for r in record["layers"] if r.get("act_std_theory") is not None]
        return [r["layer"] for r in rows], [r["act_std_theory"] for r in rows]

    title, ylabel = "activation std against depth", "std of activation output"
    return _depth_figure(monitors, path, steps, ax, profile, title, ylabel, theory=theory)


def plot_gradient_std(
    monitors: Any,
    path: str | os.PathLike[str] | None = None,
    steps: Any = INIT_AND_LATEST,
    ax: Any = None,
) -> Any:
    """The back-propagated signal: std of ``dL/d(out_l)`` (the gradient at weight layer l's output,
    its pre-activation) against layer l, output layer last, at initialization and at the latest
    record (or per monitor of a ``{label: Monitor}`` mapping). The legend quotes each record's
    ``gradient_flow``: the std at layer 1 over the std at the last hidden layer. A signal that
    falls toward layer 1 is a vanishing gradient; one that grows, an exploding one. Scale rules
    and errors as in :func:`plot_activation_std`.

    The figure per layer is the record's ``layers[i]["out_grad_std"]``, or, in a record without
    that key, the ``grad_std`` of the layer's own module row (the same quantity); None leaves a gap.
    """

    def profile(record: dict[str, Any]) -> tuple[list[int], list[float | None], str]:
        pairs = _out_grad_std(record)
        flow, last_hidden = record.get("gradient_flow"), len(pairs) - 1
        extra = "" if flow is None else f", flow (layer 1 / {last_hidden}) {format_number(flow)}"
        return [layer for layer, _ in pairs], [value for _, value in pairs], extra

    title, ylabel = "back-propagated signal against depth", "std of dL/d(layer output)"
    return _depth_figure(monitors, path, steps, ax, profile, title, ylabel, "layer (the last is the output)")


# ---------------------------------------------------------------------------------- curves
def _history(result: Any) -> list[dict[str, Any]]:
    return list(getattr(result, "history", result))


def _step_losses(result: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(steps, losses)`` from a FitResult's ``step_losses`` (the loss of step k at index k-1; a
    resumed run's list may start later: it then ends at ``result.steps``), or None."""
    losses = getattr(result, "step_losses", None)
    if not losses:
        return None
    values = np.asarray([np.nan if v is None else float(v) for v in losses], dtype=np.float64)
    last = getattr(result, "steps", None) or len(values)
    start = max(int(last) - len(values), 0)
    return np.arange(start + 1, start + len(values) + 1), values


def _chance(monitor: Any, metric: str) -> float | None:
    """``ln C`` (loss) or ``1/C`` (accuracy) from the Monitor's first record, or None."""
    first = monitor.history[0] if monitor is not None and monitor.history else {}
    if metric == "loss":
        return first.get("ln_classes")
    return 1.0 / first["n_classes"] if first.get("n_classes") else None


def plot_training_curves(
    result: Any,
    path: str | os.PathLike[str] | None = None,
    ax: Any = None,
    metric: str = "loss",
    monitor: Any = None,
) -> Any:
    """Training curves from a :class:`tinynet.training.FitResult` (or its ``history`` list).

    ``metric="loss"``: the training loss of every optimizer step (``result.step_losses``, faint)
    with its running mean over ``max(1, min(100, n // 20))`` steps, and the test loss after each
    epoch (points); without ``step_losses``, train and test loss per epoch. ``metric="accuracy"``:
    train (running mean over each epoch) and test accuracy per epoch. With ``monitor``, the probe's
    loss or accuracy at every record joins them (step 0 included, so a one-epoch run still draws a
    line), and ``ln C`` (loss) or chance ``1/C`` (accuracy) is dotted. The x axis is the optimizer
    step when every history entry has one (a FitResult's do), else the epoch. The loss axis is
    logarithmic when the values span more than a factor 3, else linear from zero.

    Raises
    ------
    ValueError
        For another ``metric`` (checked before matplotlib is needed).
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"plot_training_curves: metric must be 'loss' or 'accuracy', got {metric!r}")
    fig, ax = target_axes(ax)
    history = _history(result)
    by_step = all(h.get("step") is not None for h in history) and (bool(history) or monitor is not None)
    x_key = "step" if by_step else "epoch"
    per_step = _step_losses(result) if metric == "loss" and by_step else None
    train, test, probe = colours(3)  # tab10 blue, orange, green
    smooth = "#08306b"  # navy: the running mean over the faint blue steps
    shown: list[float] = []  # what the loss axis must show (the raw per-step noise may be clipped)
    splits = [("train", train), ("test", test)]
    if per_step is not None:
        steps, losses = per_step
        window = max(1, min(100, len(losses) // 20))
        if window > 1:
            ax.plot(steps, losses, color=train, alpha=0.3, linewidth=0.6, label="train, per step")
            losses = running_mean(losses, window)
            ax.plot(steps, losses, color=smooth, linewidth=1.6, label=f"train, mean of last {window}")
        else:
            ax.plot(steps, losses, color=train, linewidth=1.2, marker=".", label="train, per step")
        shown += losses.tolist()
        splits = [("test", test)]
    for split, colour in splits:
        key = f"{split}_{metric}"
        points = [(h[x_key], h[key]) for h in history if h.get(key) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, color=colour, marker="o", label=f"{split}, per epoch")
            shown += ys
    if by_step and monitor is not None:
        points = [(r["step"], r[metric]) for r in monitor.history if r.get(metric) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            # points only: the probe is measured at records, and a line would invent what lies between
            ax.plot(xs, ys, color=probe, marker="s", markersize=5, linestyle="none", label="probe (Monitor)")
            shown += ys
    chance = _chance(monitor, metric)
    if chance is not None:
        label = "ln C" if metric == "loss" else "chance 1/C"
        ax.axhline(chance, color=REFERENCE, linestyle=":", linewidth=1, label=label)
        shown.append(chance)
    if metric == "loss":
        ax.set_ylabel("loss" + (" (log)" if spread_scale(ax, shown) == "log" else ""))
    else:
        ax.set_ylim(0.0, 1.02)
        ax.set_ylabel("accuracy")
    if by_step:
        right = ax.get_xlim()[1]  # from initialization (step 0 whole, not cut by the frame)
        ax.set_xlim(-0.02 * right, right)
    else:
        integer_ticks(ax)
    ax.set_xlabel("optimizer step" if by_step else "epoch")
    how = " per step" if per_step is not None else ""
    ax.set_title(f"{metric}{how}, {plural(len(history), 'epoch')}", fontsize="medium")
    if not ax.lines:
        _note(ax, "no epoch trained")
        return finish(fig, path, ax)
    _legend(ax)
    if metric == "accuracy" and len(history) == 1:
        ax.text(0.02, 0.97, "measured once per epoch: one epoch, one point each", transform=ax.transAxes,
                ha="left", va="top", fontsize="x-small")  # fmt: skip
    return finish(fig, path, ax)


# ---------------------------------------------------------------------------------- one page
def plot_dashboard(monitor: Any, result: Any = None, path: str | os.PathLike[str] | None = None) -> Any:
    """One page of 3 × 3 panels. Top: activation histograms at initialization and at the latest
    record, activation std against depth. Middle: the same for the activation gradients, and the
    back-propagated signal std against depth. Bottom: loss per step and accuracy (from ``result``, a
    FitResult or its history, with the probe's records) and the update:data ratios.

    Returns the figure; saved as PNG to ``path`` if given. Raises ``ValueError`` when the monitor
    has recorded nothing.
    """
    monitor.select("last")  # nothing recorded: the Monitor's own error, before any drawing
    fig = new_figure(17, 13)
    axes = fig.subplots(3, 3)
    plot_activation_histograms(monitor, ax=[axes[0, 0], axes[0, 1]])
    plot_activation_std(monitor, ax=axes[0, 2])
    plot_gradient_histograms(monitor, ax=[axes[1, 0], axes[1, 1]])
    plot_gradient_std(monitor, ax=axes[1, 2])
    history = result if result is not None else []
    plot_training_curves(history, ax=axes[2, 0], metric="loss", monitor=monitor)
    plot_training_curves(history, ax=axes[2, 1], metric="accuracy", monitor=monitor)
    plot_update_ratios(monitor, ax=axes[2, 2])
    return finish(fig, path)
