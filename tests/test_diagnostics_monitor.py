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
    assert [m["dead"] is not None for m in rows] == [False, False, False, True, True, True, False]
    assert [m["layer"] for m in rows] == list(range(1, 8))
    assert {m["kind"] for m in monitor.history[0]["modules"] if m["role"] == "layer"} == {"linear"}


def test_a_user_activation_that_saturates_gets_its_saturated_share_measured():
    tn.set_default_dtype(np.float64)

    class HardTanh(nn.Activation):
        saturates = True
        display_name = "hard-tanh"
        output_range = (-1.0, 1.0)
        saturation_rule = "|a| = 1"

        def forward(self, x):  # clip to [-1, 1], composed from relu
            return (x + 1.0).relu() - (x - 1.0).relu() - 1.0

        def saturated(self, output):
            return np.abs(output) >= 1.0

    # units see 5, -5, 0.5, 0.5 on every example: two of the four are clipped
    first = _set(nn.Linear(1, 4), [[5.0, -5.0, 0.5, 0.5]])
    model = nn.Sequential(first, HardTanh(), _set(nn.Linear(4, 2), np.ones((4, 2))))
    monitor = Monitor(model, np.ones((3, 1)), np.array([0, 1, 0]))
    act = next(m for m in monitor.history[0]["modules"] if m["role"] == "activation")
    assert act["kind"] == "hardtanh" and act["type"] == "HardTanh"
    assert act["saturated"] == 0.5
    assert act["dead"] is None
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

    class Quiet(nn.Activation):  # declares nothing: neither figure is measured
        def forward(self, x):
            return x.relu()

    layer = _set(nn.Linear(2, 4), np.ones((2, 4)), [-100.0, -100.0, 100.0, 100.0])
    model = nn.Sequential(layer, Quiet(), _set(nn.Linear(4, 2), np.ones((4, 2))))
    act = next(m for m in Monitor(model, np.ones((3, 2))).history[0]["modules"] if m["kind"] == "quiet")
    assert act["dead"] is None and act["saturated"] is None


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
    assert record["gradient_flow"] == pytest.approx(b / a)
    layer_rows = [m for m in record["modules"] if m["role"] == "layer"]
    assert layer_rows[0]["grad_std"] == pytest.approx(0.0)  # constant b for every example
    assert any("gradient norm falls 10⁴× from last to first layer (vanishing)" in m
               for m in monitor.findings())  # fmt: skip


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
    model = nn.Sequential(nn.Linear(20, 32, weight_init="he"), nn.ReLU(), nn.Linear(32, 4))
    x = np.random.default_rng(7).standard_normal((64, 20)).astype(np.float32)
    monitor = Monitor(model, x, np.arange(64) % 4)
    assert monitor.findings()[-1].startswith("no symmetry, saturation, dead units")


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
