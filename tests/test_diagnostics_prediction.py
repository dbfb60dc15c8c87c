"""The mean-field prediction beside the Monitor's measurement: the q-map applied to the network at
hand, which networks it applies to, and where it shows up (records, the wide table, the plots)."""

from __future__ import annotations

import importlib.util
import itertools
import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, plotting
from tinynet.diagnostics import Monitor
from tinynet.diagnostics.prediction import mean_field_chain, mean_field_prediction
from tinynet.theory import meanfield as mf

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def _mlp(width, depth, act=nn.Tanh, weight="edge_of_chaos(activation='tanh', sigma_b2=0.05)",
         bias="normal(std=0.22360679774997896)", fan_in=64):  # fmt: skip
    modules, n = [], fan_in
    for _ in range(depth):
        modules += [nn.Linear(n, width, weight_init=weight, bias_init=bias), act()]
        n = width
    modules.append(nn.Linear(n, 10, weight_init="xavier_normal"))
    return nn.Sequential(*modules)


def test_the_prediction_is_the_q_map_of_the_measured_variances():
    tn.manual_seed(1)
    model = _mlp(32, 4)
    x = np.random.default_rng(0).standard_normal((50, 64))
    rows = mean_field_prediction(model, x)
    layers = [m for m in model if isinstance(m, nn.Linear)]
    assert len(rows) == len(layers) == 5
    q_in = float(np.mean(x * x))
    for row, layer in zip(rows, layers, strict=True):
        w, b = layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64)
        assert row["sigma_w2"] == pytest.approx(layer.fans()[0] * np.mean(w * w), rel=1e-12)
        assert row["sigma_b2"] == pytest.approx(np.mean(b * b), rel=1e-12)
        assert row["q"] == pytest.approx(row["sigma_w2"] * q_in + row["sigma_b2"], rel=1e-12)
        assert row["pre_std"] == pytest.approx(math.sqrt(row["q"]), rel=1e-12)
        q_in = mf.q_map("tanh", 1.0, 0.0, row["q"])  # E[tanh(√q z)²]
    # the hidden layers' activation std: tanh is odd, so E[φ] = 0 and the std is √E[φ²]
    for row, nxt in itertools.pairwise(rows):
        second = (nxt["q"] - nxt["sigma_b2"]) / nxt["sigma_w2"]
        assert row["act_std"] == pytest.approx(math.sqrt(second), rel=1e-9)
    assert rows[-1]["act_std"] is None  # the output layer has no activation


@pytest.mark.parametrize(("act", "weight", "bias", "tolerance"), [
    (nn.Tanh, "edge_of_chaos(activation='tanh', sigma_b2=0.05)", "normal(std=0.22360679774997896)", 0.05),
    (nn.Sigmoid, "xavier_normal", "normal(std=0.1)", 0.08),
    (nn.ReLU, "he_normal", "zeros", 0.2),
])  # fmt: skip
def test_a_wide_network_measures_what_the_theory_predicts(act, weight, bias, tolerance):
    # The theory is the infinite-width limit; one network of width 800 departs from it. The hidden
    # layers are compared (the 10-unit output layer is too narrow for a mean over units). Saturating
    # maps contract the fluctuations (measured over seeds 0-4: tanh within 1.8%, sigmoid 4.4%); a
    # ReLU net's squared norm drifts further, its fluctuations growing with the sum of the layers'
    # reciprocal widths (Hanin & Rolnick 2018): measured over seeds 0-4, up to 12% off.
    tn.manual_seed(2)
    model = _mlp(800, 6, act, weight, bias, fan_in=100)
    x = np.random.default_rng(3).standard_normal((400, 100)).astype(np.float32)
    monitor = Monitor(model, x, np.zeros(400, dtype=np.int64), bins=1)
    record = monitor.history[0]
    pre = [m["std"] for m in record["modules"] if m["role"] == "layer"]
    acts = [m["std"] for m in record["modules"] if m["role"] == "activation"]
    for k, row in enumerate(record["layers"][:-1]):
        assert row["pre_std_theory"] == pytest.approx(pre[k], rel=tolerance), (k, row, pre[k])
        assert row["act_std_theory"] == pytest.approx(acts[k], rel=tolerance), (k, row, acts[k])


def test_the_theory_applies_to_plain_chains_only():
    assert mean_field_chain(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Tanh(), nn.Dropout(0.1),
                                          nn.Linear(3, 2))) is not None  # fmt: skip
    refused = [
        nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Tanh(), nn.Linear(3, 2)),  # normalization
        nn.Sequential(nn.Tanh(), nn.Linear(4, 3)),  # an activation before any layer
        nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.ReLU(), nn.Linear(3, 2)),  # two in a row
    ]
    for model in refused:
        assert mean_field_chain(model) is None
        assert mean_field_prediction(model, np.ones((2, 4))) is None
        monitor = Monitor(model, np.ones((2, 4), dtype=np.float32), np.zeros(2, dtype=np.int64), bins=1)
        assert all(row["pre_std_theory"] is None for row in monitor.history[0]["layers"])


def test_a_diverging_network_gets_no_prediction():
    model = _mlp(8, 8, nn.ReLU, "normal(std=1e30)", "zeros")  # q grows ~1e61 per layer: inf
    assert mean_field_prediction(model, np.ones((2, 64))) is None


def test_the_wide_table_shows_the_prediction_beside_the_measurement():
    tn.manual_seed(0)
    model = _mlp(16, 2)
    monitor = Monitor(model, np.random.default_rng(0).standard_normal((20, 64)).astype(np.float32),
                      np.zeros(20, dtype=np.int64), bins=1)  # fmt: skip
    header = monitor.report(wide=True).splitlines()[0].split()
    assert header.index("mf") == header.index("std", header.index("pre")) + 1  # "pre std  mf pre"
    assert "mf" not in monitor.report().splitlines()[0]  # not in the 100-column default


def test_the_activation_std_plot_draws_the_prediction_dotted():
    tn.manual_seed(0)
    model = _mlp(16, 3)
    monitor = Monitor(model, np.random.default_rng(0).standard_normal((20, 64)).astype(np.float32),
                      np.zeros(20, dtype=np.int64), bins=1)  # fmt: skip
    if not HAVE_MATPLOTLIB:
        with pytest.raises(ImportError, match="plot"):
            plotting.plot_activation_std(monitor)
        return
    ax = plotting.plot_activation_std(monitor).axes[0]
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":" and len(line.get_xdata())]
    assert len(dotted) == 1
    expected = [row["act_std_theory"] for row in monitor.history[0]["layers"][:-1]]
    assert np.allclose(dotted[0].get_ydata(), expected)
    assert "mean-field prediction (first record)" in [t.get_text() for t in ax.get_legend().get_texts()]
