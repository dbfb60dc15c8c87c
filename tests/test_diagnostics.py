"""Monitor figures on small networks whose answers can be worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn
from tinynet.diagnostics import (
    Monitor,
    activation_kind,
    dead_fraction,
    distinct_units,
    find_problems,
    format_ratio,
    gradient_flow,
    max_cosine,
    numerical_rank,
    saturation_fraction,
    update_ratio,
)


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


# ---------------------------------------------------------------------------- pure figures
def test_distinct_units_counts_duplicated_columns():
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((3, 5))
    w = np.stack([a, a, b, c, b, a], axis=1)  # (in=5, out=6): columns are the units
    assert distinct_units(w) == 3
    assert distinct_units(w + 1e-9 * rng.standard_normal(w.shape)) == 3  # within tolerance
    assert distinct_units(w + 1e-2 * rng.standard_normal(w.shape)) == 6  # beyond it
    assert distinct_units(np.zeros((7, 4))) == 1
    assert distinct_units(np.ones((3, 9))) == 1


def test_distinct_units_rejects_vectors_and_negative_tolerance():
    with pytest.raises(ValueError, match="distinct_units: weight must have at least 2"):
        distinct_units(np.ones(3))
    with pytest.raises(ValueError, match="tol must be >= 0"):
        distinct_units(np.ones((2, 2)), tol=-1)


def test_max_cosine_known_values():
    assert max_cosine(np.eye(4)) == pytest.approx(0.0)
    w = np.array([[1.0, 1.0], [0.0, 1.0]])  # units (1, 0) and (1, 1)
    assert max_cosine(w) == pytest.approx(1 / math.sqrt(2))
    assert max_cosine(np.zeros((3, 3))) == 1.0  # identical (zero) units
    assert max_cosine(np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 0.0]])) == pytest.approx(1.0)
    assert math.isnan(max_cosine(np.ones((3, 1))))


def test_numerical_rank_known_values():
    rng = np.random.default_rng(2)
    u, v = rng.standard_normal((2, 8)), rng.standard_normal((2, 5))
    assert numerical_rank(u.T @ v) == 2  # sum of two outer products, (8, 5)
    assert numerical_rank(np.zeros((4, 6))) == 0
    assert numerical_rank(np.eye(6, dtype=np.float32)) == 6
    assert numerical_rank(np.ones((5, 5))) == 1


def test_saturation_fraction_thresholds():
    assert saturation_fraction(np.array([0.99, -0.98, 0.5, 0.0, 0.97, -0.96]), "tanh") == 2 / 6
    assert saturation_fraction(np.array([0.01, 0.99, 0.5, 0.2, 0.03, 0.97]), "sigmoid") == 2 / 6
    with pytest.raises(ValueError, match="kind must be one of"):
        saturation_fraction(np.zeros(3), "relu")


def test_dead_fraction_counts_units_nonpositive_on_every_example():
    a = np.array(
        [
            [-1.0, -1.0, 0.0, 2.0],
            [-2.0, 3.0, 0.0, 1.0],
            [-0.5, -1.0, 0.0, 0.5],
        ]
    )  # units 0 and 2 never fire; unit 1 fires once
    assert dead_fraction(a) == 0.5
    assert dead_fraction(np.zeros((0, 3))) == 0.0


def test_update_ratio_is_log10_of_std_ratio():
    rng = np.random.default_rng(3)
    before = rng.standard_normal((50, 40))
    delta = 1e-3 * rng.standard_normal((50, 40))
    after = before + delta
    expected = math.log10(delta.std() / after.std())
    assert update_ratio(before, after) == pytest.approx(expected, rel=1e-9)
    assert update_ratio(before, before) is None  # no update
    assert update_ratio(np.zeros(4), np.zeros(4)) is None  # no spread


def test_gradient_flow_and_format_ratio():
    assert gradient_flow(1e-6, 1.0) == 1e-6
    assert gradient_flow(1.0, 0.0) is None
    assert gradient_flow(float("nan"), 1.0) is None
    assert format_ratio(1_234_567.0) == "10⁶×"
    assert format_ratio(42.0) == "42×"
    assert format_ratio(float("inf")) == "∞×"


def test_activation_kind_by_class_including_subclasses():
    class MyTanh(nn.Tanh):
        pass

    assert activation_kind(nn.Tanh()) == "tanh"
    assert activation_kind(MyTanh()) == "tanh"
    assert activation_kind(nn.Sigmoid()) == "sigmoid"
    assert activation_kind(nn.LeakyReLU(0.1)) == "leaky_relu"
    assert activation_kind(nn.ReLU()) == "relu"
    assert activation_kind(nn.SELU()) == "selu"
    assert activation_kind(nn.Linear(2, 2)) is None


# ---------------------------------------------------------------------------- monitor
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


def test_find_problems_on_a_synthetic_record():
    record = {
        "step": 3, "loss": None, "ln_classes": None, "n_classes": None, "gradient_flow": 1e-7,
        "modules": [],
        "layers": [
            {"layer": 1, "units": 8, "distinct_units": 3, "weight_grad_norm": 1e-7,
             "bias_grad_norm": 0.0, "update_data": 0.5},
            {"layer": 2, "units": 2, "distinct_units": 2, "weight_grad_norm": 1.0,
             "bias_grad_norm": 0.0, "update_data": 0.2},
        ],
    }  # fmt: skip
    kinds = [f.kind for f in find_problems(record)]
    assert kinds.count("symmetry") == 2  # partial symmetry + the explanation
    assert "vanishing" in kinds and "update-ratio" in kinds
    messages = [f.message for f in find_problems(record)]
    assert any("only 3 distinct units of 8" in m for m in messages)
    assert any("gradient norm falls 10⁷×" in m for m in messages)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"every": -1}, "every must be an int >= 0"),
        ({"probe": np.zeros((0, 4))}, "probe must be a non-empty batch"),
        ({"targets": np.zeros(5)}, "targets must have one entry per probe example"),
    ],
)
def test_monitor_bad_arguments(kwargs, match):
    args = {"probe": PROBE, **kwargs}
    with pytest.raises(ValueError, match=match):
        Monitor(_saturating_net(), **args)


def test_monitor_needs_something_to_observe():
    with pytest.raises(ValueError, match="has no layer"):
        Monitor(nn.Sequential(nn.Flatten()), PROBE)


def test_select_unknown_step():
    monitor = Monitor(_saturating_net(), PROBE)
    with pytest.raises(ValueError, match="no record at step 99"):
        monitor.select(99)


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
