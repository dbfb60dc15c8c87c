"""Image layers: Conv2d (layout, fans, initializers, errors), MaxPool2d, AvgPool2d, GlobalAvgPool2d,
Residual (plain and learnable scale), Flatten and LayerNorm on NHWC, and a small CNN that learns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import float_arrays

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import init, nn, optim


def data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------- Conv2d
def test_conv2d_layout_fans_and_forward():
    assert nn.Conv2d(64, 128, 3).fans() == (576, 1152)
    layer = nn.Conv2d(3, 5, (3, 1), stride=2, padding=1, bias=True)
    assert layer.weight.shape == (3, 1, 3, 5) and layer.bias.shape == (5,)
    assert layer.fans() == (9, 15) and init.model.is_layer(layer)
    layer.bias.data = np.arange(5, dtype=np.float32)
    x = data((2, 6, 5, 3)).astype(np.float32)
    y = layer(x)
    assert y.shape == (2, 3, 4, 5) and y.dtype == np.float32  # (6+2-3)//2+1, (5+2-1)//2+1
    expected = F.conv2d(tn.tensor(x), layer.weight, layer.bias, stride=2, padding=1)
    np.testing.assert_array_equal(y.data, expected.data)
    assert nn.Conv2d(2, 2, 3, padding="same")(np.ones((1, 4, 7, 2))).shape == (1, 4, 7, 2)
    assert nn.Conv2d(2, 2, 1, bias=False).bias is None


def test_conv2d_initializers_get_its_fans_and_are_kept():
    calls = []

    def spy(shape, *, fan_in, fan_out, rng, dtype):
        calls.append((tuple(shape), fan_in, fan_out))
        return np.full(shape, 0.5)

    layer = nn.Conv2d(4, 6, (3, 5), weight_init=spy, bias_init=spy)
    assert calls == [((3, 5, 4, 6), 60, 90), ((6,), 60, 90)]
    assert np.all(layer.weight.data == 0.5) and layer.weight.dtype == np.float32
    assert repr(nn.Conv2d(1, 1, 1).weight_init) == repr(init.get("xavier_uniform"))
    expected = init.get("he_normal")((3, 3, 2, 4), fan_in=18, fan_out=36, rng=np.random.default_rng(5))
    drawn = nn.Conv2d(2, 4, 3, weight_init="he_normal", rng=5).weight.data
    np.testing.assert_array_equal(drawn, expected.astype(np.float32))


def test_conv2d_reset_parameters_keeps_parameter_objects_and_default_stream_order():
    layer = nn.Conv2d(2, 3, 3, bias_init="normal(std=1.0)")
    weight, bias = layer.weight, layer.bias
    layer.reset_parameters(rng=7)
    first = layer.weight.data.copy(), layer.bias.data.copy()
    layer.reset_parameters(rng=7)
    assert layer.weight is weight and layer.bias is bias
    np.testing.assert_array_equal(layer.weight.data, first[0])
    np.testing.assert_array_equal(layer.bias.data, first[1])
    tn.manual_seed(3)
    a, b = nn.Conv2d(4, 4, 3), nn.Conv2d(4, 4, 3)
    assert not np.array_equal(a.weight.data, b.weight.data)


def test_init_apply_draws_conv_weights_with_the_conv_fans():
    model = nn.Sequential(nn.Conv2d(16, 32, 3), nn.ReLU())
    init.apply(model, weight="he_normal", rng=0)
    w = model[0].weight.data.astype(np.float64)
    target = np.sqrt(2.0 / (3 * 3 * 16))
    # the sample std of n normal draws has a standard error of about std / sqrt(2 n)
    assert abs(w.std() - target) < 6 * target / np.sqrt(2 * w.size)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: nn.Conv2d(0, 4, 3), ValueError, "Conv2d: in_channels must be an int >= 1, got 0"),
        (lambda: nn.Conv2d(2, 4.0, 3), TypeError, "Conv2d: out_channels must be an int"),
        (lambda: nn.Conv2d(2, 4, (3, 0)), ValueError, r"Conv2d: kernel_size must be >= 1, got \(3, 0\)"),
        (lambda: nn.Conv2d(2, 4, 2, padding="same"), ValueError,
         r"Conv2d: padding='same' needs an odd kernel size, got kernel_size \(2, 2\)"),
        (lambda: nn.Conv2d(2, 4, 3, stride=2, padding="same"), ValueError, "needs stride 1"),
        (lambda: nn.Conv2d(2, 4, 3, padding="full"), ValueError, "or 'same', got 'full'"),
        (lambda: nn.Conv2d(2, 4, 3, padding_mode="zero"), ValueError,
         "Conv2d: padding_mode must be one of 'zeros', 'circular', got 'zero' \\(closest match: 'zeros'\\)"),
        (lambda: nn.Conv2d(2, 4, 3, dtype=np.int32), TypeError, "Conv2d: dtype must be a float dtype"),
        (lambda: nn.Conv2d(2, 4, 3)(np.ones((1, 5, 5, 3))), ValueError,
         r"Conv2d\(2, 4, kernel_size=\(3, 3\)\): input must be NHWC \(batch, height, width, 2\), "
         r"got shape \(1, 5, 5, 3\)"),
        (lambda: nn.Conv2d(2, 4, 3)(np.ones((5, 5, 2))), ValueError, r"got shape \(5, 5, 2\)"),
        (lambda: nn.MaxPool2d(0), ValueError, "MaxPool2d: kernel_size must be >= 1"),
        (lambda: nn.AvgPool2d(2, stride=(1,)), TypeError, "AvgPool2d: stride must be an int or a pair"),
        (lambda: nn.GlobalAvgPool2d()(np.ones((2, 3))), ValueError,
         r"GlobalAvgPool2d: input must be 4-D NHWC .* got shape \(2, 3\)"),
        (lambda: nn.Residual(lambda x: x), TypeError, "Residual: branch must be an nn.Module, got function"),
        (lambda: nn.Residual(nn.Identity(), scale="0"), TypeError, "Residual: scale must be a finite number"),
        (lambda: nn.Residual(nn.Linear(3, 2))(np.ones((4, 3))), ValueError,
         r"Residual: the branch maps input shape \(4, 3\) to \(4, 2\)"),
    ],
)
def test_layer_errors_name_the_layer_and_what_is_valid(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_conv2d_repr_shows_its_options():
    text = repr(nn.Conv2d(3, 8, 5, stride=2, padding=2, padding_mode="circular"))
    assert "Conv2d(3, 8, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2), padding_mode='circular'" in text
    assert "weight (5, 5, 3, 8)" in text


# ----------------------------------------------------------------------------- pooling
def test_pool_layers_match_the_functions():
    x = data((2, 5, 6, 3))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data, F.max_pool2d(x, 2).data)
    np.testing.assert_array_equal(nn.AvgPool2d(3, stride=1)(x).data, F.avg_pool2d(x, 3, 1).data)
    pool = nn.MaxPool2d((2, 3))
    assert pool.stride == (2, 3) and pool(x).shape == (2, 2, 2, 3)
    assert "kernel_size=(2, 3), stride=(2, 3)" in repr(pool)


def test_global_avg_pool_is_the_mean_over_height_and_width():
    x = data((3, 4, 2, 5))
    y = nn.GlobalAvgPool2d()(x)
    assert y.shape == (3, 5)
    np.testing.assert_allclose(y.data, x.mean(axis=(1, 2)), rtol=1e-12)
    assert tn.gradcheck(nn.GlobalAvgPool2d(), tn.tensor(x, requires_grad=True))


# ----------------------------------------------------------------------------- Residual
def test_residual_adds_the_branch_and_registers_it():
    tn.set_default_dtype(np.float64)
    branch = nn.Sequential(nn.Conv2d(3, 3, 3, padding="same"), nn.Tanh())
    block = nn.Residual(branch)
    assert block.is_residual is True and block.branch is branch and block.scale is None
    assert [name for name, _ in block.named_parameters()] == ["branch.0.weight", "branch.0.bias"]
    x = data((2, 4, 4, 3))
    np.testing.assert_allclose(block(x).data, x + branch(x).data, rtol=1e-12)
    xt = tn.tensor(x, requires_grad=True)
    assert tn.gradcheck(block, xt)


def test_residual_scale_is_a_learnable_scalar_and_zero_makes_the_identity():
    tn.set_default_dtype(np.float64)
    branch = nn.Linear(4, 4, bias_init="normal(std=1.0)")
    block = nn.Residual(branch, scale=0.0)
    assert isinstance(block.scale, nn.Parameter) and block.scale.shape == () and block.scale.item() == 0.0
    assert {name for name, _ in block.named_parameters()} == {"scale", "branch.weight", "branch.bias"}
    x = data((5, 4))
    y = block(x)
    np.testing.assert_array_equal(y.data, x)  # ReZero / SkipInit: the identity at initialization
    y.sum().backward()
    # dL/ds = Σ branch(x) for L = Σ y; the branch itself gets no gradient while s = 0
    assert block.scale.grad == pytest.approx(branch(x).data.sum(), rel=1e-12)
    np.testing.assert_array_equal(branch.weight.grad, np.zeros((4, 4)))
    half = nn.Residual(branch, scale=0.5)
    np.testing.assert_allclose(half(x).data, x + 0.5 * branch(x).data, rtol=1e-12)
    assert "scale=0.5" in repr(half)


# ----------------------------------------------------------------------------- Flatten, LayerNorm
@given(st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)))
def test_flatten_nhwc_merges_all_but_the_batch_axis_in_memory_order(shape):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    xt = tn.tensor(x, requires_grad=True)
    y = nn.Flatten()(xt)
    assert y.shape == (shape[0], shape[1] * shape[2] * shape[3])
    np.testing.assert_array_equal(y.data, x.reshape(shape[0], -1))  # channels vary fastest
    y.backward(np.ones(y.shape))
    assert xt.grad.shape == shape


@given(
    data=st.data(),
    shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(2, 4)),
)
def test_layernorm_normalizes_nhwc_channels_per_pixel_with_gradients(data, shape):
    tn.set_default_dtype(np.float64)
    x = data.draw(float_arrays(shape))
    ln = nn.LayerNorm(shape[3])
    ln.weight.data = data.draw(float_arrays((shape[3],)))
    ln.bias.data = data.draw(float_arrays((shape[3],)))
    y = ln(x)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-10)
    # input and affine parameters, through the functional form
    xt = tn.tensor(x, requires_grad=True)
    w, b = tn.tensor(ln.weight.data, requires_grad=True), tn.tensor(ln.bias.data, requires_grad=True)
    layer_norm = nn.normalization.layer_norm
    assert tn.gradcheck(lambda x, w, b: layer_norm(x, (shape[3],), w, b), xt, w, b, max_elements=48)


# ----------------------------------------------------------------------------- a small CNN
def test_small_cnn_forward_backward_and_loss_decreases():
    tn.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=16)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same", weight_init="he_normal"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()), scale=0.0),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
    )
    opt = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses


def test_cnn_composition_passes_gradcheck():
    tn.set_default_dtype(np.float64)
    tn.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, stride=1, padding=1, padding_mode="circular"), nn.Tanh(),
        nn.AvgPool2d(2, stride=1), nn.Conv2d(3, 2, 2), nn.GlobalAvgPool2d(),
    )
    x = tn.tensor(data((2, 4, 4, 2)), requires_grad=True)
    assert tn.gradcheck(model, x)
