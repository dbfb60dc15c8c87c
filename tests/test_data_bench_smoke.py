"""The data benchmark runs end to end with tiny settings, so it never rots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_data.py"


def test_data_benchmark_quick_run_reports_every_figure(tmp_path):
    env = {**os.environ, "TINYNET_CACHE": str(tmp_path / "untouched")}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["generation"]["images"] == 500
    assert result["generation"]["images_per_s"] > 0
    assert 0 < result["cached_load"]["seconds"] < 1.0
    for kind in ("raw", "gzip"):
        assert result["idx"][kind]["read_idx_mb_per_s"] > 0
        assert result["idx"][kind]["numpy_mb_per_s"] > 0
    assert result["idx"]["raw"]["file_bytes"] == 16 + 400 * 28 * 28
    assert not (tmp_path / "untouched").exists()  # the benchmark used its own temporary folder
