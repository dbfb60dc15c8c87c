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
from types import SimpleNamespace

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, plotting
from tinynet.diagnostics import Monitor
from tinynet.plotting import _figure

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
    "gradient_std": lambda m, h, p: plotting.plot_gradient_std(m, p),
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
    {"activation": act, "init": init, "act_std": [1.0, 0.5, 0.0], "weight_grad_norm": [1e-3, None, 0.1],
     "out_grad_std": [1e-6, 1e-4, None, 1e-2]}
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
               "plot_activation_std", "plot_gradient_std", "plot_training_curves",
               "plot_dashboard"]  # fmt: skip
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


# ---------------------------------------------------------------------------------- what the figures show
def _fit(history, step_losses, steps=None):
    """Stands in for a FitResult: the figures read ``history``, ``step_losses`` and ``steps``."""
    return SimpleNamespace(history=history, step_losses=step_losses, steps=steps or len(step_losses))


def _drawn(draw):
    """The figure ``draw()`` makes, or None after checking the ImportError when matplotlib is absent."""
    if not HAVE_MATPLOTLIB:
        with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\""):
            draw()
        return None
    return draw()


def _rgba(handle):
    from matplotlib.colors import to_rgba

    colour = handle.get_edgecolor() if hasattr(handle, "get_edgecolor") and not hasattr(handle, "get_color") \
        else handle.get_color()  # fmt: skip
    return tuple(round(c, 4) for c in to_rgba(colour))


def _legend_colours(ax):
    handles, labels = ax.get_legend_handles_labels()
    return dict(zip(labels, (_rgba(h) for h in handles), strict=True))


def _deep_monitor(layers=11):
    """A ReLU MLP with ``layers`` weight layers (more than the ten tab10 colours), two steps taken."""
    tn.manual_seed(1)
    mods = []
    for _ in range(layers - 1):
        mods += [nn.Linear(6, 6), nn.ReLU()]
    model = nn.Sequential(*mods, nn.Linear(6, 3))
    rng = np.random.default_rng(1)
    monitor = Monitor(model, rng.standard_normal((16, 6)).astype(np.float32), rng.integers(0, 3, 16), every=2)
    for _ in range(2):
        for p in model.parameters():
            p.data = p.data + 1e-2 * rng.standard_normal(p.shape).astype(p.data.dtype)
        monitor.on_step()
    return monitor


class _FakeAxes:
    """Records what spread_scale sets, so that its rule is tested without matplotlib."""

    def __init__(self) -> None:
        self.scale, self.limits = None, None

    def set_yscale(self, scale) -> None:
        self.scale = scale

    def set_ylim(self, low, high) -> None:
        self.limits = (low, high)


def test_spread_scale_is_linear_from_zero_unless_the_values_span_more_than_a_factor_3():
    ax = _FakeAxes()
    assert _figure.spread_scale(ax, [0.973, 0.99, 1.0]) == "linear"  # the old log axis spanning 0.973-1.0
    assert ax.scale == "linear" and ax.limits == (0.0, pytest.approx(1.08))
    assert _figure.spread_scale(_FakeAxes(), [1.0, 3.0]) == "linear"
    ax = _FakeAxes()
    assert _figure.spread_scale(ax, [1e-4, 3.01e-4]) == "log"  # (a fake axes: no tick labels in 1e-3..1e4)
    ax = _FakeAxes()
    assert _figure.spread_scale(ax, [2.3e-7, None, float("nan"), 0.0, 1.0]) == "log"
    low, high = ax.limits
    assert low < 2.3e-7 < 1.0 < high and high / 1.0 == pytest.approx(2.3e-7 / low)
    ax = _FakeAxes()
    assert _figure.spread_scale(ax, [0.0, 0.0]) == "linear" and ax.limits == (0.0, pytest.approx(1.08))
    ax = _FakeAxes()
    assert _figure.spread_scale(ax, [-2.0, 2.0]) == "linear" and ax.limits == pytest.approx((-2.32, 2.32))


def test_running_mean_is_a_trailing_mean_of_the_finite_values():
    values = [1.0, 2.0, 3.0, 4.0, float("nan"), 6.0]
    np.testing.assert_allclose(_figure.running_mean(values, 2), [1.0, 1.5, 2.5, 3.5, 4.0, 6.0])
    np.testing.assert_allclose(_figure.running_mean([1.0, 2.0, 3.0], 10), [1.0, 1.5, 2.0])
    out = _figure.running_mean([float("nan"), float("nan"), 5.0], 1)
    assert np.isnan(out[:2]).all() and out[2] == 5.0


def test_back_propagated_signal_reads_out_grad_std_and_falls_back_to_the_layer_rows():
    monitor, _ = _monitor_and_history()
    record = monitor.select("first")
    own = {m["name"]: m["grad_std"] for m in record["modules"] if m["role"] == "layer"}
    for row in record["layers"]:
        row.pop("out_grad_std", None)
    fallback = [(row["layer"], own[row["name"]]) for row in record["layers"]]
    assert plotting.monitor._out_grad_std(record) == fallback and all(v > 0 for _, v in fallback)
    for row, value in zip(record["layers"], [1e-7, 2e-5, 3e-3], strict=True):
        row["out_grad_std"] = value
    assert plotting.monitor._out_grad_std(record) == [(1, 1e-7), (2, 2e-5), (3, 3e-3)]
    for m in record["modules"]:
        m["grad_std"] = None
    record["layers"][1]["out_grad_std"] = None
    assert plotting.monitor._out_grad_std(record)[1] == (2, None)  # a gap, not an error


def test_histograms_need_one_axes_per_record(tmp_path):
    monitor, _ = _monitor_and_history()
    with pytest.raises(ValueError, match="2 records need 2 axes, got 1"):
        plotting.plot_activation_histograms(monitor, ax=[object()])
    monitor.history = monitor.history[:1]  # one record: "first" and "last" are the same, drawn once
    assert [r["step"] for r in plotting.monitor._records(monitor, ("first", "last"))] == [0]


def test_histograms_show_initialization_and_latest_on_a_log_density_axis():
    monitor, _ = _monitor_and_history()
    fig = _drawn(lambda: plotting.plot_activation_histograms(monitor))
    if fig is not None:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_yscale() for ax in axes] == ["log", "log"]
        assert "initialization (step 0)" in axes[0].get_title()
        assert "step 4, latest" in axes[1].get_title()
        for ax in axes:
            legend = _legend_colours(ax)
            assert [label.split(":")[0] for label in legend] == ["layer 1 tanh", "layer 2 relu"]
            assert len(set(legend.values())) == 2


def test_a_constant_layer_shows_as_a_spike_not_a_vanishing_dash():
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8, weight_init="zeros"), nn.ReLU(), nn.Linear(8, 3))
    x = np.random.default_rng(0).standard_normal((16, 6)).astype(np.float32)
    monitor = Monitor(model, x, np.zeros(16, dtype=np.int64))
    fig = _drawn(lambda: plotting.plot_activation_histograms(monitor))
    if fig is not None:
        (ax,) = [ax for ax in fig.axes if ax.get_visible()]
        (stems,) = ax.collections
        ((x0, y0), (x1, y1)) = stems.get_segments()[0]
        assert x0 == x1 and y0 == pytest.approx(ax.get_ylim()[0]) and y1 > y0  # from the floor up
        low, high = ax.get_xlim()
        assert low < x0 < high and (high - low) > 50 * (x0 - 0.0)  # the whole range around the spike


def test_no_legend_repeats_a_colour_and_a_layer_keeps_its_colour_across_panels():
    monitor = _deep_monitor(layers=11)
    history = [{"epoch": 1, "step": 2, "train_loss": 1.0, "test_loss": 1.1, "train_accuracy": 0.3,
                "test_accuracy": 0.3}]  # fmt: skip
    fig = _drawn(lambda: plotting.plot_dashboard(monitor, _fit(history, [1.2, 1.0])))
    if fig is not None:
        with_legend = [ax for ax in fig.axes if ax.get_legend() is not None]
        assert len(with_legend) >= 7
        for ax in with_legend:
            colours = list(_legend_colours(ax).values())
            assert len(set(colours)) == len(colours), ax.get_title()
        hist = _legend_colours(fig.axes[0])
        updates = _legend_colours(fig.axes[8])
        assert len(updates) == 12  # eleven weights and the 10⁻³ line
        first_hist = next(c for label, c in hist.items() if label.startswith("layer 1 "))
        first_update = next(c for label, c in updates.items() if label.startswith("layer 1 "))
        assert first_hist == first_update


def test_std_against_depth_is_linear_for_a_steady_std_and_log_for_a_collapsing_one():
    monitor, _ = _monitor_and_history()
    fig = _drawn(lambda: plotting.plot_activation_std(monitor))
    if fig is None:
        return
    for record, values in ((monitor.history[0], [0.973, 1.0]), (monitor.history[-1], [0.98, 0.99])):
        for m, v in zip(plotting.monitor._observed_modules(record), values, strict=True):
            m["std"] = v
    ax = plotting.plot_activation_std(monitor).axes[0]
    assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0.0
    monitor.history[-1]["modules"][1]["std"] = 1e-6  # the tanh output of layer 1 has collapsed
    ax = plotting.plot_activation_std(monitor).axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] < 1e-6
    measured = [line.get_linestyle() for line in ax.lines if line.get_linestyle() != ":"]
    assert measured[:2] == ["--", "-"]  # initialization dashed
    assert sum(line.get_linestyle() == ":" for line in ax.lines) == 2  # theory at init + its legend key


def test_back_propagated_signal_figure_draws_the_recorded_figures_on_the_spread_scale():
    monitor, _ = _monitor_and_history()
    for record in monitor.history:
        for row, value in zip(record["layers"], [2.3e-7, 1e-4, 1e-2], strict=True):
            row["out_grad_std"] = value
    fig = _drawn(lambda: plotting.plot_gradient_std(monitor))
    if fig is not None:
        ax = fig.axes[0]
        assert ax.get_yscale() == "log"
        np.testing.assert_allclose(ax.lines[0].get_ydata(), [2.3e-7, 1e-4, 1e-2])
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])


def test_training_curves_are_drawn_per_step_with_a_running_mean_and_epoch_points():
    losses = list(np.linspace(2.3, 0.2, 60))
    history = [{"epoch": 1, "step": 60, "train_loss": 1.0, "test_loss": 0.3}]  # one epoch
    fig = _drawn(lambda: plotting.plot_training_curves(_fit(history, losses)))
    if fig is None:
        return
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.lines}
    raw = lines["train, per step"]
    np.testing.assert_array_equal(raw.get_xdata(), np.arange(1, 61))  # a line, not one dot per epoch
    smooth = lines["train, mean of last 3"]
    assert smooth.get_ydata()[-1] == pytest.approx(np.mean(losses[-3:]))
    np.testing.assert_array_equal(lines["test, per epoch"].get_xdata(), [60])
    assert ax.get_xlabel() == "optimizer step" and ax.get_yscale() == "log"  # 2.3 / 0.2 > 3
    resumed = _fit(history, losses[40:], steps=60)  # only the last 20 steps known
    ax = plotting.plot_training_curves(resumed).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(41, 61))


def test_training_curves_without_steps_fall_back_to_epochs():
    _, history = _monitor_and_history()  # no "step" in the entries, no step_losses
    fig = _drawn(lambda: plotting.plot_training_curves(history))
    if fig is not None:
        ax = fig.axes[0]
        assert ax.get_xlabel() == "epoch"
        assert [list(line.get_xdata()) for line in ax.lines] == [[1, 2], [1, 2]]


def test_dashboard_pairs_initialization_with_the_latest_record():
    monitor, _ = _monitor_and_history()
    history = [{"epoch": 1, "step": 4, "train_loss": 1.0, "test_loss": 1.1, "train_accuracy": 0.5,
                "test_accuracy": 0.4}]  # fmt: skip
    fig = _drawn(lambda: plotting.plot_dashboard(monitor, _fit(history, [1.3, 1.2, 1.1, 1.0])))
    if fig is None:
        return
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 9 and all(ax.get_visible() for ax in fig.axes)
    assert "initialization" in titles[0] and "latest" in titles[1]
    assert "initialization" in titles[3] and "latest" in titles[4]
    assert titles[2] == "activation std against depth" and titles[5] == "back-propagated signal against depth"
    assert titles[6] == "loss per step, 1 epoch" and titles[8] == "update:data ratio per step"
    probe = next(line for line in fig.axes[6].lines if line.get_label() == "probe (Monitor)")
    assert list(probe.get_xdata()) == [0, 2, 4]  # the probe's loss at every record, step 0 included
    untrained = Monitor(monitor.model, monitor.probe, monitor.targets)  # one record only
    fig = plotting.plot_dashboard(untrained)
    assert "no later record" in fig.axes[1].texts[0].get_text() and not fig.axes[1].axison


def test_depth_profiles_draw_the_back_propagated_signal_not_the_weight_gradient():
    fig = _drawn(lambda: plotting.plot_depth_profiles(PROFILES))
    if fig is not None:
        ax_grad = fig.axes[1]
        assert "back-propagated" in ax_grad.get_title()
        y = ax_grad.get_lines()[0].get_ydata()
        assert np.allclose(y, [1e-6, 1e-4, np.nan, 1e-2], equal_nan=True)  # None: a gap


def test_trainability_names_each_optimizer_once_and_marks_a_diverged_run():
    sgd = {**TRAINABILITY[0], "optimizer": "sgd"}
    adam = {**TRAINABILITY[0], "optimizer": "adam", "train_loss": [2.3, None], "final_loss": None,
            "loss_ratio": None, "diverged": True,
            "divergence": {"step": 7, "reason": "nan loss"}}  # fmt: skip
    fig = _drawn(lambda: plotting.plot_trainability([sgd, adam]))
    if fig is not None:
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert labels[:2] == ["he (sgd): 1.500 (65% of ln C)", "he (adam): diverged at step 7"]
        assert "plain SGD vs Adam" in fig.axes[0].get_title()
