"""Forward and backward of a LeNet-size conv stack (float32, NHWC): tinynet against hand-written numpy.

The stack is 28×28×1 → Conv 5×5, 6 channels → ReLU → MaxPool 2 → Conv 5×5, 16 channels → ReLU →
MaxPool 2 (4×4×16 out), the two convolutions unpadded and with bias. One step is the forward pass,
the scalar ``sum(out * G)`` for a fixed random ``G``, and the backward pass to both kernels and
biases (the images need no gradient). The numpy contestant is the same computation written out by
hand as a careful numpy programmer would: im2col through ``sliding_window_view`` and one GEMM per
convolution, a GEMM and a col2im scatter over the 25 kernel taps for the backward.

Blocks of steps alternate between tinynet and numpy in one process (order rotating each round); the
printed ratio is the median (and quartiles) of the per-round ratios, so drift of the machine cancels.
PyTorch (CPU, eager, NCHW) joins when it is importable: it runs in a process of its own with the same
thread count, on the same weights and data, and its median is set against numpy's.

    python benchmarks/bench_conv.py --threads 1         # batch 64, as in docs/performance.md
    python benchmarks/bench_conv.py --quick --no-torch  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_ratio, paired_rounds, pin_threads, table, time_block

import tinynet as tn
from tinynet import nn

#: (kernel, in channels, out channels) of the two convolutions
CONVS = ((5, 1, 6), (5, 6, 16))
IMAGE = (28, 28, 1)
OUT = (4, 4, 16)


def problem(batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Images, He-normal kernels ``(k, k, in, out)``, small biases and the output weights ``G``."""
    rng = np.random.default_rng(seed)
    arrays = {"x": rng.random((batch, *IMAGE), dtype=np.float32), "g": rng.standard_normal((batch, *OUT))}
    for i, (k, c_in, c_out) in enumerate(CONVS):
        arrays[f"w{i}"] = rng.standard_normal((k, k, c_in, c_out)) * np.sqrt(2.0 / (k * k * c_in))
        arrays[f"b{i}"] = 0.01 * rng.standard_normal(c_out)
    return {name: a.astype(np.float32) for name, a in arrays.items()}


def step_flops(batch: int) -> int:
    """2 × multiply-adds of the convolutions: forward, kernel gradients, and the input gradient of
    the second convolution (the first one's input is the data)."""
    h, total = IMAGE[0], 0
    for i, (k, c_in, c_out) in enumerate(CONVS):
        h = h - k + 1
        macs = batch * h * h * k * k * c_in * c_out
        total += macs * (2 if i == 0 else 3)
        h //= 2
    return 2 * total


# ------------------------------------------------------------------------- the numpy contestant
def _conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid stride-1 convolution by im2col: the windows copied in their natural ``(C, k, k)``
    order into ``(N·Ho·Wo, C·k·k)`` (one contiguous copy), times the kernel reordered once to
    ``(C·k·k, O)``; returns the output and the column matrix for the backward."""
    k, _, c_in, c_out = w.shape
    view = sliding_window_view(x, (k, k), axis=(1, 2))  # (N, Ho, Wo, C, k, k)
    n, ho, wo = view.shape[:3]
    cols = view.reshape(n * ho * wo, c_in * k * k)
    out = cols @ w.transpose(2, 0, 1, 3).reshape(c_in * k * k, c_out)
    out += b
    return out.reshape(n, ho, wo, c_out), cols


def _kernel_grad(cols: np.ndarray, grad2d: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``cols.T @ grad`` in the ``(C, k, k, O)`` order, back to the ``(k, k, C, O)`` kernel."""
    k, _, c_in, c_out = shape
    return (cols.T @ grad2d).reshape(c_in, k, k, c_out).transpose(1, 2, 0, 3)


def _conv_backward_input(grad: np.ndarray, w: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
    """col2im: the gradient of the columns, scattered back tap by tap onto the input."""
    k, _, c_in, c_out = w.shape
    n, ho, wo, _ = grad.shape
    w2d = w.transpose(2, 0, 1, 3).reshape(c_in * k * k, c_out)
    dcols = (grad.reshape(-1, c_out) @ w2d.T).reshape(n, ho, wo, c_in, k, k)
    dx = np.zeros(in_shape, dtype=grad.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i : i + ho, j : j + wo] += dcols[..., i, j]
    return dx


def _pool_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2×2 max-pool (even sizes): the output and the mask of each window's maxima."""
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // 2, 2, w // 2, 2, c)
    out = blocks.max(axis=(2, 4))
    return out, blocks == out[:, :, None, :, None]


def _pool_backward(grad: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n, h2, _, w2, _, c = mask.shape
    return (mask * grad[:, :, None, :, None]).reshape(n, 2 * h2, 2 * w2, c)


def numpy_step_fn(p: dict[str, np.ndarray]):
    """Forward and backward written out by hand; the step returns ``(loss, gradients)``."""
    x, g = p["x"], p["g"]
    w0, b0, w1, b1 = p["w0"], p["b0"], p["w1"], p["b1"]

    def step() -> tuple[float, dict[str, np.ndarray]]:
        h0, cols0 = _conv_forward(x, w0, b0)
        a0 = np.maximum(h0, 0)
        p0, mask0 = _pool_forward(a0)
        h1, cols1 = _conv_forward(p0, w1, b1)
        a1 = np.maximum(h1, 0)
        out, mask1 = _pool_forward(a1)
        loss = float(np.vdot(out, g))
        d1 = _pool_backward(g, mask1)
        d1 *= h1 > 0
        d1_2d = d1.reshape(-1, d1.shape[-1])
        grads = {"w1": _kernel_grad(cols1, d1_2d, w1.shape), "b1": d1_2d.sum(axis=0)}
        d0 = _pool_backward(_conv_backward_input(d1, w1, p0.shape), mask0)
        d0 *= h0 > 0
        d0_2d = d0.reshape(-1, d0.shape[-1])
        grads.update(w0=_kernel_grad(cols0, d0_2d, w0.shape), b0=d0_2d.sum(axis=0))
        return loss, grads

    return step


# ------------------------------------------------------------------------ the tinynet contestant
def tinynet_step_fn(p: dict[str, np.ndarray]):
    """The same step as a tinynet user writes it: Sequential of nn.Conv2d, nn.ReLU, nn.MaxPool2d."""
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)
    )
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    for i, conv in enumerate(convs):
        conv.weight.data, conv.bias.data = p[f"w{i}"].copy(), p[f"b{i}"].copy()
    x, g = tn.tensor(p["x"]), tn.tensor(p["g"])

    def step() -> tuple[float, dict[str, np.ndarray]]:
        model.zero_grad()
        loss = (model(x) * g).sum()
        loss.backward()
        grads = {}
        for i, conv in enumerate(convs):
            grads[f"w{i}"], grads[f"b{i}"] = conv.weight.grad, conv.bias.grad
        return loss.item(), grads

    return step


# ------------------------------------------------------------------------ PyTorch, own process
def torch_worker(path: str, rounds: int, steps: int) -> dict:
    """Time the step in PyTorch (NCHW, ``(out, in, k, k)`` kernels) on the arrays saved at ``path``;
    runs in a process of its own. Returns the loss and seconds per step of every round."""
    import torch

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "")
    if threads.isdigit():
        torch.set_num_threads(int(threads))  # the thread count numpy has
    with np.load(path) as f:
        p = {k: f[k] for k in f.files}
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    )  # fmt: skip
    with torch.no_grad():
        for i, conv in enumerate(m for m in model if isinstance(m, torch.nn.Conv2d)):
            conv.weight.copy_(torch.from_numpy(p[f"w{i}"].transpose(3, 2, 0, 1).copy()))
            conv.bias.copy_(torch.from_numpy(p[f"b{i}"]))
    x = torch.from_numpy(p["x"].transpose(0, 3, 1, 2).copy())
    g = torch.from_numpy(p["g"].transpose(0, 3, 1, 2).copy())

    def step() -> float:
        model.zero_grad()
        loss = (model(x) * g).sum()
        loss.backward()
        return loss.item()

    loss = step()
    time_block(step, 3)
    return {"loss": loss, "seconds": [time_block(step, steps) for _ in range(rounds)],
            "threads": torch.get_num_threads()}  # fmt: skip


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def torch_times(p: dict[str, np.ndarray], rounds: int, steps: int) -> dict:
    """:func:`torch_worker` in a child process of this interpreter, with this environment."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "problem.npz")
        np.savez(path, **p)
        command = [sys.executable, __file__, "--torch-worker", path, "--rounds", str(rounds),
                   "--steps", str(steps)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=dict(os.environ))
    return json.loads(done.stdout)


# ----------------------------------------------------------------------------------- the run
def run(batch: int, rounds: int, steps: int, use_torch: bool) -> dict:
    """Measure one batch size; the record of the figures."""
    p = problem(batch)
    contestants = {"numpy": numpy_step_fn(p), "tinynet": tinynet_step_fn(p)}
    # same weights and data: the losses and gradients must agree, or the comparison is meaningless
    (loss_np, grads_np), (loss_tn, grads_tn) = contestants["numpy"](), contestants["tinynet"]()
    if abs(loss_np - loss_tn) > 1e-3 * max(1.0, abs(loss_np)):
        raise RuntimeError(f"losses differ: numpy {loss_np}, tinynet {loss_tn}")
    for name, grad in grads_np.items():
        scale = float(np.abs(grad).max()) or 1.0
        if not np.allclose(grads_tn[name], grad, atol=1e-3 * scale, rtol=1e-3):
            raise RuntimeError(f"gradients of {name} differ between numpy and tinynet")
    times = paired_rounds(contestants, rounds, steps)
    record = {
        "batch": batch,
        "rounds": rounds,
        "steps": steps,
        "seconds_per_step": {k: float(np.median(v)) for k, v in times.items()},
        "gflops": {k: step_flops(batch) / float(np.median(v)) / 1e9 for k, v in times.items()},
        "tinynet_over_numpy": median_ratio(times["tinynet"], times["numpy"]),
    }
    if use_torch and _torch_available():
        torch = torch_times(p, rounds, steps)
        if abs(torch["loss"] - loss_np) > 1e-3 * max(1.0, abs(loss_np)):
            raise RuntimeError(f"losses differ: numpy {loss_np}, torch {torch['loss']}")
        t_torch = float(np.median(torch["seconds"]))
        record["seconds_per_step"]["torch"] = t_torch
        record["torch_threads"] = torch["threads"]
        record["tinynet_over_torch"] = record["seconds_per_step"]["tinynet"] / t_torch
        record["numpy_over_torch"] = record["seconds_per_step"]["numpy"] / t_torch
    return record


def report(record: dict) -> str:
    """The figures as a text table."""
    s = record["seconds_per_step"]
    med, lo, hi = record["tinynet_over_numpy"]
    header = ["batch", "numpy ms", "tinynet ms", "tinynet/numpy (IQR)", "GFLOP/s tinynet"]
    row = [str(record["batch"]), f"{s['numpy'] * 1e3:.2f}", f"{s['tinynet'] * 1e3:.2f}",
           f"{med:.3f} ({lo:.3f}-{hi:.3f})", f"{record['gflops']['tinynet']:.2f}"]  # fmt: skip
    if "torch" in s:
        header += ["torch ms", "tinynet/torch"]
        row += [f"{s['torch'] * 1e3:.2f}", f"{record['tinynet_over_torch']:.2f}"]
    return table(header, [row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64, help="images per step")
    parser.add_argument("--rounds", type=int, default=21, help="paired rounds")
    parser.add_argument("--steps", type=int, default=10, help="steps per block")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--threads", type=int, help="BLAS threads for numpy and PyTorch (default: theirs)")
    parser.add_argument("--torch-worker", metavar="FILE.npz", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.torch_worker:
        print(json.dumps(torch_worker(args.torch_worker, args.rounds, args.steps)))
        return 0
    setting = pin_threads(args.threads)
    if args.quick:
        args.batch, args.rounds, args.steps = 4, 3, 2
    record = run(args.batch, args.rounds, args.steps, not args.no_torch)
    if args.json:
        print(json.dumps({"threads": setting, "record": record}, indent=2))
    else:
        print(setting)
        print(report(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
