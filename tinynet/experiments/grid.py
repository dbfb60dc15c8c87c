"""Independent tasks through any :class:`concurrent.futures.Executor`: the machinery under every grid
of runs (the sweep of :mod:`~tinynet.experiments.sweep`, the trainability tent of
:mod:`~tinynet.experiments.studies.tent`).

A task is a plain dict handed to a module-level function that returns a plain dict, so that any
executor able to pickle a function runs it. :func:`run_tasks` submits them all and collects the
results in task order:

- default: a :class:`~concurrent.futures.ProcessPoolExecutor` with ``jobs`` workers, started with
  the ``spawn`` method and one BLAS thread per worker (``OPENBLAS_NUM_THREADS=1`` and friends,
  unless already set), or, for ``jobs=1``, each task run in this process at submission;
- any executor given (a Dask ``Client(...).get_executor()``, a Ray adapter, a user's own): used
  as it is and not shut down.

Thread pools are not safe: grad mode is per thread, but the default random generator, the default
dtype and numpy's BLAS threads are shared by the whole process. Use processes.

This module lives apart from the sweep so that a study can run a grid without importing the sweep
(which imports the studies).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from .._checks import check_int
from .build import Dataset, load_dataset
from .config import Config

__all__ = ["BLAS_THREAD_VARIABLES", "TaskRun", "cached_dataset", "default_jobs", "error_result", "run_tasks"]

#: environment variables that cap the threads of numpy's BLAS in the default worker processes
BLAS_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_FRAMEWORK_THREADS",
)


def default_jobs() -> int:
    """Number of CPU cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_DATASET_CACHE: dict[tuple[Any, ...], Dataset] = {}


def cached_dataset(config: Config) -> Dataset:
    """The dataset of ``config`` (``data``, ``limit``, ``download``), loaded once per process: every
    task of a grid that a worker runs shares it. Only the latest dataset is kept."""
    key = (config.data, config.limit, config.download)
    if key not in _DATASET_CACHE:
        _DATASET_CACHE.clear()
        _DATASET_CACHE[key] = load_dataset(config.data, config.limit, config.download)
    return _DATASET_CACHE[key]


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


def error_result(error: BaseException) -> dict[str, str]:
    """The result of a task that raised: ``{"error": "Type: message"}``."""
    return {"error": f"{type(error).__name__}: {error}"}


@dataclass
class TaskRun:
    """What :func:`run_tasks` returns: one result per task, in task order, and how they ran."""

    results: list[dict[str, Any]]
    #: workers of the default pool (None when the caller gave the executor)
    jobs: int | None
    #: the executor's class name (``ProcessPoolExecutor``, ``_InlineExecutor``, ``ClientExecutor``)
    executor: str
    seconds: float


def run_tasks(
    fn: Callable[[dict[str, Any]], dict[str, Any]],
    tasks: Sequence[dict[str, Any]],
    *,
    executor: Executor | None = None,
    jobs: int | None = None,
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
    on_error: Callable[[dict[str, Any], BaseException], dict[str, Any]] | None = None,
    keep: Sequence[str] = (),
    prepare: Callable[[], Any] | None = None,
) -> TaskRun:
    """``fn(task)`` for every task, through an executor; the results in task order.

    Parameters
    ----------
    fn
        A module-level function (picklable by reference) from a plain dict to a plain dict.
    tasks
        The tasks, plain dicts (picklable).
    executor
        Any :class:`concurrent.futures.Executor`, or an object with a compatible ``submit`` whose
        futures work with :func:`concurrent.futures.as_completed`: used, and *not* shut down.
        None: a spawned process pool of ``jobs`` workers with single-threaded BLAS, shut down at
        the end, or for ``jobs=1`` this process.
    jobs
        Workers of the default pool; None: :func:`default_jobs`. Ignored when ``executor`` is given.
    on_result
        Called as ``on_result(result, done, total)`` as each task finishes (in completion order).
    on_error
        ``on_error(task, error)`` gives the result of a task whose future raised (the executor
        failed, a worker died, or ``fn`` raised); default: the task's ``keep`` keys and
        :func:`error_result`.
    keep
        The task keys the default ``on_error`` copies into a failed task's result.
    prepare
        Called once before a default pool starts (e.g. to fill a disk cache the workers would
        otherwise race to write); not called when ``executor`` is given.

    Raises
    ------
    TypeError, ValueError
        If ``jobs`` is not an int >= 1.
    """
    if jobs is not None:
        check_int("run_tasks", "jobs", jobs, minimum=1)
    failed = on_error or (lambda task, error: {**{k: task[k] for k in keep}, **error_result(error)})
    began = time.perf_counter()
    owned = executor is None
    n_jobs: int | None = None
    pool: Any = executor
    if owned:
        n_jobs = jobs or default_jobs()
        if prepare is not None:
            prepare()
        pool = _InlineExecutor() if n_jobs == 1 else _default_executor(n_jobs)
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    try:
        with _single_threaded_blas() if owned else contextlib.nullcontext():
            futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            try:
                result = future.result()
            except Exception as error:  # the executor itself failed (e.g. a worker died)
                result = failed(tasks[index], error)
            results[index] = result
            if on_result is not None:
                on_result(result, done, len(tasks))
    finally:
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)
    return TaskRun(
        results=[r for r in results if r is not None],
        jobs=n_jobs,
        executor=type(pool).__name__,
        seconds=time.perf_counter() - began,
    )
