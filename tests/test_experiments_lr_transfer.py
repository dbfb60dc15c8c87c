"""tinynet.experiments.studies.lr_transfer and its figure: the records' structure, the optimum's
logic and diverged runs on canned results, the executor path with a recording executor, and the
SP/µP claim on a small grid."""

from __future__ import annotations

import importlib.util
import math
import sys
from concurrent.futures import Executor, Future

import pytest

from tinynet import plotting
from tinynet.experiments import studies

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.usefixtures("fresh_cache")


class _Recording(Executor):
    """A user's own executor: runs each task at once and remembers what it was given."""

    def __init__(self):
        self.tasks = []

    def submit(self, fn, /, *args, **kwargs):
        self.tasks.append(args[0])
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _canned_loss(task):
    """A loss bowl whose optimum sits at log2 lr = -8 under mup and at -8 - log2(width/16) under sp;
    sp diverges above its optimum + 2, and seed 1 of mup at -4 diverges."""
    w, k, p = task["width"], task["log2_lr"], task["parametrization"]
    best = -8.0 if p == "mup" else -8.0 - math.log2(w / 16)
    diverged = (p == "sp" and k > best + 2) or (p == "mup" and k == -4 and task["seed"] == 1)
    loss = None if diverged else 0.1 + 0.05 * (k - best) ** 2 + 0.001 * task["seed"]
    return {**{key: task[key] for key in ("parametrization", "width", "log2_lr", "seed")},
            "train_loss": loss, "diverged": diverged, "steps": 7, "error": None}  # fmt: skip


class _Canned(Executor):
    """Answers every task with :func:`_canned_loss` instead of training."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        future.set_result(_canned_loss(args[0]))
        return future


def test_best_index_ignores_diverged_runs_and_takes_the_first_of_equals():
    assert studies.best_index([None, 2.0, 1.0, math.inf, 1.5]) == 2
    assert studies.best_index([3.0, 1.0, 1.0]) == 1
    assert studies.best_index([None, math.inf, math.nan]) is None
    assert studies.best_index([]) is None


def test_the_optimum_and_its_movement_follow_the_losses():
    r = studies.lr_transfer(
        ("sp", "mup"), (16, 64, 256), range(-14, -3), seeds=(0, 1), executor=_Canned(), limit=100,
    )  # fmt: skip
    sp, mup = r["results"]
    assert r["executor"] == "_Canned" and r["jobs"] is None and r["steps"] == 7
    assert r["log2_lrs"] == list(range(-14, -3)) and r["lrs"][0] == 2.0**-14 and len(r["runs"]) == 132
    # µP: the same optimum at every width; seed 1 at -4 diverged, so that point is diverged
    assert mup["best_log2_lr"] == [-8.0, -8.0, -8.0] and mup["shift"] == 0 and mup["transfers"]
    assert not mup["moves"] and [row[-1] for row in mup["loss"]] == [None, None, None]
    assert [row[-1] for row in mup["diverged"]] == [1, 1, 1] and mup["loss_std"][0][-1] is None
    assert mup["loss"][0][6] == pytest.approx(0.1005)
    assert mup["loss_std"][0][6] == pytest.approx(0.001 / 2**0.5)
    assert mup["tied"] == [[6], [6], [6]] and mup["shift_within_noise"] == 0
    # SP: the optimum falls by 2 grid points per factor 4 of width, and is never a diverged point
    assert sp["best_log2_lr"] == [-8.0, -10.0, -12.0] and sp["shift"] == 4 and sp["moves"]
    assert not sp["transfers"] and sp["widest_diverges_at_base_best"]
    assert sp["loss"][2][-1] is None and sp["diverged"][2][-1] == 2 and sp["diverged"][0][6] == 0
    assert sp["best_loss"] == [pytest.approx(0.1005)] * 3 and sp["shift_within_noise"] == 4


def test_ties_within_the_seeds_spread_count_as_ties():
    assert studies.tied_indices([0.3, 0.10, 0.11, 0.2, math.inf], [0.0, 0.02, 0.001, None, None], 1) == [1, 2]
    assert studies.tied_indices([0.3, 0.10, 0.11], [None, None, None], 1) == [1]
    assert studies.tied_indices([0.3], [None], None) == []
    assert studies.least_shift([[6, 7], [6, 7], [6, 7, 8]]) == 0
    assert studies.least_shift([[6, 7], [4, 5], [3, 4]]) == 2  # 6, 4 and 4
    assert studies.least_shift([[3], [5], [1]]) == 4 and studies.least_shift([[1], []]) is None


def test_a_width_where_every_rate_diverges_has_no_optimum():
    r = studies.lr_transfer(("sp",), (16, 4096), (-6, -5), seeds=(0,), executor=_Canned(), limit=100)
    (sp,) = r["results"]
    assert sp["best"] == [0, None] and sp["shift"] is None and not sp["moves"] and not sp["transfers"]
    assert sp["widest_diverges_at_base_best"]


@pytest.fixture(scope="module")
def small():
    executor = _Recording()
    result = studies.lr_transfer(("sp", "mup"), (16, 32), (-7, -5), base_width=16, epochs=1, limit=200,
                                 seeds=(0, 1), executor=executor)  # fmt: skip
    return result, executor


def test_every_run_goes_through_the_given_executor_widest_first(small):
    r, executor = small
    assert r["executor"] == "_Recording" and r["jobs"] is None and r["errors"] == []
    order = [(t["width"], t["parametrization"], t["log2_lr"], t["seed"]) for t in executor.tasks]
    assert order == [(w, p, k, s) for w in (32, 16) for p in ("sp", "mup") for k in (-7.0, -5.0)
                     for s in (0, 1)]  # fmt: skip
    task = executor.tasks[0]
    assert task["config"]["parametrization"] == "sp" and task["config"]["base_width"] == 16
    assert task["config"]["lr"] == 2.0**-7 and task["config"]["width"] == 32 and task["config"]["depth"] == 2
    assert [(x["width"], x["seed"]) for x in r["runs"][:2]] == [(32, 0), (32, 1)]


def test_the_records_are_plain_and_complete(small):
    r, _ = small
    assert r["steps"] == 4 and r["widths"] == [16, 32] and r["seeds"] == [0, 1]
    for rec in r["results"]:
        assert len(rec["loss"]) == 2 and all(len(row) == 2 for row in rec["loss"])
        assert all(isinstance(v, float) and 0 < v < 5 for row in rec["loss"] for v in row)
        assert rec["best"] == [min(range(2), key=row.__getitem__) for row in rec["loss"]]
    for run in r["runs"]:
        assert run["diverged"] is False and run["steps"] == 4 and 0 <= run["train_accuracy"] <= 1
    # at width == base_width µP is SP: the same weights for the same seed, the same loss
    sp, mup = r["results"]
    assert sp["loss"][0] == pytest.approx(mup["loss"][0], rel=1e-6)
    assert sp["loss"][1] != pytest.approx(mup["loss"][1], rel=1e-3)


def test_a_run_that_fails_reports_its_error():
    config = studies.lr_config(8, limit=50).to_dict()
    out = studies.lr_task({"config": {**config, "data": "no/such/folder"}, "parametrization": "mup",
                           "width": 8, "log2_lr": -8.0, "seed": 0})  # fmt: skip
    assert out["error"] and out["width"] == 8 and "train_loss" not in out


def test_the_study_checks_its_arguments_before_training():
    with pytest.raises(ValueError, match="unknown parametrization 'mpu'"):
        studies.lr_transfer(("mpu",), executor=_Canned())
    with pytest.raises(ValueError, match="widths must be non-empty and distinct"):
        studies.lr_transfer(widths=(64, 64), executor=_Canned())
    with pytest.raises(ValueError, match="log2_lrs must be non-empty"):
        studies.lr_transfer(log2_lrs=(), executor=_Canned())
    with pytest.raises(ValueError, match="batch_size"):
        studies.lr_transfer(batch_size=0, executor=_Canned())


def test_sp_s_optimum_falls_with_width_and_mup_s_stays():
    """The claim on a small grid: widths 64 and 512 (a factor 8), 4 epochs on 1000 digits, one seed
    (measured: SP's best rate 2^-7 then 2^-9, µP's 2^-7 then 2^-6)."""
    r = studies.lr_transfer(("sp", "mup"), (64, 512), range(-13, -4), base_width=64, epochs=4, limit=1000,
                            seeds=(0,), jobs=2)  # fmt: skip
    sp, mup = r["results"]
    assert mup["shift"] <= 1, mup["best_log2_lr"]
    assert sp["best_log2_lr"][1] <= sp["best_log2_lr"][0] - 2, sp["best_log2_lr"]


# ------------------------------------------------------------------------------------ the figure
def _record():
    return studies.lr_transfer(("sp", "mup"), (16, 64, 256), range(-14, -3), seeds=(0, 1),
                               executor=_Canned(), limit=100)  # fmt: skip


def test_the_figure_is_a_png_or_explains_the_extra(tmp_path):
    path = tmp_path / "lr.png"
    if not HAVE_MATPLOTLIB:
        with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\""):
            plotting.plot_lr_transfer(_record(), path)
        assert not path.exists()
        return
    fig = plotting.plot_lr_transfer(_record(), path)
    assert path.read_bytes().startswith(PNG)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2 and axes[0].get_ylim() == axes[1].get_ylim()
    assert [ax.get_title() for ax in axes] == ["sp: optimum moves 4 grid point(s)",
                                               "mup: optimum moves 0 grid point(s)"]  # fmt: skip
    stars = [line for line in axes[0].lines if line.get_marker() == "*"]
    assert sorted(float(line.get_xdata()[0]) for line in stars) == [-12.0, -10.0, -8.0]


def test_the_figure_without_matplotlib_names_the_extra(tmp_path, monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install \"tinynet\[plot\]\""):
        plotting.plot_lr_transfer(_record(), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
