"""init.apply on real models: per-parameter streams, patterns, presets, auto gains, user layers."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import tinynet as tn
from tinynet import init, nn


def mlp(sizes=(20, 30, 30, 5), activation=nn.ReLU, **linear_kwargs):
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, **linear_kwargs))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def params(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


def assert_std(sample, std, kurtosis=3.0):
    """Sample std within 6 standard errors, SE = std * sqrt((kurtosis - 1) / (4 n))."""
    x = np.asarray(sample, dtype=np.float64).ravel()
    tol = 6 * std * math.sqrt((kurtosis - 1) / (4 * x.size))
    assert abs(x.std(ddof=1) - std) <= tol, (x.std(ddof=1), std, tol)
    assert abs(x.mean()) <= 6 * std / math.sqrt(x.size)


# --------------------------------------------------------------------------- seeding and streams
def test_same_seed_gives_identical_models_whatever_their_history():
    tn.manual_seed(1)
    a = mlp()
    tn.manual_seed(2)
    b = mlp()
    assert not np.array_equal(a[0].weight.data, b[0].weight.data)
    init.apply(a, weight="he_normal", bias="normal(std=0.1)", rng=123)
    init.apply(b, weight="he_normal", bias="normal(std=0.1)", rng=123)
    pa, pb = params(a), params(b)
    assert pa.keys() == pb.keys()
    for name in pa:
        np.testing.assert_array_equal(pa[name], pb[name])
    init.apply(b, weight="he_normal", bias="normal(std=0.1)", rng=124)
    assert all(not np.array_equal(pa[k], v) for k, v in params(b).items())


def test_each_parameter_has_its_own_stream():
    model = mlp((16, 16, 16, 16))
    init.apply(model, weight="he_normal", rng=0)
    # identical shapes and schemes, but different names: different numbers
    assert not np.array_equal(model[0].weight.data, model[2].weight.data)


def test_changing_one_layers_scheme_leaves_the_others_bit_identical():
    a, b = mlp(), mlp()
    init.apply(a, weight="he_normal", bias="uniform(scale=0.1)", rng=7)
    init.apply(b, weight={"*": "he_normal", "2": "orthogonal"}, bias="uniform(scale=0.1)", rng=7)
    pa, pb = params(a), params(b)
    changed = {name for name in pa if not np.array_equal(pa[name], pb[name])}
    assert changed == {"2.weight"}
    assert b[2].weight_init == init.get("orthogonal") and a[2].weight_init == init.get("he")


def test_adding_a_layer_does_not_change_the_existing_ones():
    small, big = mlp((8, 8, 4)), mlp((8, 8, 4, 4, 3))
    init.apply(small, weight="xavier_normal", bias="normal(std=0.5)", rng=5)
    init.apply(big, weight="xavier_normal", bias="normal(std=0.5)", rng=5)
    for name, value in params(small).items():
        np.testing.assert_array_equal(value, params(big)[name])


def test_streams_are_stable_across_processes():
    code = (
        "import numpy as np, tinynet as tn\n"
        "from tinynet import nn, init\n"
        "m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))\n"
        "init.apply(m, weight='he_normal', bias='normal(std=1.0)', rng=99)\n"
        "flat = [p.data.ravel().astype(float) for p in m.parameters()]\n"
        "print(repr(np.concatenate(flat).tolist()))\n"
    )
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    init.apply(model, weight="he_normal", bias="normal(std=1.0)", rng=99)
    here = np.concatenate([p.data.ravel().astype(float) for p in model.parameters()]).tolist()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert eval(out) == here  # a list of floats printed by repr


def test_rng_none_and_generators_draw_the_base_seed():
    a, b = mlp(), mlp()
    tn.manual_seed(4)
    init.apply(a, weight="he")
    tn.manual_seed(4)
    init.apply(b, weight="he")
    np.testing.assert_array_equal(a[0].weight.data, b[0].weight.data)
    init.apply(a, weight="he", rng=np.random.default_rng(8))
    init.apply(b, weight="he", rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a[4].weight.data, b[4].weight.data)
    with pytest.raises(ValueError, match="rng"):
        init.apply(a, rng=-1)


def test_none_redraws_each_layers_own_initializers():
    model = nn.Sequential(
        nn.Linear(50, 40, weight_init="normal(std=2.0)", bias_init="ones"),
        nn.ReLU(),
        nn.Linear(40, 30, weight_init="zeros", bias_init="constant(0.5)"),
    )
    before = model[0].weight.data.copy()
    init.apply(model, rng=3)
    assert not np.array_equal(before, model[0].weight.data)
    assert np.all(model[0].bias.data == 1) and np.all(model[2].weight.data == 0)
    assert np.all(model[2].bias.data == 0.5)
    assert_std(model[0].weight.data, 2.0)


# --------------------------------------------------------------------------- patterns
def test_patterns_last_match_wins_and_unmatched_layers_keep_their_scheme():
    model = mlp((10, 12, 12, 3), weight_init="normal(std=0.5)")
    init.apply(model, weight={"*": "ones", "4": "zeros"}, rng=0)
    assert np.all(model[0].weight.data == 1) and np.all(model[4].weight.data == 0)
    init.apply(model, weight={"2": "constant(3.0)"}, rng=0)
    assert np.all(model[2].weight.data == 3)
    assert model[0].weight_init == init.get("ones")  # unmatched: its own (current) scheme
    assert np.all(model[0].weight.data == 1)
    with pytest.raises(ValueError, match="'7'") as err:
        init.apply(model, weight={"7": "he"})
    assert "'0', '2', '4'" in str(err.value)


def test_nested_names_and_bias_patterns():
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 3), nn.Tanh()), nn.Linear(3, 2))
    init.apply(model, weight="zeros", bias={"0.*": "ones", "1": "constant(2.0)"}, rng=0)
    assert np.all(model[0][0].bias.data == 1) and np.all(model[1].bias.data == 2)


def test_a_config_dict_is_a_spec_not_a_pattern_map():
    model = mlp((6, 6, 2))
    init.apply(model, weight={"name": "constant", "value": 0.25}, rng=0)
    assert np.all(model[0].weight.data == 0.25) and np.all(model[2].weight.data == 0.25)


# --------------------------------------------------------------------------- presets
def test_pytorch_preset_is_uniform_one_over_sqrt_fan_in_for_weights_and_biases():
    model = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 10))
    init.apply(model, preset="pytorch", rng=0)
    for layer, fan_in in ((model[0], 400), (model[2], 300)):
        bound = 1 / math.sqrt(fan_in)
        assert np.abs(layer.weight.data).max() <= np.float32(bound)
        assert np.abs(layer.bias.data).max() <= np.float32(bound)
    assert_std(model[0].weight.data, 1 / math.sqrt(3 * 400), kurtosis=9 / 5)
    assert np.abs(model[0].bias.data).max() > 0.5 / math.sqrt(400)  # the bias is not tiny
    assert model[0].bias_init == init.get("default")


def test_keras_and_flax_presets():
    model = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 10))
    init.apply(model, preset="keras", rng=0)
    limit = math.sqrt(6 / 700)
    assert np.abs(model[0].weight.data).max() <= np.float32(limit)
    assert_std(model[0].weight.data, limit / math.sqrt(3), kurtosis=9 / 5)
    assert np.all(model[0].bias.data == 0)
    init.apply(model, preset="flax", rng=0)
    std = 1 / math.sqrt(400)
    assert np.abs(model[0].weight.data).max() <= np.float32(2 * std / 0.87962566103423978)
    assert_std(model[0].weight.data, std)  # kurtosis 3 bounds the truncated normal's (2.36)
    assert np.all(model[2].bias.data == 0)
    assert model[0].weight_init.distribution == "truncated_normal"


def test_preset_can_be_overridden_and_unknown_preset_lists_the_valid_ones():
    model = mlp((5, 5, 2))
    init.apply(model, preset="keras", bias="ones", rng=0)
    assert np.all(model[0].bias.data == 1) and model[0].weight_init == init.get("glorot")
    with pytest.raises(ValueError, match="'pytorch', 'keras', 'flax'"):
        init.apply(model, preset="jax")


# --------------------------------------------------------------------------- auto gain
def test_auto_gain_uses_the_following_activation():
    model = nn.Sequential(
        nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 300), nn.Tanh(), nn.Linear(300, 100)
    )
    init.apply(model, weight="he_normal(gain='auto')", rng=0)
    assert_std(model[0].weight.data, math.sqrt(2) / math.sqrt(400))
    assert_std(model[2].weight.data, (5 / 3) / math.sqrt(300))
    assert_std(model[4].weight.data, 1 / math.sqrt(300))  # nothing follows: gain 1
    assert model[0].weight_init.gain == "auto"  # the declared strategy is kept


def test_sequential_resolves_auto_gain_at_construction():
    model = nn.Sequential(
        nn.Linear(400, 300, weight_init="xavier_normal(gain='auto')"),
        nn.Dropout(0.5),
        nn.LeakyReLU(0.2),
        nn.Linear(300, 200, weight_init="lecun_normal(gain='auto')"),
        nn.Linear(200, 10),
    )
    assert_std(model[0].weight.data, math.sqrt(2 / 1.04) * math.sqrt(2 / 700))
    assert_std(model[3].weight.data, 1 / math.sqrt(300))  # next module is a layer: gain 1
    assert init.resolve_auto_gain(model) == {
        "0": pytest.approx(math.sqrt(2 / 1.04)),
        "3": 1.0,
    }


def test_resolve_auto_gain_redraws_from_the_default_generator():
    tn.manual_seed(11)
    a = nn.Sequential(nn.Linear(6, 6, weight_init="he_uniform(gain='auto')"), nn.Tanh())
    tn.manual_seed(11)
    b = nn.Sequential(nn.Linear(6, 6, weight_init="he_uniform(gain='auto')"), nn.Tanh())
    np.testing.assert_array_equal(a[0].weight.data, b[0].weight.data)
    assert np.abs(a[0].weight.data).max() <= np.float32(5 / 3 * math.sqrt(3 / 6))
    assert init.resolve_auto_gain(nn.Sequential(nn.Linear(2, 2), nn.ReLU())) == {}


# --------------------------------------------------------------------------- what a layer is
class Scale(nn.Module):
    """A user-defined layer: y = x * w, declared to init through fans() only."""

    def __init__(self, n):
        super().__init__()
        self.n = n
        self.weight = nn.Parameter(np.zeros((n, n), dtype=np.float64))
        self.bias = None
        self.weight_init = init.get("zeros")

    def fans(self):
        return self.n, self.n

    def forward(self, x):
        return x @ self.weight


def test_user_layers_are_found_by_their_declaration():
    model = nn.Sequential(Scale(200), nn.ReLU(), nn.Linear(200, 3))
    init.apply(model, weight="he_normal(gain='auto')", rng=0)
    assert model[0].weight.data.dtype == np.float64  # the parameter's dtype is kept
    assert_std(model[0].weight.data, math.sqrt(2 / 200))
    assert model[0].weight_init == init.get("he_normal(gain='auto')")


def test_a_shared_layer_is_initialized_once():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    init.apply(model, weight="he", rng=0)
    reference = nn.Sequential(nn.Linear(4, 4))
    init.apply(reference, weight="he", rng=0)
    np.testing.assert_array_equal(shared.weight.data, reference[0].weight.data)


def test_models_without_layers_or_modules_are_rejected():
    with pytest.raises(ValueError, match="no layer"):
        init.apply(nn.Sequential(nn.ReLU()), weight="he")
    with pytest.raises(TypeError, match="modules"):
        init.apply(np.zeros(3), weight="he")


def test_layer_without_own_initializer_needs_a_spec():
    layer = Scale(3)
    del layer.weight_init
    with pytest.raises(TypeError, match="weight_init"):
        init.apply(layer)
    init.apply(layer, weight="ones")  # an explicit spec works
    assert np.all(layer.weight.data == 1)


# --------------------------------------------------------------------------- init knows no nn
class _Param:
    def __init__(self, shape):
        self.data = np.zeros(shape)


class _DuckLayer:
    """Not an nn.Module at all: only the protocol (fans, weight, bias, weight_init)."""

    def __init__(self):
        self.weight, self.bias = _Param((300, 200)), _Param((200,))
        self.weight_init, self.bias_init = init.get("zeros"), init.get("zeros")

    def fans(self):
        return 300, 200


class _DuckModel:
    def __init__(self):
        self.layer = _DuckLayer()

    def modules(self):
        return [self, self.layer]


def test_apply_needs_only_the_protocol_not_nn():
    model = _DuckModel()
    init.apply(model, weight="he_uniform", bias="ones", rng=0)
    assert model.layer.weight.data.dtype == np.float64
    assert np.abs(model.layer.weight.data).max() <= math.sqrt(6 / 300)
    assert_std(model.layer.weight.data, math.sqrt(2 / 300), kurtosis=9 / 5)
    assert np.all(model.layer.bias.data == 1)


def test_the_init_package_never_imports_nn():
    import ast
    import pathlib

    package = pathlib.Path(init.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                names = [alias.name for alias in node.names]
                assert not module.endswith("nn") and "nn" not in names, (path.name, module)
            elif isinstance(node, ast.Import):
                assert all("nn" not in alias.name.split(".") for alias in node.names), path.name
