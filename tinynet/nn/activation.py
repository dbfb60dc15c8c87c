"""Activation modules. Each exposes ``gain``: the factor an initializer should use for the layer in
front of it (``gain="auto"`` reads it).

Gains. For ReLU, LeakyReLU, Tanh, Sigmoid and Identity the values are those of PyTorch's
``calculate_gain`` table. SELU uses 1, not PyTorch's 3/4 (see :class:`SELU`). ELU, GELU and
Softplus, which the table does not cover, use the gain that preserves the second moment of a
standard normal pre-activation, ``1 / sqrt(E[f(z)**2])`` with ``z ~ N(0, 1)``, computed by
:func:`tinynet.init.estimate_gain` (a deterministic quadrature):

=====================  ==================
activation             gain
=====================  ==================
ELU (alpha=1)          1.2451983
GELU (exact)           1.5335304
GELU (tanh approx.)    1.5335805
Softplus               1.0418668
=====================  ==================

A user's own subclass of :class:`Activation` that does not set ``gain`` gets the same estimate for
its ``forward``, computed on first use.

Declarations. Each subclass also declares what the diagnostics measure on it, so that nothing
anywhere keeps a table of class names: ``name`` (the registry name, ``"leaky_relu"``),
``display_name`` (for tables, ``"LeakyReLU"``), ``saturates`` with its :meth:`Activation.saturated`
mask, ``can_die`` (dead units are counted) and ``output_range`` (a fixed histogram range).
:data:`ACTIVATIONS` maps each built-in's ``name`` to its class, and :func:`make_activation` builds
one from its name.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np

from .. import init
from .._checks import check_choice, check_real, unknown_choice
from ..function import no_grad
from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "SELU",
    "Activation",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "make_activation",
]


def _as_array(out: Any) -> np.ndarray:
    return out.data if isinstance(out, Tensor) else np.asarray(out)


class Activation(Module):
    """A parameter-free elementwise module with a ``gain`` and declarations for the diagnostics.

    ``gain`` defaults to ``tinynet.init.estimate_gain`` of this module's ``forward``, i.e.
    ``1 / sqrt(E[forward(z)**2])`` for ``z ~ N(0, 1)``, computed once per instance. A subclass may
    set its own as a class attribute or property, and any instance accepts ``act.gain = value``.

    Class attributes a subclass may declare (the defaults are those of a user's own activation):

    ``name``
        The registry name (``"relu"``, ``"leaky_relu"``); default the lower-cased class name, set
        for every subclass that does not set its own.
    ``display_name``
        The name shown in tables (``"ReLU"``, ``"tanh"``); default the class name.
    ``saturates`` (False)
        True if the diagnostics should measure the share of saturated outputs,
        ``mean(self.saturated(output))``.
    ``can_die`` (False)
        True if the diagnostics should count dead units: units ``<= 0`` on every probe example.
    ``output_range`` (None)
        A fixed ``(low, high)`` range for output histograms, or None to use the data's range.
    ``saturation_rule`` (None)
        The :meth:`saturated` rule in words, quoted by the findings (``"|a| > 0.97"``).

    Raises
    ------
    TypeError
        On assignment of a gain that is not a real number.
    ValueError
        On assignment of a gain that is not a positive finite number.
    """

    name: ClassVar[str] = "activation"
    display_name: ClassVar[str] = "Activation"
    saturates: ClassVar[bool] = False
    can_die: ClassVar[bool] = False
    output_range: ClassVar[tuple[float, float] | None] = None
    saturation_rule: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        if "display_name" not in cls.__dict__:
            cls.display_name = cls.__name__

    def saturated(self, output: np.ndarray) -> np.ndarray:
        """Boolean mask of the saturated elements of ``output`` (same shape); here all False.

        A subclass that declares ``saturates = True`` overrides it.
        """
        return np.zeros(np.shape(output), dtype=bool)

    @property
    def gain(self) -> float:
        cached = self.__dict__.get("_gain")
        if cached is None:

            def fn(z: np.ndarray) -> np.ndarray:
                with no_grad():
                    return _as_array(self.forward(Tensor(np.asarray(z, dtype=np.float64))))

            cached = float(init.estimate_gain(fn))
            self.__dict__["_gain"] = cached
        return cached

    @gain.setter
    def gain(self, value: float) -> None:
        self.__dict__["_gain"] = check_real(
            type(self).__name__, "gain", value, minimum=0.0, strict_min=True
        )


@functools.lru_cache(maxsize=64)
def _moment_gain(kind: str, param: float | str) -> float:
    """Second-moment-preserving gain of a built-in activation (cached: one quadrature per
    setting)."""
    if kind == "elu":
        return init.estimate_gain(lambda z: _as_array(F.elu(z, param)))
    if kind == "gelu":
        return init.estimate_gain(lambda z: _as_array(F.gelu(z, approximate=param)))
    return init.estimate_gain(lambda z: _as_array(F.softplus(z)))


class ReLU(Activation):
    """``max(x, 0)``. gain = √2 (half the inputs are zeroed, halving the second moment)."""

    name = "relu"
    display_name = "ReLU"
    can_die = True
    gain = math.sqrt(2.0)

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Activation):
    """``x`` for x ≥ 0, ``negative_slope · x`` otherwise.

    gain = √(2 / (1 + s²)) with s = negative_slope (PyTorch's table).
    """

    name = "leaky_relu"
    display_name = "LeakyReLU"
    can_die = True

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = check_real("LeakyReLU", "negative_slope", negative_slope)

    @property
    def gain(self) -> float:  # type: ignore[override]
        return math.sqrt(2.0 / (1.0 + self.negative_slope**2))

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Activation):
    """``x`` for x > 0, ``alpha (eˣ - 1)`` otherwise.

    gain = 1 / √E[elu(z)²], z ~ N(0, 1): 1.2451983 for alpha = 1 (computed for the instance's
    alpha).
    """

    name = "elu"
    display_name = "ELU"
    can_die = True

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_real("ELU", "alpha", alpha)

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("elu", self.alpha)

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Activation):
    """``scale · elu(x, alpha)`` with Klambauer et al.'s alpha ≈ 1.6733, scale ≈ 1.0507.

    gain = 1, where PyTorch's ``calculate_gain("selu")`` says 3/4. Self-normalizing networks rely on
    the fixed point mean 0, variance 1 of SELU, which holds when each layer's weights have variance
    1/fan_in: LeCun normal, i.e. gain 1 on fan_in. SELU was built so that E[selu(z)²] = 1 for
    z ~ N(0, 1), so the second-moment-preserving estimate is 1 as well. PyTorch's 3/4 deliberately
    gives up that fixed point in exchange for steadier gradients in non-square layers (its
    documentation says to pass ``nonlinearity="linear"`` for self-normalizing nets); tinynet's
    ``gain="auto"`` picks the self-normalizing choice.
    """

    name = "selu"
    display_name = "SELU"
    can_die = True
    gain = 1.0

    def forward(self, x: Any) -> Tensor:
        return F.selu(x)


class GELU(Activation):
    """``x Φ(x)`` (Φ the standard normal CDF); ``approximate="tanh"`` uses the tanh approximation.

    gain = 1 / √E[gelu(z)²], z ~ N(0, 1): 1.5335304 (exact), 1.5335805 (tanh).

    Raises
    ------
    TypeError
        If ``approximate`` is not a string.
    ValueError
        If ``approximate`` is not ``"none"`` or ``"tanh"``.
    """

    name = "gelu"
    display_name = "GELU"
    can_die = True

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("gelu", self.approximate)

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class Tanh(Activation):
    """``tanh(x)``. gain = 5/3, PyTorch's table value (the second-moment estimate would be
    1.5925).

    Saturated where ``|tanh(x)| > SATURATION`` (0.97): there the local derivative
    ``1 - tanh(x)**2`` is below 0.06, so little gradient flows back through the unit.
    """

    name = "tanh"
    display_name = "tanh"
    saturates = True
    output_range = (-1.0, 1.0)
    #: |output| above this is saturated: 1 - tanh² < 0.06 there
    SATURATION: ClassVar[float] = 0.97
    saturation_rule = "|a| > 0.97"
    gain = 5.0 / 3.0

    def saturated(self, output: np.ndarray) -> np.ndarray:
        """``|output| > 0.97``, elementwise."""
        return np.abs(np.asarray(output)) > self.SATURATION

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Sigmoid(Activation):
    """``1 / (1 + e⁻ˣ)``. gain = 1, PyTorch's table value.

    Saturated where the output is within ``SATURATION`` (0.03) of 0 or of 1: there the local
    derivative ``σ(x) (1 - σ(x))`` is below 0.03, so little gradient flows back through the unit.
    """

    name = "sigmoid"
    display_name = "sigmoid"
    saturates = True
    output_range = (0.0, 1.0)
    #: an output closer than this to 0 or to 1 is saturated: σ' = σ (1 - σ) < 0.03 there
    SATURATION: ClassVar[float] = 0.03
    saturation_rule = "a < 0.03 or a > 0.97"
    gain = 1.0

    def saturated(self, output: np.ndarray) -> np.ndarray:
        """``(output < 0.03) | (output > 0.97)``, elementwise."""
        a = np.asarray(output)
        return (a < self.SATURATION) | (a > 1.0 - self.SATURATION)

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Softplus(Activation):
    """``ln(1 + eˣ)`` (PyTorch's ``beta`` and ``threshold`` are not supported).

    gain = 1 / √E[softplus(z)²], z ~ N(0, 1) = 1.0418668.
    """

    name = "softplus"
    display_name = "softplus"

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("softplus", "")

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x)


class Identity(Activation):
    """Returns its input unchanged (constructor arguments are accepted and ignored). gain = 1."""

    name = "identity"
    display_name = "identity"
    gain = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


#: registry name → built-in activation class, in a fixed order (the ``--activation`` choices)
ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (ReLU, LeakyReLU, ELU, SELU, GELU, Tanh, Sigmoid, Softplus, Identity)
}


def make_activation(name: str) -> Activation:
    """A new activation module, with default arguments, from its name in :data:`ACTIVATIONS`.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        For an unknown name (the message lists the valid names and the closest match).
    """
    if not isinstance(name, str):
        raise TypeError(
            f"make_activation: name must be one of {', '.join(map(repr, ACTIVATIONS))}, got {name!r}"
        )
    if name not in ACTIVATIONS:
        raise unknown_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]()
