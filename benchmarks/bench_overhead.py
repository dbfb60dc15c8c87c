"""Per-op overhead, a 100,000-node backward, and memory over many training steps.

    python benchmarks/bench_overhead.py            # full run
    python benchmarks/bench_overhead.py --quick    # a smoke run

1. Overhead: forward + backward of a chain of elementwise ops on a small tensor, in µs per op, against the
   raw numpy op (and PyTorch's when it is installed).
2. A chain of 100,000 ops: backward must finish (no recursion) and its time is printed.
3. Memory: peak RSS after N and after 10·N training steps of a 784-256-256-10 MLP must not grow by more than
   5% (a graph kept alive by accident grows it); a forward pass under no_grad records no node.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import nn, optim
from tinynet.function import Node


def per_op_overhead(chain: int, repeats: int) -> dict[str, float]:
    """µs per op of forward+backward through ``chain`` multiplications of an 8-element tensor."""
    base = np.linspace(0.5, 1.5, 8, dtype=np.float32)

    def numpy_chain() -> None:
        y = base
        for _ in range(chain):
            y = y * 1.0001
        g = np.ones_like(y)
        for _ in range(chain):  # the backward of y * c is g * c
            g = g * 1.0001

    def tinynet_chain() -> None:
        x = tn.tensor(base, requires_grad=True)
        y = x
        for _ in range(chain):
            y = y * 1.0001
        y.sum().backward()

    out: dict[str, float] = {}
    fns = {"numpy": numpy_chain, "tinynet": tinynet_chain}
    try:
        import torch

        tb = torch.from_numpy(base)

        def torch_chain() -> None:
            x = tb.clone().requires_grad_(True)
            y = x
            for _ in range(chain):
                y = y * 1.0001
            y.sum().backward()

        fns["torch"] = torch_chain
    except ImportError:
        pass
    for name, fn in fns.items():
        fn()
        best = min(_timed(fn) for _ in range(repeats))
        out[name] = best / chain * 1e6
    return out


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def deep_backward(nodes: int) -> float:
    """Seconds for backward through a chain of ``nodes`` ops (forward excluded)."""
    x = tn.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(nodes):
        y = y * 1.0
    loss = y.sum()
    start = time.perf_counter()
    loss.backward()
    elapsed = time.perf_counter() - start
    if not np.allclose(x.grad, 1.0):
        raise RuntimeError("deep chain gave a wrong gradient")
    return elapsed


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_growth(steps: int, batch: int = 128) -> dict[str, float]:
    """Peak RSS after ``steps // 10`` and after ``steps`` training steps, and the relative growth."""
    tn.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.random((batch, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    first = max(1, steps // 10)
    early = 0.0
    for i in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        if i + 1 == first:
            gc.collect()
            early = peak_rss_mib()
    gc.collect()
    late = peak_rss_mib()
    return {"steps": steps, "early_mib": early, "late_mib": late, "growth": late / early - 1}


def no_grad_stores_nothing() -> bool:
    """True when a forward pass under no_grad leaves no graph node alive."""
    model = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))
    gc.collect()
    before = sum(type(o) is Node for o in gc.get_objects())  # type(): no __class__ lookups on foreign objects
    with tn.no_grad():
        out = model(np.ones((16, 32), dtype=np.float32))
    after = sum(type(o) is Node for o in gc.get_objects())
    return after == before and not out.requires_grad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.chain, args.nodes, args.steps = 50, 2000, 20
    overhead = per_op_overhead(args.chain, repeats=3 if args.quick else 7)
    deep = deep_backward(args.nodes)
    memory = memory_growth(args.steps)
    quiet = no_grad_stores_nothing()
    result = {
        "overhead_us_per_op": overhead,
        "deep_backward": {"nodes": args.nodes, "seconds": deep},
        "memory": memory,
        "no_grad_stores_nothing": quiet,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        rows = [
            [name, f"{us:.2f}", f"{us / overhead['numpy']:.1f}x"] for name, us in overhead.items()
        ]
        print(table(["engine", "µs per op (fwd+bwd)", "vs numpy"], rows))
        print(f"\nbackward through {args.nodes:,} nodes: {deep:.3f} s")
        print(
            f"peak RSS after {max(1, args.steps // 10)} steps: {memory['early_mib']:.1f} MiB; after "
            f"{args.steps}: {memory['late_mib']:.1f} MiB; growth {memory['growth'] * 100:+.2f}%"
        )
        print(f"forward under no_grad leaves no graph node: {quiet}")
    return 0 if memory["growth"] < 0.05 and quiet else 1


if __name__ == "__main__":
    raise SystemExit(main())
