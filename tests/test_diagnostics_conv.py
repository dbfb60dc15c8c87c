"""The Monitor on a small CNN: NHWC layer outputs (N, H, W, C) are read per output channel.

A conv kernel (kh, kw, in, out) has one unit per output channel (its filter, kh*kw*in weights); the
dead share counts channels whose slope is 0 at every pixel of every probe example; the saturated
share is over every element (which is also the mean of the per-channel shares).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn
from tinynet import init, nn, optim
from tinynet.diagnostics import Monitor, dead_fraction, distinct_units, max_cosine, numerical_rank

PROBE = np.random.default_rng(0).standard_normal((12, 8, 8, 3))
TARGETS = np.arange(12) % 5


def cnn(weight_init: str = "he_normal") -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding="same", weight_init=weight_init), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, stride=2, weight_init=weight_init), nn.Tanh(),
        nn.GlobalAvgPool2d(),
        nn.Linear(16, 5, weight_init=weight_init),
    )  # fmt: skip


def layer_rows(monitor: Monitor) -> list[dict]:
    return monitor.history[0]["layers"]


@pytest.mark.parametrize("weight_init", ["zeros", "constant(0.1)"])
def test_a_constant_init_gives_one_distinct_channel_per_conv_layer(weight_init):
    monitor = Monitor(cnn(weight_init), PROBE, TARGETS)
    rows = layer_rows(monitor)
    assert [(r["type"], r["units"], r["distinct_units"]) for r in rows] == [
        ("Conv2d", 8, 1), ("Conv2d", 16, 1), ("Linear", 5, 1),
    ]  # fmt: skip
    assert all(r["max_cosine"] == 1.0 for r in rows)
    assert [r["rank"] for r in rows] == ([0, 0, 0] if weight_init == "zeros" else [1, 1, 1])
    assert any("1 distinct unit of 8" in m for m in monitor.findings())


def test_he_gives_every_channel_distinct_and_full_rank():
    tn.manual_seed(1)
    monitor = Monitor(cnn(), PROBE, TARGETS)
    rows = layer_rows(monitor)
    figures = [(r["units"], r["distinct_units"], r["rank"]) for r in rows]
    assert figures == [(8, 8, 8), (16, 16, 16), (5, 5, 5)]
    assert all(r["max_cosine"] < 0.9 for r in rows)
    assert (rows[0]["fan_in"], rows[0]["fan_out"]) == (27, 72)  # the layer's declared fans
    record = monitor.history[0]
    assert record["gradient_flow"] is not None and record["gradient_flow"] > 0
    assert all(r["out_grad_std"] > 0 for r in rows)
    convs = [m for m in record["modules"] if m["kind"] == "conv2d"]
    assert [m["shape"] for m in convs] == [[12, 8, 8, 8], [12, 4, 4, 16]]


def test_symmetry_figures_are_per_output_channel():
    """Copying filter 0 into output channel 5 removes exactly one distinct channel and one rank."""
    tn.manual_seed(2)
    model = cnn()
    w = model[2].weight.data.copy()
    w[..., 5] = w[..., 0]
    model[2].weight.data = w
    row = layer_rows(Monitor(model, PROBE, TARGETS))[1]
    assert (row["units"], row["distinct_units"], row["rank"]) == (16, 15, 15)
    assert row["max_cosine"] == 1.0
    # the same figures as the array functions on the kernel viewed as (kh*kw*in, out)
    assert distinct_units(w) == 15 and numerical_rank(w) == 15 and max_cosine(w) == 1.0
    assert distinct_units(w.reshape(-1, 16)) == 15


def test_dead_units_of_an_image_are_channels_dead_at_every_pixel_of_every_example():
    h = -np.ones((4, 3, 3, 3))  # (N, H, W, C)
    h[2, 1, 0, 1] = 0.5  # channel 1 passes gradient at one pixel of one example
    h[:, 0, 0, 2] = 1.0  # channel 2 at one pixel of every example
    assert dead_fraction(h, "relu") == pytest.approx(1 / 3)  # channel 0 only
    # per position (H*W*C units) the answer would differ: 25 of 27 positions never pass gradient
    assert dead_fraction(h.reshape(4, -1), "relu") == pytest.approx(25 / 27)


def test_monitor_reads_dead_channels_and_saturation_of_a_cnn():
    tn.manual_seed(3)
    model = cnn()
    model[0].bias.data = np.where(np.arange(8) < 2, -100.0, 0.0).astype(np.float32)  # 2 of 8 dead
    captured = []
    model[2].register_forward_hook(lambda m, i, o: captured.append(o.data.copy()))
    record = Monitor(model, PROBE, TARGETS).history[0]
    relu = next(m for m in record["modules"] if m["kind"] == "relu")
    tanh = next(m for m in record["modules"] if m["kind"] == "tanh")
    assert relu["dead"] == 2 / 8
    h = captured[-1].astype(np.float64)
    assert tanh["saturated"] == pytest.approx(float(np.mean(np.abs(np.tanh(h)) > 0.97)))
    per_channel = np.mean(np.abs(np.tanh(h)) > 0.97, axis=(0, 1, 2))
    assert tanh["saturated"] == pytest.approx(float(per_channel.mean()))


def test_update_ratios_and_histograms_on_a_cnn_after_a_step():
    tn.manual_seed(4)
    model = cnn()
    init.apply(model, weight="he_normal", rng=0)
    monitor = Monitor(model, PROBE, TARGETS, every=1, bins=10)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss()(model(tn.tensor(PROBE.astype(np.float32))), TARGETS)
    loss.backward()
    opt.step()
    record = monitor.on_step()
    assert record is not None and record["step"] == 1
    assert all(r["update_data"] is not None and -6 < r["update_data"] < 0 for r in record["layers"])
    hist = monitor.histograms[1]
    assert sum(hist["0"]["values"]["counts"]) == 12 * 8 * 8 * 8
    assert set(hist["weight_grads"]) == {"0", "2", "5"}


def test_the_report_names_a_kernel_by_its_channels_and_size_not_its_fans():
    monitor = Monitor(cnn(), PROBE, TARGETS)
    rows = layer_rows(monitor)
    assert [r["weight_shape"] for r in rows] == [[3, 3, 3, 8], [3, 3, 8, 16], [16, 5]]
    table = monitor.report()
    assert "3→8 3×3" in table and "8→16 3×3" in table and "16→5" in table
    assert "27→72" not in table  # the first kernel's fans (3·3·3, 3·3·8)
