"""Figures, saved as PNG: what a Monitor recorded (:mod:`~tinynet.plotting.monitor`) and what the
sweeps and studies found (:mod:`~tinynet.plotting.studies`), the coordinate check and the learning-rate
transfer across widths (:mod:`~tinynet.plotting.parametrization`), and signal-propagation theory beside
measurement (:mod:`~tinynet.plotting.theory`), the architecture studies
(:mod:`~tinynet.plotting.architectures`), on the one set of figure helpers in
:mod:`~tinynet.plotting._figure`.

matplotlib is the optional ``plot`` extra: importing this package never imports it, and without it
every ``plot_*`` function raises ``ImportError`` with :data:`INSTALL_HINT`. Plots read plain records
only; they import neither the experiments nor the training loop.
"""

from __future__ import annotations

from ._figure import INSTALL_HINT, require_matplotlib, save_figure
from .architectures import plot_conv_depth, plot_delta_orthogonal, plot_normalization, plot_residual
from .monitor import (
    plot_activation_histograms,
    plot_activation_std,
    plot_dashboard,
    plot_gradient_histograms,
    plot_gradient_std,
    plot_training_curves,
    plot_update_ratios,
)
from .parametrization import plot_coord_check, plot_lr_transfer
from .studies import (
    plot_depth_profiles,
    plot_dynamics,
    plot_jacobian,
    plot_sweep,
    plot_symmetry,
    plot_trainability,
)
from .theory import (
    plot_correlations,
    plot_depth_scale,
    plot_jacobian_spectra,
    plot_phase_diagram,
    plot_trainability_tent,
)

__all__ = [
    "INSTALL_HINT",
    "plot_activation_histograms",
    "plot_activation_std",
    "plot_conv_depth",
    "plot_coord_check",
    "plot_correlations",
    "plot_dashboard",
    "plot_delta_orthogonal",
    "plot_depth_profiles",
    "plot_depth_scale",
    "plot_dynamics",
    "plot_gradient_histograms",
    "plot_gradient_std",
    "plot_jacobian",
    "plot_jacobian_spectra",
    "plot_lr_transfer",
    "plot_normalization",
    "plot_phase_diagram",
    "plot_residual",
    "plot_sweep",
    "plot_symmetry",
    "plot_trainability",
    "plot_trainability_tent",
    "plot_training_curves",
    "plot_update_ratios",
    "require_matplotlib",
    "save_figure",
]
