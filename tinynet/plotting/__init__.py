"""Figures, saved as PNG: what a Monitor recorded (:mod:`~tinynet.plotting.monitor`) and what the
sweeps and studies found (:mod:`~tinynet.plotting.studies`), on the one set of figure helpers in
:mod:`~tinynet.plotting._figure`.

matplotlib is the optional ``plot`` extra: importing this package never imports it, and without it
every ``plot_*`` function raises ``ImportError`` with :data:`INSTALL_HINT`. Plots read plain records
only; they import neither the experiments nor the training loop.
"""

from __future__ import annotations

from ._figure import INSTALL_HINT, require_matplotlib, save_figure
from .monitor import (
    plot_activation_histograms,
    plot_activation_std,
    plot_dashboard,
    plot_gradient_histograms,
    plot_gradient_std,
    plot_training_curves,
    plot_update_ratios,
)
from .studies import (
    plot_depth_profiles,
    plot_dynamics,
    plot_jacobian,
    plot_sweep,
    plot_symmetry,
    plot_trainability,
)

__all__ = [
    "INSTALL_HINT",
    "plot_activation_histograms",
    "plot_activation_std",
    "plot_dashboard",
    "plot_depth_profiles",
    "plot_dynamics",
    "plot_gradient_histograms",
    "plot_gradient_std",
    "plot_jacobian",
    "plot_sweep",
    "plot_symmetry",
    "plot_trainability",
    "plot_training_curves",
    "plot_update_ratios",
    "require_matplotlib",
    "save_figure",
]
