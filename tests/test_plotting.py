"""Plots: PNG files when matplotlib is installed; otherwise a clear message naming the plot extra.

Both branches are real tests: whichever applies to this environment runs and asserts. The Monitor
figures draw a real Monitor; the study figures draw small hand-written records of the shape the
studies produce (the examples' end-to-end tests draw the real ones).
"""

from __future__ import annotations

import importlib.util
import os
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


def _sweep_record():
    def run(init, seed, losses):
        history = [{"epoch": k + 1, "train_loss": a, "test_loss": b} for k, (a, b) in enumerate(losses)]
        return {"init": init, "seed": seed, "ln_classes": 2.302585, "history": history}

    return {
        "config": {"depth": 2, "width": 8, "activation": "tanh", "optimizer": "sgd", "epochs": 2},
        "seeds": [0, 1],
        "leaderboard": [
            {"init": "he", "test_accuracy": {"mean": 0.91}, "diverged": False},
            {"init": "zeros", "test_accuracy": {"mean": None}, "diverged": True},
        ],
        "runs": [
            run("he", 0, [(2.0, 2.1), (1.0, 1.2)]),
            run("he", 1, [(1.8, 2.0), (0.9, 1.1)]),
            run("zeros", 0, []),
            run("zeros", 1, []),
        ],
    }


SYMMETRY = [
    {
        "init": "zeros",
        "activation": "tanh",
        "steps": [0, 5, 10],
        "units": [8, 3],
        "distinct": [[1, 1, 1], [1, 1, 1]],
        "test_accuracy": 0.2,
        "hidden_grads_zero": True,
        "learned": ["the output bias"],
    },
    {
        "init": "he",
        "activation": "tanh",
        "steps": [0, 5, 10],
        "units": [8, 3],
        "distinct": [[8, 8, 8], [3, 3, 3]],
        "test_accuracy": None,
    },
]
PROFILES = [
    {"activation": act, "init": init, "act_std": [1.0, 0.5, 0.0], "weight_grad_norm": [1e-3, None, 0.1]}
    for act in ("tanh", "relu")
    for init in ("xavier", "he")
]
TRAINABILITY = [
    {
        "scheme": "he",
        "train_loss": [2.3, 2.0, 1.5],
        "final_loss": 1.5,
        "loss_ratio": 0.65,
        "ln_classes": 2.302585,
        "depth": 10,
        "width": 16,
    }
]
DYNAMICS = {
    "activation": "sigmoid",
    "init": "xavier",
    "steps": [0, 1, 2],
    "mean": [[0.5, 0.6, 0.7], [0.5, 0.5, 0.5]],
    "std": [[0.2, 0.2, 0.1], [0.1, 0.1, 0.1]],
}
JACOBIAN = [
    {"init": init, "depth": depth, "singular_values": [1.0, 0.5 / depth, 0.0], "condition": 2.0 * depth}
    for init in ("orthogonal", "xavier_normal")
    for depth in (2, 4, 8)
]
STUDIES = {
    "sweep": lambda p: plotting.plot_sweep(_sweep_record(), p, ncols=2),
    "symmetry": lambda p: plotting.plot_symmetry(SYMMETRY, p),
    "depth_profiles": lambda p: plotting.plot_depth_profiles(PROFILES, p),
    "trainability": lambda p: plotting.plot_trainability(TRAINABILITY, p),
    "dynamics": lambda p: plotting.plot_dynamics(DYNAMICS, p),
    "jacobian": lambda p: plotting.plot_jacobian(JACOBIAN, p),
}


def _writes_a_png_or_explains_the_extra(draw, path):
    if HAVE_MATPLOTLIB:
        draw(path)
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    else:
        with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\"") as info:
            draw(path)
        assert 'pip install -e ".[plot]"' in str(info.value)
        assert not path.exists()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_plot_writes_a_png_or_explains_the_extra(name, tmp_path):
    monitor, history = _monitor_and_history()
    _writes_a_png_or_explains_the_extra(lambda p: CALLS[name](monitor, history, p), tmp_path / f"{name}.png")


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_each_study_plot_writes_a_png_or_explains_the_extra(name, tmp_path):
    _writes_a_png_or_explains_the_extra(STUDIES[name], tmp_path / f"{name}.png")


@pytest.mark.parametrize("name", ["activation_histograms", "dashboard", "sweep", "symmetry"])
def test_missing_matplotlib_is_explained(name, tmp_path, monkeypatch):
    """Simulated absence (a None entry in sys.modules makes the import fail), whatever is installed."""
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    path = tmp_path / "x.png"
    if name in CALLS:
        monitor, history = _monitor_and_history()
        draw = lambda p: CALLS[name](monitor, history, p)  # noqa: E731
    else:
        draw = STUDIES[name]
    with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\"") as info:
        draw(path)
    assert 'pip install -e ".[plot]"' in str(info.value)
    assert not path.exists()


def test_install_hint_names_the_extra():
    assert "tinynet[plot]" in plotting.INSTALL_HINT
    assert 'pip install -e ".[plot]"' in plotting.INSTALL_HINT


def test_importing_tinynet_plotting_does_not_import_matplotlib():
    code = "import sys, tinynet.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plotting_reads_records_only():
    """Importing the plots pulls in neither the experiments, the training loop nor the Monitor."""
    code = (
        "import sys, tinynet.plotting\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] in (['tinynet', 'experiments'],"
        " ['tinynet', 'training'], ['tinynet', 'diagnostics'])))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plotting_exports_every_figure_and_the_helpers():
    studies = ["plot_sweep", "plot_symmetry", "plot_depth_profiles", "plot_trainability", "plot_dynamics",
               "plot_jacobian"]  # fmt: skip
    monitor = ["plot_activation_histograms", "plot_gradient_histograms", "plot_update_ratios",
               "plot_activation_std", "plot_training_curves", "plot_dashboard"]  # fmt: skip
    for name in [*studies, *monitor, "require_matplotlib", "save_figure", "INSTALL_HINT"]:
        assert name in plotting.__all__ and hasattr(plotting, name), name
    assert all(callable(getattr(plotting, name)) for name in studies + monitor)


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
