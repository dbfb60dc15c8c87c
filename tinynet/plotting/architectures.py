"""Figures of the architecture studies (:mod:`tinynet.experiments.studies`: conv_depth, residual,
normalization, delta_orthogonal), drawn from their JSON-ready results: a profile at initialization
on the left (one line per variant, every seed), the training loss per step on the right (a running
mean, every seed), and a third panel where a study measures something more (the time per step of
the normalization study, the Jacobian singular values of the delta-orthogonal study).

Each function draws one figure, saves it to ``path`` as PNG when given, and returns it; matplotlib
is imported only when a figure is drawn.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ._figure import colours, finish, new_figure, positive, running_mean

__all__ = ["plot_conv_depth", "plot_delta_orthogonal", "plot_normalization", "plot_residual"]


def _variants(result: dict[str, Any]) -> list[str]:
    return [v["variant"] for v in result["variants"]]


def _profile(ax: Any, result: dict[str, Any], key: str, xlabel: str, title: str) -> None:
    """One line per run of ``runs[*][key]`` (a per-layer list), log y, a colour per variant."""
    names = _variants(result)
    for name, colour in zip(names, colours(len(names)), strict=True):
        for i, run in enumerate(r for r in result["runs"] if r.get("variant") == name and r.get(key)):
            values = positive(run[key])
            ax.plot(range(1, len(values) + 1), values, color=colour, marker="o", markersize=2.5,
                    linewidth=1.2, alpha=0.9 if i == 0 else 0.45, label=name if i == 0 else None)  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("std at initialization (log)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")


def _losses(ax: Any, result: dict[str, Any], ln_c: float = math.log(10)) -> None:
    """The training loss of every step (running mean over 8 steps), a colour per variant; a run
    that diverged ends with an ✕ at its last finite loss."""
    names = _variants(result)
    for name, colour in zip(names, colours(len(names)), strict=True):
        for i, run in enumerate(r for r in result["runs"] if r.get("variant") == name):
            steps = np.asarray([np.nan if v is None else v for v in run.get("step_loss") or []], dtype=float)
            label = name if i == 0 else None
            if run.get("diverged"):
                label = f"{name} (diverged)" if i == 0 else None
                finite = np.flatnonzero(np.isfinite(steps))
                if finite.size:
                    ax.plot(finite[-1] + 1, min(steps[finite[-1]], 1e6), "x", color=colour, markersize=9,
                            markeredgewidth=2, label=label)  # fmt: skip
                    label = None
            if steps.size:
                smooth = running_mean(np.clip(steps, None, 1e6), 8)
                ax.plot(np.arange(1, steps.size + 1), smooth, color=colour, linewidth=1.4,
                        alpha=0.95 if i == 0 else 0.5, label=label)  # fmt: skip
    ax.axhline(ln_c, color="gray", linestyle=":", linewidth=1, label="ln 10 (chance)")
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss (running mean of 8 steps, log)")
    ax.set_title("training", fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")


def _subtitle(fig: Any, result: dict[str, Any], text: str) -> None:
    s = result.get("settings", {})
    seeds = sorted({r.get("seed") for r in result["runs"]})
    fig.suptitle(
        f"{text}\nSGD lr {s.get('lr')} momentum {s.get('momentum')}, batch {s.get('batch_size')}, "
        f"{s.get('epochs')} epochs on {s.get('limit')} digits, seeds {', '.join(map(str, seeds))}",
        fontsize="medium",
    )


def plot_conv_depth(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """He against Xavier (and the PyTorch preset) on a deep plain ReLU CNN: the std after every
    ReLU at initialization, layer by layer, and the training loss."""
    fig = new_figure(11.5, 4.4)
    left, right = fig.subplots(1, 2)
    s = result.get("settings", {})
    _profile(left, result, "act_std", "conv layer", "activation std at initialization")
    _losses(right, result)
    _subtitle(fig, result, f"plain CNN, {s.get('depth')} 3×3 conv layers of {s.get('width')} channels, ReLU")
    return finish(fig, path)


def plot_residual(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """Plain He residual blocks against Fixup and ReZero: the std of the residual stream after
    every block at initialization, and the training loss."""
    fig = new_figure(11.5, 4.4)
    left, right = fig.subplots(1, 2)
    s = result.get("settings", {})
    _profile(left, result, "stream_std", "residual block", "residual stream std at initialization")
    _losses(right, result)
    what = f"residual MLP, {s.get('depth')} blocks of {s.get('width')} ReLU units, init {s.get('init')}"
    _subtitle(fig, result, what)
    return finish(fig, path)


def plot_normalization(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """A bad init with and without BatchNorm/LayerNorm: the activation std at initialization
    (training mode), the training loss, and the time per step of each variant."""
    fig = new_figure(15, 4.4)
    left, middle, right = fig.subplots(1, 3, width_ratios=(1.1, 1.1, 0.7))
    s = result.get("settings", {})
    _profile(left, result, "act_std", "hidden layer", "activation std at init (training mode)")
    _losses(middle, result)
    names = _variants(result)
    ms = [1e3 * (v["seconds_per_step"]["mean"] or 0.0) for v in result["variants"]]
    bars = right.bar(range(len(names)), ms, color=colours(len(names)))
    for bar, v in zip(bars, result["variants"], strict=True):
        cost = v.get("cost")
        text = f"×{cost:.2f}" if cost is not None else ""
        right.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                       fontsize="small")  # fmt: skip
    right.set_xticks(range(len(names)), names, rotation=20, fontsize="small")
    right.set_ylabel("ms per training step (median)")
    right.set_title("cost (× the plain network's time)", fontsize="medium")
    what = (f"MLP, {s.get('depth')} hidden layers of {s.get('width')} {s.get('activation')} units, "
            f"bad init {result.get('bad_init')}, good init {result.get('good_init')}")  # fmt: skip
    _subtitle(fig, result, what)
    return finish(fig, path)


def plot_delta_orthogonal(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """Delta-orthogonal against Gaussian kernels on a deep tanh CNN at the critical point: the
    singular values of the conv stack's Jacobian at initialization (histogram, all seeds pooled),
    and the training loss."""
    fig = new_figure(11.5, 4.4)
    left, right = fig.subplots(1, 2)
    names = _variants(result)
    values = [np.asarray(v["singular_values"], dtype=float) for v in result["variants"]]
    finite = np.concatenate([v[v > 0] for v in values]) if values else np.array([1.0])
    bins = np.geomspace(finite.min() / 1.1, finite.max() * 1.1, 40)
    for name, colour, v, summary in zip(names, colours(len(names)), values, result["variants"], strict=True):
        label = f"{name}: var(s²) {summary['var_sq']:.3g}, s_max/s_min {summary['condition']:.3g}"
        left.hist(v, bins=bins, color=colour, alpha=0.55, label=label)
    left.set_xscale("log")
    left.set_xlabel("singular value s of the conv stack's Jacobian (log)")
    left.set_ylabel("count")
    left.set_title("dynamical isometry at initialization", fontsize="medium")
    left.legend(fontsize="small")
    _losses(right, result)
    s, t = result.get("settings", {}), result.get("theory", {})
    what = (f"tanh CNN, {s.get('depth')} circular 3×3 conv layers of {s.get('width')} channels, "
            f"σ_w² = {t.get('sigma_w2')}, σ_b² = {t.get('sigma_b2')} "
            f"(critical σ_w² {t.get('critical_sigma_w2', 0):.4f})")  # fmt: skip
    _subtitle(fig, result, what)
    return finish(fig, path)
