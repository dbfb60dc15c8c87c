"""Initialization of convolution kernels: delta-orthogonal, N-D orthogonal, the Dirac kernel, and the
schemes, presets, gains and LSUV of init on nn.Conv2d (channels-last kernels (kh, kw, in, out)).

Statistical tolerances come from the sample size n: the sample std of n i.i.d. draws of std sigma
and kurtosis k has standard error sigma * sqrt((k - 1) / (4 n)) (k = 9/5 for a uniform, 3 for a
normal); the tests allow 6 of them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import init, nn
from tinynet.nn import functional as F

KERNELS_IN_LE_OUT = [(3, 3, 4, 4), (3, 3, 4, 16), (5, 5, 8, 8), (1, 1, 3, 5), (3, 5, 2, 6), (3, 7)]


def std_tolerance(sigma: float, n: int, kurtosis: float, k: float = 6.0) -> float:
    """``k`` standard errors of the sample std of ``n`` draws."""
    return k * sigma * math.sqrt((kurtosis - 1) / (4 * n))


def images(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def norms(x: np.ndarray) -> np.ndarray:
    """The norm of every example of a batch."""
    return np.sqrt((x.reshape(x.shape[0], -1) ** 2).sum(axis=1))


# --------------------------------------------------------------------------- delta-orthogonal
@pytest.mark.parametrize("shape", KERNELS_IN_LE_OUT)
def test_delta_orthogonal_centre_tap_has_orthonormal_rows_and_zeros_elsewhere(shape):
    w = init.get("delta_orthogonal")(shape, rng=3, dtype=np.float64)
    assert w.shape == shape and w.dtype == np.float64
    if len(shape) == 2:  # a dense weight: plain orthogonal
        np.testing.assert_array_equal(w, init.get("orthogonal")(shape, rng=3, dtype=np.float64))
        return
    centre = tuple(k // 2 for k in shape[:-2])
    tap = w[centre]
    np.testing.assert_allclose(tap @ tap.T, np.eye(shape[-2]), rtol=0, atol=1e-12)
    rest = w.copy()
    rest[centre] = 0.0
    assert not rest.any()
    assert np.count_nonzero(tap) == tap.size  # the tap is dense (Haar), not a permutation


def test_delta_orthogonal_gain_and_dense_shapes_equal_orthogonal():
    w = init.get("delta_orthogonal(gain=2.0)")((3, 3, 5, 9), rng=1, dtype=np.float64)
    np.testing.assert_allclose(w[1, 1] @ w[1, 1].T, 4.0 * np.eye(5), rtol=0, atol=1e-12)
    for shape in [(5, 9), (9, 5), (7, 7)]:  # 2-D: orthogonal with the same draws, in > out allowed
        for gain in ("1.0", "'relu'"):
            np.testing.assert_array_equal(
                init.get(f"delta_orthogonal(gain={gain})")(shape, rng=4, dtype=np.float64),
                init.get(f"orthogonal(gain={gain})")(shape, rng=4, dtype=np.float64),
            )


def test_delta_orthogonal_taps_differ_between_draws_and_are_haar():
    # the sign correction makes every entry of the tap zero-mean over draws (std 1/sqrt(n) for an
    # n x n Haar matrix): 6 standard errors of the mean over 400 draws
    strategy = init.get("delta_orthogonal")
    draws = np.array([strategy((3, 3, 4, 4), rng=s, dtype=np.float64)[1, 1, 0, 0] for s in range(400)])
    assert abs(draws.mean()) <= 6 * 0.5 / math.sqrt(400)
    assert len(set(draws.tolist())) == 400


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((3, 3, 8, 4), r"kernel \(3, 3, 8, 4\) has in = 8 > out = 4 .*in <= out"),
        ((2, 2, 4, 4), r"kernel \(2, 2, 4, 4\) has an even spatial size \(2, 2\).*odd"),
        ((3, 4, 4, 4), r"even spatial size \(3, 4\)"),
        ((6,), r"delta_orthogonal: needs a shape with >= 2 dimensions"),
    ],
)
def test_delta_orthogonal_refuses_what_it_cannot_build(shape, match):
    with pytest.raises(ValueError, match=match):
        init.get("delta_orthogonal")(shape, rng=0)


@pytest.mark.parametrize(("c_in", "c_out"), [(6, 6), (4, 10)])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_delta_orthogonal_with_circular_padding_preserves_every_inputs_norm(c_in, c_out, k):
    """A stride-1 conv with circular 'same' padding maps each pixel x to x H, H H^T = I."""
    x = images((7, 6, 5, c_in), seed=k)
    w = init.get("delta_orthogonal")((k, k, c_in, c_out), rng=k, dtype=np.float64)
    y = F.conv2d(tn.tensor(x), tn.tensor(w), stride=1, padding="same", padding_mode="circular").data
    assert y.shape == (7, 6, 5, c_out) and y.dtype == np.float64
    np.testing.assert_allclose(norms(y), norms(x), rtol=1e-10, atol=0)
    scaled = init.get("delta_orthogonal(gain=1.5)")((k, k, c_in, c_out), rng=k, dtype=np.float64)
    y2 = F.conv2d(tn.tensor(x), tn.tensor(scaled), padding="same", padding_mode="circular").data
    np.testing.assert_allclose(norms(y2), 1.5 * norms(x), rtol=1e-10, atol=0)


def test_a_full_orthogonal_kernel_does_not_preserve_norms():
    """The contrast that makes the previous test mean something: orthonormal *filters* spread over
    all taps do not make the convolution an isometry."""
    x = images((7, 6, 5, 6), seed=1)
    w = init.get("orthogonal")((3, 3, 6, 6), rng=1, dtype=np.float64)
    y = F.conv2d(tn.tensor(x), tn.tensor(w), padding="same", padding_mode="circular").data
    assert np.max(np.abs(norms(y) / norms(x) - 1)) > 1e-2


# --------------------------------------------------------------------------- N-D orthogonal
@pytest.mark.parametrize("shape", [(3, 3, 4, 32), (3, 3, 2, 32), (5, 6, 4), (1, 1, 16, 8), (3, 3, 8, 8)])
def test_orthogonal_kernel_is_semi_orthogonal_over_prod_k_times_in(shape):
    w = init.get("orthogonal(gain=1.5)")(shape, rng=2, dtype=np.float64)
    flat = w.reshape(-1, shape[-1])  # (prod(k) * in, out): one column per output channel
    rows, cols = flat.shape
    assert rows == math.prod(shape[:-1])
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, 2.25 * np.eye(min(rows, cols)), rtol=0, atol=1e-12)
    # PyTorch's convention on the same filters: its (out, in, k...) kernel flattened to
    # (out, in * prod(k)) has orthonormal rows when out <= in * prod(k)
    torch_layout = np.moveaxis(w, (-1, -2), (0, 1)).reshape(shape[-1], -1)
    torch_gram = torch_layout @ torch_layout.T if cols <= rows else torch_layout.T @ torch_layout
    np.testing.assert_allclose(torch_gram, 2.25 * np.eye(min(rows, cols)), rtol=0, atol=1e-12)


def test_orthogonal_kernel_element_std_is_gain_over_sqrt_of_the_larger_side():
    # (3, 3, 64, 64): rows 576 >= cols 64, every column a unit vector of 576 entries, so the mean
    # square is exactly 1/576 (the norms are exact, not a sample statistic)
    w = init.get("orthogonal")((3, 3, 64, 64), rng=0, dtype=np.float64)
    assert float(np.mean(w * w)) == pytest.approx(1 / 576, rel=1e-12)


# --------------------------------------------------------------------------- Dirac kernel
@pytest.mark.parametrize("padding_mode", ["zeros", "circular"])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_dirac_identity_kernel_is_the_identity_map(k, padding_mode):
    x = images((3, 6, 7, 5), seed=k)
    w = init.get("identity")((k, k, 5, 5), dtype=np.float64)
    assert w[k // 2, k // 2].tolist() == np.eye(5).tolist() and w.sum() == 5
    y = F.conv2d(tn.tensor(x), tn.tensor(w), padding="same", padding_mode=padding_mode).data
    np.testing.assert_array_equal(y, x)
    w2 = init.get("identity(gain=0.5)")((k, k, 5, 5), dtype=np.float64)
    y2 = F.conv2d(tn.tensor(x), tn.tensor(w2), padding="same", padding_mode=padding_mode).data
    np.testing.assert_array_equal(y2, 0.5 * x)


@pytest.mark.parametrize(("c_in", "c_out"), [(3, 7), (7, 3)])
def test_dirac_kernel_with_unequal_channels_copies_the_leading_ones(c_in, c_out):
    """As torch.nn.init.dirac_: output channel j copies input channel j for j < min(in, out)."""
    x = images((2, 5, 5, c_in), seed=c_in)
    w = init.get("identity")((3, 3, c_in, c_out), dtype=np.float64)
    y = F.conv2d(tn.tensor(x), tn.tensor(w), padding="same").data
    n = min(c_in, c_out)
    np.testing.assert_array_equal(y[..., :n], x[..., :n])
    assert not y[..., n:].any()


# --------------------------------------------------------------------------- presets on Conv2d
def test_pytorch_preset_on_conv2d_is_uniform_over_one_over_sqrt_fan_in():
    """PyTorch's Conv2d: weight and bias U(+-1/sqrt(fan_in)), fan_in = kh * kw * in = 576, so the
    weight std is 1/sqrt(3 * 576) = 0.02406 (kaiming_uniform(a=sqrt(5)))."""
    conv = nn.Conv2d(64, 128, 3)
    assert conv.fans() == (576, 1152)
    init.apply(conv, preset="pytorch", rng=0)
    w, b = conv.weight.data.astype(np.float64), conv.bias.data.astype(np.float64)
    assert w.shape == (3, 3, 64, 128)
    bound = 1 / math.sqrt(576)
    expected = bound / math.sqrt(3)
    assert expected == pytest.approx(0.0241, abs=5e-5)
    tolerance = std_tolerance(expected, w.size, 9 / 5)  # n = 73728: 6 SE = 0.99% of the std
    assert tolerance / expected < 0.02  # so the "within 2%" is the weaker claim
    assert abs(w.std(ddof=1) - expected) <= tolerance, (w.std(ddof=1), expected, tolerance)
    assert abs(w.std(ddof=1) - expected) <= 0.02 * expected
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(b.std(ddof=1) - expected) <= std_tolerance(expected, b.size, 9 / 5)
    assert repr(conv.weight_init) == "default()" and repr(conv.bias_init) == "default()"


def test_init_apply_draws_conv_kernels_with_the_layers_own_fans():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 5, padding=2))
    init.apply(model, weight="he_normal", bias="zeros", rng=1)
    for layer, fan_in in ((model[0], 27), (model[2], 400)):
        w = layer.weight.data.astype(np.float64)
        sigma = math.sqrt(2 / fan_in)
        assert abs(w.std(ddof=1) - sigma) <= std_tolerance(sigma, w.size, 3.0)
        assert not layer.bias.data.any()
    other = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 5, padding=2))
    init.apply(other, weight="he_normal", bias="zeros", rng=1)
    np.testing.assert_array_equal(other[2].weight.data, model[2].weight.data)  # per-parameter streams


def test_auto_gain_on_conv2d_comes_from_the_following_activation():
    model = nn.Sequential(
        nn.Conv2d(8, 64, 3, weight_init="he_normal(gain='auto')"), nn.Tanh(),
        nn.Conv2d(64, 64, 3, weight_init="he_normal(gain='auto')"), nn.ReLU(),
    )  # fmt: skip
    init.apply(model, rng=2)
    for layer, gain in ((model[0], nn.Tanh().gain), (model[2], math.sqrt(2))):
        w = layer.weight.data.astype(np.float64)
        sigma = gain / math.sqrt(layer.fans()[0])
        assert abs(w.std(ddof=1) - sigma) <= std_tolerance(sigma, w.size, 3.0)


def test_lsuv_gives_every_conv_output_unit_variance_over_all_its_elements():
    tn.set_default_dtype(np.float64)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding="same"), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding="same"), nn.ReLU(),
        nn.Conv2d(16, 8, 3, padding=1, stride=2),
    )  # fmt: skip
    x = 3.0 * images((16, 10, 10, 3), seed=5)
    report = init.lsuv(model, x, tol=0.01, rng=0)
    assert [r["layer"] for r in report] == ["0", "2", "4"]
    assert all(r["converged"] for r in report), report
    outputs = []
    handles = [model[i].register_forward_hook(lambda m, i, o: outputs.append(o.data)) for i in (0, 2, 4)]
    with tn.no_grad():
        model(x)
    for h in handles:
        h.remove()
    for out in outputs:
        assert out.ndim == 4 and abs(float(np.var(out)) - 1.0) < 0.01
