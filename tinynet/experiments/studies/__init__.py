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

One module per study; every study that trains calls :func:`tinynet.experiments.run`. Every function
returns plain, JSON-ready dicts. ``examples/symmetry.py`` and ``examples/depth_sweep.py`` are their
command-line faces; ``tests/test_experiments_studies.py`` checks each claim on a small
configuration. Scheme names may be presets (:func:`resolve_scheme`).
"""

from .common import resolve_scheme, study_data
from .depth import DEPTH_ACTIVATIONS, DEPTH_INITS, depth_study, signal_profile, std_ratio
from .dynamics import activation_dynamics
from .jacobian import condition_number, deep_linear, input_output_jacobian, jacobian_study
from .symmetry import SYMMETRY_INITS, symmetry_study
from .trainability import TRAINABILITY_LR, TRAINABILITY_OPTIMIZERS, TRAINABILITY_SCHEMES, trainability

__all__ = [
    "DEPTH_ACTIVATIONS",
    "DEPTH_INITS",
    "SYMMETRY_INITS",
    "TRAINABILITY_LR",
    "TRAINABILITY_OPTIMIZERS",
    "TRAINABILITY_SCHEMES",
    "activation_dynamics",
    "condition_number",
    "deep_linear",
    "depth_study",
    "input_output_jacobian",
    "jacobian_study",
    "resolve_scheme",
    "signal_profile",
    "std_ratio",
    "study_data",
    "symmetry_study",
    "trainability",
]
