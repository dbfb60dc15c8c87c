"""Every initialization scheme side by side: the same network, data and seeds, one leaderboard.

:func:`sweep` runs one :func:`tinynet.experiments.run` per (scheme, seed) pair through any
:class:`concurrent.futures.Executor`; :func:`tinynet.experiments.leaderboard` aggregates the runs into
mean ± std rows (three seeds by default). A scheme is an init spec for the weights (biases from the
config, zero by default) or a preset of :data:`tinynet.init.PRESETS` that sets both, such as
``"pytorch"`` (PyTorch's weight *and* bias rule). ``examples/compare_inits.py`` is the command-line
face.

Each run is an independent task: a plain dict in, a plain dict out (:func:`run_task`), run through
:func:`tinynet.experiments.grid.run_tasks`, so any executor that can pickle a module-level function
runs it:

- default: a :class:`~concurrent.futures.ProcessPoolExecutor` with ``jobs`` workers, started with
  the ``spawn`` method and one BLAS thread per worker (``OPENBLAS_NUM_THREADS=1`` and friends,
  unless already set): several processes each running a multi-threaded BLAS on the same cores
  slow each other down by an order of magnitude on a busy machine;
- Dask: ``sweep(..., executor=distributed.Client(address).get_executor())``;
- Ray (which has no ``Executor`` of its own): a ten-line adapter whose ``submit(fn, *args)``
  returns ``ray.remote(fn).remote(*args).future()``; see ``docs/experiments.md``.

On remote workers, set the BLAS thread variables in the workers' environment yourself. Thread
pools (:class:`~concurrent.futures.ThreadPoolExecutor`, Dask's threaded workers) are not safe: grad
mode is per thread, but the default random generator, the default dtype and numpy's BLAS threads are
shared by the whole process, so concurrent runs in one process disturb each other. Use processes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

from .. import init as tinit
from .._checks import check_int, is_int
from .._files import json_ready
from .config import Config, ConfigError, validate
from .grid import BLAS_THREAD_VARIABLES, cached_dataset, default_jobs, error_result, run_tasks
from .leaderboard import LeaderboardRow, format_leaderboard, leaderboard, summarize
from .run import run
from .studies.common import resolve_scheme

__all__ = [
    "BLAS_THREAD_VARIABLES",
    "HISTORY_BINS",
    "HISTORY_PER_EPOCH",
    "NOT_IN_DEFAULT_SWEEP",
    "SHOWCASE",
    "SweepResult",
    "check_inits",
    "default_jobs",
    "registered_schemes",
    "run_task",
    "split_specs",
    "sweep",
]

#: registered schemes whose default arguments would duplicate another scheme, with the arguments
#: the sweep uses instead (``constant()`` is ``constant(value=0.0)``, i.e. ``zeros``)
SHOWCASE: dict[str, str] = {"constant": "constant(value=0.05)"}
#: registered strategies left out of the default sweep, with the reason (name them in ``inits``)
NOT_IN_DEFAULT_SWEEP: dict[str, str] = {
    "edge_of_chaos": "critical only for the activation it names (tanh by default), not the sweep's ReLU",
    "delta_orthogonal": "a convolution-kernel scheme; on the sweep's dense layers it is orthogonal",
}

#: with ``histories=True``: Monitor records per epoch and histogram bins kept for each scheme's first seed
HISTORY_PER_EPOCH = 2
HISTORY_BINS = 24


def registered_schemes() -> list[str]:
    """One spec per registered initialization strategy, aliases removed, in registry order, and
    each preset that is not already one of them, right after the row of its weight init.

    Each name of :func:`tinynet.init.names` is resolved with :func:`tinynet.init.get`; names that
    give an equal strategy (``he``, ``kaiming``, ``msra`` → ``he_normal()``) are kept once, under the
    initializer's own name. Schemes listed in :data:`SHOWCASE` get the arguments given there; those
    of :data:`NOT_IN_DEFAULT_SWEEP` are left out. A scheme a user registered with
    :func:`tinynet.init.register` is included too. Those rows have
    zero biases; a preset of :data:`tinynet.init.PRESETS` is added under its own name when its
    ``(weight, bias)`` pair differs from every row's: today ``"pytorch"`` (PyTorch's weight and bias
    rule, beside ``default``, its weight rule with zero biases), while ``"keras"`` and ``"flax"``
    equal ``xavier_uniform`` and ``variance_scaling`` with zero biases and are not repeated.
    """
    specs: list[str] = []
    seen: set[str] = set()
    for name in tinit.names():
        strategy = tinit.get(name)
        canonical = repr(strategy)
        if canonical in seen:
            continue
        seen.add(canonical)
        base = canonical.split("(", 1)[0]
        if base in NOT_IN_DEFAULT_SWEEP:
            continue
        specs.append(SHOWCASE.get(base, canonical[:-2] if canonical.endswith("()") else canonical))
    zeros = repr(tinit.get("zeros"))
    rows = [(spec, (repr(tinit.get(spec)), zeros)) for spec in specs]
    for preset, (weight, bias) in tinit.PRESETS.items():
        pair = (repr(tinit.get(weight)), repr(tinit.get(bias)))
        if preset in specs or any(pair == seen_pair for _, seen_pair in rows):
            continue
        after = [i for i, (_, (strategy, _bias)) in enumerate(rows) if strategy == pair[0]]
        rows.insert(after[-1] + 1 if after else len(rows), (preset, pair))
    return [spec for spec, _ in rows]


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of init specs, keeping commas inside parentheses:
    ``"he, uniform(low=-0.1, high=0.1)"`` → ``["he", "uniform(low=-0.1, high=0.1)"]``.

    Raises
    ------
    ValueError
        For unbalanced parentheses or an empty item.
    """
    items: list[str] = []
    current: list[str] = []
    depth = 0
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
    """Check a list of schemes (init specs or presets; None: every registered scheme) before a
    sweep.

    Raises
    ------
    ValueError
        For an empty list, a repeated scheme, or an unknown one (the message lists the valid names,
        the presets and the closest match).
    """
    if inits is None:
        return
    specs = list(inits)
    if not specs:
        raise ValueError("sweep: inits is empty; give at least one init spec")
    if len(set(specs)) != len(specs):
        raise ValueError(f"sweep: inits must be distinct, got {specs}")
    for spec in specs:
        resolve_scheme(spec)


# ------------------------------------------------------------------------------------- one run
def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one sweep task and return :func:`summarize` of it (``error`` set if it raised).

    ``task`` is ``{"config": Config.to_dict(), "scheme": name}``: the config's ``init`` and
    ``bias_init`` are the scheme resolved (:func:`resolve_scheme`), ``scheme`` the row it belongs
    to (the summary's ``init``; default ``config["init"]``), and ``config["seed"]`` the seed. The run
    is :func:`tinynet.experiments.run` with the Monitor recording only at initialization and after
    the last step, without histograms, and nothing printed. Module-level and dict-in/dict-out so
    that any executor can pickle it.

    With ``task["history"] = {"per_epoch": k, "bins": b}`` the Monitor records ``k`` times per epoch
    with ``b``-bin histograms instead, and the summary gains ``monitor``: its
    ``to_dict(histograms=True, updates=False)`` without the weight-gradient histograms (for
    :mod:`tinynet.report`). Records change nothing in the training, so every other figure is the same.
    """
    config = Config(**task["config"])
    scheme = task.get("scheme", config.init)
    keep = task.get("history")
    began = time.perf_counter()
    try:
        dataset = cached_dataset(config)
        every, bins = 0, 1
        if keep:
            per_epoch = math.ceil(len(dataset.x_train) / config.batch_size)
            every, bins = max(1, math.ceil(per_epoch / int(keep["per_epoch"]))), int(keep["bins"])
        result = run(
            config, dataset=dataset, quiet=True, record_every=every, record_final=True, bins=bins
        )
    except Exception as error:  # one broken scheme must not sink the whole sweep
        return {
            "init": scheme,
            "seed": config.seed,
            **error_result(error),
            "seconds": time.perf_counter() - began,
        }
    out = summarize(result, scheme=scheme)
    if keep:
        monitor = result.monitor.to_dict(histograms=True, updates=False)
        for entry in monitor.get("histograms", {}).values():
            entry.pop("weight_grads", None)
        out["monitor"] = monitor
    return out


# ------------------------------------------------------------------------------------- the sweep
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
    if is_int(seeds):
        count = int(seeds)  # type: ignore[arg-type]  # is_int: an int, not a sequence
        if count < 1:
            raise ValueError(f"sweep: seeds must be >= 1 (a count) or a list of ints, got {seeds}")
        return [base + i for i in range(count)]
    try:
        out = [int(s) for s in seeds]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise TypeError(f"sweep: seeds must be a count or a list of ints, got {seeds!r}") from None
    if not out or len(set(out)) != len(out):
        raise ValueError(f"sweep: seeds must be a non-empty list of distinct ints, got {seeds!r}")
    return out


def sweep(
    inits: Sequence[str] | None = None,
    seeds: int | Sequence[int] = 3,
    config: Config | None = None,
    *,
    executor: Executor | None = None,
    jobs: int | None = None,
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
    histories: bool = False,
) -> SweepResult:
    """Train the same network under every scheme in ``inits`` and each seed; aggregate.

    Parameters
    ----------
    inits
        Schemes: init specs (names, aliases or ``name(args)``) for the weights, with the config's
        ``bias_init`` for the biases, or presets of :data:`tinynet.init.PRESETS` (``"pytorch"``)
        that set both (:func:`resolve_scheme`); each is one leaderboard row under the name given.
        None: :func:`registered_schemes`.
    seeds
        A count ``K`` (seeds ``config.seed, ..., config.seed + K - 1``; default 3, so that every
        row has a spread) or a list of seeds. The seed drives the initialization and the shuffling;
        the data are the same for every run.
    config
        The network, optimizer, schedule and data of every run (:class:`tinynet.experiments.Config`;
        its ``init`` and ``seed``, and ``bias_init`` for a preset, are replaced per run). Default:
        ``Config()``.
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
    histories
        Keep the first seed's Monitor records of each scheme over training (:data:`HISTORY_PER_EPOCH`
        records per epoch, :data:`HISTORY_BINS`-bin histograms) in its run summary's ``monitor``, for
        :mod:`tinynet.report`; the figures of every run stay the same.

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
    base = replace(config) if config is not None else Config()
    check_inits(inits)
    specs = list(inits) if inits is not None else registered_schemes()
    try:
        validate(base)
    except ConfigError as error:
        raise ValueError(f"sweep: config {error}") from None
    seed_list = _seed_list(seeds, base.seed)
    if jobs is not None:
        check_int("sweep", "jobs", jobs, minimum=1)
    resolved = {spec: resolve_scheme(spec, base.bias_init) for spec in specs}
    tasks: list[dict[str, Any]] = [
        {
            "config": replace(
                base, init=resolved[spec][0], bias_init=resolved[spec][1], seed=seed
            ).to_dict(),
            "scheme": spec,
            **(
                {"history": {"per_epoch": HISTORY_PER_EPOCH, "bins": HISTORY_BINS}}
                if histories and seed == seed_list[0]
                else {}
            ),
        }
        for spec in specs
        for seed in seed_list
    ]

    def failed(task: dict[str, Any], error: BaseException) -> dict[str, Any]:
        return {"init": task["scheme"], "seed": task["config"]["seed"], **error_result(error)}

    done = run_tasks(
        run_task, tasks, executor=executor, jobs=jobs, on_result=on_result, on_error=failed,
        prepare=lambda: cached_dataset(base),  # fill the data cache once, before the workers race
    )  # fmt: skip
    runs = done.results
    return SweepResult(
        config=base,
        inits=specs,
        seeds=seed_list,
        runs=runs,
        rows=leaderboard(runs),
        seconds=done.seconds,
        jobs=done.jobs,
        executor=done.executor,
    )
