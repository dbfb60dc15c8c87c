"""The coordinate check: µP keeps every layer's output size flat in width from step 2 on, SP's
grows, and each broken µP variant grows too (the issue's acceptance, on its configuration)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinynet.experiments.studies import COORD_VARIANTS, coord_check, log2_slope
from tinynet.plotting import plot_coord_check


def test_log2_slope_recovers_a_power_law():
    widths = [64, 128, 256, 512]
    assert log2_slope(widths, [3 * w**0.5 for w in widths]) == pytest.approx(0.5, abs=1e-12)
    assert log2_slope(widths, [7.0] * 4) == pytest.approx(0.0, abs=1e-12)


def test_mup_is_flat_and_sp_is_not():
    result = coord_check(("sp", "mup"))  # the acceptance: widths 64..1024, 3 seeds, Adam 1e-2, 4 steps
    assert result["layers"] == ["input", "hidden", "logits"]
    sp, mup = result["results"]
    assert np.array(mup["mean_abs"]).shape == (4, 3, 5)
    assert max(abs(s) for row in mup["slopes"][1:] for s in row) <= 0.25
    assert max(sp["slopes"][1]) >= 0.4
    assert sp["slopes"][1][2] > 0.8  # the logits grow about as fast as the width


@pytest.mark.parametrize("variant", [v for v in COORD_VARIANTS if v != "none"])
def test_broken_variants_grow(variant):
    result = coord_check(("mup",), steps=2, variant=variant)
    assert result["config"]["variant"] == variant
    assert max(result["results"][0]["slopes"][1]) >= 0.56


def test_bad_arguments_raise_before_work():
    with pytest.raises(ValueError, match="unknown parametrization 'mpu'"):
        coord_check(("mpu",))
    with pytest.raises(ValueError, match="at least 2 different widths"):
        coord_check(widths=[64, 64])
    with pytest.raises(ValueError, match="variant must be one of"):
        coord_check(variant="broken")
    with pytest.raises(ValueError, match="optimizer must be one of 'adam', 'sgd'"):
        coord_check(optimizer="rmsprop")
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        coord_check(lr=0.0)


# ------------------------------------------------------------------ the figure and the example

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "coord_check.py"
TINY = ["--widths", "16,32", "--seeds", "1", "--steps", "2", "--batch-size", "8"]


def _small():
    return coord_check(("sp", "mup"), widths=[16, 32], seeds=1, steps=2, batch_size=8)


def test_plot_writes_a_png_or_explains_the_extra(tmp_path):
    path = tmp_path / "coord.png"
    if HAVE_MATPLOTLIB:
        plot_coord_check(_small(), path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\""):
            plot_coord_check(_small(), path)
        assert not path.exists()


def test_plot_without_matplotlib_is_explained(tmp_path, monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\""):
        plot_coord_check(_small(), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_example_end_to_end_json_and_errors():
    out = subprocess.run([sys.executable, str(EXAMPLE), *TINY, "--json"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    data = json.loads(out.stdout)
    assert [r["parametrization"] for r in data["results"]] == ["sp", "mup"]
    assert len(data["results"][0]["slopes"]) == 2
    bad = subprocess.run([sys.executable, str(EXAMPLE), "--parametrizations", "mpu"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "closest match: 'mup'" in bad.stderr
    bad = subprocess.run([sys.executable, str(EXAMPLE), "--widths", "64"], capture_output=True, text=True)
    assert bad.returncode == 2 and "at least 2 different widths" in bad.stderr
