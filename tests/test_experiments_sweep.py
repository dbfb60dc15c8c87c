"""tinynet.experiments.sweep and .leaderboard: the sweep, its executors, aggregation and leaderboard."""

from __future__ import annotations

import importlib
import math
from concurrent.futures import Executor, Future
from dataclasses import replace

import pytest

from tinynet import experiments, init
from tinynet.experiments import Config
from tinynet.experiments.leaderboard import rank_labels

TINY = Config(depth=1, width=16, epochs=1, limit=300, batch_size=16, probe_size=64)


pytestmark = pytest.mark.usefixtures("fresh_cache")


class RecordingExecutor(Executor):
    """A user's own Executor: runs each task at once and remembers what it was given."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def submit(self, fn, /, *args, **kwargs):
        self.calls.append(args[0]["config"]["init"])
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.fixture(scope="module")
def recorder():
    return RecordingExecutor()


@pytest.fixture(scope="module")
def two_seeds(recorder):
    return experiments.sweep(["zeros", "he"], seeds=2, config=TINY, executor=recorder)


def test_sweep_runs_every_scheme_and_seed_and_ranks_them(two_seeds):
    result = two_seeds
    assert [(r["init"], r["seed"]) for r in result.runs] == [
        ("zeros", 0), ("zeros", 1), ("he", 0), ("he", 1),
    ]  # fmt: skip
    assert result.seeds == [0, 1] and result.executor == "RecordingExecutor"
    assert result.jobs is None  # the caller's executor: no pool of ours
    assert [row.init for row in result.rows] == ["he", "zeros"]
    he, zeros = result.rows
    assert he.runs == 2 and he.mean("test_accuracy") > 0.3  # 19 steps
    assert zeros.mean("test_accuracy") == pytest.approx(0.1, abs=0.02)
    assert zeros.mean("distinct_units") == 1 and he.mean("distinct_units") == 16
    assert zeros.mean("dead") == 1.0  # ReLU of an all-zero pre-activation
    assert zeros.mean("initial_loss") == pytest.approx(math.log(10), abs=1e-6)


def test_sweep_std_is_the_sample_std_over_seeds(two_seeds):
    he = two_seeds.rows[0]
    accs = [r["test_accuracy"] for r in two_seeds.runs if r["init"] == "he"]
    mean, std, n = he.stats["test_accuracy"]
    assert n == 2 and mean == pytest.approx(sum(accs) / 2)
    assert std == pytest.approx(abs(accs[0] - accs[1]) / math.sqrt(2))


def test_sweep_uses_the_given_executor_and_is_deterministic(two_seeds, recorder):
    """(The process pool of ``jobs > 1`` runs in tests/test_examples_experiments.py.)"""
    assert recorder.calls == ["zeros", "zeros", "he", "he"]
    again = experiments.sweep(["he"], seeds=[1], config=TINY, jobs=1)
    assert again.executor == "_InlineExecutor" and again.jobs == 1
    assert again.runs[0]["train_loss"] == two_seeds.runs[3]["train_loss"]
    assert again.runs[0]["test_accuracy"] == two_seeds.runs[3]["test_accuracy"]


def test_leaderboard_tables():
    rows = experiments.leaderboard(
        [
            {"init": "a", "test_accuracy": 0.5, "units": 4, "distinct_units": 4, "seconds": 1.0},
            {"init": "a", "test_accuracy": 0.7, "units": 4, "distinct_units": 4, "seconds": 3.0},
            {"init": "b", "test_accuracy": 0.9, "units": 4, "distinct_units": 1, "diverged": True},
            {"init": "c", "seed": 0, "error": "ValueError: boom"},
        ]
    )
    assert [r.init for r in rows] == ["b", "a", "c"]
    text = experiments.format_leaderboard(rows)
    lines = text.splitlines()
    assert len(lines) == 5 and "b*" in lines[2] and "1/4" in lines[2]
    assert "60.0 ± 14.1" in lines[3] and "2.0 ± 1.4" in lines[3]
    assert "error" in lines[4]
    md = experiments.format_leaderboard(rows, markdown=True).splitlines()
    assert md[0].startswith("| # | init |") and md[1].startswith("|---:|:---|")
    assert all(line.count("|") == md[0].count("|") for line in md)
    assert rows[2].errors == ["ValueError: boom"]
    assert rows[1].to_dict()["test_accuracy"] == {"mean": 0.6, "std": pytest.approx(0.1414, abs=1e-4), "n": 2}


def test_a_failing_run_is_reported_not_raised():
    out = experiments.run_task({"config": {**Config(limit=50, epochs=1).to_dict(), "init": "nonexistent"}})
    assert out["init"] == "nonexistent" and out["error"].startswith("ValueError")


def test_registered_schemes_lists_each_strategy_once_and_the_pytorch_preset_beside_default():
    specs = experiments.registered_schemes()
    assert len(specs) == len(set(specs))
    # the pytorch preset (PyTorch's weight AND bias rule) is its own row, right after default
    # (PyTorch's weight rule with zero biases); keras and flax equal rows already there
    assert specs[specs.index("default") + 1] == "pytorch"
    presets = [s for s in specs if s in init.PRESETS]
    assert presets == ["pytorch"]
    weights = [s for s in specs if s not in init.PRESETS]
    strategies = [repr(init.get(s)) for s in weights]
    assert len(strategies) == len(set(strategies))
    for name in ("he_normal", "xavier_uniform", "orthogonal", "lsuv", "zeros", "default"):
        assert name in specs
    for alias in ("he", "kaiming", "glorot", "msra", "default_bias", "constant", "keras", "flax"):
        assert alias not in specs
    assert "constant(value=0.05)" in specs  # constant() would equal zeros
    covered = {repr(init.get(s)).split("(")[0] for s in weights}
    registered = {repr(init.get(n)).split("(")[0] for n in init.names()}
    left_out = importlib.import_module("tinynet.experiments.sweep").NOT_IN_DEFAULT_SWEEP
    assert covered == registered - set(left_out)
    assert "edge_of_chaos" in registered and "edge_of_chaos" not in covered


def test_a_preset_is_its_own_row_with_its_own_biases():
    config = replace(TINY, bias_init="normal(std=0.1)")
    result = experiments.sweep(["default", "pytorch"], seeds=[0], config=config, jobs=1)
    runs = {r["init"]: r for r in result.runs}
    assert set(runs) == {"default", "pytorch"} == {row.init for row in result.rows}
    assert result.inits == ["default", "pytorch"]
    # a weight spec keeps the config's bias init; the preset sets both of its own
    assert (runs["default"]["weight_init"], runs["default"]["bias_init"]) == ("default", "normal(std=0.1)")
    assert (runs["pytorch"]["weight_init"], runs["pytorch"]["bias_init"]) == ("default", "default_bias")
    # same weights (same seed and parameter names), other biases: another run
    assert runs["default"]["initial_loss"] != runs["pytorch"]["initial_loss"]
    with pytest.raises(ValueError, match="closest preset: 'pytorch'"):
        experiments.sweep(["pytorh"], config=TINY)


def test_three_seeds_by_default():
    result = experiments.sweep(["zeros"], config=replace(TINY, limit=60, epochs=0), jobs=1)
    assert result.seeds == [0, 1, 2] and result.rows[0].runs == 3


def _rows(accuracies: dict[str, list[float] | None]) -> list:
    runs = []
    for name, values in accuracies.items():
        if values is None:  # every run diverged before its first epoch
            runs += [{"init": name, "seed": k, "diverged": True} for k in range(3)]
        else:
            runs += [{"init": name, "seed": k, "test_accuracy": v} for k, v in enumerate(values)]
    return experiments.leaderboard(runs)


def test_ties_share_a_rank_when_the_means_are_within_the_seeds_spread():
    rows = _rows(
        {
            "a": [0.90, 0.92, 0.94],  # 0.920 ± 0.020: leads the first group
            "b": [0.914, 0.915, 0.916],  # 0.915 ± 0.001: within a's std of a -> tie
            "c": [0.894, 0.895, 0.896],  # 0.895 ± 0.001: 0.025 below a, more than either std
            "d": [0.875, 0.89, 0.905],  # 0.890 ± 0.015: within its own std of c -> tie
            "e": [0.80],  # one seed, no std
            "f": [0.80],  # one seed, the same mean: a tie
            "g": [0.799],  # one seed, a hair below: no tie without a spread
            "h": None,  # diverged: no mean, never ties
            "i": None,
        }
    )
    assert [r.init for r in rows] == list("abcdefghi")
    assert rank_labels(rows) == ["=1", "=1", "=3", "=3", "=5", "=5", "7", "8", "9"]
    assert [r.rank for r in rows] == rank_labels(rows)
    assert rows[1].to_dict()["rank"] == "=1"
    lines = experiments.format_leaderboard(rows).splitlines()[2:]
    assert [line.split()[0] for line in lines] == ["=1", "=1", "=3", "=3", "=5", "=5", "7", "8", "9"]
    assert "diverged" in lines[7] and lines[7].split()[1] == "h*"
    md = experiments.format_leaderboard(rows, markdown=True).splitlines()
    assert md[2].startswith("| =1 | a |") and md[4].startswith("| =3 | c |")


def test_the_tie_rule_is_symmetric_and_judged_against_the_group_leader():
    # b (0.885 ± 0.02) is within the spread of a (0.900 ± 0.02); c (0.870 ± 0.001) is within b's
    # spread but 0.03 below the leader a, more than either std: c opens a new group
    rows = _rows({"a": [0.88, 0.90, 0.92], "b": [0.865, 0.885, 0.905], "c": [0.869, 0.87, 0.871]})
    assert rank_labels(rows) == ["=1", "=1", "3"]
    # the larger std decides, whichever of the two rows has it
    wide_second = _rows({"a": [0.899, 0.90, 0.901], "b": [0.865, 0.885, 0.905]})
    wide_first = _rows({"a": [0.88, 0.90, 0.92], "b": [0.884, 0.885, 0.886]})
    assert rank_labels(wide_second) == rank_labels(wide_first) == ["=1", "=1"]


def test_no_ties_when_the_spreads_do_not_overlap():
    rows = _rows({"a": [0.97, 0.975, 0.98], "b": [0.95, 0.955, 0.96], "c": [0.10, 0.10, 0.10]})
    assert rank_labels(rows) == ["1", "2", "3"]
    single = _rows({"a": [0.975], "b": [0.974]})  # one seed each: no spread, no tie
    assert rank_labels(single) == ["1", "2"]
    assert rank_labels([]) == []


def test_split_specs_keeps_commas_inside_parentheses():
    assert experiments.split_specs("he, uniform(low=-0.1, high=0.1),zeros") == [
        "he", "uniform(low=-0.1, high=0.1)", "zeros",
    ]  # fmt: skip
    for bad in ("he,,zeros", "normal(std=1", "he)", ""):
        with pytest.raises(ValueError):
            experiments.split_specs(bad)


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="Did you mean 'xavier'"):
        experiments.sweep(["xavierr"], config=TINY)
    with pytest.raises(ValueError, match="distinct"):
        experiments.sweep(["he", "he"], config=TINY)
    with pytest.raises(ValueError, match="empty"):
        experiments.sweep([], config=TINY)
    with pytest.raises(ValueError, match="seeds"):
        experiments.sweep(["he"], seeds=0, config=TINY)
    with pytest.raises(ValueError, match="jobs"):
        experiments.sweep(["he"], config=TINY, jobs=0)
    with pytest.raises(ValueError, match="depth"):
        experiments.sweep(["he"], config=Config(depth=-1))
    with pytest.raises(TypeError, match="seeds"):
        experiments.sweep(["he"], seeds="two", config=TINY)
