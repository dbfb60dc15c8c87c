"""Initialization strategies: the heart of tinynet.

Strategies are values: ``init.get("he_normal(mode='fan_out')")`` returns an :class:`Initializer`
(:mod:`.strategy`: what a strategy is) whose ``repr`` is that spec again (:mod:`.registry`: how
names become strategies). ``init.names()`` lists the registry, ``init.register``
extends it, ``init.apply`` re-initializes a model with one random stream per parameter and
``init.lsuv`` is the data-dependent LSUV procedure, ``init.fixup`` Fixup for residual networks
(:mod:`.architecture`), ``edge_of_chaos`` the initialization on the
mean-field critical line (:mod:`tinynet.theory.meanfield`), ``parametrize`` the width
parametrizations SP, NTK and µP (:mod:`.parametrization`). docs/initialization.md gives every formula.
"""

from .apply import PRESETS, apply, resolve_auto_gain
from .architecture import fixup, fixup_scale, residual_blocks
from .edge_of_chaos import EdgeOfChaos
from .fans import fans
from .gains import calculate_gain, estimate_gain
from .lsuv import Lsuv, lsuv
from .parametrization import (
    Rule,
    parametrization,
    parametrization_names,
    parametrize,
    register_parametrization,
)
from .registry import get, names, parse_spec, register
from .schemes import (
    TRUNCATION_STD,
    Constant,
    Default,
    DeltaOrthogonal,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    LecunUniform,
    Normal,
    Ones,
    Orthogonal,
    Sparse,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
    XavierNormal,
    XavierUniform,
    Zeros,
)
from .strategy import FunctionInitializer, Initializer

__all__ = [
    "PRESETS",
    "TRUNCATION_STD",
    "Constant",
    "Default",
    "DeltaOrthogonal",
    "EdgeOfChaos",
    "FunctionInitializer",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Lsuv",
    "Normal",
    "Ones",
    "Orthogonal",
    "Rule",
    "Sparse",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "apply",
    "calculate_gain",
    "estimate_gain",
    "fans",
    "fixup",
    "fixup_scale",
    "get",
    "lsuv",
    "names",
    "parametrization",
    "parametrization_names",
    "parametrize",
    "parse_spec",
    "register",
    "register_parametrization",
    "residual_blocks",
    "resolve_auto_gain",
]
