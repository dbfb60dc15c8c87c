"""The architecture studies (issue #13): each claim as an inequality on a tiny configuration, and
``examples/architectures.py`` end to end with ``--json`` and its one-line argument errors."""

from __future__ import annotations

import json
import math

import pytest
from example_runs import ok, run_examples

from tinynet.experiments import studies
from tinynet.experiments.config import validate


def _by_variant(result):
    return {v["variant"]: v for v in result["variants"]}


def test_he_residual_blocks_explode_while_fixup_and_rezero_start_at_the_identity():
    result = studies.residual_study(seeds=(0,), depth=24, width=8, epochs=1, limit=64, batch_size=32)
    v = _by_variant(result)
    plain, fixup, rezero = (v[name]["last_stream_std"]["mean"] for name in ("plain", "fixup", "rezero"))
    assert plain > 1e3  # the stream's variance about doubles per He block: 2^12 in std after 24
    for std in (fixup, rezero):
        assert 0.3 < std < 3
    assert v["fixup"]["output_std"]["mean"] == 0.0  # Fixup zeroes the classifier
    for name in ("fixup", "rezero"):
        assert v[name]["diverged"] == 0 and math.isfinite(v[name]["final_loss"]["mean"])
    assert v["plain"]["initial_loss"]["mean"] > 100 * math.log(10)


def test_64_he_blocks_exceed_1e10_at_init_and_the_run_diverges():
    result = studies.residual_study(
        ("plain",), seeds=(0,), depth=64, width=8, epochs=1, limit=96, batch_size=32
    )
    (run,) = result["runs"]
    assert run["stream_std"][-1] > 1e10 and run["output_std"] > 1e10
    assert run["diverged"] and run["divergence"]["step"] <= 3


def test_he_keeps_the_signal_of_a_deep_relu_cnn_where_xavier_and_pytorch_shrink_it():
    result = studies.conv_depth_study(seeds=(0,), depth=6, width=4, epochs=1, limit=64)
    runs = {r["variant"]: r for r in result["runs"]}
    he = runs["he"]["act_std"]
    assert len(he) == 6
    assert he[-1] > 0.3 * he[0]  # He: the std stays of order one through the stack
    for name in ("xavier", "pytorch"):
        assert runs[name]["act_std"][-1] < 0.3 * runs[name]["act_std"][0]  # halved, roughly, per layer
        assert runs[name]["act_std"][-1] < he[-1] / 5


def test_normalization_restores_the_signal_of_a_tiny_init_and_costs_parameters():
    result = studies.normalization_study(seeds=(0,), depth=6, width=16, epochs=1, limit=128)
    v = _by_variant(result)
    assert v["bad"]["last_act_std"]["mean"] < 1e-3  # 0.01·sqrt(16/2) ≈ 0.03 per layer
    for name in ("bad+batchnorm", "bad+layernorm"):
        assert v[name]["last_act_std"]["mean"] > 0.3  # normalized to unit variance before the ReLU
        assert v[name]["parameters"] == v["bad"]["parameters"] + 2 * 6 * 16  # a weight and a bias per unit
        assert v[name]["cost"] is not None and v[name]["cost"] > 0
    assert v["bad"]["cost"] == pytest.approx(1.0)


def test_delta_orthogonal_is_isometric_where_gaussian_kernels_spread():
    result = studies.delta_orthogonal_study(seeds=(0,), depth=4, width=4, epochs=1, limit=32, jacobian_size=4)
    t = result["theory"]
    assert abs(t["critical_sigma_w2"] - 1.05) < 0.01 and abs(t["chi1"] - 1) < 1e-3
    v = _by_variant(result)
    delta, gauss = v["delta_orthogonal"], v["gaussian"]
    assert abs(delta["mean_sq"] - 1) < 0.2
    assert delta["var_sq"] < gauss["var_sq"] / 10
    assert delta["condition"] < gauss["condition"]


def test_study_configs_are_valid_and_bad_names_fail_before_training():
    configs = (studies.conv_depth_config("he"), studies.residual_config("rezero"),
               studies.normalization_config("he", "layernorm"), studies.delta_config("gaussian"))  # fmt: skip
    for config in configs:
        validate(config)
    with pytest.raises(ValueError, match=r"variant.*plain, fixup, rezero"):
        studies.residual_study(("skip",), seeds=(0,))
    with pytest.raises(ValueError, match="scheme"):
        studies.delta_specs("uniform")
    with pytest.raises(ValueError, match="conv_depth_study: depth"):
        studies.conv_depth_study(seeds=(0,), depth=-1)


def test_the_example_runs_every_study_as_json_and_refuses_bad_arguments(tmp_path):
    tiny = ["--seeds", "1", "--depth", "3", "--width", "4", "--epochs", "1", "--limit", "32"]
    results = run_examples(
        {
            "all": ("architectures.py", ["--json", *tiny]),
            "study": ("architectures.py", ["--study", "residul"]),
            "depth": ("architectures.py", ["--depth", "0"]),
            "plot": ("architectures.py", ["--plot", "{tmp}/missing/x.png"]),
        },
        tmp_path,
    )
    out, err = ok(results["all"])
    data = json.loads(out)
    assert set(data) >= {"he_cnn", "delta_orthogonal", "residual", "normalization", "config"}
    assert "std after block 3" in err and "s_max/s_min" in err
    assert {v["variant"] for v in data["residual"]["variants"]} == {"plain", "fixup", "rezero"}
    for name, flag in (("study", "--study"), ("depth", "--depth"), ("plot", "--plot")):
        code, _, message = results[name]
        assert code == 2 and message.count("\n") == 1 and flag in message, message
    assert "closest match: 'residual'" in results["study"][2]
