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
    "colours",
    "finish",
    "grid",
    "integer_ticks",
    "new_figure",
    "plain_log_labels",
    "positive",
    "require_matplotlib",
    "running_mean",
    "save_figure",
    "spread_scale",
    "target_axes",
]

#: a log axis only for values spanning more than this factor (else linear from zero)
LOG_SPREAD = 3.0

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


def colours(n: int, ordered: bool = False) -> list[Any]:
    """``n`` colours, no two alike, for the ``n`` entries of one legend.

    ``ordered=True`` (layers by depth) samples the perceptually uniform ``plasma`` colormap evenly
    from dark blue (first) through magenta to orange-yellow (last, stopping short of its faint
    yellow end); otherwise the ten ``tab10`` colours serve up to ten entries and ``plasma``
    samples beyond that.
    """
    from matplotlib import colormaps

    if n <= 0:
        return []
    if not ordered and n <= 10:
        return [colormaps["tab10"](k) for k in range(n)]
    cmap = colormaps["plasma"]
    return [cmap(0.88 * k / (n - 1)) if n > 1 else cmap(0.0) for k in range(n)]


def spread_scale(ax: Any, values: Sequence[Any], axis: str = "y", factor: float = LOG_SPREAD) -> str:
    """Give ``ax`` the scale and limits that show the spread of ``values`` (None and non-finite
    numbers ignored) and return ``"log"`` or ``"linear"``.

    Log when the positive values span more than ``factor`` (a ratio ``max / min > factor``), with a
    margin of a twentieth of the span each side (non-positive values cannot appear on it); otherwise
    linear from zero (or from the lowest value, if negative) to 8% above the highest, so values
    between 0.973 and 1.0 read as the near-constant figures they are, not as a slope.
    """
    finite = np.array([float(v) for v in values if v is not None], dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    positive_values = finite[finite > 0]
    set_scale, set_limits = (ax.set_yscale, ax.set_ylim) if axis == "y" else (ax.set_xscale, ax.set_xlim)
    if positive_values.size and positive_values.max() > factor * positive_values.min():
        low, high = float(positive_values.min()), float(positive_values.max())
        margin = (high / low) ** 0.05
        set_scale("log")
        set_limits(low / margin, high * margin)
        if low >= 1e-3 and high < 1e4:
            plain_log_labels(ax.yaxis if axis == "y" else ax.xaxis, high / low)
        return "log"
    set_scale("linear")
    if finite.size:
        low, high = min(0.0, float(finite.min())), max(0.0, float(finite.max()))
        if high == low:
            high = low + 1.0
        pad = 0.08 * (high - low)
        set_limits(low - pad if low < 0 else 0.0, high + pad)
    return "linear"


def plain_log_labels(axis: Any, span: float) -> None:
    """Label a log ``axis`` (an ``ax.xaxis`` or ``ax.yaxis``) covering a ratio ``span`` with plain
    numbers (``0.05``, ``2``, ``30``) instead of ``2×10⁰``; within two decades the minor ticks
    at 2, 3 and 5 times a power of ten are labelled too (all of 2-6 and 8 within one decade)."""
    from matplotlib.ticker import FuncFormatter

    decades = math.log10(span) if span > 0 else 0.0
    keep = {2, 3, 4, 5, 6, 8} if decades <= 1 else {2, 3, 5} if decades <= 2 else set()

    def minor(value: float, _position: Any) -> str:
        if value <= 0:
            return ""
        mantissa = round(value / 10 ** math.floor(math.log10(value) + 1e-9), 6)
        return f"{value:g}" if mantissa in keep else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


def running_mean(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` finite values at each index (fewer at the start);
    nan where the window holds no finite value. Shape: ``(len(values),)``."""
    a = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(a)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, a, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    upper = np.arange(1, a.size + 1)
    lower = np.maximum(upper - max(1, int(window)), 0)
    n = counts[upper] - counts[lower]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[upper] - sums[lower]) / np.maximum(n, 1), np.nan)
