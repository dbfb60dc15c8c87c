"""Every initialization scheme side by side: the same network, data and seeds, one leaderboard.

:func:`sweep` runs one :func:`tinynet.experiment.run` per (scheme, seed) pair through any
:class:`concurrent.futures.Executor` and :func:`leaderboard` aggregates the runs into mean ± std
rows. ``examples/compare_inits.py`` is the command-line face.

Each run is an independent task: a plain dict in, a plain dict out (:func:`run_task`), so any
executor that can pickle a module-level function runs it:

- default: a :class:`~concurrent.futures.ProcessPoolExecutor` with ``jobs`` workers, started with
  the ``spawn`` method and one BLAS thread per worker (``OPENBLAS_NUM_THREADS=1`` and friends,
  unless already set): several processes each running a multi-threaded BLAS on the same cores
  slow each other down by an order of magnitude on a busy machine;
- Dask: ``sweep(..., executor=distributed.Client(address).get_executor())``;
- Ray (which has no ``Executor`` of its own): a ten-line adapter whose ``submit(fn, *args)``
  returns ``ray.remote(fn).remote(*args).future()``; see ``docs/experiments.md``.

On remote workers, set the BLAS thread variables in the workers' environment yourself. Thread
pools (:class:`~concurrent.futures.ThreadPoolExecutor`, Dask's threaded workers) are not safe: the
engine's grad mode and default random generator are process-wide, so concurrent runs in one process
disturb each other. Use processes.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .experiment import Config

__all__ = [
    "BLAS_THREAD_VARIABLES",
    "COLUMNS",
    "SHOWCASE",
    "LeaderboardRow",
    "SweepResult",
    "check_inits",
    "default_jobs",
    "format_leaderboard",
    "leaderboard",
    "registered_schemes",
    "run_task",
    "split_specs",
    "summarize",
    "sweep",
    "train_config",
]

#: environment variables that cap the threads of numpy's BLAS in the default worker processes
BLAS_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_FRAMEWORK_THREADS",
)

#: registered schemes whose default arguments would duplicate another scheme, with the arguments
#: the sweep uses instead (``constant()`` is ``constant(value=0.0)``, i.e. ``zeros``)
SHOWCASE: dict[str, str] = {"constant": "constant(value=0.05)"}

#: leaderboard columns: (key, header)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("test_accuracy", "test acc %"),
    ("train_loss", "final loss"),
    ("initial_loss", "initial loss"),
    ("gradient_flow", "grad flow @init"),
    ("distinct_units", "distinct units"),
    ("dead", "dead % @init"),
    ("saturated", "sat % @init"),
    ("seconds", "time s"),
)


def registered_schemes() -> list[str]:
    """One spec per registered initialization strategy, aliases removed, in registry order.

    Each name of :func:`tinynet.init.names` is resolved with :func:`tinynet.init.get`; names that
    give an equal strategy (``he``, ``kaiming``, ``msra`` → ``he_normal()``) are kept once, under the
    initializer's own name. Schemes listed in :data:`SHOWCASE` get the arguments given there. A
    scheme a user registered with :func:`tinynet.init.register` is included too.
    """
    from . import init as tinit

    specs: list[str] = []
    seen: set[str] = set()
    for name in tinit.names():
        strategy = tinit.get(name)
        canonical = repr(strategy)
        if canonical in seen:
            continue
        seen.add(canonical)
        base = canonical.split("(", 1)[0]
        specs.append(SHOWCASE.get(base, canonical[:-2] if canonical.endswith("()") else canonical))
    return specs


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of init specs, keeping commas inside parentheses:
    ``"he, uniform(low=-0.1, high=0.1)"`` → ``["he", "uniform(low=-0.1, high=0.1)"]``.

    Raises
    ------
    ValueError
        For unbalanced parentheses or an empty item.
    """
    items, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in {text!r}")
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise ValueError(f"unbalanced '(' in {text!r}")
    items.append("".join(current).strip())
    if any(not item for item in items):
        raise ValueError(f"empty init spec in {text!r}; expected e.g. 'he,xavier,zeros'")
    return items


def check_inits(inits: Sequence[str] | None) -> None:
    """Check a list of init specs (None: every registered scheme) before a sweep.

    Raises
    ------
    ValueError
        For an empty list, a repeated spec, or an unknown one (the message lists the valid names
        and the closest match).
    """
    from . import init as tinit

    if inits is None:
        return
    specs = list(inits)
    if not specs:
        raise ValueError("sweep: inits is empty; give at least one init spec")
    if len(set(specs)) != len(specs):
        raise ValueError(f"sweep: inits must be distinct, got {specs}")
    for spec in specs:
        tinit.get(spec)


def default_jobs() -> int:
    """Number of CPU cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------------------------- one run
_DATASET_CACHE: dict[tuple[Any, ...], Any] = {}


def _dataset(config: Config) -> Any:
    """The run's dataset, loaded once per worker process (every task of a sweep shares it)."""
    from .experiment import load_dataset

    key = (config.data, config.limit, config.download)
    if key not in _DATASET_CACHE:
        _DATASET_CACHE.clear()
        _DATASET_CACHE[key] = load_dataset(config.data, config.limit, config.download)
    return _DATASET_CACHE[key]


def _weighted_fraction(record: dict[str, Any], key: str) -> float | None:
    """Share of hidden activation units (``dead``) or outputs (``saturated``) over all layers."""
    rows = [
        m for m in record["modules"] if m["role"] == "activation" and m.get(key) is not None
    ]
    if not rows:
        return None
    sizes = np.array([float(np.prod(m["shape"][1:])) for m in rows])
    return float(np.dot(sizes, [m[key] for m in rows]) / sizes.sum())


def _min_distinct(record: dict[str, Any]) -> tuple[int | None, int | None]:
    """(distinct units, units) of the hidden layer with the fewest distinct units."""
    hidden = [row for row in record["layers"][:-1] if row["distinct_units"] is not None]
    if not hidden:
        return None, None
    worst = min(hidden, key=lambda row: row["distinct_units"] / max(row["units"], 1))
    return int(worst["distinct_units"]), int(worst["units"])


def summarize(result: Any) -> dict[str, Any]:
    """The leaderboard figures of one :class:`tinynet.experiment.ExperimentResult`, JSON-ready.

    Keys: ``init``, ``seed``, ``test_accuracy``, ``test_loss``, ``train_loss`` (mean training loss
    of the last epoch), ``initial_loss`` (probe loss at step 0), ``ln_classes``, ``gradient_flow``
    (``||dL/dW_first|| / ||dL/dW_last||`` at step 0), ``distinct_units``/``units`` (hidden layer
    with the fewest distinct units, at the end) and ``distinct_units_init``, ``dead`` and
    ``saturated`` (share of hidden units/outputs at step 0) and their ``*_end`` values, ``act_std``
    (std of each hidden activation at step 0), ``diverged``, ``message``, ``history`` (per epoch:
    ``epoch``, ``train_loss``, ``test_loss``, ``test_accuracy``) and ``seconds`` (training time).
    """
    from .diagnostics import json_ready

    first, last = result.monitor.history[0], result.monitor.history[-1]
    distinct, units = _min_distinct(last)
    distinct_init, _ = _min_distinct(first)
    history = [
        {k: h.get(k) for k in ("epoch", "train_loss", "test_loss", "test_accuracy")}
        for h in result.fit.history
    ]
    final = history[-1] if history else {}
    act_std = [
        m["std"] for m in first["modules"] if m["role"] == "activation" and m["std"] is not None
    ]
    return json_ready(
        {
            "init": result.config.init,
            "seed": result.config.seed,
            "test_accuracy": final.get("test_accuracy"),
            "test_loss": final.get("test_loss"),
            "train_loss": final.get("train_loss"),
            "initial_loss": first["loss"],
            "ln_classes": first["ln_classes"],
            "gradient_flow": first["gradient_flow"],
            "distinct_units": distinct,
            "distinct_units_init": distinct_init,
            "units": units,
            "dead": _weighted_fraction(first, "dead"),
            "saturated": _weighted_fraction(first, "saturated"),
            "dead_end": _weighted_fraction(last, "dead"),
            "saturated_end": _weighted_fraction(last, "saturated"),
            "act_std": act_std,
            "diverged": result.diverged,
            "message": result.fit.message,
            "history": history,
            "seconds": result.seconds.get("train"),
        }
    )


def train_config(config: Config, dataset: Any = None) -> Any:
    """:func:`tinynet.experiment.run` for sweeps: the same model, optimizer, seeds and training, but
    the Monitor records only at initialization and after the last step, and keeps no histograms.

    Returns an :class:`tinynet.experiment.ExperimentResult` (``monitor.history`` holds the two
    records; one when training stopped before its first step). Nothing is printed.

    Raises
    ------
    ValueError
        For an invalid configuration or data that cannot be loaded.
    """
    from .diagnostics import Monitor
    from .experiment import ExperimentResult, build_mlp, load_dataset, make_optimizer
    from .random import manual_seed
    from .training import fit

    began = time.perf_counter()
    manual_seed(config.seed)
    data = dataset if dataset is not None else load_dataset(config.data, config.limit, config.download)
    probe = slice(0, min(config.probe_size, len(data.x_train)))
    model = build_mlp(
        data.in_features, data.n_classes, config.depth, config.width, config.activation,
        config.init, config.bias_init, rng=config.seed, data=data.x_train[probe],
    )  # fmt: skip
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)
    # bins=1: no histogram is drawn from a sweep, so the Monitor need not bin every output finely
    monitor = Monitor(model, data.x_train[probe], data.y_train[probe], bins=1)
    trained = time.perf_counter()
    result = fit(
        model, optimizer, (data.x_train, data.y_train), (data.x_test, data.y_test),
        epochs=config.epochs, batch_size=config.batch_size, monitor=monitor, progress=False,
        verbose=False, rng=config.seed,
    )  # fmt: skip
    if result.steps > 0:
        monitor.record(result.steps)
    done = time.perf_counter()
    monitor.remove()
    setup = trained - began - (0.0 if dataset is not None else data.seconds)
    seconds = {"data": data.seconds, "setup": setup, "train": done - trained,
               "total": data.seconds + setup + done - trained}  # fmt: skip
    return ExperimentResult(config, data, result, monitor, model, seconds)


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one sweep task and return :func:`summarize` of it (``error`` set if it raised).

    ``task`` is ``{"config": Config.to_dict()}``; ``config["init"]`` and ``config["seed"]`` say which
    run this is. Module-level and dict-in/dict-out so that any executor can pickle it.
    """
    config = Config(**task["config"])
    began = time.perf_counter()
    try:
        result = train_config(config, _dataset(config))
    except Exception as error:  # one broken scheme must not sink the whole sweep
        return {
            "init": config.init,
            "seed": config.seed,
            "error": f"{type(error).__name__}: {error}",
            "seconds": time.perf_counter() - began,
        }
    return summarize(result)


# ------------------------------------------------------------------------------------- the sweep
@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Set the BLAS thread variables to 1 (unless set) while worker processes are started."""
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _default_executor(jobs: int) -> Executor:
    import multiprocessing

    # spawn, not fork: a forked child inherits the parent's already-initialized BLAS thread pool
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


class _InlineExecutor(Executor):
    """Runs each task at submit time in this process (``jobs=1``: no pool to start)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


@dataclass
class LeaderboardRow:
    """One scheme's runs aggregated: ``stats[key] = (mean, std, n)`` for each numeric figure.

    ``std`` is the sample standard deviation (``ddof=1``), None for a single run; ``n`` counts the
    runs where the figure exists. ``errors`` holds the messages of runs that raised.
    """

    init: str
    runs: int
    stats: dict[str, tuple[float | None, float | None, int]]
    units: int | None = None
    diverged: int = 0
    errors: list[str] = field(default_factory=list)

    def mean(self, key: str) -> float | None:
        """Mean of ``key`` over the runs (None if no run has it)."""
        return self.stats.get(key, (None, None, 0))[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``init``, ``runs``, ``units``, ``diverged``, ``errors`` and, per figure,
        ``{"mean", "std", "n"}``."""
        from .diagnostics import json_ready

        out: dict[str, Any] = {
            "init": self.init,
            "runs": self.runs,
            "units": self.units,
            "diverged": self.diverged,
            "errors": self.errors,
        }
        for key, (mean, std, n) in self.stats.items():
            out[key] = {"mean": mean, "std": std, "n": n}
        return json_ready(out)


_NUMERIC = (
    "test_accuracy", "test_loss", "train_loss", "initial_loss", "gradient_flow", "distinct_units",
    "distinct_units_init", "dead", "saturated", "dead_end", "saturated_end", "seconds",
)  # fmt: skip


def leaderboard(runs: Sequence[dict[str, Any]]) -> list[LeaderboardRow]:
    """Aggregate :func:`summarize` rows per ``init``: mean ± sample std of every figure.

    Rows are sorted by mean test accuracy, best first (schemes without one last), then by name.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(run["init"], []).append(run)
    rows = []
    for init, group in groups.items():
        stats: dict[str, tuple[float | None, float | None, int]] = {}
        for key in _NUMERIC:
            values = [
                float(r[key])
                for r in group
                if r.get(key) is not None and math.isfinite(float(r[key]))
            ]
            if not values:
                stats[key] = (None, None, 0)
                continue
            std = float(np.std(values, ddof=1)) if len(values) > 1 else None
            stats[key] = (float(np.mean(values)), std, len(values))
        units = next((r["units"] for r in group if r.get("units") is not None), None)
        rows.append(
            LeaderboardRow(
                init=init,
                runs=len(group),
                stats=stats,
                units=units,
                diverged=sum(bool(r.get("diverged")) for r in group),
                errors=[r["error"] for r in group if r.get("error")],
            )
        )

    def order(row: LeaderboardRow) -> tuple[float, str]:
        acc = row.mean("test_accuracy")
        return (-(acc if acc is not None else -1.0), row.init)

    return sorted(rows, key=order)


def _cell(row: LeaderboardRow, key: str) -> str:
    mean, std, _ = row.stats.get(key, (None, None, 0))
    if mean is None:
        if key == "test_accuracy" and row.errors:
            return "error"
        return "diverged" if key == "test_accuracy" and row.diverged else "-"
    if key == "distinct_units":
        text = f"{mean:.0f}/{row.units}" if float(mean).is_integer() else f"{mean:.1f}/{row.units}"
        return text
    scale, fmt = {
        "test_accuracy": (100.0, "{:.1f}"),
        "dead": (100.0, "{:.0f}"),
        "saturated": (100.0, "{:.0f}"),
        "seconds": (1.0, "{:.1f}"),
        "train_loss": (1.0, "{:.3f}"),
        "initial_loss": (1.0, "{:.3f}"),
    }.get(key, (1.0, "{:.3g}"))
    if key == "gradient_flow" and (abs(mean) >= 1e4 or 0 < abs(mean) < 1e-3):
        fmt = "{:.1e}"
    text = fmt.format(mean * scale)
    if std is not None:
        text += " ± " + fmt.format(std * scale)
    return text


def format_leaderboard(rows: Sequence[LeaderboardRow], markdown: bool = False) -> str:
    """The leaderboard as an aligned text table, or a Markdown table with ``markdown=True``.

    Columns: rank, init, runs, then :data:`COLUMNS` (mean ± std over seeds when there are several);
    a diverged run is marked with ``*`` after the scheme's name.
    """
    header = ["#", "init", "runs", *(title for _, title in COLUMNS)]
    lines = [header]
    for rank, row in enumerate(rows, start=1):
        name = row.init + ("*" if row.diverged else "")
        lines.append([str(rank), name, str(row.runs), *(_cell(row, key) for key, _ in COLUMNS)])
    if markdown:
        out = ["| " + " | ".join(lines[0]) + " |"]
        out.append("|" + "|".join(":---" if i == 1 else "---:" for i in range(len(header))) + "|")
        out += ["| " + " | ".join(line) + " |" for line in lines[1:]]
        return "\n".join(out)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for k, line in enumerate(lines):
        cells = [c.ljust(w) if i == 1 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


@dataclass
class SweepResult:
    """What :func:`sweep` returns: every run's summary, the leaderboard and the wall time."""

    config: Config
    inits: list[str]
    seeds: list[int]
    runs: list[dict[str, Any]]
    rows: list[LeaderboardRow]
    seconds: float
    jobs: int | None
    executor: str

    def table(self, markdown: bool = False) -> str:
        """:func:`format_leaderboard` of :attr:`rows`."""
        return format_leaderboard(self.rows, markdown=markdown)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``config``, ``inits``, ``seeds``, ``jobs``, ``executor``, ``seconds``,
        ``leaderboard`` (rows as :meth:`LeaderboardRow.to_dict`) and ``runs``."""
        from .diagnostics import json_ready

        return json_ready(
            {
                "config": self.config.to_dict(),
                "inits": self.inits,
                "seeds": self.seeds,
                "jobs": self.jobs,
                "executor": self.executor,
                "seconds": self.seconds,
                "leaderboard": [row.to_dict() for row in self.rows],
                "runs": self.runs,
            }
        )


def _seed_list(seeds: int | Sequence[int], base: int) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"sweep: seeds must be >= 1 (a count) or a list of ints, got {seeds}")
        return [base + i for i in range(int(seeds))]
    try:
        out = [int(s) for s in seeds]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise TypeError(f"sweep: seeds must be a count or a list of ints, got {seeds!r}") from None
    if not out or len(set(out)) != len(out):
        raise ValueError(f"sweep: seeds must be a non-empty list of distinct ints, got {seeds!r}")
    return out


def sweep(
    inits: Sequence[str] | None = None,
    seeds: int | Sequence[int] = 1,
    config: Config | None = None,
    *,
    executor: Executor | None = None,
    jobs: int | None = None,
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
) -> SweepResult:
    """Train the same network under every scheme in ``inits`` and each seed; aggregate.

    Parameters
    ----------
    inits
        Init specs (names, aliases or ``name(args)``); None: :func:`registered_schemes`.
    seeds
        A count ``K`` (seeds ``config.seed, ..., config.seed + K - 1``) or a list of seeds. The seed
        drives the initialization and the shuffling; the data are the same for every run.
    config
        The network, optimizer, schedule and data of every run (:class:`tinynet.experiment.Config`;
        its ``init`` and ``seed`` are replaced per run). Default: ``Config()``.
    executor
        Any :class:`concurrent.futures.Executor` (or object with a compatible ``submit`` whose
        futures work with :func:`concurrent.futures.as_completed`): it is used and *not* shut down.
        None: a process pool of ``jobs`` workers (spawned with single-threaded BLAS) that is shut
        down at the end, or, for ``jobs=1``, runs in this process.
    jobs
        Workers of the default pool; None: :func:`default_jobs`. Ignored when ``executor`` is given.
    on_result
        Called as ``on_result(run_summary, done, total)`` as each run finishes (e.g. to print
        progress).

    Returns
    -------
    SweepResult
        ``runs`` in task order (scheme-major), ``rows`` from :func:`leaderboard`, wall ``seconds``.

    Raises
    ------
    ValueError
        For an unknown init spec (the message lists the valid names), a bad config field, bad seeds
        or ``jobs < 1``. A run that fails inside a worker does not raise: its summary has ``error``.
    """
    from .experiment import ConfigError, validate

    base = replace(config) if config is not None else Config()
    check_inits(inits)
    specs = list(inits) if inits is not None else registered_schemes()
    try:
        validate(base)
    except ConfigError as error:
        raise ValueError(f"sweep: config {error}") from None
    seed_list = _seed_list(seeds, base.seed)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"sweep: jobs must be an int >= 1, got {jobs!r}")
    tasks = [
        {"config": replace(base, init=spec, seed=seed).to_dict()}
        for spec in specs
        for seed in seed_list
    ]

    began = time.perf_counter()
    owned = executor is None
    n_jobs = (jobs or default_jobs()) if owned else None
    if owned:
        _dataset(base)  # fill the data cache once, before the workers race to render it
        pool: Any = _InlineExecutor() if n_jobs == 1 else _default_executor(int(n_jobs))
    else:
        pool = executor
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    try:
        with _single_threaded_blas() if owned else contextlib.nullcontext():
            futures = {pool.submit(run_task, task): i for i, task in enumerate(tasks)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            try:
                summary = future.result()
            except Exception as error:  # the executor itself failed (e.g. a worker died)
                cfg = tasks[index]["config"]
                summary = {
                    "init": cfg["init"],
                    "seed": cfg["seed"],
                    "error": f"{type(error).__name__}: {error}",
                }
            results[index] = summary
            if on_result is not None:
                on_result(summary, done, len(tasks))
    finally:
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)
    runs = [r for r in results if r is not None]
    return SweepResult(
        config=base,
        inits=specs,
        seeds=seed_list,
        runs=runs,
        rows=leaderboard(runs),
        seconds=time.perf_counter() - began,
        jobs=n_jobs,
        executor=type(pool).__name__,
    )
