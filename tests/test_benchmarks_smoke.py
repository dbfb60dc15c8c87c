"""Each speed benchmark runs end to end with tiny settings, so the benchmarks never rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    (record,) = _run("bench_train_step.py", "--no-torch")
    assert record["batch"] == 8
    assert set(record["seconds_per_step"]) == {"numpy", "tinynet"}
    median, low, high = record["tinynet_over_numpy"]
    assert 0 < low <= median <= high
    assert record["gflops"]["numpy"] > 0


def test_overhead_benchmark_checks_memory_and_no_grad():
    result = _run("bench_overhead.py")
    assert result["no_grad_stores_nothing"] is True
    assert result["memory"]["growth"] < 0.05
    assert result["deep_backward"]["nodes"] == 2000
    assert result["overhead_us_per_op"]["tinynet"] > 0
