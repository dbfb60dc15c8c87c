"""The parametrizations' figures, drawn from plain records: the coordinate check (one log-log panel
per step, mean |x| against width, one curve per layer: the picture of ``mup``'s coordinate check;
:func:`tinynet.experiments.studies.coord_check`) and the learning-rate transfer (training loss
against log₂ learning rate, one curve per width; :func:`tinynet.experiments.studies.lr_transfer`).
matplotlib is imported only when a figure is drawn."""

from __future__ import annotations

import os
from typing import Any

from .._text import format_signed
from ._figure import colours, finish, grid, new_figure, positive

__all__ = ["plot_coord_check", "plot_lr_transfer"]


def plot_coord_check(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """One row per parametrization, one log₂-log₂ panel per step: mean |x| of each layer's output
    against width, the legend giving each layer's fitted slope; every panel has the same y range,
    so that slopes compare by eye. Returns the figure (saved to
    ``path`` as PNG when given)."""
    widths = result["config"]["widths"]
    layers = result["layers"]
    rows = result["results"]
    steps = len(rows[0]["slopes"]) if rows else 0
    fig = new_figure(2.8 * max(steps, 1), 2.4 * max(len(rows), 1) + 0.4)
    axes = grid(fig, max(len(rows) * steps, 1), max(steps, 1))
    # one y range for every panel: a flat curve must look flat beside a steep one
    values = [v for row in rows for step in row["mean_abs"] for layer in step for v in positive(layer)]
    finite = [v for v in values if v == v]
    span = (min(finite) / 1.2, max(finite) * 1.2) if finite else None
    for r, row in enumerate(rows):
        for s in range(steps):
            ax = axes[r * steps + s]
            for k, layer in enumerate(layers):
                slope = row["slopes"][s][k]
                ax.plot(widths, positive(row["mean_abs"][s][k]), marker="o", markersize=3,
                        label=f"{k + 1} {layer}: {format_signed(slope)}")  # fmt: skip
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            if span is not None:
                ax.set_ylim(*span)
            ax.set_title(f"{row['parametrization']}, step {s + 1}", fontsize="small")
            ax.tick_params(labelsize="x-small")
            ax.legend(fontsize="xx-small", title="layer: slope", title_fontsize="xx-small")
            if s == 0:
                ax.set_ylabel("mean |x|", fontsize="small")
            if r == len(rows) - 1:
                ax.set_xlabel("width", fontsize="small")
    return finish(fig, path)


def plot_lr_transfer(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    r"""One panel per parametrization: the training loss after the budget against
    :math:`\log_2 \eta`, one curve per width (darker = narrower), the optimum of each width marked
    by a star and a diverged point by a cross on the panel's top edge; the title gives the
    optimum's movement across widths, and its movement once ties within the seeds' spread are
    ties when that is smaller; every panel has the same
    log-scaled y range, so a curve's height and its optimum's position compare across panels.
    Returns the figure (saved to ``path`` as PNG when given)."""
    widths = result["widths"]
    x = result["log2_lrs"]
    rows = result["results"]
    fig = new_figure(4.2 * max(len(rows), 1) + 0.4, 3.4)
    axes = grid(fig, max(len(rows), 1), max(len(rows), 1))
    values = [v for row in rows for curve in row["loss"] for v in positive(curve)]
    finite = [v for v in values if v == v]
    low, high = (min(finite) / 1.15, max(finite) * 1.4) if finite else (0.1, 10.0)
    tint = colours(len(widths), ordered=True)
    for ax, row in zip(axes, rows):
        for k, (width, curve) in enumerate(zip(widths, row["loss"])):
            ax.plot(x, positive(curve), marker="o", markersize=3, color=tint[k], label=f"width {width}")
            gone = [xj for xj, v in zip(x, curve) if v is None]
            if gone:
                ax.plot(gone, [high / 1.1] * len(gone), linestyle="none", marker="x", color=tint[k])
            best = row["best"][k]
            if best is not None:
                ax.plot([x[best]], [curve[best]], marker="*", markersize=13, color=tint[k],
                        markeredgecolor="black", linestyle="none")  # fmt: skip
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        shift, noise = row["shift"], row.get("shift_within_noise")
        moved = "-" if shift is None else f"{shift}"
        if noise is not None and noise != shift:
            moved += f" ({noise} within noise)"
        ax.set_title(f"{row['parametrization']}: optimum moves {moved} grid point(s)", fontsize="small")
        ax.set_xlabel("log₂ learning rate", fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", title="★ best, × diverged", title_fontsize="x-small")
    if axes:
        axes[0].set_ylabel(f"training loss after {result.get('steps')} steps", fontsize="small")
    return finish(fig, path)
