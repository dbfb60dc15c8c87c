"""Data pipeline speed: synthetic digit generation, cached loading, and IDX reading.

    python benchmarks/bench_data.py            # full run: 70,000 digits (the issue's budget: <= 10 s)
    python benchmarks/bench_data.py --quick    # a smoke run
    python benchmarks/bench_data.py --json     # machine-readable output

1. Generation: ``synthetic_digits(60000, 10000, cache=False)``, in images per second (best of rounds).
2. Cached load: the same call served from its ``.npz`` cache (must stay under 1 s), against a bare
   ``np.load`` of that file as the plain-numpy baseline.
3. IDX: ``read_idx`` of the training images written raw and gzipped, in MB/s of payload, against the
   plain-numpy baseline ``np.frombuffer(file bytes)`` (raw) and ``np.frombuffer(gzip.decompress(...))``.

Everything is written into a temporary folder (``TINYNET_CACHE`` points there during the run).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table

from tinynet.data import read_idx, synthetic_digits, write_idx
from tinynet.data.synthetic import cache_path


def best_time(fn, rounds: int) -> float:
    """Smallest wall time of ``rounds`` calls of ``fn`` (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_generation(n_train: int, n_test: int, rounds: int) -> dict:
    seconds = best_time(lambda: synthetic_digits(n_train, n_test, seed=0, cache=False), rounds)
    n = n_train + n_test
    return {"images": n, "seconds": seconds, "images_per_s": n / seconds}


def bench_cached_load(n_train: int, n_test: int, rounds: int) -> dict:
    synthetic_digits(n_train, n_test, seed=0, cache=True)  # writes the cache file
    path = cache_path(n_train, n_test, 0)
    cached = best_time(lambda: synthetic_digits(n_train, n_test, seed=0, cache=True), rounds)

    def bare() -> None:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                npz[key]

    baseline = best_time(bare, rounds)
    return {"seconds": cached, "numpy_seconds": baseline, "file_bytes": path.stat().st_size}


def bench_idx(images: np.ndarray, folder: Path, rounds: int) -> dict:
    out = {}
    for label, name in (("raw", "images-idx3-ubyte"), ("gzip", "images-idx3-ubyte.gz")):
        path = write_idx(folder / name, images)
        payload_mb = images.nbytes / 1e6
        ours = best_time(lambda p=path: read_idx(p), rounds)
        if label == "raw":
            plain = best_time(lambda p=path: np.frombuffer(p.read_bytes(), np.uint8, offset=16), rounds)
        else:
            plain = best_time(
                lambda p=path: np.frombuffer(gzip.decompress(p.read_bytes()), np.uint8, offset=16), rounds
            )
        assert np.array_equal(read_idx(path), images)
        out[label] = {
            "file_bytes": path.stat().st_size,
            "read_idx_mb_per_s": payload_mb / ours,
            "numpy_mb_per_s": payload_mb / plain,
        }
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round (smoke test)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (best is kept)")
    args = parser.parse_args(argv)
    n_train, n_test = (400, 100) if args.quick else (60000, 10000)
    rounds = args.rounds or (1 if args.quick else 3)

    with tempfile.TemporaryDirectory(prefix="tinynet-bench-data-") as tmp:
        previous = os.environ.get("TINYNET_CACHE")
        os.environ["TINYNET_CACHE"] = tmp
        try:
            result = {
                "generation": bench_generation(n_train, n_test, rounds),
                "cached_load": bench_cached_load(n_train, n_test, rounds),
            }
            (x_train, _), _ = synthetic_digits(n_train, n_test, seed=0, cache=True)
            result["idx"] = bench_idx(x_train, Path(tmp), rounds)
        finally:
            if previous is None:
                os.environ.pop("TINYNET_CACHE", None)
            else:
                os.environ["TINYNET_CACHE"] = previous

    if args.json:
        print(json.dumps(result))
        return result
    gen, cached = result["generation"], result["cached_load"]
    print(f"synthetic_digits({n_train}, {n_test}), best of {rounds}:")
    print(
        table(
            ["step", "seconds", "images/s"],
            [
                ["render", f"{gen['seconds']:.3f}", f"{gen['images_per_s']:,.0f}"],
                ["cached load", f"{cached['seconds']:.3f}", f"{gen['images'] / cached['seconds']:,.0f}"],
                ["np.load baseline", f"{cached['numpy_seconds']:.3f}", ""],
            ],
        )
    )
    print(f"\nread_idx of {n_train} training images ({x_train.nbytes / 1e6:.1f} MB payload):")
    print(
        table(
            ["file", "bytes", "read_idx MB/s", "numpy MB/s"],
            [
                [k, f"{v['file_bytes']:,}", f"{v['read_idx_mb_per_s']:,.0f}", f"{v['numpy_mb_per_s']:,.0f}"]
                for k, v in result["idx"].items()
            ],
        )
    )
    return result


if __name__ == "__main__":
    main()
