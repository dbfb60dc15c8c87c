"""The one set of figure helpers behind every plot: matplotlib on demand, a bare Agg figure, saving
through the one atomic writer, and small axis helpers.

matplotlib is the optional ``plot`` extra. It is imported inside these functions only, never when
:mod:`tinynet.plotting` is imported; without it, :func:`require_matplotlib` raises ``ImportError``
with :data:`INSTALL_HINT`. Figures are ``matplotlib.figure.Figure`` objects on an Agg canvas (no
``pyplot``, no global state).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._files import atomic_write

__all__ = [
    "INSTALL_HINT",
    "finish",
    "grid",
    "integer_ticks",
    "new_figure",
    "positive",
    "require_matplotlib",
    "save_figure",
    "target_axes",
]

INSTALL_HINT = (
    "plotting needs matplotlib, the optional 'plot' extra: pip install \"tinynet[plot]\" "
    '(or, in a clone of tinynet, pip install -e ".[plot]")'
)


def require_matplotlib() -> Any:
    """Import and return the ``matplotlib.figure.Figure`` class.

    Raises
    ------
    ImportError
        If matplotlib is not installed; the message says how to install the ``plot`` extra.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return Figure


def new_figure(width: float, height: float) -> Any:
    """A ``width`` × ``height`` inch figure with constrained layout, attached to an Agg canvas."""
    figure_cls = require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure_cls(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Write ``fig`` as PNG through :func:`tinynet._files.atomic_write`: a temporary file in the same
    folder renamed onto ``path``, with the permissions of any new file; a failed save leaves nothing
    half-written and an earlier file at ``path`` untouched."""
    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=dpi)


def target_axes(ax: Any, width: float = 6.4, height: float = 4.0) -> tuple[Any, Any]:
    """``(None, ax)`` to draw on a caller's axes, or ``(fig, axes)`` of a new one-panel figure."""
    if ax is not None:
        return None, ax
    fig = new_figure(width, height)
    return fig, fig.add_subplot()


def finish(fig: Any, path: str | os.PathLike[str] | None, ax: Any = None) -> Any:
    """What a plot function returns: ``ax`` when it drew on a caller's axes (``fig`` is None),
    else ``fig``, saved to ``path`` first when given."""
    if fig is None:
        return ax
    if path is not None:
        save_figure(fig, path)
    return fig


def grid(fig: Any, n: int, ncols: int) -> list[Any]:
    """``n`` axes on a grid of ``ncols`` columns (rows as needed); the spare cells are hidden."""
    nrows = max(1, math.ceil(n / ncols))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def positive(values: Sequence[Any]) -> list[float]:
    """Values for a log axis: None and non-positive numbers become nan (a gap in the line)."""
    return [float(v) if v is not None and v > 0 else float("nan") for v in values]


def integer_ticks(ax: Any) -> None:
    """Whole numbers only on the x axis (epochs, layers)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
