"""Each speed benchmark runs end to end with tiny settings, so the benchmarks never rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(script: str, *args: str) -> dict | list:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_train_step_benchmark_reports_ratios_and_gflops():
    result = _run("bench_train_step.py", "--no-torch", "--threads", "1")
    assert result["threads"].startswith("BLAS threads: 1;")  # the re-executed process saw the setting
    (record,) = result["records"]
    assert record["batch"] == 8
    assert set(record["seconds_per_step"]) == {"numpy", "tinynet"}
    median, low, high = record["tinynet_over_numpy"]
    assert 0 < low <= median <= high
    assert record["gflops"]["numpy"] > 0


def test_train_step_benchmark_reports_one_and_two_threads_by_default():
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_train_step.py"), "--quick", "--json", "--no-torch"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["threads"].split(";")[0] for r in runs] == ["BLAS threads: 1", "BLAS threads: 2"]
    assert all(r["records"][0]["tinynet_over_numpy"][0] > 0 for r in runs)


def test_overhead_benchmark_checks_memory_and_no_grad():
    result = _run("bench_overhead.py")
    assert result["no_grad_stores_nothing"] is True
    assert result["memory"]["growth"] < 0.05
    assert result["deep_backward"]["nodes"] == 2000
    assert result["overhead_us_per_op"]["tinynet"] > 0


def test_scaling_benchmark_fits_a_line_per_contestant():
    result = _run("bench_scaling.py")
    assert [r["batch"] for r in result["by_batch"]] == [1, 4, 8]
    assert [r["width"] for r in result["by_width"]] == [16, 32]
    for name in ("numpy", "tinynet"):
        fit = result["fit"][name]
        assert np.isfinite([fit["a"], fit["b"]]).all() and fit["r2"] <= 1.0
        assert all(r[name] > 0 for r in result["by_batch"] + result["by_width"])


def test_conv_benchmark_checks_gradients_and_reports_the_ratio():
    result = _run("bench_conv.py", "--no-torch", "--threads", "1")
    assert result["threads"].startswith("BLAS threads: 1;")
    record = result["record"]
    assert record["batch"] == 4 and set(record["seconds_per_step"]) == {"numpy", "tinynet"}
    median, low, high = record["tinynet_over_numpy"]
    assert 0 < low <= median <= high


def test_scaling_fit_leaves_out_rows_whose_steps_fault(monkeypatch):
    """A batch size whose steps fault pages is timed but not fitted: its time depends on the
    allocator's state. With fewer than two clean rows, every row is fitted."""
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_scaling

    def row(batch, numpy_faults, tinynet_faults=0.0):
        return {"batch": batch, "faults": {"numpy": numpy_faults, "tinynet": tinynet_faults}}

    rows = [row(8, 0.0), row(32, None, None), row(512, 933.0, 3.0)]
    kept, left_out = bench_scaling.fitted_rows(rows)
    assert [r["batch"] for r in kept] == [8, 32] and [r["batch"] for r in left_out] == [512]
    kept, left_out = bench_scaling.fitted_rows([row(8, 0.0), row(512, 0.0, 50.0)])
    assert [r["batch"] for r in kept] == [8, 512] and left_out == []
