"""The coordinate check's figure: one log-log panel per step, mean |x| against width, one curve per
layer (the picture of ``mup``'s coordinate check), drawn from the plain record of
:func:`tinynet.experiments.studies.coord_check`. matplotlib is imported only when a figure is drawn."""

from __future__ import annotations

import os
from typing import Any

from ._figure import finish, grid, new_figure, positive

__all__ = ["plot_coord_check"]


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
                        label=f"{k + 1} {layer}: {slope:+.2f}")  # fmt: skip
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
