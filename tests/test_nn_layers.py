"""Layers: Linear, Dropout, BatchNorm1d, LayerNorm, Flatten, Identity, and gradient clipping."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet import init, nn
from tinynet.nn.normalization import batch_norm, layer_norm


# ----------------------------------------------------------------------------- Linear
def test_linear_layout_and_forward_is_x_at_w_plus_b():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    assert layer.fans() == (4, 3)
    layer.bias.data = np.arange(3, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == (5, 3)
    np.testing.assert_allclose(y.data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)
    batched = layer(np.ones((2, 5, 4)))
    assert batched.shape == (2, 5, 3)


def test_linear_stores_initializers_and_uses_its_fans():
    calls = []

    def spy(shape, *, fan_in, fan_out, rng, dtype):
        calls.append((tuple(shape), fan_in, fan_out))
        return np.full(shape, 0.5)

    layer = nn.Linear(6, 2, weight_init=spy, bias_init="constant(value=0.25)")
    assert calls == [((6, 2), 6, 2)]
    assert np.all(layer.weight.data == 0.5) and layer.weight.dtype == np.float32
    assert np.all(layer.bias.data == 0.25)
    assert repr(layer.bias_init) == repr(init.get("constant(value=0.25)"))
    assert repr(nn.Linear(2, 2).weight_init) == repr(init.get("xavier_uniform"))


def test_linear_default_generator_draws_in_construction_order():
    tn.manual_seed(3)
    a, b = nn.Linear(8, 8), nn.Linear(8, 8)
    assert not np.array_equal(a.weight.data, b.weight.data)
    tn.manual_seed(3)
    a2 = nn.Linear(8, 8)
    np.testing.assert_array_equal(a.weight.data, a2.weight.data)
    expected = init.get("xavier_uniform")((8, 8), fan_in=8, fan_out=8, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.weight.data, expected.astype(np.float32))


def test_linear_reset_parameters_keeps_parameter_objects():
    layer = nn.Linear(5, 4, bias_init="normal(std=1.0)")
    weight, bias = layer.weight, layer.bias
    layer.reset_parameters(rng=7)
    first = layer.weight.data.copy(), layer.bias.data.copy()
    layer.reset_parameters(rng=7)
    assert layer.weight is weight and layer.bias is bias
    np.testing.assert_array_equal(layer.weight.data, first[0])
    np.testing.assert_array_equal(layer.bias.data, first[1])


def test_linear_wrong_width_names_expected_and_got_and_changes_nothing():
    layer = nn.Linear(784, 256)
    before = {k: v.copy() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError) as info:
        layer(np.zeros((2, 100)))
    assert str(info.value).startswith(
        "Linear(784, 256): input has 100 features in its last dimension"
    )
    assert "expected 784" in str(info.value)
    with pytest.raises(ValueError, match="0-d"):
        layer(tn.tensor(1.0))
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    assert layer.weight.grad is None


def test_linear_dtype_rules():
    tn.set_default_dtype(np.float64)
    layer = nn.Linear(3, 2)
    assert layer.weight.dtype == np.float64
    assert layer(np.ones((1, 3), dtype=np.float32)).dtype == np.float64  # arrays are converted
    assert layer(np.ones((1, 3), dtype=np.int64)).dtype == np.float64
    with pytest.raises(TypeError, match="dtype mismatch"):
        layer(tn.tensor(np.ones((1, 3), dtype=np.float32)))  # tensors are not silently promoted
    assert nn.Linear(3, 2, dtype=np.float32).weight.dtype == np.float32


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 3), ValueError), ((3, -1), ValueError), ((2.5, 3), TypeError), ((True, 3), TypeError)],
)
def test_linear_rejects_bad_sizes(args, error):
    with pytest.raises(error, match="Linear"):
        nn.Linear(*args)


def test_linear_gradcheck():
    tn.set_default_dtype(np.float64)
    layer = nn.Linear(4, 3, bias_init="normal(std=1.0)")
    x = tn.tensor(np.random.default_rng(0).standard_normal((5, 4)), requires_grad=True)
    assert tn.gradcheck(layer, x)
    layer.zero_grad()
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.bias.grad, np.full(3, 5.0))
    np.testing.assert_allclose(layer.weight.grad, x.data.sum(0)[:, None] * np.ones((1, 3)))


# ----------------------------------------------------------------------------- Dropout
def test_dropout_scales_kept_units_and_drops_fraction_p():
    p, n = 0.3, 100_000
    layer = nn.Dropout(p)
    x = np.ones(n, dtype=np.float32)
    y = layer(x).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    # the dropped count is Binomial(n, p): 6 standard errors
    assert abs((~kept).mean() - p) < 6 * np.sqrt(p * (1 - p) / n)


def test_dropout_is_identity_in_eval_and_seeded_by_manual_seed():
    layer = nn.Dropout(0.5)
    x = tn.tensor(np.arange(1.0, 9.0))
    layer.eval()
    assert layer(x) is x
    layer.train()
    tn.manual_seed(5)
    first = layer(x).data
    tn.manual_seed(5)
    np.testing.assert_array_equal(layer(x).data, first)
    own = nn.Dropout(0.5, rng=1)
    np.testing.assert_array_equal(own(x).data, nn.Dropout(0.5, rng=1)(x).data)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"Dropout: p must be a finite number >= 0 and <= 1, got {bad}"):
            nn.Dropout(bad)
    with pytest.raises(TypeError, match="Dropout: p must be a finite number"):
        nn.Dropout("0.5")


def test_dropout_gradient_flows_through_kept_units():
    layer = nn.Dropout(0.25, rng=0)
    x = tn.tensor(np.ones((4, 8)), requires_grad=True)
    y = layer(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, y.data)  # d/dx of mask * x / (1 - p)


# ----------------------------------------------------------------------------- BatchNorm1d
def data(shape, seed=0, scale=3.0, shift=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale + shift


def test_batchnorm_train_normalizes_with_biased_variance_and_tracks_unbiased():
    tn.set_default_dtype(np.float64)
    bn = nn.BatchNorm1d(3, momentum=0.1)
    x = data((8, 3))
    y = bn(x).data
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-12)
    assert bn.num_batches_tracked == 1


def test_batchnorm_eval_uses_running_statistics():
    tn.set_default_dtype(np.float64)
    bn = nn.BatchNorm1d(3)
    bn.weight.data = np.array([1.0, 2.0, 3.0])
    bn.bias.data = np.array([0.0, -1.0, 1.0])
    for seed in range(3):
        bn(data((16, 3), seed))
    bn.eval()
    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    x = data((4, 3), 10)
    expected = (x - rm) / np.sqrt(rv + 1e-5) * bn.weight.data + bn.bias.data
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, rm)  # eval never updates
    single = bn(x[:1]).data  # one sample is fine in eval
    np.testing.assert_allclose(single, expected[:1], rtol=1e-12)


def test_batchnorm_gradcheck_train_and_eval():
    tn.set_default_dtype(np.float64)
    x = tn.tensor(data((6, 3)), requires_grad=True)
    w = tn.tensor(np.array([0.5, 1.5, -2.0]), requires_grad=True)
    b = tn.tensor(np.array([0.1, 0.0, 0.3]), requires_grad=True)
    rm, rv = np.zeros(3), np.ones(3)
    assert tn.gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=True), x, w, b)
    assert tn.gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=False), x, w, b)
    bn = nn.BatchNorm1d(3)
    assert tn.gradcheck(bn, x)
    x3 = tn.tensor(data((4, 3, 5)), requires_grad=True)
    assert tn.gradcheck(bn, x3)


def test_batchnorm_three_dimensional_input_and_options():
    tn.set_default_dtype(np.float64)
    x = data((4, 2, 5))
    y = nn.BatchNorm1d(2)(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), x.var(axis=(0, 2)) / (x.var(axis=(0, 2)) + 1e-5))
    plain = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert list(plain.state_dict()) == [] and plain.weight is None
    plain.eval()  # no running statistics: batch statistics in eval too
    np.testing.assert_allclose(plain(x).data, y, rtol=1e-12)
    cumulative = nn.BatchNorm1d(2, momentum=None)
    batches = [data((6, 2), s) for s in range(3)]
    for batch in batches:
        cumulative(batch)
    np.testing.assert_allclose(cumulative.running_mean, np.mean([b.mean(0) for b in batches], 0))


def test_batchnorm_bad_input():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\): input must have shape \(N, 4\)"):
        bn(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="more than one value per channel"):
        bn(np.zeros((1, 4)))
    np.testing.assert_array_equal(bn.running_mean, np.zeros(4))
    assert bn.num_batches_tracked == 0
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(4, momentum=2.0)


# ----------------------------------------------------------------------------- LayerNorm
def test_layernorm_normalizes_each_sample_and_passes_gradcheck():
    tn.set_default_dtype(np.float64)
    ln = nn.LayerNorm(4)
    x = data((3, 4))
    y = ln(x).data
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    xt = tn.tensor(x, requires_grad=True)
    w = tn.tensor(np.array([1.0, -0.5, 2.0, 0.3]), requires_grad=True)
    b = tn.tensor(np.array([0.0, 0.2, -0.1, 1.0]), requires_grad=True)
    assert tn.gradcheck(lambda x, w, b: layer_norm(x, (4,), w, b), xt, w, b)
    two = nn.LayerNorm((2, 3))
    assert two.weight.shape == (2, 3)
    x2 = tn.tensor(data((5, 2, 3)), requires_grad=True)
    assert tn.gradcheck(two, x2)
    with pytest.raises(ValueError, match="does not end with normalized_shape"):
        ln(np.zeros((3, 5)))


# ----------------------------------------------------------------------------- Flatten, Identity
@given(st.lists(st.integers(1, 4), min_size=2, max_size=4))
def test_flatten_merges_trailing_dimensions(shape):
    x = np.zeros(shape)
    y = nn.Flatten()(x)
    assert y.shape == (shape[0], int(np.prod(shape[1:])))
    assert nn.Flatten(0, -1)(x).shape == (int(np.prod(shape)),)


def test_flatten_bad_range_and_identity():
    with pytest.raises(ValueError, match="invalid for an input of shape"):
        nn.Flatten(start_dim=3)(np.zeros((2, 2)))
    x = tn.tensor([1.0, 2.0])
    assert nn.Identity(54, unused="ok")(x) is x


# ----------------------------------------------------------------------------- gradient clipping
def grads(*arrays):
    params = []
    for a in arrays:
        p = nn.Parameter(np.zeros_like(a))
        p.grad = np.array(a, dtype=np.float64)
        params.append(p)
    return params


def test_clip_grad_norm_returns_norm_before_and_scales_to_max():
    params = grads(np.array([3.0, 0.0]), np.array([[4.0]]))
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert total == pytest.approx(5.0, rel=1e-12)
    after = np.sqrt(sum(float((p.grad**2).sum()) for p in params))
    assert after == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(params[0].grad, [3.0 / (5 + 1e-6), 0.0])
    small = grads(np.array([0.3, 0.4]))
    assert nn.utils.clip_grad_norm_(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small[0].grad, [0.3, 0.4])
    assert nn.utils.clip_grad_norm_(grads(np.array([-7.0, 2.0])), 1.0, norm_type=np.inf) == 7.0
    with pytest.raises(ValueError, match="max_norm"):
        nn.utils.clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_(grads(np.array([np.inf])), 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_in_place():
    params = grads(np.array([-3.0, 0.5, 2.0]))
    nn.utils.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad, [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="clip_value"):
        nn.utils.clip_grad_value_(params, -1)


# ----------------------------------------------------------------------------- argument checks
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: nn.BatchNorm1d(4.0), TypeError, "BatchNorm1d: num_features must be an int"),
        (lambda: nn.BatchNorm1d(0), ValueError, "BatchNorm1d: num_features must be an int >= 1, got 0"),
        (lambda: nn.BatchNorm1d(4, eps="1e-5"), TypeError, "BatchNorm1d: eps"),
        (lambda: nn.BatchNorm1d(4, eps=0.0), ValueError, "BatchNorm1d: eps must be a finite number > 0"),
        (lambda: nn.BatchNorm1d(4, momentum="0.1"), TypeError, "BatchNorm1d: momentum"),
        (lambda: nn.LayerNorm(2.5), TypeError, "LayerNorm: normalized_shape must be an int or a tuple"),
        (lambda: nn.LayerNorm((2, 3.0)), TypeError, "LayerNorm: normalized_shape"),
        (lambda: nn.LayerNorm((2, 0)), ValueError, "LayerNorm: normalized_shape must be positive"),
        (lambda: nn.LayerNorm(4, eps=-1.0), ValueError, "LayerNorm: eps"),
        (lambda: nn.Flatten(start_dim=1.0), TypeError, "Flatten: start_dim must be an int"),
        (lambda: nn.Flatten(end_dim="-1"), TypeError, "Flatten: end_dim must be an int"),
        (lambda: nn.LeakyReLU(float("nan")), ValueError, "LeakyReLU: negative_slope"),
        (lambda: nn.GELU(approximate=None), TypeError, "GELU: approximate must be one of"),
        (lambda: nn.MSELoss(reduction=None), TypeError, "MSELoss: reduction must be one of"),
        (lambda: nn.utils.clip_grad_norm_([], "1.0"), TypeError, "clip_grad_norm_: max_norm"),
        (lambda: nn.utils.clip_grad_norm_([], 1.0, norm_type=0), ValueError, "clip_grad_norm_: norm_type"),
        (lambda: nn.utils.clip_grad_value_([], None), TypeError, "clip_grad_value_: clip_value"),
        (lambda: nn.Sequential(nn.ReLU())[1.0], TypeError, "ints or slices"),
    ],
)
def test_arguments_of_the_wrong_type_or_value(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_unbounded_clip_limits_are_allowed():
    params = grads(np.array([3.0, 4.0]))
    assert nn.utils.clip_grad_norm_(params, float("inf")) == pytest.approx(5.0)
    nn.utils.clip_grad_value_(params, float("inf"))
    np.testing.assert_array_equal(params[0].grad, [3.0, 4.0])
