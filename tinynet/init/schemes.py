"""The built-in initialization schemes, registered under their names and aliases.

Each scheme is an :class:`~.strategy.Initializer` with one method, ``sample(self, shape, fans,
rng)``: the fans arrive resolved (by ``Initializer.__call__``) and every random scheme draws in
float64 from the Generator it is given. See ``docs/initialization.md`` for each formula as a std and
as a variance, the papers, and how PyTorch, Keras and JAX differ.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import check_choice, check_real
from .fans import Fans, Shape
from .gains import check_gain, gain_value
from .registry import register
from .strategy import Initializer
from .truncnorm import normal_mass, truncated_moments, truncated_standard_normal

#: std of N(0, 1) truncated to [-2, 2]; variance scaling divides by it so the *result* has the
#: intended std (Keras and JAX use the same constant)
TRUNCATION_STD = 0.87962566103423978

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")

#: the largest magnitude that the scale-like arguments of a built-in scheme (a constant, bounds,
#: mean, std, scale, gain) and the std or bound they imply may have. Far beyond any useful
#: initial weight, and small enough that every draw (a normal's far tail included) stays finite
#: in float32 (largest 3.4e38) and that ``high - low`` or ``mean + std * z`` never overflow; a
#: larger value is refused by ``init.get`` instead of failing (or turning to inf) when sampled.
MAX_MAGNITUDE = 1e30


def _magnitude(owner: str, name: str, value: Any, *, minimum: float | None = None) -> float:
    """``value`` checked to be a finite number in ``[minimum, MAX_MAGNITUDE]`` (default minimum
    ``-MAX_MAGNITUDE``)."""
    low = -MAX_MAGNITUDE if minimum is None else minimum
    return check_real(owner, name, value, minimum=low, maximum=MAX_MAGNITUDE)


def _checked_gain(owner: str, gain: Any) -> float | str:
    """A ``gain`` as :func:`check_gain` accepts it, a number also at most :data:`MAX_MAGNITUDE`."""
    checked = check_gain(owner, gain)
    if isinstance(checked, str):
        return checked
    # + 0.0 turns a gain of -0.0 into 0.0: U(-limit, limit) with limit -0.0 is refused by numpy
    return _magnitude(owner, "gain", checked, minimum=0.0) + 0.0


def _reach(owner: str, what: str, value: float, cause: str) -> float:
    """Refuse a derived std or bound above :data:`MAX_MAGNITUDE` (its draws would overflow)."""
    if not value <= MAX_MAGNITUDE:
        raise ValueError(
            f"{owner}: {what} is {value:.4g}, above the largest magnitude {MAX_MAGNITUDE:g} "
            f"that draws can have ({cause})"
        )
    return value


# ---------------------------------------------------------------------------------------------
# constants and plain distributions


@register("zeros")
class Zeros(Initializer):
    """All zeros. The usual bias init; as a *weight* init it leaves every hidden unit identical."""

    uses_fans = False

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        return np.zeros(shape)


@register("ones")
class Ones(Initializer):
    """All ones (e.g. a normalization layer's scale)."""

    uses_fans = False

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        return np.ones(shape)


@register("constant")
class Constant(Initializer):
    """Every element equal to ``value``."""

    uses_fans = False

    def __init__(self, value: float = 0.0) -> None:
        self.value = _magnitude("constant", "value", value)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        return np.full(shape, self.value)


@register("uniform")
class Uniform(Initializer):
    """U(-scale, scale) (default scale 0.01), or U(low, high) when both bounds are given.

    std = (high - low) / sqrt(12); variance = (high - low)**2 / 12.

    Raises
    ------
    ValueError
        If ``scale`` is combined with ``low``/``high``, only one bound is given, ``low > high``,
        or a bound's magnitude exceeds :data:`MAX_MAGNITUDE` (``high - low`` would overflow).
    """

    uses_fans = False

    def __init__(
        self, scale: float | None = None, low: float | None = None, high: float | None = None
    ) -> None:
        if low is None and high is None:
            self.scale = None if scale is None else _magnitude("uniform", "scale", scale, minimum=0.0)
            bound = 0.01 if self.scale is None else abs(self.scale)  # abs: -0.0 is a scale of 0
            self.bounds = (-bound, bound)
        else:
            if scale is not None:
                raise ValueError("uniform: give either scale or low and high, not both")
            if low is None or high is None:
                missing = "low" if low is None else "high"
                raise ValueError(f"uniform: {missing} is missing (give both low and high)")
            self.scale = None
            low, high = _magnitude("uniform", "low", low), _magnitude("uniform", "high", high)
            if low > high:
                raise ValueError(f"uniform: low must be <= high, got low={low!r}, high={high!r}")
            self.bounds = (low + 0.0, high + 0.0)  # + 0.0: numpy refuses (0.0, -0.0) as high < low
        self.low = None if low is None else float(low)
        self.high = None if high is None else float(high)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.bounds[0], self.bounds[1], shape)


@register("normal")
class Normal(Initializer):
    """N(mean, std**2): standard deviation ``std`` (default 0.01), variance ``std**2``.

    ``|mean|`` and ``std`` are at most :data:`MAX_MAGNITUDE`.
    """

    uses_fans = False

    def __init__(self, mean: float = 0.0, std: float = 0.01) -> None:
        self.mean = _magnitude("normal", "mean", mean)
        self.std = _magnitude("normal", "std", std, minimum=0.0)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        return self.mean + self.std * rng.standard_normal(shape)


@register("truncated_normal")
class TruncatedNormal(Initializer):
    """N(mean, std**2) conditioned on ``mean + a*std <= x <= mean + b*std``.

    ``std`` is the std of the normal *before* truncation and ``a``, ``b`` are in units of it (as in
    Keras; PyTorch's ``trunc_normal_`` takes absolute bounds instead). The result's std is smaller:
    ``0.8796 * std`` for the default ``a, b = -2, 2``; only :class:`VarianceScaling` corrects it.
    ``a`` and ``b`` may be infinite, but ``[a, b]`` must hold some of N(0, 1)'s probability mass in
    float64 (it must reach into about ``[-38, 38]``): beyond, nothing can be sampled.

    Raises
    ------
    ValueError
        For ``a >= b``, NaN bounds, an interval without mass, or ``|mean|``/``std`` above
        :data:`MAX_MAGNITUDE`.
    """

    uses_fans = False

    def __init__(
        self, mean: float = 0.0, std: float = 0.01, a: float = -2.0, b: float = 2.0
    ) -> None:
        self.mean = _magnitude("truncated_normal", "mean", mean)
        self.std = _magnitude("truncated_normal", "std", std, minimum=0.0)
        self.a = check_real("truncated_normal", "a", a, finite=False)
        self.b = check_real("truncated_normal", "b", b, finite=False)
        if not self.a < self.b:
            raise ValueError(f"truncated_normal: need a < b, got a={self.a!r}, b={self.b!r}")
        if not normal_mass(self.a, self.b) > 0:
            raise ValueError(
                f"truncated_normal: [a, b] = [{self.a!r}, {self.b!r}] holds no probability mass of "
                "N(0, 1) in float64, so nothing can be drawn from it; the interval must reach "
                "into about [-38, 38] (a and b are in units of std)"
            )

    def resulting_std(self) -> float:
        """Std of the truncated distribution: ``std`` times that of N(0, 1) on [a, b]."""
        return self.std * truncated_moments(self.a, self.b)[1]

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        z = truncated_standard_normal(rng, math.prod(shape), self.a, self.b)
        return self.mean + self.std * z.reshape(shape)


# ---------------------------------------------------------------------------------------------
# variance scaling and its presets


@register("variance_scaling")
class VarianceScaling(Initializer):
    """Zero-mean weights with std ``gain * sqrt(scale / n)``, i.e. variance ``gain**2 * scale / n``.

    ``n`` is ``fan_in``, ``fan_out``, ``(fan_in + fan_out) / 2`` (``fan_avg``) or
    ``sqrt(fan_in * fan_out)`` (``fan_geo_avg``). Distributions:

    - ``normal``: N(0, std**2);
    - ``truncated_normal``: a normal cut at +-2 of its own std, which is first divided by
      0.87962566103423978 so the *result* has std ``gain * sqrt(scale / n)`` (as in Keras and JAX);
    - ``uniform``: U(-limit, limit) with ``limit = gain * sqrt(3 * scale / n)``.

    ``gain`` multiplies the std: a number, a nonlinearity name from :func:`calculate_gain`, or
    ``"auto"``, which takes the ``.gain`` of the activation that follows the layer in a model
    (called directly, ``"auto"`` means 1.0).

    Raises
    ------
    TypeError
        For an argument of the wrong type (a string ``scale``, a number as ``mode``, ...).
    ValueError
        For ``scale <= 0``, an unknown mode/distribution/gain, ``gain * sqrt(scale)`` (the std at a
        fan of 1) above :data:`MAX_MAGNITUDE`, or a fan of 0 for a non-empty shape (or fans so small
        that the std exceeds :data:`MAX_MAGNITUDE`).
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        gain: float | str = 1.0,
    ) -> None:
        self.scale = check_real(
            "variance_scaling", "scale", scale, minimum=0.0, strict_min=True, maximum=MAX_MAGNITUDE
        )
        self.mode = check_choice("variance_scaling", "mode", mode, MODES)
        self.distribution = check_choice("variance_scaling", "distribution", distribution, DISTRIBUTIONS)
        self.gain = _checked_gain("variance_scaling", gain)
        _reach(
            self._spec_name(), "gain * sqrt(scale), the std at a fan of 1",
            gain_value(self.gain) * math.sqrt(self.scale), f"gain={gain!r}, scale={scale!r}",
        )  # fmt: skip

    def std(self, fan_in: float, fan_out: float) -> float:
        """Standard deviation of the drawn weights for these fans."""
        n = {
            "fan_in": fan_in,
            "fan_out": fan_out,
            "fan_avg": (fan_in + fan_out) / 2,
            "fan_geo_avg": math.sqrt(fan_in * fan_out),
        }[self.mode]
        if not n > 0:
            raise ValueError(
                f"{self!r}: {self.mode} is {n!r} (fan_in={fan_in!r}, fan_out={fan_out!r}); "
                "it must be > 0"
            )
        std = gain_value(self.gain) * math.sqrt(self.scale / n)
        return _reach(repr(self), "the std", std, f"{self.mode} = {n!r} is too small")

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        if math.prod(shape) == 0:
            return np.zeros(shape)
        std = self.std(*fans)
        if self.distribution == "normal":
            return std * rng.standard_normal(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0) * std
            return rng.uniform(-limit, limit, shape)
        z = truncated_standard_normal(rng, math.prod(shape), -2.0, 2.0)
        return (std / TRUNCATION_STD) * z.reshape(shape)


@register("xavier_uniform", aliases=("xavier", "glorot", "glorot_uniform"))
class XavierUniform(VarianceScaling):
    """Glorot & Bengio (2010): U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    std = gain * sqrt(2 / (fan_in + fan_out)); for tanh/sigmoid/linear nets.
    """

    def __init__(self, gain: float | str = 1.0) -> None:
        super().__init__(1.0, "fan_avg", "uniform", gain)


@register("xavier_normal", aliases=("glorot_normal",))
class XavierNormal(VarianceScaling):
    """Glorot & Bengio (2010), normal: N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Untruncated, as PyTorch's ``xavier_normal_`` (Keras' ``GlorotNormal`` truncates, same std).
    """

    def __init__(self, gain: float | str = 1.0) -> None:
        super().__init__(1.0, "fan_avg", "normal", gain)


@register("he_normal", aliases=("he", "kaiming", "kaiming_normal", "msra"))
class HeNormal(VarianceScaling):
    """He et al. (2015): N(0, std**2), ``std = gain / sqrt(n)``, n = fan_in (or fan_out).

    The default gain sqrt(2) is ReLU's (variance 2/n), as PyTorch's ``kaiming_normal_`` defaults.
    Untruncated, as PyTorch (Keras' ``HeNormal`` truncates, same std).
    """

    def __init__(self, gain: float | str = math.sqrt(2.0), mode: str = "fan_in") -> None:
        super().__init__(1.0, mode, "normal", gain)


@register("he_uniform", aliases=("kaiming_uniform",))
class HeUniform(VarianceScaling):
    """He et al. (2015), uniform: U(-a, a), ``a = gain * sqrt(3 / n)``, n = fan_in (or fan_out).

    std = gain / sqrt(n); default gain sqrt(2) (ReLU), i.e. a = sqrt(6 / n).
    """

    def __init__(self, gain: float | str = math.sqrt(2.0), mode: str = "fan_in") -> None:
        super().__init__(1.0, mode, "uniform", gain)


@register("lecun_normal", aliases=("lecun",))
class LecunNormal(VarianceScaling):
    """LeCun et al. (1998): N(0, std**2), ``std = gain / sqrt(fan_in)`` (variance 1/fan_in).

    Untruncated here; Keras and Flax/JAX ``lecun_normal`` truncate at +-2 std (same resulting std).
    The init self-normalizing (SELU) nets assume.
    """

    def __init__(self, gain: float | str = 1.0) -> None:
        super().__init__(1.0, "fan_in", "normal", gain)


@register("lecun_uniform")
class LecunUniform(VarianceScaling):
    """LeCun et al. (1998), uniform: U(-a, a), ``a = gain * sqrt(3 / fan_in)``.

    std = gain / sqrt(fan_in), as for :class:`LecunNormal`.
    """

    def __init__(self, gain: float | str = 1.0) -> None:
        super().__init__(1.0, "fan_in", "uniform", gain)


# ---------------------------------------------------------------------------------------------
# structured schemes


def _semi_orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed ``(rows, cols)`` matrix with orthonormal columns (``rows >= cols``) or rows.

    A Gaussian matrix (transposed first if wide) is QR-factorized and Q's columns are multiplied by
    the signs of R's diagonal: without that correction Q would be biased by the factorization's
    sign convention.
    """
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q = q * signs
    return q.T if rows < cols else q


@register("orthogonal")
class Orthogonal(Initializer):
    """Saxe et al. (2014): a (semi-)orthogonal matrix times ``gain``.

    The weight is viewed as ``(rows, cols) = (prod(shape[:-1]), shape[-1])``. A Gaussian matrix is
    QR-factorized and Q's columns are multiplied by the signs of R's diagonal (so Q is uniformly
    (Haar) distributed). ``rows >= cols`` gives ``W^T W = gain**2 I``, else ``W W^T = gain**2 I``;
    every singular value equals ``gain``; element std ``gain / sqrt(max(rows, cols))``.

    A channels-last kernel ``(k1, ..., kd, in, out)`` is flattened to ``(k1 * ... * kd * in, out)``:
    each output channel's filter is one column, and the ``out`` filters are orthonormal when
    ``prod(k) * in >= out``. This is PyTorch's convention moved to channels-last: PyTorch flattens
    its ``(out, in, k1, ...)`` kernel to ``(out, in * prod(k))`` and makes those rows orthonormal,
    the same filters up to the order of their elements (a permutation, which keeps orthonormality
    and the Haar distribution).

    Raises
    ------
    ValueError
        For shapes with fewer than 2 dimensions.
    """

    uses_fans = False

    def __init__(self, gain: float | str = 1.0) -> None:
        self.gain = _checked_gain("orthogonal", gain)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(f"orthogonal: needs a shape with >= 2 dimensions, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        if rows * cols == 0:
            return np.zeros(shape)
        return gain_value(self.gain) * _semi_orthogonal(rows, cols, rng).reshape(shape)


@register("delta_orthogonal")
class DeltaOrthogonal(Initializer):
    """Xiao et al. (2018), *Dynamical Isometry and a Mean Field Theory of CNNs*: the delta-orthogonal
    kernel.

    A channels-last kernel ``(k1, ..., kd, in, out)`` (odd ``k``, ``in <= out``) is zero except its
    centre tap ``[k1 // 2, ..., kd // 2]``, which holds ``gain * H`` with ``H`` an ``(in, out)``
    Haar matrix with orthonormal rows (``H H^T = I``). A stride-1 convolution with it maps every
    pixel's channel vector ``x`` to ``gain * x H``, of norm ``gain * ||x||``: with circular (or
    "same" zero) padding the layer multiplies every input's norm by exactly ``gain``. Element
    variance ``gain**2 / (out * prod(k))`` over the whole kernel, ``gain**2 / out`` on the tap.
    A 2-D shape ``(in, out)`` is a kernel of size 1: the result is :class:`Orthogonal` with the
    same draws (there also ``in > out``, orthonormal columns).

    Raises
    ------
    ValueError
        For shapes with fewer than 2 dimensions, an even spatial size (no centre tap), or
        ``in > out`` for a kernel (its centre tap cannot have orthonormal rows).
    """

    uses_fans = False

    def __init__(self, gain: float | str = 1.0) -> None:
        self.gain = _checked_gain("delta_orthogonal", gain)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(f"delta_orthogonal: needs a shape with >= 2 dimensions, got {shape}")
        if len(shape) == 2:
            return Orthogonal(self.gain).sample(shape, fans, rng)
        spatial, (n_in, n_out) = shape[:-2], shape[-2:]
        if any(k % 2 == 0 for k in spatial):
            raise ValueError(
                f"delta_orthogonal: kernel {shape} has an even spatial size {spatial}; the delta "
                "kernel needs odd sizes (k1, ..., kd) so that it has a centre tap"
            )
        if n_in > n_out:
            raise ValueError(
                f"delta_orthogonal: kernel {shape} has in = {n_in} > out = {n_out} channels; it "
                "needs in <= out, so that its (in, out) centre tap can have orthonormal rows"
            )
        out = np.zeros(shape)
        if out.size:
            out[tuple(k // 2 for k in spatial)] = gain_value(self.gain) * _semi_orthogonal(n_in, n_out, rng)
        return out


@register("identity")
class Identity(Initializer):
    """``gain`` times the (rectangular) identity ``eye(in, out)``.

    For a channels-last kernel ``(k1, ..., kd, in, out)`` it is the Dirac kernel: ``gain *
    eye(in, out)`` at the spatial centre ``[k1 // 2, ..., kd // 2]``, zeros elsewhere. With
    ``in == out`` a stride-1, "same"-padded convolution with it is ``gain`` times the identity map;
    otherwise the first ``min(in, out)`` output channels copy the first ``min(in, out)`` input
    channels and any further output channels are 0 (as PyTorch's ``dirac_``).

    Raises
    ------
    ValueError
        For shapes with fewer than 2 dimensions.
    """

    uses_fans = False

    def __init__(self, gain: float | str = 1.0) -> None:
        self.gain = _checked_gain("identity", gain)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(f"identity: needs a shape with >= 2 dimensions, got {shape}")
        out = np.zeros(shape)
        centre = tuple(k // 2 for k in shape[:-2])
        if out.size:
            out[centre] = np.eye(shape[-2], shape[-1])
        return gain_value(self.gain) * out


@register("sparse")
class Sparse(Initializer):
    """PyTorch's ``sparse_`` rule: N(0, std**2) with ``ceil(sparsity * n_in)`` of each output unit's
    ``n_in`` incoming weights (each column of the ``(n_in, n_out)`` weight; of a channels-last kernel
    ``(k1, ..., in, out)`` flattened to ``(k1·...·in, out)``) set to zero. At the default
    std 0.01 a fixed small scale; not Martens' (2010) fixed number of unit-scale incoming weights.

    Overall std ``std * sqrt(1 - zeros / n_in)``.

    Raises
    ------
    ValueError
        For ``sparsity`` outside [0, 1], ``std < 0`` or a 1-D shape.
    """

    uses_fans = False

    def __init__(self, sparsity: float = 0.1, std: float = 0.01) -> None:
        self.sparsity = check_real("sparse", "sparsity", sparsity, minimum=0.0, maximum=1.0)
        self.std = _magnitude("sparse", "std", std, minimum=0.0)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(
                f"sparse: needs a 2-D (n_in, n_out) shape or a channels-last kernel (k1, ..., in, out), "
                f"got {shape}"
            )
        # a kernel's incoming weights of one output channel are its (k1·...·in) column
        rows, cols = math.prod(shape[:-1]), shape[-1]
        out = self.std * rng.standard_normal((rows, cols))
        n_zeros = math.ceil(self.sparsity * rows)
        if n_zeros and cols:
            # a uniformly random set of n_zeros rows per column: the ranks of i.i.d. uniforms
            chosen = np.argsort(rng.random((rows, cols)), axis=0)[:n_zeros]
            np.put_along_axis(out, chosen, 0.0, axis=0)
        return out.reshape(shape)


@register("default", aliases=("default_bias",))
class Default(Initializer):
    """PyTorch's ``nn.Linear`` default: U(-a, a) with ``a = 1 / sqrt(fan_in)`` (0 if fan_in is 0).

    std = 1 / sqrt(3 * fan_in). For the weight this equals PyTorch's ``kaiming_uniform_(a=sqrt(5))``
    (gain sqrt(1/3), limit gain * sqrt(3 / fan_in)); for the bias PyTorch uses the same bound with
    the *layer's* fan_in, which is what a layer passes here (hence the alias ``default_bias``).
    """

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        if math.prod(shape) == 0:
            return np.zeros(shape)
        fan_in = fans[0]
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        _reach("default", "the bound 1 / sqrt(fan_in)", bound, f"fan_in = {fan_in!r} is too small")
        return rng.uniform(-bound, bound, shape)
