"""LSUV (Mishkin & Matas): unit output variance, layer by layer, on a batch."""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn
from tinynet import init, nn

DEPTH, WIDTH, BATCH = 20, 32, 256  # width 32 keeps BLAS single-threaded: fast on busy machines


def deep_relu_mlp(depth=DEPTH, width=WIDTH, **linear_kwargs):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width, **linear_kwargs), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def linear_output_variances(model, x):
    """Variance over all elements of every Linear's output, measured independently with hooks."""
    seen = []
    handles = [
        m.register_forward_hook(lambda mod, inp, out: seen.append(float(np.var(out.data))))
        for m in model.modules()
        if isinstance(m, nn.Linear)
    ]
    with tn.no_grad():
        model(tn.tensor(x))
    for h in handles:
        h.remove()
    return np.array(seen)


@pytest.fixture
def batch():
    return np.random.default_rng(0).standard_normal((BATCH, WIDTH)).astype(np.float32)


def test_every_linear_output_has_unit_variance_after_lsuv(batch):
    model = deep_relu_mlp()
    before = linear_output_variances(model, batch)
    assert before[-1] < 0.1  # xavier on a deep ReLU net: the signal fades
    report = init.lsuv(model, batch, rng=0)
    after = linear_output_variances(model, batch)
    assert after.shape == (DEPTH,)
    assert np.all(np.abs(after - 1) < 0.1), after
    assert [r["layer"] for r in report] == [str(2 * i) for i in range(DEPTH)]
    assert all(r["converged"] for r in report)
    # an orthogonal first layer keeps the input's unit variance; the ReLU layers after it need work
    assert all(r["iterations"] >= 1 for r in report[1:])
    np.testing.assert_allclose([r["variance"] for r in report], after, rtol=1e-6)
    assert tn.is_grad_enabled()
    model(tn.tensor(batch))  # the capture hooks were removed: a plain forward runs through


def test_lsuv_weights_are_scaled_orthogonal_and_biases_untouched(batch):
    model = deep_relu_mlp(depth=3, bias_init="normal(std=0.01)")
    biases = [m.bias.data.copy() for m in model.modules() if isinstance(m, nn.Linear)]
    init.lsuv(model, batch, rng=1)
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    for layer, bias in zip(layers, biases, strict=True):
        w = layer.weight.data.astype(np.float64)
        gram = w.T @ w
        np.testing.assert_allclose(gram / gram[0, 0], np.eye(WIDTH), atol=1e-4)
        np.testing.assert_array_equal(layer.bias.data, bias)
        assert layer.weight_init == init.get("lsuv")


def test_tensor_and_array_batches_agree_and_seeds_reproduce(batch):
    a, b = deep_relu_mlp(depth=4), deep_relu_mlp(depth=4)
    init.lsuv(a, batch, rng=3)
    init.lsuv(b, tn.tensor(batch), rng=3)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_lsuv_through_apply_and_the_registry(batch):
    model = deep_relu_mlp(depth=6)
    init.apply(model, weight="lsuv(tol=0.02)", bias="zeros", data=batch, rng=0)
    assert np.all(np.abs(linear_output_variances(model, batch) - 1) < 0.02)
    assert model[0].weight_init == init.get("lsuv(tol=0.02)")
    # a pattern can give LSUV to some layers only
    init.apply(model, weight={"*": "he_normal", "10": "lsuv"}, data=batch, rng=0)
    assert abs(linear_output_variances(model, batch)[-1] - 1) < 0.1


def test_lsuv_spec_without_data_is_an_error_and_changes_nothing(batch):
    model = deep_relu_mlp(depth=2)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="data"):
        init.apply(model, weight="lsuv", rng=0)
    for p, old in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, old)


def test_max_iter_bounds_the_rescaling(batch):
    report = init.lsuv(deep_relu_mlp(depth=3), batch, max_iter=0, rng=0)
    assert all(r["iterations"] == 0 for r in report)
    assert not all(r["converged"] for r in report)  # orthogonal alone does not give variance 1


def test_a_dead_layer_warns_instead_of_dividing_by_zero():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
    with pytest.warns(RuntimeWarning, match="variance"):
        report = init.lsuv(model, np.zeros((8, 4)), rng=0)
    assert report[0]["variance"] == 0 and not report[0]["converged"]


def test_a_layer_outside_the_forward_path_is_reported():
    class Skips(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(3, 3)
            self.unused = nn.Linear(3, 3)

        def forward(self, x):
            return self.used(x)

    with pytest.raises(ValueError, match="'unused'"):
        init.lsuv(Skips(), np.ones((4, 3)), rng=0)


def test_bad_batches_are_rejected():
    with pytest.raises(TypeError, match="x_batch"):
        init.lsuv(deep_relu_mlp(depth=1), np.array([["a"] * WIDTH]), rng=0)


def test_lsuv_measures_in_eval_mode_and_restores_training_flags(batch):
    model = nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.Dropout(0.5), nn.ReLU(), nn.Linear(WIDTH, 8))
    model[1].eval()  # a mixed state must come back as it was
    state = tn.default_generator().bit_generator.state
    init.lsuv(model, batch, rng=0)
    assert tn.default_generator().bit_generator.state == state  # dropout drew nothing
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    model.eval()
    assert abs(linear_output_variances(model, batch)[-1] - 1) < 0.1
