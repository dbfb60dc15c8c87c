"""Mean-field theory of signal propagation through deep random networks.

A fully connected network ``h^{l+1} = W^{l+1} φ(h^l) + b^{l+1}`` has weights of variance σ_w²/fan_in
and biases of variance σ_b². When its layers are wide, each pre-activation is Gaussian over the draw
of the weights, and two numbers per layer tell how a signal travels (Poole et al. 2016, "Exponential
expressivity in deep neural networks through transient chaos"; Schoenholz et al. 2017, "Deep
Information Propagation"). Below, z, z1, z2 are independent standard normals.

The length map. The variance q of one input's pre-activations goes from layer to layer as
``q' = σ_w² E[φ(√q z)²] + σ_b²`` (:func:`q_map`). For bounded or slowly growing φ it settles within a
few layers at a stable fixed point q* (:func:`q_star`); for ReLU the map is linear,
``q' = σ_w² q / 2 + σ_b²``, and q* is finite only for σ_w² < 2.

The correlation map. Two inputs whose pre-activations have variance q* and correlation c go to
``c' = (σ_w² E[φ(u1) φ(u2)] + σ_b²) / q*`` with ``u1 = √q* z1``, ``u2 = √q* (c z1 + √(1 - c²) z2)``
(:func:`c_map`). c = 1 is always a fixed point (identical inputs stay identical), and the slope of the
map there, ``χ₁ = σ_w² E[φ'(√q* z)²]`` (:func:`chi1`), decides whether it attracts.

Phases. If χ₁ < 1 (the *ordered* phase) c = 1 attracts: all inputs become alike with depth, and
back-propagated gradients shrink by χ₁ per layer (they vanish). If χ₁ > 1 (the *chaotic* phase) it
repels: correlations settle at a stable c* < 1 (:func:`c_star`), nearby inputs are pulled apart, and
gradients grow by χ₁ per layer (they explode). χ₁ = 1 is the critical line, the "edge of chaos"
(:func:`critical_line`, :func:`critical_sigma_w2`).

Depth scales. Near a fixed point each map is linear, so deviations decay like ``e^{-l/ξ}``:
``ξ_c⁻¹ = -ln(σ_w² E[φ'(u1) φ'(u2)])`` at (q*, c*), which is ``-ln χ₁`` when c* = 1, and
``ξ_q⁻¹ = -ln(χ₁ + σ_w² E[φ''(√q* z) φ(√q* z)])`` (:func:`depth_scales`). ξ_c diverges on the
critical line; the difference between two inputs survives about ξ_c layers, and Schoenholz et al.
found networks trainable up to a depth of about 6 ξ_c. ξ_q stays finite: a signal's length always
settles quickly. ``ξ_∇ = -1/ln χ₁`` (:func:`gradient_depth_scale`) is the figure for gradients.

Numerics. Expectations use Gauss–Hermite quadrature (:func:`quadrature`), weights normalised to sum
to 1, and its tensor product for (z1, z2). The default node count :data:`DEFAULT_NODES` is even, so
no node falls on 0: an odd count puts one on ReLU's kink, where tinynet's derivative is 0, and its
weight (12% for 101 nodes) goes missing from E[φ'²]: χ₁ of ReLU at σ_w² = 2 comes out 0.876, not 1.
tanh(√q z) has complex poles π/(2√q) from the real axis, so the rule converges more slowly as q
grows: with 200 nodes E[tanh'²] is exact to 1e-12 at q = 1.5, 2e-8 at q = 3, 1e-4 at q = 10. By
Gaussian integration by parts ``χ₁ + σ_w² E[φ'' φ]`` is the length map's slope
``σ_w² E[z φ(√q z) φ'(√q z)] / √q``, so no second derivative is ever needed.

Activations. ``act`` is a name in :data:`ACTIVATIONS` (those of ``tinynet.nn`` with their default
parameters, plus ``erf``, ``linear``, ``silu``/``swish``), a callable from a tinynet Tensor to a
Tensor (an ``nn.Activation``, a function of Tensor operations), or a numpy function (``np.tanh``).
Derivatives come from tinynet's autograd: φ of a float64 Tensor of all the nodes is summed and
back-propagated, and the gradient is φ' at every node (φ is elementwise). A numpy function cannot be
traced (``np.tanh`` of a Tensor is no Tensor), so its derivative is the central difference
``(φ(x + h) - φ(x - h)) / 2h`` in float64, ``h = ε^{1/3} max(1, |x|)``: about 1e-10 for smooth φ.

Arguments shared by every function: ``act``; ``sigma_w2`` (finite, > 0) and ``sigma_b2`` (finite,
>= 0); keyword ``nodes``, the Gauss–Hermite nodes per dimension (an int in [2, 360], keep it even).
A wrong type raises ``TypeError``, a value out of range or an unknown activation name (the valid
names are listed) ``ValueError``, naming the argument and the value. Functions that work at q* raise
``ValueError`` when q* is infinite (the variance diverges) or 0 (the signal dies out).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from .._checks import check_int, check_real, unknown_choice
from ..function import Context, Function, enable_grad, no_grad
from ..tensor import Tensor

__all__ = [
    "ACTIVATIONS", "DEFAULT_NODES", "c_map", "c_star", "c_trajectory", "chi1", "critical_line",
    "critical_sigma_w2", "depth_scales", "gradient_depth_scale", "q_map", "q_star", "q_trajectory",
    "quadrature", "slope_moment",
]

#: Gauss–Hermite nodes per dimension: even, so that no node lands on a kink at 0
DEFAULT_NODES: int = 200
_MAX_NODES = 360  # numpy's hermegauss overflows beyond about 370 nodes
_SELU_ALPHA = 1.6732632423543772  # Klambauer et al. 2017
_SELU_SCALE = 1.0507009873554805
_LEAKY_SLOPE = 0.01  # nn.LeakyReLU's default
_CRITICAL_TOL = 1e-9  # |ln slope| below this is the critical line: the depth scale is infinite
_ZERO_BIAS_TOL = 1e-9  # |σ_b²| below this times q on the critical line counts as 0
_Q_GRID = np.logspace(-8.0, 8.0, 65)  # where critical_sigma_w2 looks for q on the critical line
_erf = np.frompyfunc(math.erf, 1, 1)


class _Erf(Function):
    """z = erf(a);  dz/da = 2/√π · e^{-a²}. (Only the theory uses erf, so the op lives here.)"""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.asarray(_erf(a), dtype=a.dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved_tensors
        return grad * (2.0 / math.sqrt(math.pi)) * np.exp(-a * a)


def _elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return ops.relu(x) + alpha * (ops.exp(-ops.relu(-x)) - 1.0)


#: activation name → the Tensor function the theory uses (the defaults of ``tinynet.nn``)
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": ops.relu, "leaky_relu": lambda x: ops.relu(x) - _LEAKY_SLOPE * ops.relu(-x),
    "elu": _elu, "selu": lambda x: _SELU_SCALE * _elu(x, _SELU_ALPHA),
    "gelu": ops.gelu, "tanh": ops.tanh, "sigmoid": ops.sigmoid, "softplus": ops.softplus,
    "identity": lambda x: x, "linear": lambda x: x, "erf": _Erf.apply,
    "silu": lambda x: x * ops.sigmoid(x), "swish": lambda x: x * ops.sigmoid(x),
}


class _Phi:
    """An activation as the theory sees it: values and slopes on float64 arrays."""

    def __init__(self, fn: Callable[[Any], Any], on_tensors: bool, label: str) -> None:
        self.fn, self.on_tensors, self.label = fn, on_tensors, label

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            if self.on_tensors:
                with no_grad():
                    out = self.fn(Tensor(np.array(x, dtype=np.float64)))
                return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
            return np.asarray(self.fn(np.array(x, dtype=np.float64)), dtype=np.float64)

    def slope(self, x: np.ndarray) -> np.ndarray:
        """φ'(x) elementwise: autograd for a Tensor function, else a central difference."""
        x = np.array(x, dtype=np.float64)
        if not self.on_tensors:
            h = np.cbrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x))
            return (self(x + h) - self(x - h)) / (2.0 * h)
        leaf = Tensor(x, requires_grad=True)
        with enable_grad(), np.errstate(over="ignore", invalid="ignore"):
            out = self.fn(leaf)
            if isinstance(out, Tensor) and out.requires_grad:
                out.backward(np.ones(x.shape, dtype=np.float64))
        return np.zeros(x.shape) if leaf.grad is None else np.asarray(leaf.grad, dtype=np.float64)


def _resolve(owner: str, act: Any) -> _Phi:
    """``act`` (a name, a Tensor callable or a numpy callable) as a :class:`_Phi`."""
    if isinstance(act, _Phi):
        return act
    if isinstance(act, str):
        if act not in ACTIVATIONS:
            raise unknown_choice("activation", act, ACTIVATIONS)
        return _Phi(ACTIVATIONS[act], True, act)
    if not callable(act):
        raise TypeError(
            f"{owner}: act must be an activation name ({', '.join(ACTIVATIONS)}), an nn.Activation "
            f"or a callable, got {type(act).__name__}"
        )
    label = getattr(act, "__name__", type(act).__name__)
    probe = np.array([-1.5, -0.25, 0.5, 2.0])
    try:
        with no_grad():
            out = act(Tensor(probe.copy()))
    except Exception:  # not a Tensor function: try it as a numpy function below
        out = None
    if isinstance(out, Tensor) and out.shape == probe.shape:
        return _Phi(act, True, label)
    try:
        values = np.asarray(act(probe.copy()), dtype=np.float64)
    except Exception as error:
        raise TypeError(f"{owner}: act {label!r} works on neither a Tensor nor an array: {error}") from error
    if values.shape != probe.shape:
        raise ValueError(f"{owner}: act {label!r} must be elementwise: {probe.shape} gave {values.shape}")
    return _Phi(act, False, label)


@functools.lru_cache(maxsize=16, typed=True)
def quadrature(nodes: int = DEFAULT_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes z and weights w, ``E[f(z)] ≈ Σ w_i f(z_i)`` for z ~ N(0, 1): float64,
    shape ``(nodes,)``, read-only, z ascending and symmetric about 0.

    The probabilists' rule (``numpy.polynomial.hermite_e.hermegauss``), weights normalised to sum to
    1; exact for polynomials of degree below ``2 nodes``. Raises ``TypeError``/``ValueError`` unless
    ``nodes`` is an int in [2, 360].
    """
    z, w = np.polynomial.hermite_e.hermegauss(_nodes("quadrature", nodes))
    w = w / w.sum()
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w


def _nodes(owner: str, nodes: Any) -> int:
    return check_int(owner, "nodes", nodes, minimum=2, maximum=_MAX_NODES)


def _setup(owner: str, act: Any, sigma_w2: Any, sigma_b2: Any, nodes: Any) -> tuple[_Phi, float, float, int]:
    """The shared arguments, checked: (φ, σ_w², σ_b², nodes)."""
    sw = _positive(owner, "sigma_w2", sigma_w2)
    sb = check_real(owner, "sigma_b2", sigma_b2, minimum=0.0)
    return _resolve(owner, act), sw, sb, _nodes(owner, nodes)


def _positive(owner: str, name: str, value: Any) -> float:
    return check_real(owner, name, value, minimum=0.0, strict_min=True)


# ----------------------------------------------------------------------------- the length map
def _qmap(phi: _Phi, sw: float, sb: float, q: float, n: int) -> float:
    z, w = quadrature(n)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(sw * np.dot(w, phi(math.sqrt(q) * z) ** 2) + sb)


def _moment(phi: _Phi, q: float, power: int, n: int) -> float:
    z, w = quadrature(n)
    return float(np.dot(w, phi.slope(math.sqrt(q) * z) ** power))


def _bisect(gap: Callable[[float], float], lo: float, hi: float, geometric: bool) -> float:
    """A root of ``gap`` between lo and hi (opposite signs), bisected to the last bit."""
    glo = gap(lo)
    for _ in range(200):
        mid = math.sqrt(lo * hi) if geometric else 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        gmid = gap(mid)
        if (gmid > 0) == (glo > 0):
            lo, glo = mid, gmid
        else:
            hi = mid
    return math.sqrt(lo * hi) if geometric else 0.5 * (lo + hi)


def _qstar(phi: _Phi, sw: float, sb: float, n: int) -> float:
    top, bottom = 1e12 * max(1.0, sw, sb), 1e-14
    q, step = 1.0, 0.0
    for _ in range(500):
        nxt = _qmap(phi, sw, sb, q, n)
        if not nxt <= top:  # inf, NaN or beyond every sensible scale: the variance diverges
            return math.inf
        if nxt < bottom:
            return 0.0
        step, q = nxt - q, nxt
        if abs(step) <= 1e-13 * q:
            return q

    def gap(v: float) -> float:  # slow convergence (a nearly marginal map): bracket ahead, bisect
        return _qmap(phi, sw, sb, v, n) - v

    near = far = q
    while not ((gap(far) <= 0) if step > 0 else (gap(far) >= 0)) or far == q:
        near, far = far, far * 2.0 if step > 0 else far / 2.0
        if far > top:
            return math.inf
        if far < bottom:
            return 0.0
    return _bisect(gap, min(near, far), max(near, far), geometric=True)


def _finite_qstar(owner: str, phi: _Phi, sw: float, sb: float, n: int) -> float:
    q = _qstar(phi, sw, sb, n)
    if 0.0 < q < math.inf:
        return q
    why = "the variance grows without bound (q* = inf, as for ReLU with sigma_w2 > 2)" if q else (
        "signals die out (q* = 0), so correlations and slopes at q* are undefined")
    raise ValueError(
        f"{owner}: the length map has no positive finite fixed point at sigma_w2={sw!r}, "
        f"sigma_b2={sb!r} for activation {phi.label!r}: {why}"
    )


def q_map(act: Any, sigma_w2: float, sigma_b2: float, q: float, *, nodes: int = DEFAULT_NODES) -> float:
    """One layer of the length map: ``q' = σ_w² E[φ(√q z)²] + σ_b²`` (Poole et al. 2016, eq. 3): the
    variance of the next layer's pre-activations when this layer's is ``q`` (finite, > 0), in an
    infinitely wide network. Other arguments and errors: see the module docstring.

    Returns
    -------
    float
        q' (inf if φ² overflows).
    """
    phi, sw, sb, n = _setup("q_map", act, sigma_w2, sigma_b2, nodes)
    return _qmap(phi, sw, sb, _positive("q_map", "q", q), n)


def q_star(act: Any, sigma_w2: float, sigma_b2: float, *, nodes: int = DEFAULT_NODES) -> float:
    """The fixed point ``q* = σ_w² E[φ(√q* z)²] + σ_b²`` of the length map reached from q = 1
    (Poole et al. 2016; Schoenholz et al. 2017). Arguments and errors: see the module docstring.

    Iterates the map from q = 1 (at most 500 times, until a step is below 1e-13 q); if that has not
    converged (a nearly marginal map), brackets the fixed point ahead of the iterate by doubling or
    halving and bisects. ``inf`` when q exceeds 1e12·max(1, σ_w², σ_b²) (ReLU with σ_w² > 2), ``0.0``
    when it falls below 1e-14 (tanh with σ_b² = 0, σ_w² <= 1); 1 where every q is fixed (ReLU, (2, 0)).

    Returns
    -------
    float
        q* >= 0, possibly ``inf``.
    """
    phi, sw, sb, n = _setup("q_star", act, sigma_w2, sigma_b2, nodes)
    return _qstar(phi, sw, sb, n)


# ------------------------------------------------------------------------ the correlation map
def _pair_mean(f1: np.ndarray, f2: np.ndarray, w: np.ndarray) -> float:
    return float(w @ (f1[:, None] * f2) @ w)  # E[f1(z1) f2(z1, z2)]: f1 on (n,), f2 on (n, n)


def _grid(q: float, c: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """u1 = √q z1 on (n,), u2 = √q (c z1 + √(1 - c²) z2) on (n, n) (rows: z1, columns: z2)."""
    z, _ = quadrature(n)
    root = math.sqrt(q)
    return root * z, root * (c * z[:, None] + math.sqrt(max(0.0, 1.0 - c * c)) * z[None, :])


def _cmap(phi: _Phi, sw: float, sb: float, c: float, q: float, n: int) -> float:
    u1, u2 = _grid(q, c, n)
    covariance = sw * _pair_mean(phi(u1), phi(u2), quadrature(n)[1]) + sb
    return min(1.0, max(-1.0, covariance / _qmap(phi, sw, sb, q, n)))


def _cstar(phi: _Phi, sw: float, sb: float, q: float, n: int) -> float:
    def gap(v: float) -> float:
        return _cmap(phi, sw, sb, v, q, n) - v

    if math.log(sw * _moment(phi, q, 2, n)) < _CRITICAL_TOL:  # χ₁ <= 1: c = 1 attracts
        return 1.0
    c = 0.0
    for _ in range(30):  # into the basin of the attractor reached from c = 0
        nxt = _cmap(phi, sw, sb, c, q, n)
        if abs(nxt - c) <= 1e-13:
            return nxt
        c = nxt
    if gap(c) > 0:  # rising, towards the fixed point below 1 (none found: rounding near χ₁ = 1)
        lo, hi = c, 1.0 - 1e-6
        if gap(hi) > 0:
            return 1.0
    else:  # falling: the fixed point is below the iterate, and gap(-1) >= 0 since c_map >= -1
        lo, hi = -1.0, c
    return _bisect(gap, lo, hi, geometric=False)


def c_map(act: Any, sigma_w2: float, sigma_b2: float, c: float, q: float | None = None, *,
          nodes: int = DEFAULT_NODES) -> float:
    """One layer of the correlation map: ``c' = (σ_w² E[φ(u1) φ(u2)] + σ_b²) / q'`` (Poole et al.
    2016, eq. 5), ``u1 = √q z1``, ``u2 = √q (c z1 + √(1 - c²) z2)``.

    Two pre-activations of variance ``q`` (finite, > 0; None, the default, for q*) and correlation
    ``c`` (in [-1, 1]); ``q' = q_map(q)``, q* at the fixed point. Clipped to [-1, 1] against rounding:
    ``c_map(1) = 1``. Other arguments and errors: see the module docstring.

    Returns
    -------
    float
        c' in [-1, 1].
    """
    phi, sw, sb, n = _setup("c_map", act, sigma_w2, sigma_b2, nodes)
    c = check_real("c_map", "c", c, minimum=-1.0, maximum=1.0)
    q = _finite_qstar("c_map", phi, sw, sb, n) if q is None else _positive("c_map", "q", q)
    return _cmap(phi, sw, sb, c, q, n)


def c_star(act: Any, sigma_w2: float, sigma_b2: float, *, nodes: int = DEFAULT_NODES) -> float:
    """The stable fixed point c* of the correlation map at q*, reached from c = 0 (Poole et al. 2016;
    Schoenholz et al. 2017). Arguments and errors: see the module docstring.

    1 when χ₁ <= 1 (the ordered phase, where all inputs end up perfectly correlated, and the critical
    line, ``ln χ₁ < 1e-9``); below 1 in the chaotic phase (0 for an odd φ with σ_b² = 0), found by
    iterating the map from c = 0 (30 steps), then bisecting ``c_map(c) - c`` between the iterate and
    1 - 1e-6 (or -1).

    Returns
    -------
    float
        c* in [-1, 1].
    """
    phi, sw, sb, n = _setup("c_star", act, sigma_w2, sigma_b2, nodes)
    return _cstar(phi, sw, sb, _finite_qstar("c_star", phi, sw, sb, n), n)


# -------------------------------------------------------------------- slopes and depth scales
def slope_moment(act: Any, q: float, power: int = 2, *, nodes: int = DEFAULT_NODES) -> float:
    """``E[φ'(√q z)^power]``, a moment of φ's slope at input variance ``q`` (> 0); ``power`` an int >= 1.

    ``χ₁ = σ_w² · slope_moment(act, q*, 2)``; Pennington et al. 2017's ``μ_k`` is
    ``slope_moment(act, q*, 2k)``. Other arguments and errors: see the module docstring.

    Returns
    -------
    float
    """
    owner = "slope_moment"
    n, phi = _nodes(owner, nodes), _resolve(owner, act)
    return _moment(phi, _positive(owner, "q", q), check_int(owner, "power", power, minimum=1), n)


def chi1(act: Any, sigma_w2: float, sigma_b2: float, *, nodes: int = DEFAULT_NODES) -> float:
    """``χ₁ = σ_w² E[φ'(√q* z)²]``, the slope of the correlation map at c = 1 (Poole et al. 2016;
    Schoenholz et al. 2017, eq. 7). Arguments and errors: see the module docstring.

    Also the factor by which the mean squared back-propagated gradient grows per layer: < 1 ordered,
    > 1 chaotic, = 1 the critical line. For ReLU ``χ₁ = σ_w²/2`` at every q.

    Returns
    -------
    float
        χ₁ >= 0.
    """
    phi, sw, sb, n = _setup("chi1", act, sigma_w2, sigma_b2, nodes)
    return sw * _moment(phi, _finite_qstar("chi1", phi, sw, sb, n), 2, n)


def _depth(slope: float) -> float:
    """``-1 / ln|slope|``: 0 for a slope of 0, infinite where ``|ln|slope|| < _CRITICAL_TOL``."""
    if slope == 0.0:
        return 0.0
    log = math.log(abs(slope))
    return math.inf if abs(log) < _CRITICAL_TOL else -1.0 / log


def depth_scales(act: Any, sigma_w2: float, sigma_b2: float, *, nodes: int = DEFAULT_NODES
                 ) -> tuple[float, float]:
    """The depth scales ``(ξ_q, ξ_c)``: ``|q^l - q*| ∝ e^{-l/ξ_q}``, ``|c^l - c*| ∝ e^{-l/ξ_c}``
    (Schoenholz et al. 2017, eqs. 5–9). Arguments and errors: see the module docstring::

        ξ_q⁻¹ = -ln(χ₁ + σ_w² E[φ''(√q* z) φ(√q* z)])
        ξ_c⁻¹ = -ln(σ_w² E[φ'(u1) φ'(u2)])  at (q*, c*)     (= -ln χ₁ when c* = 1)

    The first argument is evaluated as the length map's slope ``σ_w² E[z φ(√q* z) φ'(√q* z)] / √q*``,
    equal to it by Gaussian integration by parts and free of φ'' (ReLU's kink is harmless). ξ_c is
    ``inf`` on the critical line (``|ln| < 1e-9``); networks train up to a depth of about 6 ξ_c. A
    slope of 0 gives 0; a negative one (oscillating convergence) is taken by its absolute value.

    Returns
    -------
    (xi_q, xi_c) : tuple of float
        Positive at a stable fixed point, possibly ``inf``.
    """
    phi, sw, sb, n = _setup("depth_scales", act, sigma_w2, sigma_b2, nodes)
    q = _finite_qstar("depth_scales", phi, sw, sb, n)
    z, w = quadrature(n)
    u = math.sqrt(q) * z
    slope_q = sw * float(np.dot(w, z * phi(u) * phi.slope(u))) / math.sqrt(q)
    c = _cstar(phi, sw, sb, q, n)
    if c == 1.0:
        slope_c = sw * _moment(phi, q, 2, n)
    else:
        u1, u2 = _grid(q, c, n)
        slope_c = sw * _pair_mean(phi.slope(u1), phi.slope(u2), w)
    return _depth(slope_q), _depth(slope_c)


def gradient_depth_scale(act: Any, sigma_w2: float, sigma_b2: float, *, nodes: int = DEFAULT_NODES) -> float:
    """``ξ_∇ = -1 / ln χ₁``: the mean squared gradient changes by a factor ``e^{-1/ξ_∇}`` per layer.

    Sign convention: positive in the ordered phase, where gradients *vanish* towards the input as
    ``e^{-l/ξ_∇}``; negative in the chaotic phase, where they *explode* as ``e^{l/|ξ_∇|}``; ``inf`` on
    the critical line (``|ln χ₁| < 1e-9``). Schoenholz et al. 2017. Errors: as for :func:`chi1`.

    Returns
    -------
    float
    """
    phi, sw, sb, n = _setup("gradient_depth_scale", act, sigma_w2, sigma_b2, nodes)
    return _depth(sw * _moment(phi, _finite_qstar("gradient_depth_scale", phi, sw, sb, n), 2, n))


# ------------------------------------------------------------------------- the critical line
def _line(phi: _Phi, q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """σ_w² = 1/E[φ'²] and the raw (possibly negative) σ_b² = q - σ_w² E[φ²] at each q (1-D)."""
    z, w = quadrature(n)
    u = np.sqrt(q)[:, None] * z[None, :]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sw = 1.0 / (phi.slope(u) ** 2 @ w)
        sb = q - sw * (phi(u) ** 2 @ w)
    return sw, np.where(np.abs(sb) <= _ZERO_BIAS_TOL * q, 0.0, sb)


def critical_line(act: Any, q_stars: Any, *, nodes: int = DEFAULT_NODES) -> tuple[np.ndarray, np.ndarray]:
    """The points (σ_w², σ_b²) of the critical line χ₁ = 1 whose fixed point is each given q*.

    Closed form (Poole et al. 2016; Schoenholz et al. 2017): ``σ_w² = 1 / E[φ'(√q* z)²]`` makes
    χ₁ = 1 and ``σ_b² = q* - σ_w² E[φ(√q* z)²]`` makes q* the length map's fixed point. Where that
    σ_b² is negative no network has that q* on the critical line, and both entries are NaN (for tanh
    every q* > 0 gives σ_b² >= 0 in theory, but the quadrature is accurate only to q* of about 10
    and gives NaN from about 200; sigmoid needs a large enough q*). ``|σ_b²| <= 1e-9 q*`` is rounding
    and reads 0 (ReLU: (2, 0) for every q*). ``q_stars`` is an array-like of any shape; a
    non-numeric one raises ``TypeError``, one with a value that is not finite and > 0 ``ValueError``
    (naming the first such value and its index). ``act``, ``nodes``: see the module docstring.

    Returns
    -------
    (sigma_w2, sigma_b2) : tuple of np.ndarray
        float64, each of the shape of ``q_stars``.
    """
    owner = "critical_line"
    n, phi = _nodes(owner, nodes), _resolve(owner, act)
    raw = np.asarray(q_stars)
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"{owner}: q_stars must be an array of positive numbers, got dtype {raw.dtype}")
    q = raw.astype(np.float64)
    bad = ~(np.isfinite(q) & (q > 0))
    if bad.any():
        where, value = np.argwhere(bad)[0].tolist(), float(q[bad].ravel()[0])
        raise ValueError(f"{owner}: q_stars must be finite and > 0, got {value!r} at {where}")
    sw, sb = _line(phi, q.ravel(), n)
    negative = ~(sb >= 0)
    sw[negative], sb[negative] = np.nan, np.nan
    return sw.reshape(q.shape), sb.reshape(q.shape)


def critical_sigma_w2(act: Any, sigma_b2: float, *, nodes: int = DEFAULT_NODES) -> float:
    """The weight variance σ_w² at which χ₁ = 1 for bias variance ``sigma_b2`` (the edge of chaos).

    Walks the critical line (:func:`critical_line`) in q: finds the first q on a log grid from 1e-8 to
    1e8 where ``σ_b²(q) = q - E[φ²]/E[φ'²]`` crosses ``sigma_b2``, bisects in log q to full precision
    and returns ``1 / E[φ'(√q z)²]`` there. tanh: 1.424, 1.761, 1.986, 2.505 at σ_b² = 0.01, 0.05,
    0.1, 0.3, and 1 at σ_b² = 0 (the limit q* → 0, σ_w² = 1/φ'(0)²). ReLU's critical line is the one
    point (2, 0): χ₁ = σ_w²/2 does not depend on q and q* is finite only for σ_w² < 2.

    Raises
    ------
    ValueError
        If there is no critical point at that σ_b² (ReLU: any σ_b² > 0; else the message gives the
        range the critical line covers). Other errors: see the module docstring.
    """
    owner = "critical_sigma_w2"
    target = check_real(owner, "sigma_b2", sigma_b2, minimum=0.0)
    n, phi = _nodes(owner, nodes), _resolve(owner, act)
    sw, sb = _line(phi, _Q_GRID, n)
    if np.all(sb == 0.0):
        if target == 0.0:
            return float(sw[len(sw) // 2])
        raise ValueError(
            f"{owner}: activation {phi.label!r} has no critical point with sigma_b2 = {target!r} > 0: its "
            "critical line has sigma_b2 = 0 for every q*. For ReLU chi1 = sigma_w2/2 independent of q, and "
            "q* is finite only for sigma_w2 < 2, so the only critical point is (sigma_w2, sigma_b2) = (2, 0)"
        )
    if target == 0.0 and sb[0] == 0.0:  # σ_b²(q) -> 0 as q -> 0: the critical point is that limit
        return float(sw[0])
    gap = sb - target
    crossing = np.flatnonzero(((gap[:-1] < 0) & (gap[1:] >= 0)) | ((gap[:-1] > 0) & (gap[1:] <= 0)))
    if crossing.size == 0:
        finite = sb[np.isfinite(sb)]
        span = f"[{finite.min():.6g}, {finite.max():.6g}]" if finite.size else "nowhere finite"
        raise ValueError(
            f"{owner}: activation {phi.label!r} has no critical point at sigma_b2 = {target!r}: along "
            f"its critical line sigma_b2 = q* - E[phi^2]/E[phi'^2] spans {span} for q* in [1e-8, 1e8]"
        )

    def along(q: float) -> float:
        return float(_line(phi, np.array([q]), n)[1][0]) - target

    i = int(crossing[0])
    root = _bisect(along, float(_Q_GRID[i]), float(_Q_GRID[i + 1]), geometric=True)
    return float(_line(phi, np.array([root]), n)[0][0])


# ------------------------------------------------------------------------------ trajectories
def q_trajectory(act: Any, sigma_w2: float, sigma_b2: float, q0: float, depth: int, *,
                 nodes: int = DEFAULT_NODES) -> np.ndarray:
    """The length map layer by layer, ``[q0, q_map(q0), q_map(q_map(q0)), ...]`` (Poole et al. 2016):
    entry 0 is ``q0`` (finite, > 0), the first layer's pre-activation variance, entry l that of layer
    l + 1; ``depth`` (an int >= 0) applications, then ``inf`` once q overflows. Other arguments and
    errors: see the module docstring.

    Returns
    -------
    np.ndarray
        float64, shape ``(depth + 1,)``.
    """
    owner = "q_trajectory"
    phi, sw, sb, n = _setup(owner, act, sigma_w2, sigma_b2, nodes)
    layers, q = check_int(owner, "depth", depth, minimum=0), [_positive(owner, "q0", q0)]
    for _ in range(layers):
        q.append(math.inf if math.isinf(q[-1]) else _qmap(phi, sw, sb, q[-1], n))
    return np.array(q, dtype=np.float64)


def c_trajectory(act: Any, sigma_w2: float, sigma_b2: float, c0: float, depth: int, *,
                 nodes: int = DEFAULT_NODES) -> np.ndarray:
    """The correlation map at q* layer by layer, ``[c0, c_map(c0), c_map(c_map(c0)), ...]`` (Poole et
    al. 2016; Schoenholz et al. 2017): entry 0 is ``c0`` (in [-1, 1]), the correlation of two inputs'
    first pre-activations (both of variance q*), entry l that of layer l + 1; ``depth`` (an int >= 0)
    applications. It climbs to 1 in the ordered phase, settles at c* < 1 in the chaotic one, at the
    rate ``e^{-l/ξ_c}`` near the end. Other arguments and errors: see the module docstring.

    Returns
    -------
    np.ndarray
        float64, shape ``(depth + 1,)``, values in [-1, 1].
    """
    owner = "c_trajectory"
    phi, sw, sb, n = _setup(owner, act, sigma_w2, sigma_b2, nodes)
    layers = check_int(owner, "depth", depth, minimum=0)
    c = [check_real(owner, "c0", c0, minimum=-1.0, maximum=1.0)]
    q = _finite_qstar(owner, phi, sw, sb, n)
    for _ in range(layers):
        c.append(_cmap(phi, sw, sb, c[-1], q, n))
    return np.array(c, dtype=np.float64)
