"""Shared helpers for the benchmarks: paired timing rounds and a tiny table printer."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(threads: int | None) -> str:
    """Run this benchmark with ``threads`` BLAS threads for numpy (and PyTorch), or leave the defaults.

    numpy's BLAS reads its thread count only when it loads, so the process re-executes itself once with
    the environment set. PyTorch is given the same count, so neither engine's idle threads spin on the
    cores the other is using. Returns a one-line description of the setting for the report.
    """
    if threads is not None:
        wanted = str(threads)
        if any(os.environ.get(v) != wanted for v in BLAS_THREAD_VARIABLES):
            os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, wanted))
            os.execv(sys.executable, [sys.executable, *sys.argv])
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return f"BLAS threads: {blas}; cores: {os.cpu_count()}"


def faults_per_call(step: Callable[[], object], steps: int) -> float | None:
    """Minor page faults per call of ``step`` over ``steps`` calls (``getrusage``), or None where the
    platform has no ``resource`` module. A step whose fresh arrays come from newly mapped pages pays
    for them here: the time then measures the allocator as much as the engine."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps


def time_block(step: Callable[[], object], steps: int) -> float:
    """Seconds per call of ``step``, over ``steps`` consecutive calls."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def paired_rounds(
    contestants: dict[str, Callable[[], object]], rounds: int, steps: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Alternate blocks of ``steps`` calls between contestants, ``rounds`` times.

    The order rotates every round, so no contestant always runs first (or right after another); ratios
    taken within a round cancel slow drift of the machine. Returns seconds per call, per round.
    """
    names = list(contestants)
    for name in names:
        time_block(contestants[name], warmup)
    result: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            result[name].append(time_block(contestants[name], steps))
    return result


def median_ratio(numerator: list[float], denominator: list[float]) -> tuple[float, float, float]:
    """Median, first and third quartile of the per-round ratios numerator / denominator."""
    ratios = sorted(a / b for a, b in zip(numerator, denominator))
    if len(ratios) < 2:
        return ratios[0], ratios[0], ratios[0]
    q = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), q[0], q[2]


def table(header: list[str], rows: list[list[str]]) -> str:
    """Right-aligned text table."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(c).rjust(w) for c, w in zip(line, widths)) for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
