"""tinynet.theory.isometry: the Jacobian through autograd against finite differences, and the
free-probability spectrum of JJᵀ against deep random tanh networks built with numpy."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet import nn
from tinynet.theory import isometry
from tinynet.theory import meanfield as mf

Q_STAR = 1.0 / 64.0  # Pennington et al. 2017's small-q* regime, where tanh is nearly linear


def mlp(sizes, seed):
    """A float64 tanh MLP with the given layer sizes."""
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, bias_init="normal(std=0.5)", dtype=np.float64, rng=seed + i))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def finite_difference_jacobian(model, x, h=1e-6):
    """Central differences in float64: J[b, k, i] = (y(x + h e_i) - y(x - h e_i))[b, k] / 2h."""
    n_in = x.shape[1]
    columns = []
    with tn.no_grad():
        for i in range(n_in):
            step = np.zeros_like(x)
            step[:, i] = h
            up, down = model(tn.tensor(x + step)).data, model(tn.tensor(x - step)).data
            columns.append((up - down) / (2 * h))
    return np.stack(columns, axis=-1)


# --------------------------------------------------------------------------------- the Jacobian
@given(
    batch=st.integers(1, 4),
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_jacobian_matches_finite_differences(batch, sizes, seed):
    model = mlp(sizes, seed)
    x = np.random.default_rng(seed).standard_normal((batch, sizes[0]))
    jac = isometry.jacobian(model, x)
    assert jac.shape == (batch, sizes[-1], sizes[0]) and jac.dtype == np.float64
    expected = finite_difference_jacobian(model, x)
    worst = np.unravel_index(np.argmax(np.abs(jac - expected)), jac.shape)
    assert np.allclose(jac, expected, atol=1e-6, rtol=1e-6), (
        f"J{worst} = {jac[worst]} by autograd, {expected[worst]} by finite differences"
    )


def test_jacobian_leaves_parameter_gradients_as_they_were():
    model = mlp([3, 4, 2], seed=1)
    first = next(iter(model.parameters()))
    first.grad = np.full(first.shape, 7.0)
    isometry.jacobian(model, np.ones((2, 3)))
    assert np.all(first.grad == 7.0)
    assert all(p.grad is None for p in list(model.parameters())[1:])


def test_jacobian_of_plain_tensor_functions():
    matrix = np.arange(6.0).reshape(2, 3)
    x = np.random.default_rng(0).standard_normal((4, 2))
    linear = isometry.jacobian(lambda t: t @ tn.tensor(matrix), x)  # row-wise y = x A
    np.testing.assert_array_equal(linear, np.broadcast_to(matrix.T, (4, 3, 2)))
    elementwise = isometry.jacobian(lambda t: t.tanh() * 3.0, x)
    for b in range(4):
        np.testing.assert_allclose(elementwise[b], np.diag(3.0 * (1 - np.tanh(x[b]) ** 2)), atol=1e-15)
    constant = isometry.jacobian(lambda t: t * 0.0 + 1.0, x)
    assert np.all(constant == 0.0)


def test_singular_values_are_those_of_the_jacobian():
    model = mlp([5, 7, 3], seed=2)
    x = np.random.default_rng(2).standard_normal((4, 5))
    values = isometry.singular_values(model, x)
    assert values.shape == (4, 3)
    assert np.all(np.diff(values, axis=1) <= 0)  # descending
    expected = np.linalg.svd(isometry.jacobian(model, x), compute_uv=False)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert np.all(values > 0)


@pytest.mark.parametrize(
    ("model", "x", "error", "pattern"),
    [
        (3, np.ones((2, 2)), TypeError, r"jacobian: model must be callable"),
        (lambda t: t, np.ones(3), ValueError, r"jacobian: x must have shape \(batch, in\), got shape \(3,\)"),
        (lambda t: t, np.array([["a"]]), TypeError, r"jacobian: x must be numeric"),
        (lambda t: t.data, np.ones((2, 2)), TypeError, r"jacobian: model must return a Tensor, got ndarray"),
        (lambda t: t.sum(axis=0, keepdims=True), np.ones((3, 2)), ValueError, r"got shape \(1, 2\)"),
    ],
)
def test_jacobian_errors(model, x, error, pattern):
    with pytest.raises(error, match=pattern):
        isometry.jacobian(model, x)


# ------------------------------------------------------------------------- the predicted spectrum
def test_jjt_moments_known_values_and_limits():
    for depth, orthogonal, gaussian in [(8, 0.0135, 8.0135), (32, 0.0541, 32.054)]:
        mean, variance = isometry.jjt_moments("tanh", Q_STAR, depth)
        assert mean == pytest.approx(1.0, abs=1e-12)
        assert variance == pytest.approx(orthogonal, abs=1e-4)
        _, gaussian_variance = isometry.jjt_moments("tanh", Q_STAR, depth, weights="gaussian")
        assert gaussian_variance == pytest.approx(gaussian, abs=1e-3)
    # linear networks: orthogonal products are isometries; Gaussian ones gain 1 per layer
    assert isometry.jjt_moments("linear", 1.0, 10) == pytest.approx((1.0, 0.0), abs=1e-12)
    assert isometry.jjt_moments("linear", 1.0, 10, "gaussian")[1] == pytest.approx(10.0, abs=1e-12)
    # ReLU: μ₂/μ₁² = 2, so even orthogonal weights spread the spectrum by 1 per layer
    assert isometry.jjt_moments("relu", 1.0, 10)[1] == pytest.approx(10.0, abs=1e-9)
    assert isometry.jjt_moments("tanh", Q_STAR, 0) == (1.0, 0.0)


def test_jjt_moments_errors():
    with pytest.raises(ValueError, match=r"weights must be one of 'orthogonal', 'gaussian', got 'uniform'"):
        isometry.jjt_moments("tanh", Q_STAR, 8, weights="uniform")
    with pytest.raises(ValueError, match=r"jjt_moments: q_star .* got 0\.0"):
        isometry.jjt_moments("tanh", 0.0, 8)
    with pytest.raises(ValueError, match=r"jjt_moments: depth .* got -1"):
        isometry.jjt_moments("tanh", Q_STAR, -1)
    with pytest.raises(ValueError, match=r"no critical point has q_star = 0\.1"):
        isometry.jjt_moments("sigmoid", 0.1, 8)  # it would need a negative bias variance


def critical_tanh_network(width, depth, weights, rng):
    """Weights and biases of a tanh network on the critical line at q* = 1/64, and an input whose
    first pre-activations have variance q*."""
    sigma_w2, sigma_b2 = (float(v[0]) for v in mf.critical_line("tanh", [Q_STAR]))
    layers = []
    for _ in range(depth):
        if weights == "orthogonal":
            q, r = np.linalg.qr(rng.standard_normal((width, width)))
            matrix = q * np.sign(np.diag(r)) * math.sqrt(sigma_w2)
        else:
            matrix = rng.standard_normal((width, width)) * math.sqrt(sigma_w2 / width)
        layers.append((matrix, rng.standard_normal(width) * math.sqrt(sigma_b2)))
    x = rng.standard_normal(width) * math.sqrt((Q_STAR - sigma_b2) / sigma_w2)
    return layers, x


def network_jacobian(layers, x):
    """J = D^L W^L ··· D^1 W^1 with D^l = diag(tanh'(h^l)), h^l = W^l x^{l-1} + b^l."""
    jac = np.eye(x.size)
    for matrix, bias in layers:
        h = matrix @ x + bias
        jac = (1 - np.tanh(h) ** 2)[:, None] * (matrix @ jac)
        x = np.tanh(h)
    return jac


@pytest.mark.parametrize("weights", ["orthogonal", "gaussian"])
@pytest.mark.parametrize("depth", [8, 32])
def test_measured_spread_of_jjt_matches_free_probability(weights, depth):
    """var(λ)/mean(λ)² of the eigenvalues λ of JJᵀ, averaged over 4 seeded width-300 networks."""
    rng = np.random.default_rng(100 + depth)
    spreads, means = [], []
    for _ in range(4):
        eigenvalues = np.linalg.svd(network_jacobian(*critical_tanh_network(300, depth, weights, rng)),
                                    compute_uv=False) ** 2
        spreads.append(eigenvalues.var() / eigenvalues.mean() ** 2)
        means.append(eigenvalues.mean())
    mean, variance = isometry.jjt_moments("tanh", Q_STAR, depth, weights=weights)
    assert np.mean(spreads) == pytest.approx(variance / mean**2, rel=0.25)
    assert np.mean(means) == pytest.approx(mean, rel=0.15)


def test_numpy_jacobian_agrees_with_jacobian_of_the_tinynet_model():
    rng = np.random.default_rng(3)
    layers, _ = critical_tanh_network(40, 4, "orthogonal", rng)
    model = []
    for matrix, bias in layers:
        linear = nn.Linear(40, 40, dtype=np.float64)
        linear.weight.data, linear.bias.data = matrix.T.copy(), bias.copy()  # tinynet: y = x @ W + b
        model += [linear, nn.Tanh()]
    model = nn.Sequential(*model)
    inputs = rng.standard_normal((3, 40)) * 0.1
    jac = isometry.jacobian(model, inputs)
    for b in range(3):
        np.testing.assert_allclose(jac[b], network_jacobian(layers, inputs[b]), rtol=1e-10, atol=1e-12)
