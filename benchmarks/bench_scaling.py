"""How the cost of a training step grows with batch size and with width.

    python benchmarks/bench_scaling.py                  # batch 8..512 at width 256; widths 64..1024
    python benchmarks/bench_scaling.py --threads 1      # pinned to one BLAS thread
    python benchmarks/bench_scaling.py --quick          # a smoke run

For a 784-W-W-10 ReLU MLP (float32, SGD) it times tinynet's step and the hand-written numpy step of
bench_train_step.py, in alternating blocks, and fits time = a + b·batch by least squares: ``a`` is the fixed
cost of a step (Python and per-call overhead, and reading the weights), ``b`` the marginal cost of one more
sample. The engine's own overhead is tinynet's ``a`` minus numpy's ``a``. The width sweep, at a fixed
batch, shows where the matrix products start to dominate that overhead.

Each row also shows both contestants' minor page faults per step (``getrusage``, over one block of steps
after the timed rounds). A batch size where either faults more than ``FAULT_LIMIT`` pages per step is
left out of the fit: its time then depends on the allocator's state, e.g. glibc returning the top of
its heap after large temporaries are freed and faulting it back in on the next step.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_train_step as step_bench
from _common import faults_per_call, median_ratio, paired_rounds, pin_threads, table

#: A row whose steps fault more than this many pages per step (either contestant) is left out of the fit.
FAULT_LIMIT = 10.0


def step_functions(width: int, batch: int) -> dict:
    """The numpy and tinynet step closures for a 784-width-width-10 MLP at ``batch``."""
    rng = np.random.default_rng(1)
    x = rng.random((batch, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    weights = step_bench.initial_weights(sizes=(784, width, width, 10))
    return {
        "numpy": step_bench.numpy_step_fn(weights, x, y),
        "tinynet": step_bench.tinynet_step_fn(weights, x, y),
    }


def measure(width: int, batch: int, rounds: int, steps: int) -> dict:
    """Median seconds per step of each contestant, the median of the per-round ratios, and each
    contestant's page faults per step just after the timed rounds (None without ``resource``)."""
    functions = step_functions(width, batch)
    times = paired_rounds(functions, rounds, steps)
    medians = {name: float(np.median(t)) for name, t in times.items()}
    faults = {name: faults_per_call(fn, steps) for name, fn in functions.items()}
    return {**medians, "ratio": median_ratio(times["tinynet"], times["numpy"])[0], "faults": faults}


def fitted_rows(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(rows to fit, rows left out): a row is left out when either contestant faulted more than
    :data:`FAULT_LIMIT` pages per step, since its time then depends on the allocator's state (glibc
    may hand the top of its heap back and fault it in again on every step). All rows are fitted when
    fewer than two would remain."""
    kept: list[dict] = []
    left_out: list[dict] = []
    for r in rows:
        clean = all((f or 0) <= FAULT_LIMIT for f in r["faults"].values())
        (kept if clean else left_out).append(r)
    return (kept, left_out) if len(kept) >= 2 else (rows, [])


def fit_line(batches: list[int], seconds: list[float]) -> tuple[float, float, float]:
    """Least-squares ``seconds ≈ a + b·batch``; returns (a, b, R²)."""
    x = np.asarray(batches, dtype=float)
    t = np.asarray(seconds, dtype=float)
    b, a = np.polyfit(x, t, 1)
    residual = t - (a + b * x)
    r2 = 1.0 - float(residual @ residual) / float(((t - t.mean()) ** 2).sum())
    return float(a), float(b), r2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # From 8: at batch 1 numpy's product is a matrix-vector one, slower per step than batch 8 here.
    parser.add_argument("--batches", default="8,16,32,64,128,256,512")
    parser.add_argument("--widths", default="64,128,256,512,1024")
    parser.add_argument("--width-batch", type=int, default=128, help="batch size of the width sweep")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, help="BLAS threads (default: numpy's default)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    setting = pin_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    widths = [int(w) for w in args.widths.split(",")]
    if args.quick:
        batches, widths, args.width_batch, args.rounds, args.steps = [1, 4, 8], [16, 32], 4, 3, 2

    by_batch = [{"batch": b, **measure(256 if not args.quick else 32, b, args.rounds, args.steps)}
                for b in batches]  # fmt: skip
    kept, left_out = fitted_rows(by_batch)
    fits = {
        name: dict(zip(("a", "b", "r2"), fit_line([r["batch"] for r in kept], [r[name] for r in kept])))
        for name in ("numpy", "tinynet")
    }
    by_width = [{"width": w, **measure(w, args.width_batch, args.rounds, args.steps)} for w in widths]
    result = {"threads": setting, "by_batch": by_batch, "fit": fits, "by_width": by_width,
              "width_batch": args.width_batch, "fit_left_out": [r["batch"] for r in left_out]}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(setting)
    header = ["batch", "numpy ms", "tinynet ms", "tinynet/numpy (median of rounds)",
              "faults/step numpy, tinynet"]  # fmt: skip
    rows = [[str(r["batch"]), f"{r['numpy'] * 1e3:.3f}", f"{r['tinynet'] * 1e3:.3f}",
             f"{r['ratio']:.3f}", _faults(r)] for r in by_batch]  # fmt: skip
    print(table(header, rows))
    if left_out:
        print(f"left out of the fit (more than {FAULT_LIMIT:g} page faults per step): batch "
              + ", ".join(str(r["batch"]) for r in left_out))  # fmt: skip
    for name, f in fits.items():
        print(
            f"{name:>7}: time per step = {f['a'] * 1e6:.1f} µs + {f['b'] * 1e6:.2f} µs × batch "
            f"(R² = {f['r2']:.4f})"
        )
    overhead = (fits["tinynet"]["a"] - fits["numpy"]["a"]) * 1e6
    print(f"engine overhead per step (difference of the fixed costs): {overhead:.1f} µs\n")
    rows = [[str(r["width"]), f"{r['numpy'] * 1e3:.3f}", f"{r['tinynet'] * 1e3:.3f}",
             f"{r['ratio']:.3f}", _faults(r)] for r in by_width]  # fmt: skip
    print(f"width sweep at batch {args.width_batch}:")
    print(table(["width", *header[1:]], rows))
    return 0


def _faults(row: dict) -> str:
    counts = [row["faults"][name] for name in ("numpy", "tinynet")]
    return "-" if None in counts else ", ".join(f"{c:.0f}" for c in counts)


if __name__ == "__main__":
    raise SystemExit(main())
