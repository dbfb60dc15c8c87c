"""No numerical change: fixed-seed training runs give bit-identical losses and final weights.

Each run trains a small network on seeded random data for a few dozen steps and records every loss
as ``float.hex`` and the final parameters as a SHA-256 of their bytes. The figures below were captured
from the engine *before* the speed work of issue 16 (in-place gradient accumulation, optimizer scratch
buffers, ...); any change to the engine or the optimizers that alters a single rounding fails here.

One deliberate change since: backward now visits nodes newest first by sequence number (PyTorch's
order) instead of in a depth-first order, so a tensor used by three or more ops sums its gradients in
another order. The two ``composed`` runs (a weight used three times) were regenerated for it: their
losses moved by at most 1.1e-7 (float32) and 3.4e-16 (float64) relative; the 22 other runs kept every bit.

The bits depend on the machine's kernels (OpenBLAS picks its kernel by CPU, numpy's ``exp`` and
reductions pick SIMD code by CPU), so the file also records a fingerprint of the machine it was captured
on: where the fingerprint matches, the comparison is bit for bit; elsewhere it falls back to a close
comparison (float32 ``rtol=1e-4``, float64 ``rtol=1e-9``), which still catches a changed formula.

To regenerate after a deliberate numerical change (and say why in the change and in
``docs/performance.md``)::

    python tests/test_numerics_golden.py --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import nn, optim
from tinynet.optim import optimizer as optimizer_module

GOLDEN_FILE = Path(__file__).resolve().parent / "data" / "numerics_golden.json"
STEPS = 24
BATCH = 16
IN, HIDDEN, CLASSES = 12, 16, 5

OPTIMIZERS: dict[str, Callable[[list[Any]], optim.Optimizer]] = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd_momentum_wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "sgd_nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-2),
    "sgd_dampening": lambda p: optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
    "adam": lambda p: optim.Adam(p, lr=3e-3),
    "adam_wd_amsgrad": lambda p: optim.Adam(p, lr=3e-3, weight_decay=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=3e-3, weight_decay=0.1),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-3),
    "rmsprop_centered_momentum_wd": lambda p: optim.RMSprop(
        p, lr=1e-3, momentum=0.9, centered=True, weight_decay=1e-2
    ),
    "adagrad": lambda p: optim.Adagrad(
        p, lr=0.05, lr_decay=1e-2, weight_decay=1e-3, initial_accumulator_value=0.1
    ),
}


def _data(dtype: Any, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((STEPS, BATCH, IN)).astype(dtype)
    y = rng.integers(0, CLASSES, (STEPS, BATCH))
    return x, y


def _digest(params: list[Any]) -> str:
    h = hashlib.sha256()
    for p in params:
        h.update(np.ascontiguousarray(p.data).tobytes())
    return h.hexdigest()[:16]


def _mlp_run(optimizer: str, dtype: Any) -> dict[str, Any]:
    """A 12-16-16-5 MLP (ReLU, then Tanh), cross-entropy, one optimizer step per batch."""
    tn.manual_seed(7)
    tn.set_default_dtype(dtype)
    try:
        model = nn.Sequential(
            nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
            nn.Linear(HIDDEN, CLASSES),
        )
    finally:
        tn.set_default_dtype(np.float32)
    params = list(model.parameters())
    opt = OPTIMIZERS[optimizer](params)
    x, y = _data(dtype)
    losses = []
    for i in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(model(tn.tensor(x[i])), y[i])
        loss.backward()
        opt.step()
        losses.append(float(loss.item()).hex())
    return {"losses": losses, "params": _digest(params)}


def _accumulate_run(dtype: Any) -> dict[str, Any]:
    """Gradient accumulation over two half-batches, zero_grad(set_to_none=False), clipping in place,
    and a weight used twice in one graph (tied)."""
    tn.manual_seed(11)
    tn.set_default_dtype(dtype)
    try:
        first = nn.Linear(IN, HIDDEN)
        tied = nn.Linear(HIDDEN, HIDDEN, bias=False)
        head = nn.Linear(HIDDEN, CLASSES)
    finally:
        tn.set_default_dtype(np.float32)
    params = [*first.parameters(), *tied.parameters(), *head.parameters()]
    opt = optim.SGD(params, lr=0.05, momentum=0.9)
    x, y = _data(dtype, seed=5)
    losses = []
    for i in range(STEPS):
        opt.zero_grad(set_to_none=(i % 3 != 0))
        for half in (slice(0, BATCH // 2), slice(BATCH // 2, BATCH)):
            h = first(tn.tensor(x[i][half])).relu()
            h = tied(tied(h).tanh())  # the same weight twice
            loss = F.cross_entropy(head(h), y[i][half]) * 0.5
            loss.backward()
            losses.append(float(loss.item()).hex())
        nn.utils.clip_grad_norm_(params, 0.5)
        opt.step()
    return {"losses": losses, "params": _digest(params)}


def _composed_run(dtype: Any) -> dict[str, Any]:
    """Plain tensor ops (matmul, broadcast add, mul, sigmoid, sum, mean, pow) and an MSE loss."""
    rng = np.random.default_rng(13)
    w = tn.tensor(rng.standard_normal((IN, HIDDEN)) * 0.3, dtype=dtype, requires_grad=True)
    b = tn.tensor(np.zeros(HIDDEN), dtype=dtype, requires_grad=True)
    v = tn.tensor(rng.standard_normal((HIDDEN, 1)) * 0.3, dtype=dtype, requires_grad=True)
    params = [w, b, v]
    opt = optim.Adam(params, lr=1e-2)
    x, _ = _data(dtype, seed=17)
    target = np.sin(x.sum(axis=2, keepdims=True)).astype(dtype)
    losses = []
    for i in range(STEPS):
        opt.zero_grad()
        h = (tn.tensor(x[i]) @ w + b).sigmoid() * 2 - 1
        out = h @ v + h.sum(axis=1, keepdims=True) * 0.01
        loss = ((out - tn.tensor(target[i])) ** 2).mean() + 1e-3 * (w * w).sum()
        loss.backward()
        opt.step()
        losses.append(float(loss.item()).hex())
    return {"losses": losses, "params": _digest(params)}


def _run(name: str) -> dict[str, Any]:
    kind, *rest = name.split("/")
    dtype = np.dtype(rest[-1]).type
    if kind == "mlp":
        return _mlp_run(rest[0], dtype)
    if kind == "accumulate":
        return _accumulate_run(dtype)
    return _composed_run(dtype)


def run_names() -> list[str]:
    """The name of every recorded run: ``kind[/optimizer]/dtype``."""
    names = []
    for dtype in ("float32", "float64"):
        names += [f"mlp/{opt}/{dtype}" for opt in OPTIMIZERS]
        names += [f"accumulate/{dtype}", f"composed/{dtype}"]
    return names


def fingerprint() -> dict[str, Any]:
    """What decides the rounding besides tinynet: numpy's version and SIMD features, the BLAS kernel."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # a numpy without the private table: never claim a bit-exact match
        features = {"unknown": True}
    blas = sorted(
        f"{pool.get('internal_api')} {pool.get('version')} {pool.get('architecture')}"
        for pool in threadpool_info()
        if pool.get("user_api") == "blas"
    )
    return {
        "numpy": np.__version__,
        "blas": blas,
        "simd": sorted(name for name, on in features.items() if on),
    }


def _golden() -> dict[str, Any]:
    return json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return _golden()


@pytest.mark.parametrize("name", run_names())
def test_fixed_seed_run_is_unchanged(name, golden):
    want = golden["runs"][name]
    got = _run(name)
    if golden["fingerprint"] == fingerprint():
        assert got["losses"] == want["losses"]  # bit for bit
        assert got["params"] == want["params"]
    else:
        rtol = 1e-4 if name.endswith("float32") else 1e-9
        np.testing.assert_allclose(
            [float.fromhex(v) for v in got["losses"]],
            [float.fromhex(v) for v in want["losses"]],
            rtol=rtol,
        )


@pytest.mark.parametrize("name", [n for n in run_names() if n.startswith("mlp/")])
def test_scratch_buffers_round_as_fresh_arrays(name, golden, monkeypatch):
    """The same runs with every parameter updated through the optimizers' scratch buffers (normally
    only parameters of 64 KiB and more): the same bits."""
    monkeypatch.setattr(optimizer_module, "SCRATCH_MIN_BYTES", 0)
    got = _run(name)
    if golden["fingerprint"] == fingerprint():
        assert got == golden["runs"][name]
    else:
        assert got == _run_fresh(name, monkeypatch)


def _run_fresh(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(optimizer_module, "SCRATCH_MIN_BYTES", 1 << 62)
    return _run(name)


def test_golden_file_covers_every_run(golden):
    assert sorted(golden["runs"]) == sorted(run_names())


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/test_numerics_golden.py --write")
    record = {"fingerprint": fingerprint(), "runs": {name: _run(name) for name in run_names()}}
    GOLDEN_FILE.parent.mkdir(exist_ok=True)
    GOLDEN_FILE.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(record['runs'])} runs to {GOLDEN_FILE}")
