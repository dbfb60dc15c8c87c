"""tinynet.experiments.sweep and .leaderboard: the sweep, its executors, aggregation and leaderboard."""

from __future__ import annotations

import math
from concurrent.futures import Executor, Future

import pytest

from tinynet import experiments, init
from tinynet.experiments import Config

TINY = Config(depth=1, width=16, epochs=1, limit=300, batch_size=16, probe_size=64)


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYNET_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


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


def test_registered_schemes_lists_each_strategy_once():
    specs = experiments.registered_schemes()
    assert len(specs) == len(set(specs))
    strategies = [repr(init.get(s)) for s in specs]
    assert len(strategies) == len(set(strategies))
    for name in ("he_normal", "xavier_uniform", "orthogonal", "lsuv", "zeros", "default"):
        assert name in specs
    for alias in ("he", "kaiming", "glorot", "msra", "default_bias", "constant"):
        assert alias not in specs
    assert "constant(value=0.05)" in specs  # constant() would equal zeros
    covered = {repr(init.get(s)).split("(")[0] for s in specs}
    assert covered == {repr(init.get(n)).split("(")[0] for n in init.names()}


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
