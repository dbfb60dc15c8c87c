"""Every initialization scheme against its formula: moments within 6 standard errors, bounds.

Tolerances come from the sample size n: the sample mean has standard error sigma / sqrt(n), the
sample std sigma * sqrt((kurtosis - 1) / (4 n)) (kurtosis 3 for a normal, 9/5 for a uniform, and
the value computed from the truncated normal's moment recursion for a truncated one).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet import init

SHAPE = (400, 300)
FAN_IN, FAN_OUT = 400, 300
N = SHAPE[0] * SHAPE[1]
SQRT2 = math.sqrt(2.0)


# --------------------------------------------------------------------------- reference moments
def _phi(x: float) -> float:
    return 0.0 if math.isinf(x) else math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _truncated_reference(a: float, b: float) -> tuple[float, float, float]:
    """Mean, std, kurtosis of N(0, 1) on [a, b] from the raw-moment recursion
    m_k = (k - 1) m_{k-2} - (b^(k-1) phi(b) - a^(k-1) phi(a)) / Z."""
    mass = 0.5 * (math.erf(b / SQRT2) - math.erf(a / SQRT2))

    def edge(x: float, power: int) -> float:
        return 0.0 if math.isinf(x) else x**power * _phi(x)

    m = [1.0, (_phi(a) - _phi(b)) / mass]
    for k in range(2, 5):
        m.append((k - 1) * m[k - 2] - (edge(b, k - 1) - edge(a, k - 1)) / mass)
    mean = m[1]
    var = m[2] - mean**2
    mu4 = m[4] - 4 * mean * m[3] + 6 * mean**2 * m[2] - 3 * mean**4
    return mean, math.sqrt(var), mu4 / var**2


def normal(mean: float, std: float) -> dict:
    return {"mean": mean, "std": std, "kurtosis": 3.0, "low": -math.inf, "high": math.inf}


def uniform(low: float, high: float) -> dict:
    return {
        "mean": (low + high) / 2,
        "std": (high - low) / math.sqrt(12),
        "kurtosis": 9 / 5,
        "low": low,
        "high": high,
    }


def truncated(mean: float, std: float, a: float, b: float) -> dict:
    t_mean, t_std, t_kurt = _truncated_reference(a, b)
    return {
        "mean": mean + std * t_mean,
        "std": std * t_std,
        "kurtosis": t_kurt,
        "low": mean + a * std,
        "high": mean + b * std,
    }


def assert_matches(sample: np.ndarray, expected: dict) -> None:
    x = np.asarray(sample, dtype=np.float64).ravel()
    n = x.size
    sigma = expected["std"]
    mean_tol = 6 * sigma / math.sqrt(n)
    std_tol = 6 * sigma * math.sqrt((expected["kurtosis"] - 1) / (4 * n))
    assert abs(x.mean() - expected["mean"]) <= mean_tol, (x.mean(), expected, mean_tol)
    assert abs(x.std(ddof=1) - sigma) <= std_tol, (x.std(ddof=1), expected, std_tol)
    assert x.min() >= expected["low"] and x.max() <= expected["high"]


# --------------------------------------------------------------------------- every name, defaults
GLOROT_LIMIT = math.sqrt(6 / (FAN_IN + FAN_OUT))
EXPECTED_DEFAULTS = {
    "uniform": uniform(-0.01, 0.01),
    "normal": normal(0.0, 0.01),
    "truncated_normal": truncated(0.0, 0.01, -2.0, 2.0),
    "xavier_uniform": uniform(-GLOROT_LIMIT, GLOROT_LIMIT),
    "xavier": uniform(-GLOROT_LIMIT, GLOROT_LIMIT),
    "glorot": uniform(-GLOROT_LIMIT, GLOROT_LIMIT),
    "glorot_uniform": uniform(-GLOROT_LIMIT, GLOROT_LIMIT),
    "xavier_normal": normal(0.0, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "glorot_normal": normal(0.0, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "he_normal": normal(0.0, math.sqrt(2 / FAN_IN)),
    "he": normal(0.0, math.sqrt(2 / FAN_IN)),
    "kaiming": normal(0.0, math.sqrt(2 / FAN_IN)),
    "kaiming_normal": normal(0.0, math.sqrt(2 / FAN_IN)),
    "msra": normal(0.0, math.sqrt(2 / FAN_IN)),
    "he_uniform": uniform(-math.sqrt(6 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "kaiming_uniform": uniform(-math.sqrt(6 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "lecun_normal": normal(0.0, math.sqrt(1 / FAN_IN)),
    "lecun": normal(0.0, math.sqrt(1 / FAN_IN)),
    "lecun_uniform": uniform(-math.sqrt(3 / FAN_IN), math.sqrt(3 / FAN_IN)),
    # Keras' default: truncated normal whose *resulting* std is sqrt(1 / fan_in)
    "variance_scaling": truncated(0.0, math.sqrt(1 / FAN_IN) / 0.87962566103423978, -2.0, 2.0),
    "default": uniform(-1 / math.sqrt(FAN_IN), 1 / math.sqrt(FAN_IN)),
    "default_bias": uniform(-1 / math.sqrt(FAN_IN), 1 / math.sqrt(FAN_IN)),
    # tanh at sigma_b2 = 0.05: the critical weight variance 1.761 of Schoenholz et al. 2017
    "edge_of_chaos": normal(0.0, math.sqrt(1.761 / FAN_IN)),
}
CONSTANTS = {"zeros": 0.0, "ones": 1.0, "constant": 0.0}
STRUCTURED = {"orthogonal", "delta_orthogonal", "identity", "sparse", "lsuv"}
REQUIRED = {
    "zeros", "ones", "constant", "uniform", "normal", "truncated_normal", "xavier_uniform",
    "xavier", "glorot", "glorot_uniform", "xavier_normal", "glorot_normal", "he_normal", "he",
    "kaiming", "kaiming_normal", "msra", "he_uniform", "kaiming_uniform", "lecun_normal", "lecun",
    "lecun_uniform", "variance_scaling", "orthogonal", "identity", "sparse", "default", "lsuv",
}  # fmt: skip


def test_every_required_name_is_registered_and_covered_here():
    assert REQUIRED <= set(init.names())
    covered = set(EXPECTED_DEFAULTS) | set(CONSTANTS) | STRUCTURED
    assert set(init.names()) <= covered, set(init.names()) - covered


@pytest.mark.parametrize("name", sorted(EXPECTED_DEFAULTS))
def test_scheme_moments_and_bounds(name):
    sample = init.get(name)(SHAPE, rng=7, dtype=np.float64)
    assert sample.shape == SHAPE and sample.dtype == np.float64
    assert_matches(sample, EXPECTED_DEFAULTS[name])


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_constants(name):
    out = init.get(name)(SHAPE)
    assert out.shape == SHAPE and np.all(out == CONSTANTS[name])
    assert np.all(init.get("constant(value=-0.25)")((3, 2)) == -0.25)
    assert np.all(init.get("constant(0.5)")(4) == 0.5)


# --------------------------------------------------------------------------- explicit arguments
CASES = [
    ("uniform(scale=0.5)", uniform(-0.5, 0.5)),
    ("uniform(low=1.0, high=3.0)", uniform(1.0, 3.0)),
    ("normal(mean=1.5, std=0.2)", normal(1.5, 0.2)),
    ("truncated_normal(mean=1.0, std=2.0, a=-1.0, b=3.0)", truncated(1.0, 2.0, -1.0, 3.0)),
    ("truncated_normal(std=1.0, a=2.5, b=4.0)", truncated(0.0, 1.0, 2.5, 4.0)),
    ("truncated_normal(std=1.0, a=3.0, b=1e400)", truncated(0.0, 1.0, 3.0, math.inf)),  # b = inf
    ("truncated_normal(std=0.5, a=-5.5, b=-5.0)", truncated(0.0, 0.5, -5.5, -5.0)),
    ("truncated_normal(std=1.0, a=-0.1, b=0.3)", truncated(0.0, 1.0, -0.1, 0.3)),
    ("he_normal(mode='fan_out')", normal(0.0, math.sqrt(2 / FAN_OUT))),
    ("he_uniform(mode='fan_out')", uniform(-math.sqrt(6 / FAN_OUT), math.sqrt(6 / FAN_OUT))),
    ("he_normal(gain='tanh')", normal(0.0, 5 / 3 / math.sqrt(FAN_IN))),
    ("he_normal(gain='auto')", normal(0.0, 1 / math.sqrt(FAN_IN))),  # auto alone means 1.0
    ("xavier_uniform(gain=2.0)", uniform(-2 * GLOROT_LIMIT, 2 * GLOROT_LIMIT)),
    ("xavier_normal(gain=0.5)", normal(0.0, 0.5 * math.sqrt(2 / (FAN_IN + FAN_OUT)))),
    ("lecun_normal(gain=3.0)", normal(0.0, 3 / math.sqrt(FAN_IN))),
    ("lecun_uniform(gain=2.0)", uniform(-2 * math.sqrt(3 / FAN_IN), 2 * math.sqrt(3 / FAN_IN))),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "expected"), CASES)
def test_scheme_with_arguments(spec, expected):
    assert_matches(init.get(spec)(SHAPE, rng=11, dtype=np.float64), expected)


MODE_N = {
    "fan_in": FAN_IN,
    "fan_out": FAN_OUT,
    "fan_avg": (FAN_IN + FAN_OUT) / 2,
    "fan_geo_avg": math.sqrt(FAN_IN * FAN_OUT),
}


@pytest.mark.parametrize("mode", sorted(MODE_N))
@pytest.mark.parametrize("distribution", ["normal", "truncated_normal", "uniform"])
def test_variance_scaling_grid(mode, distribution):
    scale, gain = 2.0, 1.5
    std = gain * math.sqrt(scale / MODE_N[mode])  # the *resulting* std, whatever the distribution
    expected = {
        "normal": normal(0.0, std),
        "uniform": uniform(-math.sqrt(3) * std, math.sqrt(3) * std),
        "truncated_normal": truncated(0.0, std / 0.87962566103423978, -2.0, 2.0),
    }[distribution]
    strategy = init.VarianceScaling(scale=scale, mode=mode, distribution=distribution, gain=gain)
    sample = strategy(SHAPE, rng=3, dtype=np.float64)
    assert_matches(sample, expected)
    assert strategy.std(FAN_IN, FAN_OUT) == pytest.approx(std, rel=1e-15)


def test_truncation_constant_is_the_std_of_the_truncated_standard_normal():
    assert _truncated_reference(-2.0, 2.0)[1] == pytest.approx(0.87962566103423978, abs=1e-15)
    assert init.TRUNCATION_STD == 0.87962566103423978
    # truncated_normal keeps std as the pre-truncation std: the result is 0.8796 * std
    assert init.get("truncated_normal(std=1.0)").resulting_std() == pytest.approx(
        0.87962566103423978, abs=1e-15
    )


def test_explicit_fans_win_over_the_shape():
    # a bias (n_out,) of a layer with fan_in 400: PyTorch's default bias bound 1/sqrt(400)
    bias = init.get("default")((3000,), fan_in=400, fan_out=300, rng=0, dtype=np.float64)
    assert_matches(bias, uniform(-0.05, 0.05))
    weight = init.get("he_normal")(SHAPE, fan_in=100, rng=0, dtype=np.float64)
    assert_matches(weight, normal(0.0, math.sqrt(2 / 100)))


def test_float32_never_exceeds_the_bound_and_matches_float64():
    strategy = init.get("he_uniform")
    w32 = strategy(SHAPE, rng=5, dtype=np.float32)
    w64 = strategy(SHAPE, rng=5, dtype=np.float64)
    bound = np.float32(math.sqrt(6 / FAN_IN))
    assert w32.dtype == np.float32 and np.abs(w32).max() <= bound
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_vs_truncated_bounds():
    out = init.VarianceScaling(scale=2.0)(SHAPE, rng=2, dtype=np.float64)
    assert np.abs(out).max() <= 2 * math.sqrt(2 / FAN_IN) / 0.87962566103423978


# --------------------------------------------------------------------------- structured schemes
@pytest.mark.parametrize("shape", [(400, 300), (30, 40), (3, 3, 4, 32), (2, 3, 8, 5)])
def test_orthogonal_is_semi_orthogonal(shape):
    w = init.get("orthogonal")(shape, rng=1, dtype=np.float64)
    flat = w.reshape(-1, shape[-1])
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)  # so spectral norm 1


def test_orthogonal_gain_sets_every_singular_value():
    w = init.get("orthogonal(gain=2.5)")((40, 30), rng=4, dtype=np.float64)
    singular = np.linalg.svd(w, compute_uv=False)
    np.testing.assert_allclose(singular, 2.5, atol=1e-5)
    # W^T W = I in float32 too
    w32 = init.get("orthogonal")((40, 30), rng=4, dtype=np.float32)
    assert w32.dtype == np.float32
    w32 = w32.astype(np.float64)
    np.testing.assert_allclose(w32.T @ w32, np.eye(30), atol=1e-5)


def test_orthogonal_is_haar_not_biased_by_qr_signs():
    # without the sign correction from R's diagonal the diagonal of Q is biased; with it, the
    # mean of W[0, 0] over draws is 0 (std of a Haar entry is 1/sqrt(n)); 6 standard errors
    strategy = init.get("orthogonal")
    draws = np.array([strategy((4, 4), rng=s, dtype=np.float64)[0, 0] for s in range(600)])
    assert abs(draws.mean()) <= 6 * 0.5 / math.sqrt(600)


def test_lsuv_alone_is_the_orthogonal_pre_init():
    w = init.get("lsuv")((40, 30), rng=9, dtype=np.float64)
    np.testing.assert_array_equal(w, init.get("orthogonal")((40, 30), rng=9, dtype=np.float64))


def test_identity_rectangular_and_kernel():
    np.testing.assert_array_equal(init.get("identity")((3, 5)), np.eye(3, 5, dtype=np.float32))
    np.testing.assert_array_equal(init.get("identity(gain=2.0)")((4, 2)), 2 * np.eye(4, 2))
    kernel = init.get("identity")((3, 3, 4, 4), dtype=np.float64)
    np.testing.assert_array_equal(kernel[1, 1], np.eye(4))
    assert kernel.sum() == 4
    with pytest.raises(ValueError, match="identity"):
        init.get("identity")((5,))


def test_sparse_zeros_a_fraction_of_each_output_units_inputs():
    sparsity, std = 0.3, 0.05
    w = init.get(f"sparse(sparsity={sparsity}, std={std})")(SHAPE, rng=8, dtype=np.float64)
    zeros_per_column = (w == 0).sum(axis=0)
    assert np.all(zeros_per_column == math.ceil(sparsity * SHAPE[0]))
    assert_matches(w[w != 0], normal(0.0, std))
    # the zeroed positions differ between columns (chosen at random per unit)
    assert len({tuple(np.flatnonzero(w[:, j] == 0)) for j in range(5)}) == 5
    with pytest.raises(ValueError, match="2-D"):
        init.get("sparse")((12,))
    # a channels-last kernel: each output channel's 3*3*4 = 36 incoming weights, ceil(0.3*36) = 11 zeros
    kernel = init.get(f"sparse(sparsity={sparsity}, std={std})")((3, 3, 4, 6), rng=2, dtype=np.float64)
    assert kernel.shape == (3, 3, 4, 6)
    assert np.all((kernel.reshape(36, 6) == 0).sum(axis=0) == math.ceil(sparsity * 36))


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match="orthogonal"):
        init.get("orthogonal")((10,))


# --------------------------------------------------------------------------- fans
def test_fans_1d_2d_4d():
    assert init.fans((7,)) == (7, 7)
    assert init.fans(7) == (7, 7)
    assert init.fans((400, 300)) == (400, 300)
    assert init.fans((3, 5, 16, 32)) == (3 * 5 * 16, 3 * 5 * 32)
    assert init.fans((2, 3, 4)) == (2 * 3, 2 * 4)
    assert all(type(f) is int for f in init.fans((3, 5, 16, 32)))


def test_fans_reject_bad_shapes():
    with pytest.raises(ValueError, match="0-d"):
        init.fans(())
    with pytest.raises(ValueError, match="-1"):
        init.fans((3, -1))
    with pytest.raises(TypeError, match="shape"):
        init.fans("abc")
    with pytest.raises(TypeError, match="shape"):
        init.fans((2.5, 3))


def test_kernel_fans_drive_variance_scaling():
    w = init.get("he_normal")((3, 3, 64, 32), rng=0, dtype=np.float64)
    assert_matches(w, normal(0.0, math.sqrt(2 / (9 * 64))))


# --------------------------------------------------------------------------- dtype and seeding
def test_dtype_follows_the_default_dtype():
    assert init.get("he")((3, 4)).dtype == np.float32
    tn.set_default_dtype(np.float64)
    assert init.get("he")((3, 4)).dtype == np.float64
    assert init.get("zeros")((2,), dtype=np.float16).dtype == np.float16
    with pytest.raises(TypeError, match="dtype"):
        init.get("he")((3, 4), dtype=np.int32)


def test_same_seed_same_numbers_different_seed_different():
    strategy = init.get("xavier_normal")
    np.testing.assert_array_equal(strategy(SHAPE, rng=42), strategy(SHAPE, rng=42))
    assert not np.array_equal(strategy(SHAPE, rng=42), strategy(SHAPE, rng=43))
    gen_a, gen_b = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(strategy((5, 5), rng=gen_a), strategy((5, 5), rng=gen_b))


def test_rng_none_uses_the_default_generator_in_order():
    tn.manual_seed(3)
    first, second = init.get("he")((4, 4)), init.get("he")((4, 4))
    assert not np.array_equal(first, second)
    tn.manual_seed(3)
    np.testing.assert_array_equal(init.get("he")((4, 4)), first)
    with pytest.raises(TypeError, match="rng"):
        init.get("he")((4, 4), rng="seed")


def test_empty_shapes_and_bad_fans():
    assert init.get("he")((0, 5)).shape == (0, 5)
    assert init.get("orthogonal")((0, 5)).shape == (0, 5)
    with pytest.raises(ValueError, match="fan_in"):
        init.get("he")((3, 4), fan_in=0)
    with pytest.raises(ValueError, match="fan_in"):
        init.get("he")((3, 4), fan_in=-2)
    assert np.all(init.get("default")((3,), fan_in=0) == 0)  # PyTorch: bound 0 when fan_in is 0


@pytest.mark.parametrize(
    ("spec", "argument"),
    [
        ("normal(std=-1.0)", "std"),
        ("uniform(scale=-0.1)", "scale"),
        ("uniform(low=2.0, high=1.0)", "low"),
        ("uniform(low=1.0)", "high"),
        ("uniform(scale=1.0, low=0.0, high=1.0)", "scale"),
        ("truncated_normal(a=1.0, b=-1.0)", "a < b"),
        ("variance_scaling(scale=0.0)", "scale"),
        ("variance_scaling(mode='fan_sum')", "mode"),
        ("variance_scaling(distribution='cauchy')", "distribution"),
        ("he_normal(gain='swish')", "gain"),
        ("orthogonal(gain=-1.0)", "gain"),
        ("sparse(sparsity=1.5)", "sparsity"),
        ("constant(value=1e400)", "value"),
        ("lsuv(tol=0.0)", "tol"),
        ("lsuv(max_iter=-1)", "max_iter"),
    ],
)
def test_bad_argument_values_name_the_argument(spec, argument):
    with pytest.raises((ValueError, TypeError), match=argument):
        init.get(spec)
    with pytest.raises(ValueError, match="value"):
        init.Constant(value=math.nan)


BOUNDED = {
    "xavier_uniform": lambda fi, fo: math.sqrt(6 / (fi + fo)),
    "he_uniform": lambda fi, fo: math.sqrt(6 / fi),
    "lecun_uniform": lambda fi, fo: math.sqrt(3 / fi),
    "default": lambda fi, fo: 1 / math.sqrt(fi),
    "variance_scaling": lambda fi, fo: 2 / math.sqrt(fi) / 0.87962566103423978,
    "truncated_normal": lambda fi, fo: 0.02,
}


@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple),
    name=st.sampled_from(sorted(BOUNDED)),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_shape_gets_its_fans_and_stays_in_bounds(shape, name, seed):
    fan_in, fan_out = init.fans(shape)
    if len(shape) == 1:
        assert fan_in == fan_out == shape[0]
    else:
        receptive = math.prod(shape[:-2])
        assert (fan_in, fan_out) == (shape[-2] * receptive, shape[-1] * receptive)
    out = init.get(name)(shape, rng=seed, dtype=np.float64)
    assert out.shape == shape and out.dtype == np.float64
    assert np.abs(out).max() <= BOUNDED[name](fan_in, fan_out) * (1 + 1e-12)
