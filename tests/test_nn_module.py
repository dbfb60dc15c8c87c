"""Module system: registration, traversal order, modes, state dicts, hooks, repr, Sequential."""

import copy

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.head = nn.Linear(3, 2, bias=False)

    def forward(self, x):
        return self.head(self.encoder(x) * self.scale)


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same_state(model, before):
    after = model.state_dict()
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


# ----------------------------------------------------------------------------- Parameter
def test_parameter_requires_grad_and_keeps_array():
    a = np.zeros((2, 3), dtype=np.float64)
    p = nn.Parameter(a)
    assert p.requires_grad and p.data is a and p.dtype == np.float64
    assert isinstance(p, tn.Tensor)
    assert nn.Parameter(tn.tensor([1.0, 2.0])).dtype == tn.get_default_dtype()
    assert nn.Parameter([1, 2]).dtype == np.float32
    p.data = np.ones((2, 3))
    assert p.data.sum() == 6
    assert "Parameter containing" in repr(p)


def test_parameter_rejects_integer_arrays():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


# ------------------------------------------------------------------ registration and traversal
def test_named_parameters_are_dotted_in_registration_order():
    model = Block()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "scale",
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.2.weight",
        "encoder.2.bias",
        "head.weight",
    ]
    assert [p.shape for p in model.parameters()] == [(3,), (4, 5), (5,), (5, 3), (3,), (3, 2)]
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_modules_is_self_first_then_depth_first():
    model = Block()
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "encoder", "encoder.0", "encoder.1", "encoder.2", "head"]
    mods = list(model.modules())
    assert mods[0] is model and mods[1] is model.encoder and mods[2] is model.encoder[0]
    assert list(model.children()) == [model.encoder, model.head]
    assert [n for n, _ in model.named_children()] == ["encoder", "head"]


def test_shared_parameter_listed_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3  # Sequential, Linear (once), ReLU


def test_bias_false_registers_empty_slot():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert list(layer.state_dict()) == ["weight"]


def test_assigning_a_non_parameter_to_a_parameter_slot_raises():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"Linear.weight is a parameter.*\.data"):
        layer.weight = np.zeros((3, 2))
    assert isinstance(layer.weight, nn.Parameter)


def test_registering_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2, dtype=np.float32))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_reassigning_and_deleting_updates_the_registry():
    model = Block()
    model.head = nn.Linear(3, 7)
    assert [n for n, _ in model.named_parameters()][-2:] == ["head.weight", "head.bias"]
    del model.scale
    assert "scale" not in dict(model.named_parameters())
    with pytest.raises(AttributeError):
        _ = model.scale


def test_deepcopy_gives_an_independent_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    clone = copy.deepcopy(model)
    assert clone[0].weight is not model[0].weight
    assert dict(clone.named_parameters())["0.weight"] is clone[0].weight
    clone[0].weight.data += 1.0
    clone(np.ones((2, 3)))
    assert np.all(model[0].weight.data != clone[0].weight.data)
    np.testing.assert_array_equal(model[1].running_mean, np.zeros(4))


def test_train_eval_apply_to_whole_tree():
    model = Block()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_apply_visits_children_before_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Tanh()))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]


def test_zero_grad_clears_every_parameter():
    model = Block()
    model(np.ones((2, 4))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ----------------------------------------------------------------------------- hooks
def test_forward_hook_sees_module_inputs_output_and_can_be_removed():
    layer = nn.Linear(3, 2)
    calls = []
    handle = layer.register_forward_hook(lambda m, inp, out: calls.append((m, inp, out)))
    x = tn.tensor(np.ones((4, 3), dtype=np.float32))
    y = layer(x)
    assert len(calls) == 1
    module, inputs, output = calls[0]
    assert module is layer and inputs[0] is x and output is y
    handle.remove()
    layer(x)
    assert len(calls) == 1
    handle.remove()  # a second remove is harmless


def test_forward_hook_can_replace_output_and_pre_hook_inputs():
    layer = nn.Identity()
    with layer.register_forward_hook(lambda m, inp, out: out * 2):
        assert layer(tn.tensor([1.0])).item() == 2.0
    assert layer(tn.tensor([1.0])).item() == 1.0
    handle = layer.register_forward_pre_hook(lambda m, inp: (inp[0] + 1,))
    assert layer(tn.tensor([1.0])).item() == 2.0
    handle.remove()
    with pytest.raises(TypeError, match="callable"):
        layer.register_forward_hook(3)


# ----------------------------------------------------------------------------- state dicts
def test_state_dict_holds_copies_of_parameters_and_buffers_in_order():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    state = model.state_dict()
    assert list(state) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    state["0.weight"][...] = 123.0
    assert not np.any(model[0].weight.data == 123.0)
    assert state["1.running_var"].dtype == np.float32


def test_load_state_dict_round_trip():
    tn.manual_seed(1)
    source = Block()
    tn.manual_seed(2)
    target = Block()
    assert not np.array_equal(source.head.weight.data, target.head.weight.data)
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert_same_state(target, source.state_dict())
    x = np.ones((2, 4), dtype=np.float32)
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_load_state_dict_converts_dtype():
    layer = nn.Linear(2, 2)
    state = {k: v.astype(np.float64) + 1 for k, v in layer.state_dict().items()}
    layer.load_state_dict(state)
    assert layer.weight.dtype == np.float32
    np.testing.assert_allclose(layer.weight.data, state["weight"].astype(np.float32))


def test_load_state_dict_errors_name_every_bad_key_and_change_nothing():
    model = Block()
    before = snapshot(model)
    bad = snapshot(model)
    del bad["encoder.0.bias"]
    bad["encoder.9.weight"] = np.zeros(3)
    bad["head.weight"] = np.zeros((2, 3), dtype=np.float32)
    bad["scale"] = before["scale"] + 5.0  # valid on its own: must still not be loaded
    with pytest.raises(ValueError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "missing keys: encoder.0.bias" in message
    assert "unexpected keys: encoder.9.weight" in message
    assert "head.weight" in message and "(2, 3)" in message and "(3, 2)" in message
    assert_same_state(model, before)


def test_load_state_dict_unknown_key_alone_raises_and_changes_nothing():
    model = nn.Sequential(nn.Linear(3, 2))
    before = snapshot(model)
    bad = {k: v + 1 for k, v in before.items()}
    bad["extra"] = np.zeros(1)
    with pytest.raises(ValueError, match="unexpected keys: extra"):
        model.load_state_dict(bad)
    assert_same_state(model, before)


def test_load_state_dict_non_strict_reports_skipped_keys():
    model = nn.Sequential(nn.Linear(3, 2))
    state = {"0.weight": np.full((3, 2), 0.5), "other": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["other"]
    assert np.all(model[0].weight.data == 0.5)
    with pytest.raises(ValueError, match=r"shape mismatch for 0\.weight"):
        model.load_state_dict({"0.weight": np.zeros((2, 3))}, strict=False)


def test_load_state_dict_rejects_non_numeric_values():
    model = nn.Linear(1, 1)
    before = snapshot(model)
    with pytest.raises(TypeError, match="numeric"):
        model.load_state_dict({"weight": np.array([["a"]]), "bias": np.zeros(1)})
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([1, 2])
    assert_same_state(model, before)


# ----------------------------------------------------------------------------- repr
def test_repr_prints_tree_with_shapes():
    text = repr(Block())
    assert text.startswith("Block(")
    assert "(encoder): Sequential(" in text
    assert "    (0): Linear(in_features=4, out_features=5" in text
    assert "weight (4, 5), bias (5,)" in text
    assert "scale (3,)" in text.splitlines()[0]
    assert "(1): ReLU()" in text
    assert "(head): Linear(in_features=3, out_features=2, bias=False" in text


# ----------------------------------------------------------------------------- Sequential
def test_sequential_index_slice_iter_len():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert [n for n, _ in tail.named_parameters()] == ["2.weight", "2.bias"]
    x = np.ones((5, 2), dtype=np.float32)
    np.testing.assert_array_equal(seq(x).data, tail(a(x)).data)
    with pytest.raises(IndexError, match="out of range for 3"):
        seq[3]
    with pytest.raises(TypeError, match="ints or slices"):
        seq["0"]
    with pytest.raises(TypeError, match="must be a Module"):
        nn.Sequential(a, np.ones(2))


def test_sequential_slicing_does_not_reinitialize():
    seq = nn.Sequential(nn.Linear(3, 3, weight_init="he_normal(gain='auto')"), nn.ReLU())
    before = seq[0].weight.data.copy()
    part = seq[:1]
    np.testing.assert_array_equal(part[0].weight.data, before)
    assert part[0] is seq[0]


def test_sequential_from_mapping_setitem_append_delitem():
    seq = nn.Sequential({"fc": nn.Linear(2, 2), "act": nn.Tanh()})
    assert [n for n, _ in seq.named_children()] == ["fc", "act"]
    seq[1] = nn.ReLU()
    assert isinstance(seq.act, nn.ReLU)
    seq.append(nn.Sigmoid())
    assert isinstance(seq[-1], nn.Sigmoid) and len(seq) == 3
    del seq[0]
    assert [type(m).__name__ for m in seq] == ["ReLU", "Sigmoid"]


def test_sequential_resolves_auto_gain_from_following_activation():
    # lecun_normal with gain g has std g / sqrt(fan_in); 6 standard errors of a sample std.
    n_in, n_out = 500, 400
    n = n_in * n_out
    alone = nn.Linear(n_in, n_out, weight_init="lecun_normal(gain='auto')")
    seq = nn.Sequential(nn.Linear(n_in, n_out, weight_init="lecun_normal(gain='auto')"), nn.Tanh())
    for layer, gain in [(alone, 1.0), (seq[0], 5.0 / 3.0)]:
        expected = gain / np.sqrt(n_in)
        tol = 6 * expected / np.sqrt(2 * n)
        assert abs(layer.weight.data.std() - expected) < tol


# ----------------------------------------------------------------------------- fusion in Sequential
def _mlp(dtype, seed=0):
    rng = np.random.default_rng(seed)
    layers = [nn.Linear(6, 5, dtype=dtype, rng=rng), nn.ReLU(), nn.Linear(5, 4, dtype=dtype, rng=rng),
              nn.ReLU(), nn.Linear(4, 3, dtype=dtype, rng=rng, bias=False)]  # fmt: skip
    for layer in layers[::2]:
        if layer.bias is not None:
            layer.bias.data = rng.standard_normal(layer.bias.shape).astype(dtype)
    return nn.Sequential(*layers)


def _forward_backward(model, x):
    model.zero_grad()
    out = model(tn.tensor(x))
    ops = _ops(out)
    (out * out).sum().backward()
    return out, ops, [p.grad.copy() for p in model.parameters()]


def _ops(out):
    """The op names from the output back to the input, following first inputs."""
    names, node = [], out._node
    while node is not None:
        names.append(node.fn.__name__)
        node = node.inputs[0]._node
    return names


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_linear_relu_gives_the_bits_of_the_modules_run_one_by_one(dtype):
    x = np.random.default_rng(1).standard_normal((7, 6)).astype(dtype)
    fused = _mlp(dtype)
    plain = _mlp(dtype)
    plain.fuse = False
    out_f, ops_f, grads_f = _forward_backward(fused, x)
    out_p, ops_p, grads_p = _forward_backward(plain, x)
    assert ops_f == ["Linear", "LinearRelu", "LinearRelu"]
    assert ops_p == ["Linear", "Relu", "Linear", "Relu", "Linear"]
    np.testing.assert_array_equal(out_f.data, out_p.data)
    assert (out_f.data != 0).any()
    for g_f, g_p in zip(grads_f, grads_p, strict=True):
        np.testing.assert_array_equal(g_f, g_p)
        assert g_f.dtype == dtype


def test_a_hooked_module_is_never_fused_and_its_hook_sees_its_own_output():
    model = _mlp(np.float64)
    seen = []
    model[1].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].data.min()))
    out = model(tn.tensor(np.random.default_rng(2).standard_normal((5, 6))))
    assert _ops(out) == ["Linear", "LinearRelu", "Relu", "Linear"]
    assert seen and seen[0] < 0  # the hook got the pre-activation, negatives included


def test_a_subclass_with_its_own_forward_is_not_fused():
    class Doubled(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    model = nn.Sequential(Doubled(3, 2, rng=0), nn.ReLU())
    out = model(tn.tensor(np.ones((1, 3), dtype=np.float32)))
    assert out._node.fn.__name__ == "Relu"
