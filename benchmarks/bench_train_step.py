"""One training step of a 784-256-256-10 ReLU MLP (float32): tinynet against hand-written numpy.

Each step is forward, softmax cross-entropy, backward and a plain SGD update. The numpy contestant is the
practical limit of a numpy engine: the same computation written out by hand, with no autograd at all.
PyTorch (CPU, eager) joins when it is installed; it is never a dependency.

Blocks of steps alternate between contestants in one process (order rotating each round) and the printed
ratio is the median of per-round ratios, so drift of the machine cancels.

    python benchmarks/bench_train_step.py                 # batches 32, 128, 512; 1 then 2 BLAS threads
    python benchmarks/bench_train_step.py --threads 1     # one thread count only ('default': numpy's)
    python benchmarks/bench_train_step.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_ratio, paired_rounds, pin_threads, table

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import nn, optim

SIZES = (784, 256, 256, 10)
LR = 0.01


def initial_weights(
    seed: int = 0, sizes: tuple[int, ...] = SIZES
) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-normal weights (in, out) and zero biases, float32, shared by every contestant."""
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32),
            np.zeros(n_out, dtype=np.float32),
        )
        for n_in, n_out in pairwise(sizes)
    ]


def step_flops(batch: int) -> int:
    """Multiply-adds ×2 of the step's matrix products: forward, weight gradients, and input gradients of
    every layer but the first (the data needs no gradient)."""
    macs = sum(a * b for a, b in pairwise(SIZES))
    return 2 * batch * (3 * macs - SIZES[0] * SIZES[1])


def numpy_step_fn(weights, x: np.ndarray, y: np.ndarray):
    """A hand-written forward/backward/update, as a careful numpy programmer would write it."""
    (w1, b1), (w2, b2), (w3, b3) = [(w.copy(), b.copy()) for w, b in weights]
    rows = np.arange(len(y))

    def step() -> float:
        h1 = x @ w1
        h1 += b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ w2
        h2 += b2
        a2 = np.maximum(h2, 0)
        logits = a2 @ w3
        logits += b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
        d = exp / total
        d[rows, y] -= 1
        d *= 1.0 / len(y)
        g_w3, g_b3 = a2.T @ d, d.sum(axis=0)
        d2 = d @ w3.T
        d2 *= h2 > 0
        g_w2, g_b2 = a1.T @ d2, d2.sum(axis=0)
        d1 = d2 @ w2.T
        d1 *= h1 > 0
        g_w1, g_b1 = x.T @ d1, d1.sum(axis=0)
        for p, g in ((w1, g_w1), (b1, g_b1), (w2, g_w2), (b2, g_b2), (w3, g_w3), (b3, g_b3)):
            p -= LR * g
        return loss

    return step


def tinynet_step_fn(weights, x: np.ndarray, y: np.ndarray):
    """The same step written as a tinynet user would: Sequential, cross_entropy, backward, optim.SGD."""
    modules: list[nn.Module] = []
    for i, (w, _) in enumerate(weights):
        modules.append(nn.Linear(*w.shape))
        if i < len(weights) - 1:
            modules.append(nn.ReLU())
    model = nn.Sequential(*modules)
    layers = [m for m in model if isinstance(m, nn.Linear)]
    for layer, (w, b) in zip(layers, weights):
        layer.weight.data = w.copy()
        layer.bias.data = b.copy()
    optimizer = optim.SGD(model.parameters(), lr=LR)
    xt = tn.tensor(x)

    def step() -> float:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xt), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_step_fn(weights, x: np.ndarray, y: np.ndarray):
    """The same step in PyTorch eager mode (weights transposed to its (out, in) layout)."""
    import os

    import torch

    if os.environ.get("OPENBLAS_NUM_THREADS", "").isdigit():
        torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))  # same thread count as numpy
    layers = []
    for i, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def run(batches: list[int], rounds: int, steps: int, use_torch: bool) -> list[dict]:
    """Measure every batch size; return one record per batch size."""
    try:
        if not use_torch:
            raise ImportError
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    records = []
    rng = np.random.default_rng(1)
    for batch in batches:
        x = rng.random((batch, SIZES[0]), dtype=np.float32)
        y = rng.integers(0, SIZES[-1], batch)
        weights = initial_weights()
        contestants = {
            "numpy": numpy_step_fn(weights, x, y),
            "tinynet": tinynet_step_fn(weights, x, y),
        }
        # Same weights and data: the first losses must agree, or the comparison is meaningless.
        losses = {name: fn() for name, fn in contestants.items()}
        if have_torch:
            contestants["torch"] = torch_step_fn(weights, x, y)
            contestants["torch"]()
            contestants["torch"]()
        if abs(losses["numpy"] - losses["tinynet"]) > 1e-4 * max(1.0, abs(losses["numpy"])):
            raise RuntimeError(f"losses differ: {losses}")
        times = paired_rounds(contestants, rounds, steps)
        record = {
            "batch": batch,
            "seconds_per_step": {k: float(np.median(v)) for k, v in times.items()},
            "gflops": {k: step_flops(batch) / float(np.median(v)) / 1e9 for k, v in times.items()},
            "tinynet_over_numpy": median_ratio(times["tinynet"], times["numpy"]),
        }
        if have_torch:
            record["tinynet_over_torch"] = median_ratio(times["tinynet"], times["torch"])
            record["numpy_over_torch"] = median_ratio(times["numpy"], times["torch"])
        records.append(record)
    return records


def report(records: list[dict]) -> str:
    """The figures as a text table."""
    have_torch = "tinynet_over_torch" in records[0]
    header = ["batch", "numpy ms", "tinynet ms", "tinynet/numpy (IQR)", "GFLOP/s tinynet"]
    if have_torch:
        header += ["torch ms", "tinynet/torch (IQR)"]
    rows = []
    for r in records:
        s = r["seconds_per_step"]
        med, lo, hi = r["tinynet_over_numpy"]
        row = [
            str(r["batch"]),
            f"{s['numpy'] * 1e3:.3f}",
            f"{s['tinynet'] * 1e3:.3f}",
            f"{med:.3f} ({lo:.3f}-{hi:.3f})",
            f"{r['gflops']['tinynet']:.1f}",
        ]
        if have_torch:
            tm, tlo, thi = r["tinynet_over_torch"]
            row += [f"{s['torch'] * 1e3:.3f}", f"{tm:.3f} ({tlo:.3f}-{thi:.3f})"]
        rows.append(row)
    return table(header, rows)


def per_thread_count(counts: list[str], argv: list[str], as_json: bool) -> int:
    """Run this benchmark once per thread count, each in its own process (numpy's BLAS reads its
    thread count only at load), and print every report one after another (or one JSON list)."""
    rest, skip = [], False
    for arg in argv:  # drop --threads and its value; each child gets its own
        if skip or arg == "--threads":
            skip = not skip and arg == "--threads"
            continue
        if not arg.startswith("--threads="):
            rest.append(arg)
    results = []
    for count in counts:
        command = [sys.executable, str(Path(__file__).resolve()), *rest, "--threads", count]
        done = subprocess.run(command + (["--json"] if as_json and "--json" not in rest else []),
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            return done.returncode
        results.append(json.loads(done.stdout) if as_json else done.stdout)
    print(json.dumps(results, indent=2) if as_json else "\n".join(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="32,128,512", help="comma-separated batch sizes")
    parser.add_argument("--rounds", type=int, default=21, help="paired rounds per batch size")
    parser.add_argument("--steps", type=int, default=30, help="steps per block")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--threads",
        default="1,2",
        help="BLAS threads for numpy and PyTorch: a count, 'default' (the libraries' own), or a "
        "comma-separated list measured one after another in child processes (default: 1,2)",
    )
    args = parser.parse_args(argv)
    counts = args.threads.split(",")
    if len(counts) > 1:
        return per_thread_count(counts, sys.argv[1:] if argv is None else argv, args.json)
    setting = pin_threads(None if counts[0] == "default" else int(counts[0]))
    batches = [int(b) for b in args.batches.split(",")]
    if args.quick:
        batches, args.rounds, args.steps = [8], 3, 2
    records = run(batches, args.rounds, args.steps, not args.no_torch)
    if args.json:
        print(json.dumps({"threads": setting, "records": records}, indent=2))
    else:
        print(setting)
        print(report(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
