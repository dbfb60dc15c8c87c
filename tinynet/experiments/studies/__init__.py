"""The studies behind ``docs/experiments.md``: what the initialization papers claim, measured.

- :func:`symmetry_study`: zero, constant and random weights; distinct units per layer over training
  steps, exactly-zero hidden weight gradients under zero init, which parameters learn at all.
- :func:`signal_profile` / :func:`depth_study`: activation std, saturation, dead units,
  back-propagated signal and weight gradient norm per layer of a deep MLP at initialization (Glorot &
  Bengio 2010; He et al. 2015; Klambauer et al. 2017).
- :func:`trainability`: train a deep ReLU MLP under several schemes, with plain SGD (He et al. 2015)
  or Adam (which verdicts depend on the optimizer).
- :func:`activation_dynamics`: mean and std of each hidden activation over training steps (Glorot &
  Bengio 2010, fig. 2: the top sigmoid layer saturating at 0).
- :func:`input_output_jacobian`, :func:`jacobian_study`: singular values and condition number of a
  network's input-output Jacobian (Saxe et al. 2014: orthogonal deep linear networks are perfectly
  conditioned).
- :func:`phase_diagram`, :func:`depth_scale_curve`, :func:`correlation_study`: the edge of chaos
  (Poole et al. 2016; Schoenholz et al. 2017): χ₁ over (σ_w², σ_b²) with the critical line, ξ_c
  against σ_w², correlations through wide tanh networks against the c-map;
- :func:`jacobian_spectra`: the spectrum of JJᵀ at criticality, orthogonal against Gaussian
  weights, tanh against ReLU (Pennington et al. 2017);
- :func:`trainability_tent`: training accuracy over (σ_w², depth) against k·ξ_c, every grid point
  a task for any ``concurrent.futures`` executor (Schoenholz et al. 2017);
- :func:`coord_check`: mean |x| of every layer's output against width over the first training
  steps under SP, NTK, µP and broken µP variants, with its log₂ slope (Yang et al. 2022);
- :func:`lr_transfer`: training loss over learning rates and widths per parametrization, and
  whether the best learning rate moves with width (Yang et al. 2022), every run a task for any
  ``concurrent.futures`` executor;
- :func:`conv_depth_study`: a deep plain ReLU CNN under He, Xavier and PyTorch's preset (He et al.
  2015); :func:`delta_orthogonal_study`: a 32-layer vanilla tanh CNN at the critical point,
  delta-orthogonal against Gaussian kernels (Xiao et al. 2018); :func:`residual_study`: a 64-block
  residual MLP, He blocks against Fixup and ReZero; :func:`normalization_study`: a bad init rescued
  by BatchNorm or LayerNorm, and the time per step it costs. Every run is a :func:`train_task`
  through :func:`run_configs` (``grid.run_tasks``).

One module per study; every study that trains calls :func:`tinynet.experiments.run`. Every function
returns plain, JSON-ready dicts. ``examples/symmetry.py``, ``examples/depth_sweep.py`` and
``examples/edge_of_chaos.py`` are their command-line faces; ``tests/test_experiments_studies.py`` and
``tests/test_experiments_edge_of_chaos.py`` check each claim on a small configuration. Scheme names
may be presets (:func:`resolve_scheme`).
"""

from .common import (
    initial_profile,
    resolve_scheme,
    run_configs,
    seed_summary,
    study_data,
    summarize_variants,
    train_task,
)
from .conv_depth import CONV_DEPTH_SCHEMES, conv_depth_config, conv_depth_study
from .coord_check import (
    COORD_PARAMETRIZATIONS,
    COORD_VARIANTS,
    COORD_WIDTHS,
    coord_check,
    coord_records,
    log2_slope,
)
from .delta_orthogonal import (
    DELTA_SCHEMES,
    conv_stack_spectrum,
    delta_config,
    delta_orthogonal_study,
    delta_specs,
)
from .depth import DEPTH_ACTIVATIONS, DEPTH_INITS, depth_study, signal_profile, std_ratio
from .dynamics import activation_dynamics
from .edge_of_chaos import (
    CORRELATION_C0,
    PHASE_ACTIVATIONS,
    SIGMA_B2,
    chi1_or_limit,
    correlation_study,
    depth_scale_curve,
    phase_diagram,
    phase_of,
    random_tanh_network,
    width_error,
)
from .jacobian import condition_number, deep_linear, input_output_jacobian, jacobian_study
from .lr_transfer import (
    LR_LOG2,
    LR_PARAMETRIZATIONS,
    LR_WIDTHS,
    best_index,
    least_shift,
    lr_config,
    lr_task,
    lr_tasks,
    lr_transfer,
    tied_indices,
)
from .normalization import NORMALIZATION_VARIANTS, normalization_config, normalization_study
from .residual import RESIDUAL_VARIANTS, residual_config, residual_study
from .spectra import SPECTRA_CASES, SPECTRA_DEPTHS, critical_point, jacobian_spectra, spectra_network
from .symmetry import SYMMETRY_INITS, symmetry_study
from .tent import (
    TENT_DEPTHS,
    TENT_SIGMA_W2,
    calibrate_depth_multiple,
    tent_config,
    tent_task,
    tent_tasks,
    trainability_tent,
    trainable_depth,
    weight_spec,
)
from .trainability import TRAINABILITY_LR, TRAINABILITY_OPTIMIZERS, TRAINABILITY_SCHEMES, trainability

__all__ = [
    "CONV_DEPTH_SCHEMES",
    "COORD_PARAMETRIZATIONS",
    "COORD_VARIANTS",
    "COORD_WIDTHS",
    "CORRELATION_C0",
    "DELTA_SCHEMES",
    "DEPTH_ACTIVATIONS",
    "DEPTH_INITS",
    "LR_LOG2",
    "LR_PARAMETRIZATIONS",
    "LR_WIDTHS",
    "NORMALIZATION_VARIANTS",
    "PHASE_ACTIVATIONS",
    "RESIDUAL_VARIANTS",
    "SIGMA_B2",
    "SPECTRA_CASES",
    "SPECTRA_DEPTHS",
    "SYMMETRY_INITS",
    "TENT_DEPTHS",
    "TENT_SIGMA_W2",
    "TRAINABILITY_LR",
    "TRAINABILITY_OPTIMIZERS",
    "TRAINABILITY_SCHEMES",
    "activation_dynamics",
    "best_index",
    "calibrate_depth_multiple",
    "chi1_or_limit",
    "condition_number",
    "conv_depth_config",
    "conv_depth_study",
    "conv_stack_spectrum",
    "coord_check",
    "coord_records",
    "correlation_study",
    "critical_point",
    "deep_linear",
    "delta_config",
    "delta_orthogonal_study",
    "delta_specs",
    "depth_scale_curve",
    "depth_study",
    "initial_profile",
    "input_output_jacobian",
    "jacobian_spectra",
    "jacobian_study",
    "least_shift",
    "log2_slope",
    "lr_config",
    "lr_task",
    "lr_tasks",
    "lr_transfer",
    "normalization_config",
    "normalization_study",
    "phase_diagram",
    "phase_of",
    "random_tanh_network",
    "residual_config",
    "residual_study",
    "resolve_scheme",
    "run_configs",
    "seed_summary",
    "signal_profile",
    "spectra_network",
    "std_ratio",
    "study_data",
    "summarize_variants",
    "symmetry_study",
    "tent_config",
    "tent_task",
    "tent_tasks",
    "tied_indices",
    "train_task",
    "trainability",
    "trainability_tent",
    "trainable_depth",
    "weight_spec",
    "width_error",
]
