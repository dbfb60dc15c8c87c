"""Activation modules. Each exposes ``gain``: the factor an initializer should use for the layer in
front of it (``gain="auto"`` reads it), and ``derivative(h)``: its local slope φ'(h), from which the
diagnostics read saturated and dead units.

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

Derivatives and declarations. :meth:`Activation.derivative` is φ'(h) elementwise: by default
tinynet's autograd of ``forward`` in float64, for the built-ins a closed form equal to it. Each class
declares what the diagnostics measure on it, so that nothing anywhere keeps a table of class names:
``name`` (the registry name, ``"leaky_relu"``), ``display_name`` (for tables, ``"LeakyReLU"``),
``saturates`` (the share of inputs with ``|φ'(h)| < SATURATION_FACTOR · max_derivative`` is
measured), ``can_die`` (units with ``φ'(h) = 0`` on every probe example are counted), ``max_derivative``
(the largest ``|φ'|``), ``output_range`` (a fixed histogram range) and ``saturation_rule`` (the
saturation test in words). A user's subclass that declares none of ``saturates``, ``can_die`` and
``max_derivative`` gets them from its derivative on :data:`DERIVATIVE_GRID`. :data:`ACTIVATIONS`
maps each built-in's ``name`` to its class, and :func:`make_activation` builds one from its name.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np

from .. import init
from .._checks import check_choice, check_real, unknown_choice
from ..function import enable_grad, no_grad
from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVE_GRID",
    "ELU",
    "GELU",
    "SATURATION_FACTOR",
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

#: an input h is saturated where |φ'(h)| < SATURATION_FACTOR · max |φ'|. 1 - 0.97² = 0.0591 (the
#: "6%" of the docs) makes the rule for tanh exactly |tanh(h)| > 0.97, since tanh' = 1 - tanh²
SATURATION_FACTOR: float = 1.0 - 0.97**2

#: where an undeclared ``max_derivative``, ``saturates`` and ``can_die`` are read off φ': 4001 points
#: from -8 to 8 (step 0.004, with a node at 0)
DERIVATIVE_GRID: np.ndarray = np.linspace(-8.0, 8.0, 4001)
DERIVATIVE_GRID.setflags(write=False)

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erf = np.frompyfunc(math.erf, 1, 1)


def _as_array(out: Any) -> np.ndarray:
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _float64(h: Any) -> np.ndarray:
    """``h`` (an array, a Tensor or a number) as a float64 array."""
    return np.asarray(_as_array(h), dtype=np.float64)


def _sigmoid(h: np.ndarray) -> np.ndarray:
    """The engine's stable sigmoid of a float64 array."""
    with no_grad():
        return _as_array(F.sigmoid(h))


def _relu_kink(h: np.ndarray, left: np.ndarray | float) -> np.ndarray:
    """1 where h > 0, ``left`` where h < 0, and 0 at h = 0 exactly: the slope tinynet's backward
    passes for activations composed from relu (its Relu op passes 0 at 0, on both sides)."""
    return np.where(h > 0, 1.0, np.where(h < 0, left, 0.0))


class Activation(Module):
    """A parameter-free elementwise module with a ``gain``, a ``derivative`` and declarations for the
    diagnostics.

    ``gain`` defaults to ``tinynet.init.estimate_gain`` of this module's ``forward``, i.e.
    ``1 / sqrt(E[forward(z)**2])`` for ``z ~ N(0, 1)``, computed once per instance. A subclass may
    set its own as a class attribute or property, and any instance accepts ``act.gain = value``.

    Declarations a subclass may set as class attributes (``max_derivative`` also per instance,
    ``act.max_derivative = 2.0``); the defaults are those of a user's own activation, derived from
    g = ``|derivative(z)|`` on :data:`DERIVATIVE_GRID` (z in [-8, 8]) once per instance:

    ``name``
        The registry name (``"relu"``, ``"leaky_relu"``); default the lower-cased class name, set
        for every subclass that does not set its own.
    ``display_name``
        The name shown in tables (``"ReLU"``, ``"tanh"``); default the class name.
    ``max_derivative``
        The largest ``|φ'|`` (tanh 1, sigmoid 0.25); default ``max(g)``.
    ``saturates``
        True if the diagnostics should measure the saturated share of inputs,
        ``mean(|φ'(h)| < SATURATION_FACTOR * max_derivative)``; default ``not can_die and
        min(g) < SATURATION_FACTOR * max_derivative``.
    ``can_die``
        True if the diagnostics should count dead units, those with ``φ'(h) == 0`` on every probe
        example; default True when g is exactly 0 at two neighbouring grid points (on an interval).
    ``output_range`` (None)
        A fixed ``(low, high)`` range for output histograms, or None to use the data's range.
    ``saturation_rule`` (``"φ' < 6% of its maximum"``)
        The saturation test in words, quoted by the findings (tanh: ``"|a| > 0.97"``, a its output).

    Raises
    ------
    TypeError
        On assignment of a gain or ``max_derivative`` that is not a real number.
    ValueError
        On assignment of a gain or ``max_derivative`` that is not a positive finite number.
    """

    name: ClassVar[str] = "activation"
    display_name: ClassVar[str] = "Activation"
    output_range: ClassVar[tuple[float, float] | None] = None
    saturation_rule: ClassVar[str | None] = "φ' < 6% of its maximum"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        if "display_name" not in cls.__dict__:
            cls.display_name = cls.__name__

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """φ'(h), elementwise: the local slope by which the gradient is multiplied on its way back.

        Here by tinynet's autograd of ``forward`` in float64 (the gradient of ``sum(forward(h))``
        with respect to h, which is φ'(h) for an elementwise ``forward``); each built-in overrides it
        with a closed form equal to that.

        Parameters
        ----------
        h
            The activation's input (pre-activation), any shape; a numpy array, Tensor or number.

        Returns
        -------
        np.ndarray
            float64, the shape of ``h``.

        Raises
        ------
        ValueError
            If ``forward`` does not return a Tensor or array of the shape of its input.
        """
        x = Tensor(_float64(h), requires_grad=True)
        with enable_grad():
            y = self.forward(x)
        if np.shape(_as_array(y)) != x.shape:
            raise ValueError(
                f"{type(self).__name__}.derivative: forward must be elementwise (output of the "
                f"input's shape {x.shape}), got shape {np.shape(_as_array(y))}"
            )
        if isinstance(y, Tensor) and y.requires_grad:
            y.backward(np.ones(x.shape))
        return np.zeros(x.shape) if x.grad is None else np.asarray(x.grad, dtype=np.float64)

    def _grid_slopes(self) -> np.ndarray:
        """``|derivative|`` on :data:`DERIVATIVE_GRID`, computed once per instance."""
        cached = self.__dict__.get("_slopes_on_grid")
        if cached is None:
            cached = np.abs(self.derivative(DERIVATIVE_GRID))
            self.__dict__["_slopes_on_grid"] = cached
        return cached

    @property
    def max_derivative(self) -> float:
        declared = self.__dict__.get("_max_derivative")
        return float(self._grid_slopes().max()) if declared is None else declared

    @max_derivative.setter
    def max_derivative(self, value: float) -> None:
        self.__dict__["_max_derivative"] = check_real(
            type(self).__name__, "max_derivative", value, minimum=0.0, strict_min=True
        )

    @property
    def can_die(self) -> bool:
        zero = self._grid_slopes() == 0
        return bool(np.any(zero[1:] & zero[:-1]))

    @property
    def saturates(self) -> bool:
        low = self._grid_slopes().min() < SATURATION_FACTOR * self.max_derivative
        return bool(low) and not self.can_die

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
    """``max(x, 0)``. gain = √2 (half the inputs are zeroed, halving the second moment).

    φ'(h) = 1 for h > 0, else 0 (0 at h = 0, as the Relu op passes): can die, never saturates.
    """

    name = "relu"
    display_name = "ReLU"
    saturates = False
    can_die = True
    max_derivative = 1.0
    gain = math.sqrt(2.0)

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """``(h > 0)`` as float64."""
        return (_float64(h) > 0).astype(np.float64)


class LeakyReLU(Activation):
    """``x`` for x ≥ 0, ``negative_slope · x`` otherwise.

    gain = √(2 / (1 + s²)) with s = negative_slope (PyTorch's table). φ'(h) = 1 for h > 0, s for
    h < 0 (and 0 at h = 0 exactly, as tinynet's backward of the composed form passes); max_derivative
    = max(1, |s|). Declares neither saturation nor death: every unit passes gradient (with s = 0, which
    is ReLU, the instance sets ``can_die = True``).
    """

    name = "leaky_relu"
    display_name = "LeakyReLU"
    saturates = False
    can_die = False

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = check_real("LeakyReLU", "negative_slope", negative_slope)
        self.max_derivative = max(1.0, abs(self.negative_slope))
        if self.negative_slope == 0:  # then it is ReLU, and its units can die
            self.can_die = True

    @property
    def gain(self) -> float:  # type: ignore[override]
        return math.sqrt(2.0 / (1.0 + self.negative_slope**2))

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """1 where h > 0, ``negative_slope`` where h < 0, 0 at 0."""
        return _relu_kink(_float64(h), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


def _elu_slope(h: np.ndarray, alpha: float) -> np.ndarray:
    """ELU's φ': 1 for h > 0, ``alpha · eʰ`` for h < 0, 0 at h = 0 exactly (tinynet's backward of the
    form composed from relu)."""
    return _relu_kink(h, alpha * np.exp(np.minimum(h, 0.0)))


class ELU(Activation):
    """``x`` for x > 0, ``alpha (eˣ - 1)`` otherwise.

    gain = 1 / √E[elu(z)²], z ~ N(0, 1): 1.2451983 for alpha = 1 (computed for the instance's
    alpha). φ'(h) = 1 for h > 0, ``alpha · eʰ`` for h < 0: a unit with a negative output still
    passes gradient, so ELU declares neither death nor saturation (with alpha = 0, which is ReLU, the
    instance sets ``can_die = True``); max_derivative = max(1, |alpha|).
    """

    name = "elu"
    display_name = "ELU"
    saturates = False
    can_die = False

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_real("ELU", "alpha", alpha)
        self.max_derivative = max(1.0, abs(self.alpha))
        if self.alpha == 0:  # then it is ReLU, and its units can die
            self.can_die = True

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("elu", self.alpha)

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """1 where h > 0, ``alpha · eʰ`` where h < 0, 0 at 0."""
        return _elu_slope(_float64(h), self.alpha)

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

    φ'(h) = scale for h > 0, ``scale · alpha · eʰ`` for h < 0 (max_derivative = scale · alpha ≈
    1.7581, the limit at 0⁻): like ELU, it declares neither death nor saturation.
    """

    name = "selu"
    display_name = "SELU"
    saturates = False
    can_die = False
    max_derivative = F.SELU_SCALE * F.SELU_ALPHA
    gain = 1.0

    def forward(self, x: Any) -> Tensor:
        return F.selu(x)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """``scale`` where h > 0, ``scale · alpha · eʰ`` where h < 0, 0 at 0."""
        return F.SELU_SCALE * _elu_slope(_float64(h), F.SELU_ALPHA)


class GELU(Activation):
    """``x Φ(x)`` (Φ the standard normal CDF); ``approximate="tanh"`` uses the tanh approximation.

    gain = 1 / √E[gelu(z)²], z ~ N(0, 1): 1.5335304 (exact), 1.5335805 (tanh). φ'(h) = Φ(h) +
    h φ(h) (φ the normal density), or the derivative of the tanh form; it dips to about -0.13 near
    h = -0.75 and tends to 0 only as h → -∞, so GELU declares neither death nor saturation.
    max_derivative = Φ(√2) + √2 φ(√2) = (1 + erf(1))/2 + 1/(e√π) ≈ 1.1289 (where φ'' = φ(h)(2 - h²)
    changes sign); for the tanh form, the maximum of its derivative near √2.

    Raises
    ------
    TypeError
        If ``approximate`` is not a string.
    ValueError
        If ``approximate`` is not ``"none"`` or ``"tanh"``.
    """

    name = "gelu"
    display_name = "GELU"
    saturates = False
    can_die = False

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))
        if self.approximate == "none":  # at h = √2, where φ'' = φ(h) (2 - h²) changes sign
            self.max_derivative = 0.5 * (1.0 + math.erf(1.0)) + math.exp(-1.0) / math.sqrt(math.pi)
        else:  # its maximum is near √2 too: a fine grid there finds it to ~1e-10
            self.max_derivative = float(self.derivative(np.linspace(1.3, 1.6, 3001)).max())

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("gelu", self.approximate)

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """``Φ(h) + h φ(h)``; for the tanh form, with t = tanh(√(2/π)(h + 0.044715 h³)),
        ``(1 + t)/2 + h (1 - t²) √(2/π)(1 + 3 · 0.044715 h²)/2``."""
        h = _float64(h)
        if self.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (h + 0.044715 * h**3))
            return 0.5 * (1 + t) + 0.5 * h * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * h * h)
        cdf = 0.5 * (1.0 + np.asarray(_erf(h / math.sqrt(2.0)), dtype=np.float64))
        return cdf + h * np.exp(-0.5 * h * h) / math.sqrt(2.0 * math.pi)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class Tanh(Activation):
    """``tanh(x)``. gain = 5/3, PyTorch's table value (the second-moment estimate would be
    1.5925).

    φ'(h) = 1 - tanh(h)², at most 1. Saturated where φ' < SATURATION_FACTOR = 1 - 0.97², i.e.
    exactly where the output ``|tanh(h)| > 0.97`` (|h| > 2.092): little gradient flows back there.
    """

    name = "tanh"
    display_name = "tanh"
    saturates = True
    can_die = False
    max_derivative = 1.0
    output_range = (-1.0, 1.0)
    saturation_rule = "|a| > 0.97"
    gain = 5.0 / 3.0

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """``1 - tanh(h)²``."""
        t = np.tanh(_float64(h))
        return 1.0 - t * t


class Sigmoid(Activation):
    """``1 / (1 + e⁻ˣ)``. gain = 1, PyTorch's table value.

    φ'(h) = σ(h)(1 - σ(h)), at most 1/4 (at h = 0). Saturated where φ' < SATURATION_FACTOR / 4:
    σ(1 - σ) < (1 - 0.97²)/4 has the roots σ = (1 ± 0.97)/2, so exactly where the output is below
    0.015 or above 0.985 (|h| > 4.185).
    """

    name = "sigmoid"
    display_name = "sigmoid"
    saturates = True
    can_die = False
    max_derivative = 0.25
    output_range = (0.0, 1.0)
    saturation_rule = "a < 0.015 or a > 0.985"
    gain = 1.0

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """``σ(h) (1 - σ(h))``."""
        s = _sigmoid(_float64(h))
        return s * (1.0 - s)


class Softplus(Activation):
    """``ln(1 + eˣ)`` (PyTorch's ``beta`` and ``threshold`` are not supported).

    gain = 1 / √E[softplus(z)²], z ~ N(0, 1) = 1.0418668. φ'(h) = σ(h), below 1 and tending to 0 only
    as h → -∞: declares neither death nor saturation; max_derivative = 1 (its supremum).
    """

    name = "softplus"
    display_name = "softplus"
    saturates = False
    can_die = False
    max_derivative = 1.0

    @property
    def gain(self) -> float:  # type: ignore[override]
        return _moment_gain("softplus", "")

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x)

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """``σ(h)``."""
        return _sigmoid(_float64(h))


class Identity(Activation):
    """Returns its input unchanged (constructor arguments are accepted and ignored). gain = 1,
    φ' = 1: declares neither death nor saturation."""

    name = "identity"
    display_name = "identity"
    saturates = False
    can_die = False
    max_derivative = 1.0
    gain = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x

    def derivative(self, h: np.ndarray) -> np.ndarray:
        """Ones of the shape of ``h``."""
        return np.ones(np.shape(_as_array(h)))


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
