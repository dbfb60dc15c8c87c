"""The Monitor on small networks whose answers can be worked out by hand."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn
from tinynet.diagnostics import Monitor
from tinynet.nn import functional as F


def _set(layer: nn.Linear, weight, bias=None) -> nn.Linear:
    layer.weight.data = np.asarray(weight, dtype=np.float64)
    if bias is not None:
        layer.bias.data = np.asarray(bias, dtype=np.float64)
    else:
        layer.bias.data = np.zeros(layer.out_features)
    return layer


def _sum_loss(output, target):
    """dL/d(output) = 1 everywhere: gradients become sums that are easy to check by hand."""
    return output.sum()


def _saturating_net() -> nn.Sequential:
    """Linear(4, 6) with 3 distinct units (each duplicated), tanh, Linear(6, 3)."""
    tn.set_default_dtype(np.float64)
    big, small, big2 = [10.0, 0, 0, 0], [0, 0.01, 0, 0], [0, 0, 10.0, 0]
    first = _set(nn.Linear(4, 6), np.array([big, big, small, small, big2, big2]).T)
    last = _set(nn.Linear(6, 3), np.arange(18.0).reshape(6, 3) / 10)
    return nn.Sequential(first, nn.Tanh(), last)


PROBE = np.array([[1.0, 1.0, 1.0, 1.0], [-1.0, 1.0, -1.0, 1.0]])


def test_monitor_on_a_hand_built_saturated_layer():
    model = _saturating_net()
    monitor = Monitor(model, PROBE, np.array([0, 2]))
    record = monitor.history[0]
    assert record["step"] == 0
    tanh = next(m for m in record["modules"] if m["kind"] == "tanh")
    # units 0, 1, 4, 5 see ±10 -> |tanh| > 0.97; units 2, 3 see ±0.01
    assert tanh["saturated"] == pytest.approx(4 / 6)
    assert tanh["layer"] == 1
    pre = next(m for m in record["modules"] if m["role"] == "layer" and m["layer"] == 1)
    expected_pre = PROBE @ model[0].weight.data
    assert pre["std"] == pytest.approx(expected_pre.std())
    assert pre["mean"] == pytest.approx(expected_pre.mean())
    first = record["layers"][0]
    assert (first["distinct_units"], first["units"], first["rank"]) == (3, 6, 3)
    assert first["max_cosine"] == 1.0
    assert first["activation"] == "tanh"
    assert record["layers"][1]["distinct_units"] == 3
    messages = monitor.findings()
    assert any("67% of tanh units saturated" in m for m in messages), messages


def test_activations_are_recognised_by_declaration_not_by_class_name():
    """Each built-in records its declared name as kind; a subclass of a built-in inherits what it
    declares (a tanh subclass still has its saturation measured) under its own name."""

    class MyTanh(nn.Tanh):
        pass

    tn.set_default_dtype(np.float64)
    acts = [nn.Tanh(), MyTanh(), nn.Sigmoid(), nn.LeakyReLU(0.1), nn.ReLU(), nn.SELU(), nn.Identity()]
    layers = []
    for act in acts:
        layers += [nn.Linear(3, 3), act]
    monitor = Monitor(nn.Sequential(*layers), np.ones((4, 3)), np.zeros(4, dtype=int))
    rows = [m for m in monitor.history[0]["modules"] if m["role"] == "activation"]
    assert [m["kind"] for m in rows] == [
        "tanh", "mytanh", "sigmoid", "leaky_relu", "relu", "selu", "identity"
    ]  # fmt: skip
    assert [m["saturated"] is not None for m in rows] == [True, True, True, False, False, False, False]
    # only ReLU can die: LeakyReLU and SELU units with negative inputs still pass gradient
    assert [m["dead"] is not None for m in rows] == [False, False, False, False, True, False, False]
    assert [m["layer"] for m in rows] == list(range(1, 8))
    assert {m["kind"] for m in monitor.history[0]["modules"] if m["role"] == "layer"} == {"linear"}


def test_a_user_activation_that_saturates_gets_its_saturated_share_measured():
    tn.set_default_dtype(np.float64)

    class HardTanh(nn.Activation):
        saturates = True
        display_name = "hard-tanh"
        output_range = (-1.0, 1.0)
        saturation_rule = "|a| = 1"

        def forward(self, x):  # clip to [-1, 1], composed from relu: phi' = 0 for |h| > 1
            return (x + 1.0).relu() - (x - 1.0).relu() - 1.0

    # units see 5, -5, 0.5, 0.5 on every example: two of the four are clipped
    first = _set(nn.Linear(1, 4), [[5.0, -5.0, 0.5, 0.5]])
    model = nn.Sequential(first, HardTanh(), _set(nn.Linear(4, 2), np.ones((4, 2))))
    monitor = Monitor(model, np.ones((3, 1)), np.array([0, 1, 0]))
    act = next(m for m in monitor.history[0]["modules"] if m["role"] == "activation")
    assert act["kind"] == "hardtanh" and act["type"] == "HardTanh"
    assert act["saturated"] == 0.5
    # can_die is not declared: derived from phi' (0 on whole intervals), so the clipped units,
    # which pass no gradient on any example, are also counted dead
    assert act["dead"] == 0.5
    values = monitor.histograms[0][act["name"]]["values"]
    assert values["edges"][0] == -1.0 and values["edges"][-1] == 1.0  # its declared output range
    messages = monitor.findings()
    assert any(m.startswith("50% of hard-tanh units saturated (|a| = 1) — layer 1")
               for m in messages), messages  # fmt: skip
    assert " hard-tanh " in monitor.table().splitlines()[2]


def test_a_user_activation_that_can_die_gets_dead_units_counted():
    tn.set_default_dtype(np.float64)

    class Step(nn.Activation):
        can_die = True

        def forward(self, x):
            return x.relu()

    # biases -100, -100, +100, +100: units 0 and 1 never fire on this probe
    layer = _set(nn.Linear(2, 4), np.ones((2, 4)), [-100.0, -100.0, 100.0, 100.0])
    model = nn.Sequential(layer, Step(), _set(nn.Linear(4, 2), np.ones((4, 2))))
    monitor = Monitor(model, np.ones((3, 2)), np.array([0, 1, 0]))
    act = next(m for m in monitor.history[0]["modules"] if m["kind"] == "step")
    assert act["dead"] == 0.5
    assert act["saturated"] is None
    assert any("50% of Step units are dead" in m for m in monitor.findings())

    class Quiet(nn.Activation):  # declares nothing: can_die is derived from its derivative
        def forward(self, x):
            return x.relu()

    layer = _set(nn.Linear(2, 4), np.ones((2, 4)), [-100.0, -100.0, 100.0, 100.0])
    model = nn.Sequential(layer, Quiet(), _set(nn.Linear(4, 2), np.ones((4, 2))))
    act = next(m for m in Monitor(model, np.ones((3, 2))).history[0]["modules"] if m["kind"] == "quiet")
    assert act["dead"] == 0.5 and act["saturated"] is None


def test_monitor_gradients_by_hand():
    """Two 1-unit layers, identity activation, loss = sum(output): every gradient is a product."""
    tn.set_default_dtype(np.float64)
    a, b = 2.0, 1e-4
    model = nn.Sequential(_set(nn.Linear(1, 1), [[a]]), nn.Identity(), _set(nn.Linear(1, 1), [[b]]))
    x = np.array([[1.0], [3.0]])
    monitor = Monitor(model, x, np.zeros(2), loss=_sum_loss)
    record = monitor.history[0]
    first, last = record["layers"]
    # dL/dW1 = sum_i x_i * b ; dL/dW2 = sum_i x_i * a ; dL/d(out1) = b per example
    assert first["weight_grad_norm"] == pytest.approx(4.0 * b)
    assert last["weight_grad_norm"] == pytest.approx(4.0 * a)
    assert record["weight_grad_ratio"] == pytest.approx(b / a)
    layer_rows = [m for m in record["modules"] if m["role"] == "layer"]
    assert layer_rows[0]["grad_std"] == pytest.approx(0.0)  # constant b for every example
    assert first["out_grad_std"] == pytest.approx(0.0) and last["out_grad_std"] == pytest.approx(0.0)
    # the first layer is the last hidden one and its signal has no spread: no gradient flow figure
    assert record["gradient_flow"] is None
    assert not any(m.startswith("gradients vanish") for m in monitor.findings())


def _half_square_loss(output, target):
    """L = sum(output**2) / 2, so dL/d(output) = output: a back-propagated signal that varies."""
    return (output * output).sum() * 0.5


def test_gradient_flow_and_weight_gradient_ratio_by_hand():
    """Three 1-unit layers a, b, c with identity activations and L = sum(out3**2)/2: dL/d out3 = abc x,
    dL/d out2 = ab c**2 x, dL/d out1 = a b**2 c**2 x. The signal ratio (layer 1 / layer 2, the last
    hidden) is b; the weight-gradient ratio ||dL/dW1|| / ||dL/dW3|| = (a b² c² Σx²)/(a² b² c Σx²)
    = c / a is blind to b: the input x·a of W2 and W3 and the signal cancel."""
    tn.set_default_dtype(np.float64)
    a, b, c = 2.0, 1e-4, 4.0
    layers = [_set(nn.Linear(1, 1), [[w]]) for w in (a, b, c)]
    model = nn.Sequential(layers[0], nn.Identity(), layers[1], nn.Identity(), layers[2])
    x = np.array([[1.0], [3.0]])  # std(x) = 1
    monitor = Monitor(model, x, np.zeros(2), loss=_half_square_loss)
    record = monitor.history[0]
    rows = record["layers"]
    assert [r["out_grad_std"] for r in rows] == pytest.approx([a * b * b * c * c, a * b * c * c, a * b * c])
    assert [r["weight_grad_norm"] for r in rows] == pytest.approx(
        [10 * a * b * b * c * c, 10 * a * a * b * c * c, 10 * a * a * b * b * c]
    )
    assert record["gradient_flow"] == pytest.approx(b)
    assert record["weight_grad_ratio"] == pytest.approx(c / a)  # 2: looks fine, but the signal fell 10⁴×
    assert record["logit_std"] == pytest.approx(a * b * c)
    layer_rows = [m for m in record["modules"] if m["role"] == "layer"]
    assert [m["grad_std"] for m in layer_rows] == [r["out_grad_std"] for r in rows]
    vanishing = [f for f in monitor.findings() if "vanish" in f]
    assert vanishing == [
        "gradients vanish toward the input: the back-propagated signal (∇pre std) falls 10⁴× "
        "from layer 2 (last hidden) to layer 1"
    ]


def test_monitor_grad_data_ratio():
    tn.set_default_dtype(np.float64)
    rng = np.random.default_rng(4)
    w = rng.standard_normal((3, 4))
    model = nn.Sequential(_set(nn.Linear(3, 4), w))
    x = rng.standard_normal((5, 3))
    record = Monitor(model, x, np.zeros(5), loss=_sum_loss).history[0]
    g = np.repeat(x.sum(axis=0)[:, None], 4, axis=1)  # dL/dW = x^T @ ones
    row = record["layers"][0]
    assert row["weight_grad_norm"] == pytest.approx(np.linalg.norm(g))
    assert row["weight_grad_std"] == pytest.approx(g.std())
    assert row["grad_data"] == pytest.approx(g.std() / w.std())


def test_symmetry_finding_for_zero_weights():
    model = nn.Sequential(
        nn.Linear(5, 8, weight_init="zeros"), nn.ReLU(), nn.Linear(8, 3, weight_init="zeros")
    )
    x = np.random.default_rng(5).standard_normal((16, 5)).astype(np.float32)
    monitor = Monitor(model, x, np.arange(16) % 3)
    record = monitor.history[0]
    assert [row["distinct_units"] for row in record["layers"]] == [1, 1]
    messages = monitor.findings()
    assert "layer 1: 1 distinct unit of 8 — every hidden unit is identical (symmetry)" in messages
    assert "every weight gradient is exactly 0 — only the biases can learn" in messages
    assert any(m.startswith("initial loss 1.1 ≈ ln(3)") for m in messages), messages


def test_dead_relu_units():
    tn.set_default_dtype(np.float64)
    # units 0 and 1 get bias -100 (never fire on this probe), units 2 and 3 bias +100
    layer = _set(nn.Linear(2, 4), np.ones((2, 4)), [-100.0, -100.0, 100.0, 100.0])
    model = nn.Sequential(layer, nn.ReLU(), _set(nn.Linear(4, 2), np.ones((4, 2))))
    monitor = Monitor(model, np.ones((3, 2)), np.array([0, 1, 0]))
    relu = next(m for m in monitor.history[0]["modules"] if m["kind"] == "relu")
    assert relu["dead"] == 0.5
    assert any("50% of ReLU units are dead" in m for m in monitor.findings())


def test_initial_loss_far_above_ln_c_is_named():
    tn.set_default_dtype(np.float64)
    model = nn.Sequential(_set(nn.Linear(2, 2), [[100.0, -100.0], [0.0, 0.0]]))
    monitor = Monitor(model, np.array([[1.0, 0.0]]), np.array([1]))
    assert monitor.history[0]["loss"] == pytest.approx(200.0)
    assert any("network starts confidently wrong" in m for m in monitor.findings())


def test_probe_leaves_grads_and_mode_untouched():
    model = _saturating_net()
    marker = [np.full(p.shape, 7.0) for p in model.parameters()]
    for p, m in zip(model.parameters(), marker, strict=True):
        p.grad = m
    model.train()
    Monitor(model, PROBE, np.array([0, 1]))
    assert model.training
    for p, m in zip(model.parameters(), marker, strict=True):
        assert p.grad is m and np.all(m == 7.0)


def test_on_step_records_update_ratios_and_every_k_steps():
    tn.set_default_dtype(np.float64)
    rng = np.random.default_rng(6)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    monitor = Monitor(model, rng.standard_normal((8, 3)), rng.integers(0, 2, 8), every=2)
    before = model[0].weight.data.copy()
    delta = 1e-3 * rng.standard_normal(before.shape)
    model[0].weight.data = before + delta
    assert monitor.on_step() is None  # step 1: no record
    name = "0.weight"
    assert monitor.updates[name][0][0] == 1
    expected = math.log10(delta.std() / (before + delta).std())
    assert monitor.updates[name][0][1] == pytest.approx(expected)
    assert monitor.updates["2.weight"][0][1] is None  # that weight did not move
    record = monitor.on_step()
    assert record is not None and record["step"] == 2
    assert [r["step"] for r in monitor.history] == [0, 2]
    assert record["layers"][0]["update_data"] is None  # step 2 changed nothing


def test_remove_unhooks_the_model():
    model = _saturating_net()
    monitor = Monitor(model, PROBE, np.array([0, 1]))
    monitor.remove()
    record = monitor.record(5)
    assert all(m["std"] is None for m in record["modules"])  # nothing captured any more


def test_table_json_and_report():
    model = _saturating_net()
    monitor = Monitor(model, PROBE, np.array([0, 1]))
    lines = monitor.table().splitlines()
    assert lines[0].split()[:3] == ["layer", "module", "in→out"]
    assert len(lines) == 2 + 2 + 1  # header, rule, 2 layers, summary
    assert "4→6" in lines[2] and "tanh" in lines[2] and "3/6" in lines[2]
    data = json.loads(monitor.to_json())
    assert data["history"][0]["layers"][0]["distinct_units"] == 3
    assert data["findings"]["first"] == monitor.findings("first")
    report = monitor.report()
    assert "Findings at initialization:" in report


def test_to_json_writes_file_and_has_no_nan(tmp_path):
    tn.set_default_dtype(np.float64)
    model = nn.Sequential(_set(nn.Linear(2, 1), [[1.0], [2.0]]))  # one unit: max cosine is nan
    monitor = Monitor(model, np.ones((2, 2)), np.zeros(2), loss=_sum_loss)
    path = tmp_path / "monitor.json"
    text = monitor.to_json(path, histograms=True)
    assert "NaN" not in text
    loaded = json.loads(path.read_text())
    assert loaded["history"][0]["layers"][0]["max_cosine"] is None
    assert "0" in loaded["histograms"]


def test_to_json_file_has_ordinary_permissions_and_round_trips(tmp_path):
    """The file gets ``0o666 & ~umask`` like any file the process creates (not mkstemp's 0600),
    and nothing but it is left in the folder."""
    umask = os.umask(0)  # the one way to read the umask is to set it; put it back at once
    os.umask(umask)
    model = _saturating_net()
    monitor = Monitor(model, PROBE, np.array([0, 1]), every=1)
    monitor.on_step()
    path = tmp_path / "monitor.json"
    text = monitor.to_json(path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert path.read_text(encoding="utf-8") == text
    assert json.loads(text) == monitor.to_dict()
    assert [r["step"] for r in json.loads(text)["history"]] == [0, 1]
    assert [p.name for p in tmp_path.iterdir()] == ["monitor.json"]


def test_without_targets_no_gradient_figures():
    model = _saturating_net()
    record = Monitor(model, PROBE).history[0]
    assert record["loss"] is None and record["gradient_flow"] is None
    assert all(row["weight_grad_norm"] is None for row in record["layers"])
    assert record["layers"][0]["distinct_units"] == 3  # weight figures need no gradient


def test_healthy_network_says_so():
    """Small output weights start at ln C; He with a xavier output layer starts 54% above it (before
    the 5% rule this network was called healthy)."""
    x = np.random.default_rng(7).standard_normal((64, 20)).astype(np.float32)
    small = nn.Sequential(
        nn.Linear(20, 32, weight_init="he"), nn.ReLU(), nn.Linear(32, 4, weight_init="normal(std=0.01)")
    )
    monitor = Monitor(small, x, np.arange(64) % 4)
    assert monitor.findings()[-1].startswith("no symmetry, saturation, dead units")
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32, weight_init="he"), nn.ReLU(), nn.Linear(32, 4))
    monitor = Monitor(model, x, np.arange(64) % 4)
    record = monitor.history[0]
    assert record["loss"] == pytest.approx(2.132, abs=1e-3)
    assert monitor.findings() == [
        "initial loss 2.13 is 54% above ln(4) = 1.39 (uniform guessing): the logits start large "
        f"(std {record['logit_std']:.3g} on the probe)"
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"every": -1}, "every must be an int >= 0"),
        ({"bins": 0}, "bins must be an int >= 1"),
        ({"tol": -1e-3}, "tol must be a finite number >= 0"),
        ({"probe": np.zeros((0, 4))}, "probe must be a non-empty batch"),
        ({"targets": np.zeros(5)}, "targets must have one entry per probe example"),
    ],
)
def test_monitor_bad_arguments(kwargs, match):
    args = {"probe": PROBE, **kwargs}
    with pytest.raises(ValueError, match=match):
        Monitor(_saturating_net(), **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"every": "3"}, "Monitor: every must be an int >= 0, got '3'"),
        ({"every": True}, "Monitor: every must be an int >= 0, got True"),
        ({"bins": 2.5}, "Monitor: bins must be an int >= 1, got 2.5"),
        ({"tol": "small"}, "Monitor: tol must be a finite number >= 0, got 'small'"),
    ],
)
def test_monitor_arguments_of_the_wrong_type(kwargs, match):
    with pytest.raises(TypeError, match=match):
        Monitor(_saturating_net(), PROBE, **kwargs)


def test_monitor_needs_something_to_observe():
    with pytest.raises(ValueError, match="has no layer"):
        Monitor(nn.Sequential(nn.Flatten()), PROBE)


def test_select_unknown_step():
    monitor = Monitor(_saturating_net(), PROBE)
    with pytest.raises(ValueError, match="no record at step 99"):
        monitor.select(99)


def test_report_before_any_record_says_so():
    monitor = Monitor(_saturating_net(), PROBE, record_init=False)
    with pytest.raises(ValueError, match="nothing recorded yet"):
        monitor.report()


def test_histograms_of_a_float32_layer_constant_up_to_rounding():
    """Outputs one float32 ulp apart: numpy cannot cut that range into 50 float32 bins, so the
    Monitor bins in float64 (and centres a too-narrow range), recording every value."""
    layer = nn.Linear(1, 1, weight_init="ones", dtype=np.float32)
    one = np.float32(1.0)
    probe = np.array([[one], [np.nextafter(one, np.float32(2))]], dtype=np.float32)
    monitor = Monitor(nn.Sequential(layer), probe, bins=50)
    values = monitor.histograms[0][monitor.history[0]["modules"][0]["name"]]["values"]
    assert sum(values["counts"]) == 2 and len(values["edges"]) == 51
    assert values["edges"][0] <= 1.0 < values["edges"][-1]


# --------------------------------------------------------------- gradient flow on a deep ReLU MLP
def _relu_mlp(spec: str, depth: int = 6, width: int = 128, n_in: int = 784) -> nn.Sequential:
    """depth hidden ReLU layers of ``width`` and a 10-way output layer, weights ``spec``, zero biases."""
    layers, fan_in = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width, weight_init=spec), nn.ReLU()]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, 10, weight_init=spec))


def _signal_ratio_by_hand(model: nn.Sequential, x: np.ndarray, y: np.ndarray) -> float:
    """std(dL/d out_1) / std(dL/d out_6) from tensor gradients (retain_grad on each Linear output)."""
    h, outs = tn.tensor(x), []
    for module in model:
        h = module(h)
        if isinstance(module, nn.Linear):
            h.retain_grad()
            outs.append(h)
    F.cross_entropy(h, y).backward()
    for p in model.parameters():
        p.grad = None
    return float(outs[0].grad.std() / outs[-2].grad.std())


GAUSSIAN = np.random.default_rng(12).standard_normal((256, 784))  # unit-variance inputs like digits
LABELS = np.random.default_rng(13).integers(0, 10, 256)


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [("normal(std=0.01)", 0.0, 1e-3), ("he", 0.3, 3.0), ("xavier", 0.0, 0.5)],
)
def test_gradient_flow_of_a_6x128_relu_mlp_sees_vanishing(spec, low, high):
    """The acceptance figures of issue 12: the back-propagated signal ratio separates the schemes
    (normal(0.01) 3e-6, He ~1, Xavier ~0.16), while the old weight-gradient ratio puts all three
    within [0.3, 3]: forward and backward decay cancel in a weight gradient."""
    tn.set_default_dtype(np.float64)
    model = _relu_mlp(spec)
    assert all(np.all(layer.bias.data == 0) for layer in model if isinstance(layer, nn.Linear))
    record = Monitor(model, GAUSSIAN, LABELS).history[0]
    flow = record["gradient_flow"]
    assert low < flow < high
    assert flow == pytest.approx(_signal_ratio_by_hand(model, GAUSSIAN, LABELS), rel=1e-10)
    assert 0.3 <= record["weight_grad_ratio"] <= 3.0  # blind to what gradient_flow shows
    rows = record["layers"]
    assert flow == pytest.approx(rows[0]["out_grad_std"] / rows[-2]["out_grad_std"], rel=1e-12)
    vanishing = [m for m in Monitor(model, GAUSSIAN, LABELS).findings() if m.startswith("gradients vanish")]
    assert bool(vanishing) is (spec == "normal(std=0.01)")


def test_vanishing_finding_names_the_layer_where_the_signal_has_fallen_tenfold():
    tn.set_default_dtype(np.float64)
    monitor = Monitor(_relu_mlp("normal(std=0.01)"), GAUSSIAN, LABELS)
    rows = monitor.history[0]["layers"]
    # each layer multiplies the signal by about 0.01 * sqrt(128 / 2) = 0.08 on its way back
    k = max(r["layer"] for r in rows[:-2] if r["out_grad_std"] * 10 < rows[-2]["out_grad_std"])
    assert k == 5
    (message,) = [m for m in monitor.findings() if m.startswith("gradients vanish")]
    assert message.startswith("gradients vanish toward the input: the back-propagated signal (∇pre std)")
    assert message.endswith("from layer 6 (last hidden) to layer 1, 10× already by layer 5")


def test_gradient_flow_needs_two_weight_layers_and_targets():
    tn.set_default_dtype(np.float64)
    one = Monitor(nn.Sequential(nn.Linear(4, 3)), np.ones((2, 4)), np.array([0, 1])).history[0]
    assert one["gradient_flow"] is None and one["weight_grad_ratio"] is None
    assert one["layers"][0]["out_grad_std"] is not None
    free = Monitor(_relu_mlp("he", depth=2, width=8, n_in=5), np.ones((3, 5))).history[0]
    assert free["gradient_flow"] is None and free["weight_grad_ratio"] is None
    assert all(row["out_grad_std"] is None for row in free["layers"])
    assert free["logit_std"] is not None  # the forward pass needs no targets


# ------------------------------------------------------------ dead and saturated by the derivative
def test_a_user_activation_gets_dead_and_saturated_figures_from_its_derivative():
    """Not a subclass of a built-in, declaring nothing: Softsign (phi' = 1/(1+|h|)², below 6% of its
    maximum for |h| > 3.11) gets a saturated share; Floor (phi' = 0 for h <= 1) a dead share."""
    tn.set_default_dtype(np.float64)

    class Softsign(nn.Activation):
        def forward(self, x):
            return x / (1.0 + x.abs())

    class Floor(nn.Activation):
        def forward(self, x):
            return (x - 1.0).relu()

    # pre-activations of the four units, the same on the 3 examples: 10, -10, 0.5, 1
    weights, bias = np.array([[10.0, -10.0, 0.5, 2.0]]), [0.0, 0.0, 0.0, -1.0]
    soft, floor = (
        nn.Sequential(_set(nn.Linear(1, 4), weights, bias), act, _set(nn.Linear(4, 2), np.ones((4, 2))))
        for act in (Softsign(), Floor())
    )
    x, y = np.ones((3, 1)), np.array([0, 1, 0])
    s = next(m for m in Monitor(soft, x, y).history[0]["modules"] if m["kind"] == "softsign")
    f = next(m for m in Monitor(floor, x, y).history[0]["modules"] if m["kind"] == "floor")
    assert (s["saturated"], s["dead"]) == (0.5, None)  # |h| = 10 saturated; 0.5 and 1 are not
    assert (f["saturated"], f["dead"]) == (None, 0.75)  # only the unit at h = 10 passes gradient
    messages = Monitor(soft, x, y).findings()
    expected = "50% of Softsign units saturated (φ' < 6% of its maximum) — layer 1"
    assert any(m.startswith(expected) for m in messages), messages
    messages = Monitor(floor, x, y).findings()
    expected = "75% of Floor units are dead (φ' = 0 on every probe example)"
    assert any(m.startswith(expected) for m in messages), messages


def test_elu_units_with_negative_outputs_are_not_dead():
    """The same weights: ReLU units that never see h > 0 are dead; ELU (and SELU) units there
    output negative values but pass gradient alpha·eʰ, so no dead share is measured for them."""
    tn.set_default_dtype(np.float64)
    bias = [-3.0, -3.0, 3.0, 3.0]
    x, y = np.ones((3, 2)), np.array([0, 1, 0])
    records = {}
    for act in (nn.ReLU(), nn.ELU(), nn.SELU()):
        model = nn.Sequential(_set(nn.Linear(2, 4), np.ones((2, 4)) * 0.5, bias), act,
                              _set(nn.Linear(4, 2), np.ones((4, 2))))  # fmt: skip
        monitor = Monitor(model, x, y)
        row = next(m for m in monitor.history[0]["modules"] if m["role"] == "activation")
        records[act.name] = (row, monitor.findings())
    relu, elu, selu = records["relu"][0], records["elu"][0], records["selu"][0]
    assert relu["dead"] == 0.5
    assert elu["dead"] is None and selu["dead"] is None
    # half its units output elu(-2) = e⁻² - 1 = -0.86 on every example: negative, yet alive
    assert elu["mean"] == pytest.approx((2 * math.expm1(-2.0) + 2 * 4.0) / 4)
    assert any("50% of ReLU units are dead" in m for m in records["relu"][1])
    assert not any(" are dead " in m for m in records["elu"][1] + records["selu"][1])
    assert np.all(nn.ELU().derivative(np.full(4, -2.0)) == pytest.approx(math.exp(-2.0)))


def test_saturation_is_read_at_the_activation_input():
    """The hook sees the input h: for tanh, saturated exactly where |tanh(h)| > 0.97 (|h| > 2.092)."""
    tn.set_default_dtype(np.float64)
    w = np.array([[0.5, 2.0, 2.2, -3.0, 8.0]])
    model = nn.Sequential(_set(nn.Linear(1, 5), w), nn.Tanh(), _set(nn.Linear(5, 2), np.ones((5, 2))))
    record = Monitor(model, np.ones((4, 1)), np.zeros(4, dtype=int)).history[0]
    tanh = next(m for m in record["modules"] if m["kind"] == "tanh")
    assert tanh["saturated"] == pytest.approx(3 / 5)  # 2.2, -3 and 8; not 0.5 or 2.0


def test_the_probe_normalizes_batchnorm_by_its_own_statistics_and_leaves_the_running_ones():
    # a small-std init makes every pre-activation ~0.045: with the running statistics of a fresh
    # BatchNorm (mean 0, var 1) the probe would read that as vanishing (relu std ~0.026); a
    # training step normalizes it by the batch's own (relu of a unit normal)
    rng = np.random.default_rng(5)
    model = nn.Sequential(
        nn.Linear(20, 32, weight_init="normal(std=1e-2)"), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 3)
    )
    probe = rng.standard_normal((64, 20)).astype(np.float32)
    bn = model[1]
    before = [b.copy() for b in bn.buffers()]
    record = Monitor(model, probe, rng.integers(0, 3, 64)).history[0]
    relu = next(m for m in record["modules"] if m["kind"] == "relu")
    assert 0.4 < relu["std"] < 0.8  # relu of a unit normal: std sqrt(1/2 - 1/(2*pi)) = 0.584
    assert all(np.array_equal(a, b) for a, b in zip(before, bn.buffers(), strict=True))
    assert not bn.training or model.training  # the model's mode is restored
