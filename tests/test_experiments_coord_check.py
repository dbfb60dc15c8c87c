"""The coordinate check: µP keeps every layer's output size flat in width from step 2 on, SP's
grows, and each broken µP variant grows too (the issue's acceptance, on its configuration)."""

import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinynet import init, report
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


def test_each_width_and_seed_is_one_call_of_the_one_run(monkeypatch):
    module = importlib.import_module("tinynet.experiments.studies.coord_check")
    calls = []
    real_run = module.run

    def counting_run(config, **kwargs):
        calls.append((config.width, config.seed, config.parametrization, config.epochs, config.momentum))
        return real_run(config, **kwargs)

    monkeypatch.setattr(module, "run", counting_run)
    coord_check(("mup",), widths=(16, 32), seeds=2, steps=2, batch_size=8)
    assert calls == [(w, s, "mup", 2, 0.0) for w in (16, 32) for s in (0, 1)]


def test_broken_variants_are_tables_derived_from_the_parametrization():
    module = importlib.import_module("tinynet.experiments.studies.coord_check")
    mup = init.parametrization("mup")
    assert module.variant_table("mup", "none") == "mup"
    rates = init.parametrization(module.variant_table("mup", "sp_rates"))
    assert all(r.sgd == r.adam == 0 and r.variance == mup[k].variance for k, r in rates.items())
    out = init.parametrization(module.variant_table("mup", "output_mult_1"))
    assert out["output"] == init.Rule(variance=1.0) and out["hidden"] == mup["hidden"]
    sgd = init.parametrization(module.variant_table("mup", "sgd_table"))
    assert all(r.adam == r.sgd == mup[k].sgd for k, r in sgd.items())


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


def test_example_end_to_end_json_and_errors(tmp_path):
    page = tmp_path / "coord.html"
    out = subprocess.run([sys.executable, str(EXAMPLE), *TINY, "--json", "--report", str(page)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    data = json.loads(out.stdout)
    assert [r["parametrization"] for r in data["results"]] == ["sp", "mup"]
    assert len(data["results"][0]["slopes"]) == 2
    # the report: one log-log panel per parametrization and step, one line per layer, slope in the name
    assert "report written to " in out.stderr and "built in" in out.stderr
    shown = report.read_data(page.read_text(encoding="utf-8"))
    assert [p["title"].split(":")[0] for p in shown["panels"]] == ["sp, step 1", "sp, step 2", "mup, step 1",
                                                                   "mup, step 2"]  # fmt: skip
    first = shown["panels"][0]
    assert first["log_x"] and first["log_y"] and [s["x"] for s in first["series"]] == [[16, 32]] * 3
    slope = data["results"][0]["slopes"][0][2]
    assert first["series"][2]["name"] == f"3 logits ({slope:+.2f})"
    assert first["series"][2]["y"] == data["results"][0]["mean_abs"][0][2]
    bad = subprocess.run([sys.executable, str(EXAMPLE), "--parametrizations", "mpu"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "closest match: 'mup'" in bad.stderr
    bad = subprocess.run([sys.executable, str(EXAMPLE), "--widths", "64"], capture_output=True, text=True)
    assert bad.returncode == 2 and "at least 2 different widths" in bad.stderr
