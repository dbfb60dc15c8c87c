"""examples/compare_inits.py, symmetry.py and depth_sweep.py end to end, in subprocesses with tiny
settings, asserting on their --json output.

All runs start together in one module fixture (they are independent), so the module costs about
the time of the slowest run. Every run uses a fresh ``TINYNET_CACHE``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from example_runs import ok, run_examples

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG = b"\x89PNG\r\n\x1a\n"



def _plot_args(stem: str) -> list[str]:
    """``--plot`` only where matplotlib is installed; without it the option is refused up front
    (test_compare_inits_markdown_and_plot checks that message), which would hide the JSON run."""
    return ["--plot", f"{{tmp}}/{stem}.png"] if HAVE_MATPLOTLIB else []


TINY_SWEEP = ["--depth", "1", "--width", "16", "--epochs", "1", "--limit", "300",
              "--batch-size", "16"]  # fmt: skip
RUNS = {
    "sweep": ("compare_inits.py", ["--inits", "he,zeros", "--seeds", "2", "--jobs", "2", "--json",
                                   *TINY_SWEEP]),
    "sweep_plot": ("compare_inits.py", ["--inits", "he,uniform(low=-0.1, high=0.1)", "--jobs", "1",
                                        "--markdown", "--plot", "{tmp}/sweep.png", *TINY_SWEEP]),
    "sweep_markdown": ("compare_inits.py", ["--inits", "he,zeros", "--jobs", "1", "--markdown",
                                            *TINY_SWEEP]),
    "sweep_preset": ("compare_inits.py", ["--inits", "default,pytorch", "--seeds", "1", "--jobs", "1",
                                          "--json", *TINY_SWEEP]),
    "symmetry": ("symmetry.py", ["--inits", "zeros,constant(value=0.05),xavier", "--width", "8",
                                 "--epochs", "1", "--limit", "300", "--batch-size", "16",
                                 "--record-every", "5", "--json", *_plot_args("sym")]),
    "depth": ("depth_sweep.py", ["--study", "all", "--activations", "relu,tanh",
                                 "--inits", "he,pytorch", "--depth", "6", "--width", "16",
                                 "--probe", "64", "--train-inits", "he,xavier", "--train-depth",
                                 "4", "--train-width", "16", "--epochs", "2", "--limit", "200",
                                 "--optimizer", "sgd,adam",
                                 "--sigmoid-width", "16", "--sigmoid-epochs", "1",
                                 "--sigmoid-limit", "100", "--jacobian-depths", "1,4",
                                 "--jacobian-width", "8", "--json", *_plot_args("d")]),
    "bad_init": ("compare_inits.py", ["--inits", "he,xavierr"]),
    "bad_spec_list": ("compare_inits.py", ["--inits", "he,,zeros"]),
    "bad_jobs": ("compare_inits.py", ["--jobs", "0"]),
    "bad_depth": ("compare_inits.py", ["--depth", "-2"]),
    "bad_activation": ("symmetry.py", ["--activation", "rleu"]),
    "bad_symmetry_init": ("symmetry.py", ["--inits", "zeroes"]),
    "bad_study": ("depth_sweep.py", ["--study", "init,trian"]),
    "bad_depths": ("depth_sweep.py", ["--jacobian-depths", "1,x"]),
    "bad_preset": ("depth_sweep.py", ["--train-inits", "pytorh"]),
    "bad_optimizer": ("depth_sweep.py", ["--study", "train", "--optimizer", "sgd,adma"]),
    "bad_momentum": ("depth_sweep.py", ["--study", "train", "--optimizer", "adam", "--momentum", "0.9"]),
    "bad_sweep_preset": ("compare_inits.py", ["--inits", "he,pytorh"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("experiments")
    return tmp, run_examples(RUNS, tmp)


def test_compare_inits_sweeps_in_worker_processes(runs):
    _, results = runs
    out, err = ok(results["sweep"])
    data = json.loads(out)
    assert data["executor"] == "ProcessPoolExecutor" and data["jobs"] == 2
    assert data["seeds"] == [0, 1] and len(data["runs"]) == 4
    board = {row["init"]: row for row in data["leaderboard"]}
    assert [row["init"] for row in data["leaderboard"]] == ["he", "zeros"]
    assert board["he"]["test_accuracy"]["mean"] > 0.3 and board["he"]["test_accuracy"]["n"] == 2
    assert board["he"]["test_accuracy"]["std"] is not None
    assert board["zeros"]["test_accuracy"]["mean"] == pytest.approx(0.1, abs=0.02)
    assert board["zeros"]["distinct_units"]["mean"] == 1 and board["he"]["units"] == 16
    assert "[4/4]" in err and "test acc %" in err  # progress and the table go to stderr with --json


def test_compare_inits_markdown_and_plot(runs):
    tmp, results = runs
    if not HAVE_MATPLOTLIB:
        code, _, err = results["sweep_plot"]
        assert code == 2 and "pip install" in err
        return
    out, _ = ok(results["sweep_plot"])
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0].startswith("| # | init | runs | test acc %") and len(table) == 4
    assert "uniform(low=-0.1, high=0.1)" in out
    assert (tmp / "sweep.png").read_bytes().startswith(PNG)


def test_compare_inits_three_seeds_by_default(runs):
    _, results = runs
    out, _ = ok(results["sweep_markdown"])
    assert "2 schemes × 3 seed(s)" in out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert [line.split("|")[2].strip() for line in table[2:]] == ["he", "zeros"]
    assert [line.split("|")[3].strip() for line in table[2:]] == ["3", "3"]
    assert all(" ± " in line.split("|")[4] for line in table[2:])  # mean ± std of test acc
    assert [line.split("|")[1].strip() for line in table[2:]] == ["1", "2"]  # he far above zeros


def test_compare_inits_runs_a_preset_as_its_own_row(runs):
    _, results = runs
    out, _ = ok(results["sweep_preset"])
    data = json.loads(out)
    assert {row["init"] for row in data["leaderboard"]} == {"default", "pytorch"}
    biases = {r["init"]: (r["weight_init"], r["bias_init"]) for r in data["runs"]}
    assert biases == {"default": ("default", "zeros"), "pytorch": ("default", "default_bias")}
    assert all(row["rank"] in ("1", "2", "=1") for row in data["leaderboard"])


def test_symmetry_example(runs):
    tmp, results = runs
    out, err = ok(results["symmetry"])
    by_init = {r["init"]: r for r in json.loads(out)["results"]}
    zeros, constant, xavier = (by_init[k] for k in ("zeros", "constant(value=0.05)", "xavier"))
    for r in (zeros, constant):
        assert all(max(layer) == 1 for layer in r["distinct"][:-1])
    assert all(min(layer) == 8 for layer in xavier["distinct"][:-1])
    assert zeros["hidden_grads_zero"] and zeros["learned"] == ["4.bias"]
    assert "every hidden weight gradient exactly 0: yes" in err
    if HAVE_MATPLOTLIB:
        assert (tmp / "sym.png").read_bytes().startswith(PNG)


def test_depth_sweep_example(runs):
    tmp, results = runs
    out, _err = ok(results["depth"])
    data = json.loads(out)
    profiles = {(p["activation"], p["scheme"]): p for p in data["init"]}
    assert set(profiles) == {(a, s) for a in ("relu", "tanh") for s in ("he", "pytorch")}
    assert all(len(p["act_std"]) == 6 and len(p["weight_grad_norm"]) == 7 for p in data["init"])
    assert profiles[("relu", "pytorch")]["bias_init"] == "default_bias"
    assert [r["scheme"] for r in data["train"]] == ["he", "xavier", "he", "xavier"]
    assert [(r["optimizer"], r["lr"]) for r in data["train"]] == [
        ("sgd", 0.01), ("sgd", 0.01), ("adam", 0.001), ("adam", 0.001),
    ]  # fmt: skip
    assert all(len(r["train_loss"]) == 2 for r in data["train"])
    assert "SGD lr 0.01 (plain)" in _err and "Adam lr 0.001" in _err
    assert len(data["sigmoid"]["mean"]) == 4
    jac = {(r["init"], r["depth"]): r for r in data["jacobian"]}
    assert jac[("orthogonal", 4)]["condition"] == pytest.approx(1.0, abs=1e-9)
    assert jac[("lecun_normal", 4)]["condition"] > 10
    if HAVE_MATPLOTLIB:
        for study in ("init", "train", "sigmoid", "jacobian"):
            assert Path(data["figures"][study]).read_bytes().startswith(PNG)
            assert Path(data["figures"][study]) == tmp / f"d-{study}.png"


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("bad_init", "Did you mean 'xavier'"),
        ("bad_spec_list", "empty init spec"),
        ("bad_jobs", "must be >= 1"),
        ("bad_depth", "must be >= 0"),
        ("bad_activation", "closest match: 'relu'"),
        ("bad_symmetry_init", "Did you mean 'zeros'"),
        ("bad_study", "closest match: 'train'"),
        ("bad_depths", "expected integers"),
        ("bad_preset", "pytorh"),
        ("bad_optimizer", "closest match: 'adam'"),
        ("bad_momentum", "needs --optimizer sgd alone"),
        ("bad_sweep_preset", "closest preset: 'pytorch'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(runs, name, needle):
    _, results = runs
    code, _out, err = results[name]
    assert code == 2
    assert "Traceback" not in err
    assert needle in err
    assert len(err.splitlines()) == 1 and "error: argument" in err
