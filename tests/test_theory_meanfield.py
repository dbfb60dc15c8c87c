"""tinynet.theory.meanfield: known answers, identities of the maps, and measurements on wide random
networks built with numpy (the theory is about them, so they are the reference)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinynet import nn
from tinynet.theory import meanfield as mf

SIGMA_B2 = 0.05  # the bias variance of the depth-scale experiments (Schoenholz et al. 2017, Fig. 1)


def tanh_second_derivative(x):
    t = np.tanh(x)
    return -2.0 * t * (1.0 - t * t)


class UserTanh(nn.Activation):
    """tanh written by a user from Tensor operations: its slope comes from tinynet's autograd."""

    def forward(self, x):
        e = (2 * x).exp()
        return (e - 1) / (e + 1)


# ------------------------------------------------------------------------------ known answers
@pytest.mark.parametrize(
    ("sigma_b2", "expected"), [(0.01, 1.424), (0.05, 1.761), (0.1, 1.986), (0.3, 2.505)]
)
def test_tanh_critical_weight_variance_matches_the_known_values(sigma_b2, expected):
    sigma_w2 = mf.critical_sigma_w2("tanh", sigma_b2)
    assert sigma_w2 == pytest.approx(expected, abs=0.003)
    assert mf.chi1("tanh", sigma_w2, sigma_b2) == pytest.approx(1.0, abs=1e-6)


def test_tanh_critical_point_without_bias_is_the_small_q_limit():
    assert mf.critical_sigma_w2("tanh", 0.0) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("q", [0.01, 0.1, 0.5, 1.0, 3.0, 10.0])
def test_chi1_is_one_on_the_critical_line(q):
    sigma_w2, sigma_b2 = mf.critical_line("tanh", [q])
    sw, sb = float(sigma_w2[0]), float(sigma_b2[0])
    assert sb >= 0.0
    assert mf.q_star("tanh", sw, sb) == pytest.approx(q, rel=1e-8)
    assert mf.chi1("tanh", sw, sb) == pytest.approx(1.0, abs=1e-6)
    assert mf.depth_scales("tanh", sw, sb)[1] == math.inf
    assert mf.gradient_depth_scale("tanh", sw, sb) == math.inf


def test_critical_line_keeps_the_shape_and_marks_unreachable_points_nan():
    q = np.array([[0.1, 1.0], [10.0, 100.0]])
    sw, sb = mf.critical_line("sigmoid", q)
    assert sw.shape == sb.shape == (2, 2) and sw.dtype == np.float64
    # sigmoid's critical line needs σ_b² = q - E[φ²]/E[φ'²] < 0 at small q: no network has it
    assert np.isnan(sw[0, 0]) and np.isnan(sb[0, 0])
    reachable = ~np.isnan(sb)
    assert reachable[1, 1] and np.all(sb[reachable] >= 0)
    for s_w, s_b, q_star in zip(sw[reachable], sb[reachable], q[reachable]):
        assert mf.chi1("sigmoid", s_w, s_b) == pytest.approx(1.0, abs=1e-6)
        assert mf.q_star("sigmoid", s_w, s_b) == pytest.approx(q_star, rel=1e-6)


def test_depth_scales_at_the_papers_settings():
    xi_q, xi_c = mf.depth_scales("tanh", 1.2, SIGMA_B2)
    assert xi_c == pytest.approx(5.94, abs=0.01)
    assert xi_c == pytest.approx(-1.0 / math.log(mf.chi1("tanh", 1.2, SIGMA_B2)), rel=1e-12)
    assert mf.depth_scales("tanh", 1.5, SIGMA_B2)[1] == pytest.approx(15.79, abs=0.02)
    assert 0 < xi_q < xi_c  # the length settles much faster than the correlation


@pytest.mark.parametrize(("sigma_w2", "sigma_b2"), [(1.2, 0.05), (2.5, 0.05), (1.0, 0.3)])
def test_xi_q_is_the_papers_second_derivative_formula(sigma_w2, sigma_b2):
    """ξ_q⁻¹ = -ln(χ₁ + σ_w² E[φ'' φ]) with tanh'' in closed form, against the integration-by-parts
    form the module evaluates, and against the slope of the length map by a central difference."""
    q = mf.q_star("tanh", sigma_w2, sigma_b2)
    z, w = mf.quadrature()
    u = math.sqrt(q) * z
    slope = mf.chi1("tanh", sigma_w2, sigma_b2) + sigma_w2 * np.dot(w, tanh_second_derivative(u) * np.tanh(u))
    xi_q = mf.depth_scales("tanh", sigma_w2, sigma_b2)[0]
    assert xi_q == pytest.approx(-1.0 / math.log(slope), rel=1e-9)
    h = 1e-5 * q
    up, down = (mf.q_map("tanh", sigma_w2, sigma_b2, q + d) for d in (h, -h))
    numeric = (up - down) / (2 * h)
    assert xi_q == pytest.approx(-1.0 / math.log(numeric), rel=1e-6)


def test_q_trajectory_converges_at_the_rate_xi_q():
    q_star = mf.q_star("tanh", 2.5, 0.05)
    xi_q = mf.depth_scales("tanh", 2.5, 0.05)[0]
    gap = np.abs(mf.q_trajectory("tanh", 2.5, 0.05, 3.0, 15) - q_star)
    assert 1e-7 < gap[15] < 1e-4  # small enough for the linearisation, far above rounding
    assert gap[15] / gap[14] == pytest.approx(math.exp(-1.0 / xi_q), rel=1e-3)


def test_gradient_depth_scale_sign_convention():
    ordered = mf.gradient_depth_scale("tanh", 1.2, SIGMA_B2)
    chaotic = mf.gradient_depth_scale("tanh", 2.5, SIGMA_B2)
    assert ordered == pytest.approx(-1.0 / math.log(mf.chi1("tanh", 1.2, SIGMA_B2)))
    assert ordered > 0 > chaotic  # vanishing gradients in order, exploding ones in chaos
    assert mf.gradient_depth_scale("relu", 2.0, 0.0) == math.inf


# --------------------------------------------------------------------------------------- ReLU
@pytest.mark.parametrize("nodes", [10, 50, 100, 200])
def test_relu_chi1_is_exactly_one_at_its_critical_point_with_even_nodes(nodes):
    assert mf.chi1("relu", 2.0, 0.0, nodes=nodes) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("nodes", [11, 101])
def test_odd_node_counts_lose_the_weight_on_relus_kink(nodes):
    """An odd rule has a node at 0, where the derivative is 0: χ₁ misses exactly that node's weight."""
    z, w = mf.quadrature(nodes)
    assert z[nodes // 2] == 0.0
    chi = mf.chi1("relu", 2.0, 0.0, nodes=nodes)
    assert chi == pytest.approx(1.0 - w[nodes // 2], abs=1e-12)
    assert chi < 0.9  # 12% low for 101 nodes


def test_relu_has_one_critical_point():
    assert mf.critical_sigma_w2("relu", 0.0) == pytest.approx(2.0, abs=1e-9)
    with pytest.raises(ValueError, match=r"sigma_b2 = 0\.1.*ReLU.*sigma_w2/2.*\(2, 0\)"):
        mf.critical_sigma_w2("relu", 0.1)
    sw, sb = mf.critical_line("relu", [0.1, 1.0, 10.0])
    np.testing.assert_allclose(sw, 2.0, rtol=1e-12)
    np.testing.assert_array_equal(sb, 0.0)


@pytest.mark.parametrize(("sigma_w2", "sigma_b2"), [(0.5, 0.1), (1.0, 0.3), (1.5, 0.1), (1.9, 0.02)])
def test_relu_q_star_closed_form(sigma_w2, sigma_b2):
    """ReLU's length map is linear, q' = σ_w² q / 2 + σ_b², so q* = σ_b² / (1 - σ_w²/2)."""
    assert mf.q_star("relu", sigma_w2, sigma_b2) == pytest.approx(sigma_b2 / (1 - sigma_w2 / 2), rel=1e-9)
    assert mf.chi1("relu", sigma_w2, sigma_b2) == pytest.approx(sigma_w2 / 2, rel=1e-12)


def test_divergent_and_dying_length_maps():
    assert mf.q_star("relu", 2.5, 0.0) == math.inf
    assert mf.q_star("relu", 2.0, 0.1) == math.inf  # linear growth: found by the bracketing, not iteration
    assert mf.q_star("relu", 2.0, 0.0) == pytest.approx(1.0, rel=1e-12)  # every q is fixed
    assert mf.q_star("tanh", 0.5, 0.0) == 0.0
    assert mf.q_star("tanh", 1.0, 0.0) == 0.0  # q decays like 1/l: found by the bracketing
    with pytest.raises(ValueError, match=r"chi1: .*q\* = inf"):
        mf.chi1("relu", 2.5, 0.0)
    with pytest.raises(ValueError, match=r"c_star: .*q\* = 0"):
        mf.c_star("tanh", 0.5, 0.0)
    assert mf.q_trajectory("relu", 3.0, 0.0, 1.0, 3000)[-1] == math.inf


# ------------------------------------------------------------------- activations of every kind
@pytest.mark.parametrize("name", list(nn.ACTIVATIONS))
def test_every_nn_activation_name_agrees_with_the_module(name):
    module = nn.make_activation(name)
    assert mf.q_map(name, 0.8, 0.1, 0.7) == pytest.approx(mf.q_map(module, 0.8, 0.1, 0.7), rel=1e-12)
    assert mf.chi1(name, 0.8, 0.1) == pytest.approx(mf.chi1(module, 0.8, 0.1), rel=1e-12)


def test_aliases_and_extra_names():
    assert mf.chi1("linear", 0.8, 0.1) == mf.chi1("identity", 0.8, 0.1) == pytest.approx(0.8)
    assert mf.q_star("linear", 0.8, 0.1) == pytest.approx(0.1 / (1 - 0.8), rel=1e-9)
    assert mf.chi1("swish", 1.5, 0.1) == mf.chi1("silu", 1.5, 0.1)
    erf = np.vectorize(math.erf)  # a numpy function: central-difference slope
    assert mf.chi1("erf", 1.5, 0.1) == pytest.approx(mf.chi1(erf, 1.5, 0.1), rel=1e-8)
    z, w = mf.quadrature()
    assert mf.slope_moment("erf", 0.5, 2) == pytest.approx(
        np.dot(w, (2 / math.sqrt(math.pi) * np.exp(-0.5 * z * z)) ** 2), rel=1e-12
    )


@pytest.mark.parametrize(
    "act",
    [UserTanh(), lambda x: ((2 * x).exp() - 1) / ((2 * x).exp() + 1), np.tanh],
    ids=["nn.Activation subclass", "Tensor lambda", "numpy function"],
)
def test_a_users_tanh_has_the_builtin_critical_point(act):
    tolerance = 1e-9 if act is not np.tanh else 1e-6  # numpy: the slope is a central difference
    for sigma_b2 in (0.05, 0.3):
        assert mf.critical_sigma_w2(act, sigma_b2) == pytest.approx(
            mf.critical_sigma_w2("tanh", sigma_b2), rel=tolerance
        )
    assert mf.depth_scales(act, 1.2, SIGMA_B2)[1] == pytest.approx(5.9445, abs=1e-3)


def test_numpy_relu_lambda_gets_a_numeric_slope():
    assert mf.chi1(lambda x: np.maximum(x, 0.0), 2.0, 0.0) == pytest.approx(1.0, abs=1e-6)


# ------------------------------------------------------------------------------ the c-map
def test_c_map_fixes_one_and_its_slope_there_is_chi1():
    q = mf.q_star("tanh", 1.5, SIGMA_B2)
    assert mf.c_map("tanh", 1.5, SIGMA_B2, 1.0) == pytest.approx(1.0, abs=1e-14)
    assert mf.c_map("tanh", 1.5, SIGMA_B2, 1.0, q=0.3) == pytest.approx(1.0, abs=1e-14)
    assert mf.c_map("tanh", 1.5, SIGMA_B2, 0.4, q=q) == mf.c_map("tanh", 1.5, SIGMA_B2, 0.4)
    h = 1e-4
    slope = (1.0 - mf.c_map("tanh", 1.5, SIGMA_B2, 1.0 - h)) / h
    assert slope == pytest.approx(mf.chi1("tanh", 1.5, SIGMA_B2), rel=1e-3)


def test_ordered_phase_correlations_go_to_one():
    assert mf.chi1("tanh", 1.2, SIGMA_B2) < 1
    assert mf.c_star("tanh", 1.2, SIGMA_B2) == 1.0
    c = mf.c_trajectory("tanh", 1.2, SIGMA_B2, 0.2, 150)
    assert np.all(np.diff(c) > 0) and 1 - c[-1] < 1e-9


def test_chaotic_phase_correlations_settle_below_one():
    assert mf.chi1("tanh", 2.5, SIGMA_B2) > 1
    c_star = mf.c_star("tanh", 2.5, SIGMA_B2)
    assert 0 < c_star < 0.9
    assert mf.c_map("tanh", 2.5, SIGMA_B2, c_star) == pytest.approx(c_star, abs=1e-12)
    for c0 in (0.05, 0.99):
        assert mf.c_trajectory("tanh", 2.5, SIGMA_B2, c0, 400)[-1] == pytest.approx(c_star, abs=1e-9)
    assert mf.c_star("tanh", 2.5, 0.0) == pytest.approx(0.0, abs=1e-12)  # odd φ, no bias


@given(sigma_w2=st.floats(0.6, 4.0), sigma_b2=st.floats(0.01, 1.0))
def test_fixed_points_are_fixed_and_the_phase_decides_c_star(sigma_w2, sigma_b2):
    q = mf.q_star("tanh", sigma_w2, sigma_b2)
    assert mf.q_map("tanh", sigma_w2, sigma_b2, q) == pytest.approx(q, rel=1e-10)
    c = mf.c_star("tanh", sigma_w2, sigma_b2)
    assert mf.c_map("tanh", sigma_w2, sigma_b2, c) == pytest.approx(c, abs=1e-9)
    chi = mf.chi1("tanh", sigma_w2, sigma_b2)
    if chi < 1 - 1e-6:
        assert c == 1.0
    elif chi > 1 + 1e-6:
        assert c < 1.0


def test_trajectories_shapes_and_first_entries():
    q = mf.q_trajectory("tanh", 1.5, SIGMA_B2, 0.7, 5)
    c = mf.c_trajectory("tanh", 1.5, SIGMA_B2, 0.3, 5)
    assert q.shape == c.shape == (6,) and q.dtype == c.dtype == np.float64
    assert q[0] == 0.7 and c[0] == 0.3
    assert q[1] == mf.q_map("tanh", 1.5, SIGMA_B2, 0.7)
    assert c[1] == mf.c_map("tanh", 1.5, SIGMA_B2, 0.3)
    assert mf.q_trajectory("tanh", 1.5, SIGMA_B2, 0.7, 0).tolist() == [0.7]


def test_quadrature_rule():
    z, w = mf.quadrature(40)
    assert z.shape == w.shape == (40,) and not w.flags.writeable
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.dot(w, z**2) == pytest.approx(1.0, abs=1e-12)
    assert np.dot(w, z**4) == pytest.approx(3.0, abs=1e-11)
    assert np.all(z != 0.0)


# ---------------------------------------------------------------- against Monte Carlo samples
@pytest.mark.parametrize(("act", "fn"), [("tanh", np.tanh), ("relu", lambda x: np.maximum(x, 0.0))])
def test_q_star_and_chi1_against_monte_carlo(act, fn):
    sigma_w2, sigma_b2 = 1.5, 0.1
    q = mf.q_star(act, sigma_w2, sigma_b2)
    z = np.random.default_rng(11).standard_normal(400_000)
    sample = sigma_w2 * fn(math.sqrt(q) * z) ** 2 + sigma_b2
    error = sample.std() / math.sqrt(z.size)
    assert abs(sample.mean() - q) < 6 * error
    h = 1e-6
    slope = (fn(math.sqrt(q) * z + h) - fn(math.sqrt(q) * z - h)) / (2 * h)
    chi = sigma_w2 * slope**2
    assert abs(chi.mean() - mf.chi1(act, sigma_w2, sigma_b2)) < 6 * chi.std() / math.sqrt(z.size)


def test_c_star_against_monte_carlo():
    sigma_w2, sigma_b2 = 2.5, SIGMA_B2
    q, c = mf.q_star("tanh", sigma_w2, sigma_b2), mf.c_star("tanh", sigma_w2, sigma_b2)
    rng = np.random.default_rng(12)
    z1, z2 = rng.standard_normal((2, 400_000))
    u1 = math.sqrt(q) * z1
    u2 = math.sqrt(q) * (c * z1 + math.sqrt(1 - c * c) * z2)
    sample = (sigma_w2 * np.tanh(u1) * np.tanh(u2) + sigma_b2) / q
    assert abs(sample.mean() - c) < 6 * sample.std() / math.sqrt(z1.size)


# ------------------------------------------------------------------- against random networks
def _correlation_depth(sigma_w2s, seed, width=1000, layers=60, first=10, pairs=8):
    """Fitted ξ_c of a wide tanh network per σ_w²: -1/slope of mean log(1 - c^l) over layers
    first..layers, for `pairs` input pairs of correlation 0.2..0.6 at q*, one network per σ_w²
    (sharing the same standard normal draws)."""
    rng = np.random.default_rng(seed)
    c0 = np.linspace(0.2, 0.6, pairs)
    z1, z2 = rng.standard_normal((2, width, pairs))
    states = []
    for sw in sigma_w2s:
        root = math.sqrt(mf.q_star("tanh", sw, SIGMA_B2))
        states.append(np.concatenate([root * z1, root * (c0 * z1 + np.sqrt(1 - c0**2) * z2)], axis=1))
    logs = np.empty((len(sigma_w2s), layers + 1))
    for layer in range(layers + 1):
        weights = rng.standard_normal((width, width)) / math.sqrt(width)
        bias = rng.standard_normal((width, 1)) * math.sqrt(SIGMA_B2)
        for k, (sw, h) in enumerate(zip(sigma_w2s, states)):
            a = h[:, :pairs] / np.linalg.norm(h[:, :pairs], axis=0)
            b = h[:, pairs:] / np.linalg.norm(h[:, pairs:], axis=0)
            logs[k, layer] = np.mean(np.log(0.5 * np.sum((a - b) ** 2, axis=0)))  # log(1 - c)
            states[k] = math.sqrt(sw) * (weights @ np.tanh(h)) + bias
    span = np.arange(first, layers + 1)
    return np.array([-1.0 / np.polyfit(span, logs[k, first:], 1)[0] for k in range(len(sigma_w2s))])


def test_correlation_depth_scale_of_a_wide_tanh_network():
    sigma_w2s = (1.2, 1.5)
    fitted = np.mean([_correlation_depth(sigma_w2s, seed) for seed in range(4)], axis=0)
    theory = np.array([mf.depth_scales("tanh", sw, SIGMA_B2)[1] for sw in sigma_w2s])
    assert fitted[0] == pytest.approx(theory[0], rel=0.10)
    assert fitted[1] == pytest.approx(theory[1], rel=0.15)
    # Over layers 10-60 the c-map is not yet linear at σ_w² = 1.5 (1 - c is still ~0.2 at layer
    # 10), so the theory's own trajectory gives a shorter fitted scale too: compare like with like.
    span = np.arange(10, 61)
    window = [
        -1 / np.polyfit(span, np.mean([np.log(1 - mf.c_trajectory("tanh", 1.5, SIGMA_B2, c, 60)[10:])
                                       for c in np.linspace(0.2, 0.6, 8)], axis=0), 1)[0]
    ]
    assert fitted[1] == pytest.approx(window[0], rel=0.10)


def test_q_trajectory_matches_wide_networks_layer_by_layer():
    """Measured: the mean squared pre-activation of each layer, averaged over a batch and over
    seeded width-1000 networks (one set of standard normal draws serves both settings)."""
    # (σ_w², σ_b², q0): ordered shrinking and growing, chaotic shrinking and growing
    settings = [(1.2, 0.05, 1.5), (1.5, 0.01, 0.05), (2.5, 0.1, 4.0), (4.0, 0.05, 0.05)]
    width, batch, depth, networks = 1000, 8, 10, 6
    rng = np.random.default_rng(5)
    measured = np.empty((len(settings), networks, depth + 1))
    for net in range(networks):
        start = rng.standard_normal((width, batch))
        states = [start * math.sqrt(q0) for _, _, q0 in settings]
        for layer in range(depth + 1):
            for k, h in enumerate(states):
                measured[k, net, layer] = np.mean(h**2)
            weights = rng.standard_normal((width, width)) / math.sqrt(width)
            bias = rng.standard_normal((width, 1))
            for k, (sigma_w2, sigma_b2, _) in enumerate(settings):
                states[k] = math.sqrt(sigma_w2) * (weights @ np.tanh(states[k])) + math.sqrt(sigma_b2) * bias
    for k, (sigma_w2, sigma_b2, q0) in enumerate(settings):
        theory = mf.q_trajectory("tanh", sigma_w2, sigma_b2, q0, depth)
        np.testing.assert_allclose(measured[k].mean(axis=0), theory, rtol=0.05)
        assert abs(theory[-1] - theory[0]) > 0.5 * min(theory[0], theory[-1])  # the variance travelled


# ----------------------------------------------------------------------------- argument errors
@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: mf.q_map("tanh", 0.0, 0.1, 1.0), ValueError, r"q_map: sigma_w2 .* got 0\.0"),
        (lambda: mf.q_star("tanh", -1.0, 0.1), ValueError, r"q_star: sigma_w2 .* got -1\.0"),
        (lambda: mf.chi1("tanh", math.inf, 0.1), ValueError, r"chi1: sigma_w2 must be a finite"),
        (lambda: mf.chi1("tanh", math.nan, 0.1), ValueError, r"chi1: sigma_w2"),
        (lambda: mf.c_star("tanh", 1.5, -0.1), ValueError, r"c_star: sigma_b2 .* got -0\.1"),
        (lambda: mf.depth_scales("tanh", "1.5", 0.1), TypeError, r"depth_scales: sigma_w2 .* got '1\.5'"),
        (lambda: mf.chi1("tanh", True, 0.1), TypeError, r"chi1: sigma_w2"),
        (lambda: mf.q_map("tanh", 1.5, 0.1, 0.0), ValueError, r"q_map: q must be .*> 0.* got 0\.0"),
        (lambda: mf.c_map("tanh", 1.5, 0.1, 1.5), ValueError, r"c_map: c must be .*<= 1.* got 1\.5"),
        (lambda: mf.c_map("tanh", 1.5, 0.1, 0.5, q=-2.0), ValueError, r"c_map: q .* got -2\.0"),
        (lambda: mf.q_trajectory("tanh", 1.5, 0.1, 0.0, 3), ValueError, r"q_trajectory: q0 .* got 0\.0"),
        (lambda: mf.q_trajectory("tanh", 1.5, 0.1, 1.0, -1), ValueError, r"q_trajectory: depth .* got -1"),
        (lambda: mf.c_trajectory("tanh", 1.5, 0.1, 0.5, 2.0), TypeError, r"c_trajectory: depth .* got 2\.0"),
        (lambda: mf.c_trajectory("tanh", 1.5, 0.1, -1.1, 3), ValueError, r"c_trajectory: c0 .* got -1\.1"),
        (lambda: mf.chi1("tanhh", 1.5, 0.1), ValueError, r"unknown activation 'tanhh'.*relu.*'tanh'"),
        (lambda: mf.chi1(3, 1.5, 0.1), TypeError, r"chi1: act must be an activation name"),
        (lambda: mf.chi1(lambda x: np.sum(x), 1.5, 0.1), ValueError, r"must be elementwise"),
        (lambda: mf.chi1("tanh", 1.5, 0.1, nodes=1), ValueError, r"chi1: nodes .* got 1"),
        (lambda: mf.chi1("tanh", 1.5, 0.1, nodes=10.0), TypeError, r"chi1: nodes"),
        (lambda: mf.critical_line("tanh", [1.0, -2.0]), ValueError, r"q_stars .* got -2\.0 at \[1\]"),
        (lambda: mf.critical_line("tanh", ["a"]), TypeError, r"critical_line: q_stars"),
        (lambda: mf.critical_sigma_w2("tanh", -0.5), ValueError, r"critical_sigma_w2: sigma_b2 .* -0\.5"),
        (lambda: mf.slope_moment("tanh", 1.0, 0), ValueError, r"slope_moment: power .* got 0"),
    ],
)
def test_argument_errors_name_the_argument_and_the_value(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
