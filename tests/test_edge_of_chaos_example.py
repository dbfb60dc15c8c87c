"""examples/edge_of_chaos.py end to end, in subprocesses with tiny settings, asserting on its --json
output, its tables, its progress bar and its one-line errors.

All runs start together in one module fixture (they are independent), so the module costs about
the time of the slowest run. Every run uses a fresh ``TINYNET_CACHE``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from example_runs import ok, run_examples

from tinynet import report

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG = b"\x89PNG\r\n\x1a\n"

TINY = ["--sigma-w2", "1.0,1.75,4.0", "--depths", "4,12", "--width", "16", "--epochs", "1",
        "--limit", "200", "--tent-seeds", "2", "--corr-width", "64", "--corr-depth", "6",
        "--corr-seeds", "2", "--jacobian-depths", "2,4", "--jacobian-width", "12",
        "--jacobian-seeds", "1", "--activations", "tanh"]  # fmt: skip
RUNS = {
    "all": ["--jobs", "2", "--json", *TINY, *(["--plot", "{tmp}/t.png"] if HAVE_MATPLOTLIB else []),
            "--report", "{tmp}/theory.html"],
    "tent_bar": ["--study", "tent", "--jobs", "1", *TINY, "--epochs", "3", "--lr", "0.01",
                 "--threshold", "0.3"],
    "tent_quiet": ["--study", "xi,tent", "--jobs", "1", "--no-progress", *TINY],
    "plot_refused": ["--study", "xi", "--plot", "{tmp}/x.png"],
    "bad_study": ["--study", "phase,tnet"],
    "bad_list": ["--sigma-w2", "1.0,x"],
    "bad_zero": ["--sigma-w2", "0,1.5"],
    "bad_repeat": ["--depths", "10,10"],
    "bad_depths": ["--depths", "0,10"],
    "bad_jobs": ["--jobs", "0"],
    "bad_seed": ["--seed", "-1"],
    "bad_plot_folder": ["--plot", "{tmp}/no/such/folder/x.png"],
    "bad_optimizer": ["--optimizer", "adma"],
    "bad_momentum": ["--optimizer", "adam", "--momentum", "0.9"],
    "bad_threshold": ["--threshold", "1.5"],
    "bad_activation": ["--activations", "tanh,rleu"],
    "bad_q_star": ["--q-star", "0"],
    "bad_width": ["--width", "0"],
    "bad_lr": ["--lr", "nan"],
    "bad_size": ["--study", "tent", "--width", "100000", "--depths", "10,100000"],
    "bad_sigma_b2": ["--study", "xi,tent", "--sigma-b2", "0"],
    "bad_sigma_b2_range": ["--sigma-b2", "9"],
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edge_of_chaos")
    return tmp, run_examples({name: ("edge_of_chaos.py", args) for name, args in RUNS.items()}, tmp)


def test_every_study_runs_and_prints_its_json(runs):
    tmp, results = runs
    out, err = ok(results["all"])
    data = json.loads(out)
    assert [r["activation"] for r in data["phase"]] == ["tanh"] and data["phase"][0]["agreement"] == 1.0
    assert data["xi"]["critical_sigma_w2"] == pytest.approx(1.761, abs=1e-3)
    assert {(r["phase"], r["c0"]) for r in data["corr"]} == {
        (p, c) for p in ("ordered", "critical", "chaotic") for c in (0.1, 0.5, 0.9)
    }
    assert all(len(r["measured"]) == 6 and r["width"] == 64 for r in data["corr"])
    tent = data["tent"]
    assert tent["executor"] == "ProcessPoolExecutor" and tent["jobs"] == 2
    assert len(tent["runs"]) == 12 and tent["seeds"] == [0, 1] and tent["errors"] == []
    assert tent["steps"] == 7 and len(tent["accuracy"]) == 2 and len(tent["accuracy"][0]) == 3
    assert {(r["activation"], r["weights"], r["depth"]) for r in data["jacobian"]} == {
        (a, w, d) for a in ("tanh", "relu") for w in ("orthogonal", "gaussian") for d in (2, 4)
    }
    assert set(data["seconds"]) == {"phase", "xi", "corr", "tent", "jacobian"}
    # with --json the tables go to stderr, stdout holds the JSON alone
    assert "critical σ_w² = 1.7610" in err and "trainability tent" in err and "calibrated k" not in out
    if HAVE_MATPLOTLIB:
        for study in ("phase", "xi", "corr", "tent", "jacobian"):
            assert Path(data["figures"][study]) == tmp / f"t-{study}.png"
            assert Path(data["figures"][study]).read_bytes().startswith(PNG)
    else:
        assert data["figures"] == {}


def test_report_charts_every_study(runs):
    tmp, results = runs
    out, err = ok(results["all"])
    assert "report written to " in err and "built in" in err  # with --json, on stderr
    data = report.read_data((tmp / "theory.html").read_text(encoding="utf-8"))
    assert set(data["studies"]) == {"phase", "depth_scale", "correlation", "tent", "spectra"}
    assert data["studies"]["depth_scale"] == json.loads(out)["xi"]
    titles = [p["title"] for p in data["panels"]]
    assert len(titles) == 1 + 1 + 3 + 2 + 1, titles  # correlations: ordered, critical, chaotic
    assert titles[0] == "tanh: the critical line χ₁ = 1" and "depth scales" in titles[1]
    assert [t.split("(")[1].split(")")[0] for t in titles[2:5]] == ["ordered", "critical", "chaotic"]
    assert "trainable depth" in titles[5] and "training accuracy" in titles[6] and "JJᵀ" in titles[7]
    for p in data["panels"]:
        assert p["series"] and all(len(s["x"]) == len(s["y"]) > 0 for s in p["series"]), p["title"]
    # the output paths are not embedded
    assert {"report", "plot", "json"}.isdisjoint(data["config"]) and data["config"]["width"] == 16
    assert str(tmp) not in (tmp / "theory.html").read_text(encoding="utf-8")


def test_the_tent_shows_a_progress_bar_unless_told_not_to(runs):
    _, results = runs
    out, err = ok(results["tent_bar"])
    assert "tent: 100%" in err and "12/12" in err  # the bar counts every run (points × seeds)
    assert "trainability tent" in out and "trains to" in out and "calibrated k = " in out
    assert "deepest trainable depth 12.0 at σ_w² = 1.75" in out  # 21 steps: the critical column wins
    out, err = ok(results["tent_quiet"])
    assert "tent:" not in err and "run/s" not in err
    assert "ξ_c" in out and "5.94" in out  # the xi table, with the paper's reference point 1.2


def test_plot_without_matplotlib_is_refused_up_front(runs):
    tmp, results = runs
    code, out, err = results["plot_refused"]
    if HAVE_MATPLOTLIB:
        assert code == 0 and (tmp / "x-xi.png").read_bytes().startswith(PNG)
    else:
        assert code == 2 and "pip install" in err and out == "" and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("bad_study", "closest match: 'tent'"),
        ("bad_list", "expected a list like"),
        ("bad_zero", "must be > 0"),
        ("bad_repeat", "distinct"),
        ("bad_depths", "must be >= 1"),
        ("bad_jobs", "must be >= 1"),
        ("bad_seed", "must be >= 0"),
        ("bad_plot_folder", "does not exist"),
        ("bad_optimizer", "argument --optimizer"),
        ("bad_momentum", "argument --momentum"),
        ("bad_threshold", "must be in [0, 1]"),
        ("bad_activation", "closest match: 'relu'"),
        ("bad_q_star", "must be > 0"),
        ("bad_width", "must be >= 1"),
        ("bad_lr", "finite"),
        ("bad_size", "argument --"),
        ("bad_sigma_b2", "give a value > 0"),
        ("bad_sigma_b2_range", "must be in [0, 5]"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(runs, name, needle):
    _, results = runs
    code, out, err = results[name]
    assert code == 2 and out == ""
    assert "Traceback" not in err and needle in err
    assert len(err.splitlines()) == 1 and "error: argument" in err
