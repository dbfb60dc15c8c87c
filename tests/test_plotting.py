"""Plots: PNG files when matplotlib is installed; otherwise a clear message naming the plot extra.

Both branches are real tests: whichever applies to this environment runs and asserts.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, plotting
from tinynet.diagnostics import Monitor

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _monitor_and_history():
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32)
    monitor = Monitor(model, x, y, every=2)
    for _ in range(4):  # a few hand-made "optimizer steps"
        for p in model.parameters():
            p.data = p.data + 1e-3 * rng.standard_normal(p.shape).astype(p.data.dtype)
        monitor.on_step()
    keys = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
    history = [
        dict(zip(keys, row, strict=True))
        for row in [(1, 1.0, 1.1, 0.5, 0.4), (2, 0.5, 0.7, 0.8, 0.7)]
    ]
    return monitor, history


CALLS = {
    "activation_histograms": lambda m, h, p: plotting.plot_activation_histograms(m, p),
    "gradient_histograms": lambda m, h, p: plotting.plot_gradient_histograms(m, p),
    "weight_gradient_histograms": lambda m, h, p: plotting.plot_gradient_histograms(
        m, p, weights=True
    ),
    "update_ratios": lambda m, h, p: plotting.plot_update_ratios(m, p),
    "activation_std": lambda m, h, p: plotting.plot_activation_std({"a": m, "b": m}, p),
    "loss_curves": lambda m, h, p: plotting.plot_training_curves(h, p),
    "accuracy_curves": lambda m, h, p: plotting.plot_training_curves(h, p, metric="accuracy"),
    "dashboard": lambda m, h, p: plotting.plot_dashboard(m, h, p),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_plot_writes_a_png_or_explains_the_extra(name, tmp_path):
    monitor, history = _monitor_and_history()
    path = tmp_path / f"{name}.png"
    if HAVE_MATPLOTLIB:
        CALLS[name](monitor, history, path)
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    else:
        with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\"") as info:
            CALLS[name](monitor, history, path)
        assert 'pip install -e ".[plot]"' in str(info.value)
        assert not path.exists()


@pytest.mark.parametrize("name", ["activation_histograms", "dashboard"])
def test_missing_matplotlib_is_explained(name, tmp_path, monkeypatch):
    """Simulated absence (a None entry in sys.modules makes the import fail), whatever is installed."""
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    monitor, history = _monitor_and_history()
    path = tmp_path / "x.png"
    with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\"") as info:
        CALLS[name](monitor, history, path)
    assert 'pip install -e ".[plot]"' in str(info.value)
    assert not path.exists()


def test_install_hint_names_the_extra():
    assert "tinynet[plot]" in plotting.INSTALL_HINT
    assert 'pip install -e ".[plot]"' in plotting.INSTALL_HINT


def test_importing_tinynet_plotting_does_not_import_matplotlib():
    code = "import sys, tinynet.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_training_curves_rejects_unknown_metric():
    # checked before matplotlib is needed, so the same with or without it
    with pytest.raises(ValueError, match="metric must be 'loss' or 'accuracy'"):
        plotting.plot_training_curves([], metric="f1")


class _FakeFigure:
    """Stands in for a matplotlib Figure: save_figure only calls ``savefig(file, format=, dpi=)``."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def savefig(self, handle, format: str, dpi: int) -> None:
        handle.write(PNG_MAGIC + b"half")
        if self.fail:
            raise RuntimeError("renderer failed")


def test_save_figure_gives_ordinary_permissions_and_leaves_nothing_on_failure(tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "fig.png"
    plotting.save_figure(_FakeFigure(), path)
    assert path.read_bytes() == PNG_MAGIC + b"half"
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's owner-only 0600
    with pytest.raises(RuntimeError, match="renderer failed"):
        plotting.save_figure(_FakeFigure(fail=True), path)
    assert path.read_bytes() == PNG_MAGIC + b"half"  # the earlier file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
