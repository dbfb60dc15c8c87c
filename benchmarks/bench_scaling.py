"""How the cost of a training step grows with batch size and with width.

    python benchmarks/bench_scaling.py                  # batch 8..512 at width 256; widths 64..1024
    python benchmarks/bench_scaling.py --threads 1      # pinned to one BLAS thread
    python benchmarks/bench_scaling.py --quick          # a smoke run

For a 784-W-W-10 ReLU MLP (float32, SGD) it times tinynet's step and the hand-written numpy step of
bench_train_step.py, in alternating blocks, and fits time = a + b·batch by least squares: ``a`` is the fixed
cost of a step (Python and per-call overhead, and reading the weights), ``b`` the marginal cost of one more
sample. The engine's own overhead is tinynet's ``a`` minus numpy's ``a``. The width sweep, at a fixed
batch, shows where the matrix products start to dominate that overhead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_train_step as step_bench
from _common import median_ratio, paired_rounds, pin_threads, table


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


def measure(width: int, batch: int, rounds: int, steps: int) -> dict[str, float]:
    """Median seconds per step of each contestant, and the median of the per-round ratios."""
    times = paired_rounds(step_functions(width, batch), rounds, steps)
    medians = {name: float(np.median(t)) for name, t in times.items()}
    return {**medians, "ratio": median_ratio(times["tinynet"], times["numpy"])[0]}


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
    fits = {
        name: dict(zip(("a", "b", "r2"), fit_line(batches, [r[name] for r in by_batch])))
        for name in ("numpy", "tinynet")
    }
    by_width = [{"width": w, **measure(w, args.width_batch, args.rounds, args.steps)} for w in widths]
    result = {"threads": setting, "by_batch": by_batch, "fit": fits, "by_width": by_width,
              "width_batch": args.width_batch}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(setting)
    rows = [[str(r["batch"]), f"{r['numpy'] * 1e3:.3f}", f"{r['tinynet'] * 1e3:.3f}",
             f"{r['ratio']:.3f}"] for r in by_batch]  # fmt: skip
    print(table(["batch", "numpy ms", "tinynet ms", "tinynet/numpy (median of rounds)"], rows))
    for name, f in fits.items():
        print(
            f"{name:>7}: time per step = {f['a'] * 1e6:.1f} µs + {f['b'] * 1e6:.2f} µs × batch "
            f"(R² = {f['r2']:.4f})"
        )
    overhead = (fits["tinynet"]["a"] - fits["numpy"]["a"]) * 1e6
    print(f"engine overhead per step (difference of the fixed costs): {overhead:.1f} µs\n")
    rows = [[str(r["width"]), f"{r['numpy'] * 1e3:.3f}", f"{r['tinynet'] * 1e3:.3f}",
             f"{r['ratio']:.3f}"] for r in by_width]  # fmt: skip
    print(f"width sweep at batch {args.width_batch}:")
    print(table(["width", "numpy ms", "tinynet ms", "tinynet/numpy (median of rounds)"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
