"""examples/lr_transfer.py end to end, in subprocesses with tiny settings, asserting on its --json
output, its tables, its progress bar and its one-line errors.

All runs start together in one module fixture (they are independent), so the module costs about
the time of the slowest run. Every run uses a fresh ``TINYNET_CACHE``.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from example_runs import ok, run_examples

from tinynet import report

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG = b"\x89PNG\r\n\x1a\n"

TINY = ["--widths", "16,32", "--base-width", "16", "--log2-lr-min", "-8", "--log2-lr-max", "-6",
        "--epochs", "1", "--limit", "200", "--seeds", "2"]  # fmt: skip
RUNS = {
    "json": ["--jobs", "2", "--json", *TINY, *(["--plot", "{tmp}/lr.png"] if HAVE_MATPLOTLIB else []),
             "--report", "{tmp}/lr.html"],
    "bar": ["--jobs", "1", *TINY, "--parametrizations", "mup", "--lrs", "0.001,0.01"],
    "quiet": ["--jobs", "1", "--no-progress", *TINY, "--parametrizations", "sp,ntk", "--seeds", "1"],
    "plot_refused": [*TINY, "--plot", "{tmp}/x.png", "--seeds", "1", "--parametrizations", "sp"],
    "bad_parametrization": ["--parametrizations", "sp,mpu"],
    "bad_repeat": ["--parametrizations", "sp,sp"],
    "bad_widths": ["--widths", "64,x"],
    "bad_width_zero": ["--widths", "0,64"],
    "bad_width_repeat": ["--widths", "64,64"],
    "bad_lrs": ["--lrs", "0.01,-1"],
    "bad_log2": ["--log2-lr-min", "-3.5"],
    "bad_range": ["--log2-lr-min", "-4", "--log2-lr-max", "-6"],
    "bad_optimizer": ["--optimizer", "rmsprop"],
    "bad_epochs": ["--epochs", "0"],
    "bad_jobs": ["--jobs", "0"],
    "bad_seeds": ["--seeds", "0"],
    "bad_threads": ["--threads", "0"],
    "bad_plot_folder": ["--plot", "{tmp}/no/such/folder/x.png"],
    "bad_size": ["--widths", "64,10000000"],
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lr_transfer")
    return tmp, run_examples({name: ("lr_transfer.py", args) for name, args in RUNS.items()}, tmp)


def test_the_json_holds_every_run_and_the_tables_go_to_stderr(runs):
    tmp, results = runs
    out, err = ok(results["json"])
    data = json.loads(out)
    assert data["executor"] == "ProcessPoolExecutor" and data["jobs"] == 2 and data["errors"] == []
    assert data["widths"] == [16, 32] and data["log2_lrs"] == [-8.0, -7.0, -6.0] and data["seeds"] == [0, 1]
    assert len(data["runs"]) == 2 * 2 * 3 * 2 and data["steps"] == 4
    assert [r["parametrization"] for r in data["results"]] == ["sp", "mup"]
    for r in data["results"]:
        assert len(r["loss"]) == 2 and all(len(row) == 3 for row in r["loss"])
        assert all(b in (0, 1, 2) for b in r["best"]) and r["shift"] in (0, 1, 2)
    assert "mup (* best of the width" in err and "best lr per width 16: 2^" in err and "w=32" in err
    if HAVE_MATPLOTLIB:
        assert data["figures"] == {"lr_transfer": str(tmp / "lr.png")}
        assert (tmp / "lr.png").read_bytes().startswith(PNG)
    else:
        assert data["figures"] == {}


def test_the_report_draws_loss_against_rate_per_width_with_the_best_ringed(runs):
    tmp, results = runs
    out, err = ok(results["json"])
    assert "report written to " in err and "built in" in err
    result = json.loads(out)
    data = report.read_data((tmp / "lr.html").read_text(encoding="utf-8"))
    assert [p["title"] for p in data["panels"]] == [
        "sp: training loss against learning rate", "mup: training loss against learning rate"
    ]
    for p, r in zip(data["panels"], result["results"]):
        assert p["x"] == "log₂ learning rate" and p["log_y"]
        assert [s["name"].split(" (")[0] for s in p["series"]] == ["width 16", "width 32"]
        for s, loss, best in zip(p["series"], r["loss"], r["best"]):
            assert s["x"] == [-8.0, -7.0, -6.0] and s["y"] == loss and s["mark"] == best
    assert "lr.html" not in json.dumps(data["config"]) and "report" not in data["config"]


def test_the_table_marks_each_width_s_best_and_the_bar_counts_every_run(runs):
    _, results = runs
    out, err = ok(results["bar"])
    assert "lr transfer: 100%" in err and "8/8" in err
    assert "mup (* best" in out and "sp (*" not in out
    table = out.split("mup (* best")[1].split("mup: best")[0]
    assert table.count("*") == 2  # one per width (the legend is split off)
    assert "0.001" in out and "0.01" in out and "2^-9.97" in out  # --lrs need not be powers of 2
    out, err = ok(results["quiet"])
    assert "lr transfer:" not in err and "ntk (* best" in out and "mean" not in out.splitlines()[0]


def test_plot_without_matplotlib_is_refused_up_front(runs):
    tmp, results = runs
    code, out, err = results["plot_refused"]
    if HAVE_MATPLOTLIB:
        assert code == 0 and (tmp / "x.png").read_bytes().startswith(PNG)
    else:
        assert code == 2 and "pip install" in err and out == "" and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("bad_parametrization", "argument --parametrizations"),
        ("bad_repeat", "must be distinct"),
        ("bad_widths", "expected a list like"),
        ("bad_width_zero", "must be >= 1"),
        ("bad_width_repeat", "distinct"),
        ("bad_lrs", "expected positive numbers"),
        ("bad_log2", "expected an integer"),
        ("bad_range", "is above --log2-lr-max"),
        ("bad_optimizer", "argument --optimizer"),
        ("bad_epochs", "must be >= 1"),
        ("bad_jobs", "must be >= 1"),
        ("bad_seeds", "must be >= 1"),
        ("bad_threads", "must be >= 1"),
        ("bad_plot_folder", "does not exist"),
        ("bad_size", "argument --widths"),
    ],
)
def test_bad_flags_exit_2_with_one_line(runs, name, needle):
    _, results = runs
    code, out, err = results[name]
    assert code == 2 and out == "", (name, err)
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err, err
    assert err.startswith("lr_transfer.py: error: ")
