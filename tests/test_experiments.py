"""The library side of examples/train.py: model building, config validation, data preparation, run,
the shared command-line pieces (threads, printer)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np
import pytest

from tinynet import experiments, nn, optim
from tinynet.experiments import Config, ConfigError, Dataset, build_mlp, validate
from tinynet.experiments.cli import DEFAULT_THREADS, add_threads_argument, blas_threads, reporter, use_threads
from tinynet.training import read_checkpoint


def test_build_mlp_structure_and_seeded_init():
    model = build_mlp(12, 4, depth=3, width=8, activation="tanh", init="he", rng=5)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [m.weight.shape for m in model if isinstance(m, nn.Linear)] == [
        (12, 8), (8, 8), (8, 8), (8, 4)
    ]  # fmt: skip
    again = build_mlp(12, 4, depth=3, width=8, activation="tanh", init="he", rng=5)
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert np.array_equal(a.data, b.data)
    assert len(build_mlp(5, 3, depth=0)) == 1  # linear softmax classifier


def test_build_mlp_lsuv_needs_data_and_gets_unit_variance():
    with pytest.raises(ValueError, match="data-dependent"):
        build_mlp(10, 3, depth=2, width=16, init="lsuv")
    x = np.random.default_rng(0).standard_normal((256, 10)).astype(np.float32)
    model = build_mlp(10, 3, depth=2, width=16, init="lsuv", rng=0, data=x)
    first = model[0](x).data
    assert abs(first.var() - 1.0) < 0.1


def test_make_optimizer_defaults():
    params = list(build_mlp(3, 2, depth=1, width=4).parameters())
    sgd = experiments.make_optimizer("sgd", params)
    assert isinstance(sgd, optim.SGD) and sgd.param_groups[0]["momentum"] == 0.9
    adam = experiments.make_optimizer("adam", params, lr=0.005)
    assert isinstance(adam, optim.Adam) and adam.param_groups[0]["lr"] == 0.005
    with pytest.raises(ValueError, match="closest match: 'adagrad'"):
        experiments.make_optimizer("adagrd", params)
    with pytest.raises(ValueError, match="adam takes no momentum"):
        experiments.make_optimizer("adam", params, momentum=0.5)


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"init": "xavierr"}, "init", "Did you mean 'xavier'?"),
        ({"bias_init": "zeroes"}, "bias_init", "unknown initializer"),
        ({"activation": "tahn"}, "activation", "closest match: 'tanh'"),
        ({"optimizer": "sgdd"}, "optimizer", "closest match: 'sgd'"),
        ({"data": "mnsit"}, "data", "closest match: 'mnist'"),
        ({"depth": -1}, "depth", "must be an int >= 0"),
        ({"batch_size": 0}, "batch_size", "must be an int >= 1"),
        ({"lr": -0.1}, "lr", "must be a positive number"),
        ({"momentum": 1.5}, "momentum", "must be in [0, 1)"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum", "adam takes no momentum"),
        ({"limit": 0}, "limit", "must be an int >= 1"),
    ],
)
def test_validate_names_the_bad_field(changes, field, text):
    with pytest.raises(ConfigError) as info:
        validate(Config(**changes))
    assert info.value.field == field
    assert text in info.value.reason


def test_validate_accepts_specs_and_paths(tmp_path):
    assert validate(Config(init="normal(std=0.5)", activation="selu", optimizer="adam"))
    assert validate(Config(data=str(tmp_path)))  # an existing path is a dataset candidate


def test_load_dataset_standardizes_with_training_statistics(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path))
    data = experiments.load_dataset("synthetic", limit=200)
    assert data.x_train.shape == (200, 784) and data.x_test.shape == (200, 784)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert abs(float(data.x_train.mean())) < 1e-4
    assert float(data.x_train.std()) == pytest.approx(1.0, abs=1e-4)
    assert data.n_classes == 10 and data.in_features == 784


def _tiny_dataset() -> Dataset:
    rng = np.random.default_rng(3)
    centres = 3 * rng.standard_normal((3, 6))
    y = rng.integers(0, 3, 150)
    x = (centres[y] + rng.standard_normal((150, 6))).astype(np.float32)
    return Dataset("blobs", x[:120], y[:120], x[120:], y[120:])


def test_run_report_and_json():
    config = Config(depth=2, width=8, epochs=2, batch_size=16, lr=0.05, probe_size=32)
    lines = []
    result = experiments.run(config, progress=False, log=lines.append, dataset=_tiny_dataset())
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2")
    assert result.fit.test_accuracy > 0.8
    assert [r["step"] for r in result.monitor.history] == [0, 8, 16]
    report = result.report()
    assert "Findings at initialization:" in report and "Findings at step 16:" in report
    data = json.loads(json.dumps(result.to_dict()))
    assert data["config"]["width"] == 8 and data["data"]["n_train"] == 120
    assert data["findings"]["first"] == result.monitor.findings("first")
    assert "updates" not in data["monitor"]
    assert experiments.summary(result).startswith("test accuracy ")
    assert experiments.describe(config, result.dataset).startswith("MLP 6-8-8-3 (relu), init xavier")


def test_summary_of_a_diverged_run():
    config = Config(depth=1, width=8, epochs=2, batch_size=16, lr=1e6, probe_size=32)
    result = experiments.run(config, progress=False, log=lambda line: None, dataset=_tiny_dataset())
    assert result.diverged
    assert experiments.summary(result).startswith("stopped: training diverged at step ")


def test_use_threads_sets_and_reports_the_blas_threads():
    before = blas_threads()
    assert before is not None  # numpy's BLAS is visible to threadpoolctl
    try:
        assert use_threads(1) == blas_threads() == 1
        assert use_threads(2) == blas_threads() == 2
    finally:
        use_threads(before)
    with pytest.raises(ValueError, match="use_threads: threads must be an int >= 1, got 0"):
        use_threads(0)
    with pytest.raises(TypeError, match="use_threads: threads"):
        use_threads("2")


def test_threads_flag_defaults_to_one_and_is_checked(capsys):
    parser = argparse.ArgumentParser(prog="x")
    add_threads_argument(parser)
    assert parser.parse_args([]).threads == DEFAULT_THREADS == 1
    assert parser.parse_args(["--threads", "3"]).threads == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["--threads", "0"])
    assert "argument --threads: must be >= 1" in capsys.readouterr().err


def test_reporter_prints_to_stdout_or_to_stderr_under_json(capsys):
    reporter(False)("to out")
    reporter(True)("to err")
    reporter(False)()
    captured = capsys.readouterr()
    assert captured.out == "to out\n\n" and captured.err == "to err\n"


def test_run_stores_its_config_in_the_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    config = Config(depth=1, width=8, epochs=1, batch_size=16, lr=0.05, probe_size=32)
    result = experiments.run(config, progress=False, log=lambda line: None, dataset=_tiny_dataset(),
                             checkpoint=path)  # fmt: skip
    stored = read_checkpoint(path)
    assert stored.config == config.to_dict()
    assert stored.step_losses == result.fit.step_losses and len(stored.step_losses) == 8
    assert result.to_dict()["fit"]["step_losses"] == result.fit.step_losses


# ------------------------------------------------------------------------- the memory estimate
def test_mlp_memory_counts_parameters_activations_and_layers():
    from tinynet.experiments.config import LAYER_OVERHEAD, mlp_memory

    params = (784 + 1) * 256 + (256 + 1) * 256 + (256 + 1) * 10  # 784-256-256-10
    expected = 4 * (5 * params + (4 * 64 + 2 * 512) * 256 * 2) + LAYER_OVERHEAD * 2
    assert mlp_memory(784, 256, 2, 10, 64) == expected
    assert mlp_memory(784, 256, 0, 10, 64) == 4 * 5 * (784 * 10 + 10)  # width unused without layers
    # every further hidden layer of 8 units adds its parameters, its activations and its objects
    per_layer = 4 * (5 * (8 + 1) * 8 + (4 * 64 + 2 * 512) * 8) + LAYER_OVERHEAD
    assert mlp_memory(784, 8, 2000, 10, 64) - mlp_memory(784, 8, 1000, 10, 64) == 1000 * per_layer


@pytest.mark.parametrize(("text", "limit"), [("1000", 1000), ("512M", 512 * 2**20), ("4g", 4 * 2**30),
                                             ("1.5K", 1536), ("none", None)])  # fmt: skip
def test_memory_limit_reads_the_environment(monkeypatch, text, limit):
    from tinynet.experiments.config import memory_limit

    monkeypatch.setenv("TINYNET_MEMORY_LIMIT", text)
    assert memory_limit() == limit


@pytest.mark.parametrize("text", ["lots", "-1G", "0", "nanM", "infG"])
def test_a_malformed_memory_limit_names_the_variable(monkeypatch, text):
    from tinynet.experiments.config import memory_limit

    monkeypatch.setenv("TINYNET_MEMORY_LIMIT", text)
    with pytest.raises(ValueError, match=r"\$TINYNET_MEMORY_LIMIT: expected a size .*got " + repr(text)):
        memory_limit()


def test_the_default_limit_is_half_the_physical_memory(monkeypatch):
    import os

    from tinynet.experiments.config import memory_limit

    monkeypatch.delenv("TINYNET_MEMORY_LIMIT", raising=False)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert memory_limit() == physical // 2


def test_validate_refuses_a_network_over_the_limit_naming_the_larger_size(monkeypatch):
    monkeypatch.setenv("TINYNET_MEMORY_LIMIT", "64M")
    with pytest.raises(ConfigError, match="over the limit of 64 MiB") as wide:
        validate(Config(width=4096, depth=2))
    assert wide.value.field == "width"
    with pytest.raises(ConfigError) as deep:
        validate(Config(width=16, depth=10_000))
    assert deep.value.field == "depth" and "10000 hidden layers of 16 units" in str(deep.value)
    assert validate(Config(width=256, depth=2)) is not None  # 7.7 MiB fits
    monkeypatch.setenv("TINYNET_MEMORY_LIMIT", "none")
    assert validate(Config(width=4096, depth=2)) is not None


def test_validate_refuses_a_negative_seed():
    with pytest.raises(ConfigError, match="seed: must be an int >= 0, got -1"):
        validate(Config(seed=-1))


def test_describe_stays_one_short_line_for_deep_nets():
    assert experiments.describe(Config(depth=3, width=8)).startswith("MLP in-8-8-8-C (relu)")
    deep = experiments.describe(Config(depth=100_000_000, width=256))
    assert deep.startswith("MLP in-256-256-…-256-C (100000000 hidden layers) (relu)") and len(deep) < 200


# ---------------------------------------------------------------------------- parametrizations
def test_a_run_under_a_parametrization_equals_sp_at_the_base_width_and_sets_the_multipliers():
    base = Config(depth=2, width=16, optimizer="adam", lr=0.01, epochs=1, batch_size=30, probe_size=20)
    data = _tiny_dataset()
    runs = {p: experiments.run(replace(base, parametrization=p, base_width=16), quiet=True, dataset=data)
            for p in ("sp", "mup")}  # fmt: skip
    assert runs["sp"].fit.step_losses == runs["mup"].fit.step_losses  # at width == base_width
    wide = experiments.run(replace(base, width=64, parametrization="mup", base_width=16), quiet=True,
                           dataset=data)  # fmt: skip
    mults = {g["role"]: g["lr_mult"] for g in wide.optimizer.param_groups if g["role"] != "bias"}
    assert mults == {"input": 1.0, "hidden": 0.25, "output": 0.25}  # Adam's muP column, 16/64
    assert "parametrization mup (base width 16)" in experiments.describe(wide.config)


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"parametrization": "mupp"}, "parametrization", "closest match: 'mup'"),
        ({"base_width": 64}, "base_width", "needs a parametrization"),
        ({"parametrization": "mup", "base_width": 0}, "base_width", "must be an int >= 1"),
    ],
)
def test_parametrization_fields_are_validated(fields, field, text):
    with pytest.raises(ConfigError, match=text) as info:
        validate(Config(**fields))
    assert info.value.field == field
