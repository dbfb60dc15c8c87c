"""Figures of the sweeps and studies, drawn from their JSON-ready results: the sweep's small
multiples, symmetry, depth profiles, trainability, activation dynamics and Jacobian spectra.

They read plain records only (dicts and lists, or an object with ``to_dict()``); nothing here
imports the experiments. Each function draws one figure, saves it to ``path`` as PNG when given,
and returns it. matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._figure import finish, grid, new_figure, positive

__all__ = [
    "plot_depth_profiles",
    "plot_dynamics",
    "plot_jacobian",
    "plot_sweep",
    "plot_symmetry",
    "plot_trainability",
]


# ---------------------------------------------------------------------------------- the sweep
def plot_sweep(result: Any, path: str | os.PathLike[str] | None = None, ncols: int = 6) -> Any:
    """Small multiples, one panel per scheme in leaderboard order: training and test loss per epoch
    (mean over seeds, shaded ± one std), with ``ln C`` dotted; the title gives the test accuracy.

    ``result`` is a :class:`tinynet.experiments.sweep.SweepResult` or its ``to_dict()``.
    """
    data = result.to_dict() if hasattr(result, "to_dict") else result
    order = [row["init"] for row in data["leaderboard"]]
    by_init: dict[str, list[dict[str, Any]]] = {}
    for run in data["runs"]:
        by_init.setdefault(run["init"], []).append(run)
    n = len(order)
    ncols = max(1, min(ncols, n))
    fig = new_figure(2.6 * ncols, 2.2 * math.ceil(n / ncols) + 0.4)
    axes = grid(fig, n, ncols)
    ln_c = next((r.get("ln_classes") for r in data["runs"] if r.get("ln_classes")), None)
    for position, (ax, init, row) in enumerate(zip(axes, order, data["leaderboard"]), start=1):
        rank = row.get("rank") or str(position)
        runs = by_init.get(init, [])
        for key, style, label in (("train_loss", "-", "train"), ("test_loss", "--", "test")):
            curves = [[h.get(key) for h in r.get("history", [])] for r in runs]
            length = min((len(c) for c in curves), default=0)
            if length == 0:
                continue
            values = np.array([positive(c[:length]) for c in curves])
            mean = np.nanmean(values, axis=0) if len(values) else values
            epochs = np.arange(1, length + 1)
            line = ax.plot(epochs, mean, style, marker="o", markersize=3, label=label)[0]
            if len(values) > 1:
                std = np.nanstd(values, axis=0, ddof=1)
                ax.fill_between(epochs, mean - std, mean + std, alpha=0.2, color=line.get_color())
        if ln_c:
            ax.axhline(ln_c, color="gray", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        acc = row.get("test_accuracy", {}).get("mean")
        what = f"{100 * acc:.1f}%" if acc is not None else "diverged" if row["diverged"] else "-"
        ax.set_title(f"{rank}. {init}: {what}", fontsize="small")
        ax.tick_params(labelsize="x-small")
        if not ax.lines or len(ax.lines) == 1:
            ax.text(0.5, 0.5, "no epoch trained", ha="center", va="center", transform=ax.transAxes,
                    fontsize="small")  # fmt: skip
    # one y range for every panel, so that a flat ln C line looks flat and not like noise
    ys = [y for ax in axes for line in ax.lines for y in np.asarray(line.get_ydata(), dtype=float)]
    ys = [y for y in ys if np.isfinite(y) and y > 0]
    if ys:
        low, high = min(ys), max(ys)
        for ax in axes:
            ax.set_ylim(low / 1.3, high * 1.3)
    if axes:
        axes[0].set_ylabel("loss (log)", fontsize="small")
        axes[0].set_xlabel("epoch", fontsize="small")
        if any(len(ax.lines) > 1 for ax in axes):
            axes[0].legend(fontsize="x-small")
    cfg = data["config"]
    fig.suptitle(
        f"every scheme on the same MLP ({cfg['depth']}×{cfg['width']} {cfg['activation']}, "
        f"{cfg['optimizer']}, {cfg['epochs']} epochs; {len(data['seeds'])} seed(s)); "
        "dotted: ln C",
        fontsize="medium",
    )
    return finish(fig, path)


# ------------------------------------------------------------------------------------ symmetry
def plot_symmetry(results: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None) -> Any:
    """One panel per scheme: distinct units of each layer against the training step (log scale),
    from the symmetry study (:mod:`tinynet.experiments.studies.symmetry`)."""
    fig = new_figure(4.2 * len(results), 3.4)
    axes = grid(fig, len(results), len(results))
    for ax, r in zip(axes, results):
        n_layers = len(r["units"])
        for i, (series, units) in enumerate(zip(r["distinct"], r["units"])):
            kind = "output" if i == n_layers - 1 else "hidden"
            # layers often coincide (1 distinct unit each): vary the style so that all stay visible
            ax.plot(r["steps"], positive(series), linestyle=("-", "--", ":", "-.")[i % 4],
                    linewidth=2.5 - 0.5 * (i % 3), marker=".",
                    label=f"layer {i + 1} ({kind}, {units} units)")  # fmt: skip
        ax.set_yscale("log")
        ax.set_ylim(0.8, 1.25 * max(r["units"]))
        acc = r.get("test_accuracy")
        note = f"test acc {100 * acc:.1f}%" if acc is not None else "diverged"
        if r.get("hidden_grads_zero"):
            note += "\nhidden weight grads exactly 0"
        learned = r.get("learned", [])
        if len(learned) == 1:
            note += f"\nonly {learned[0]} learns"
        ax.set_title(f"{r['init']} ({r['activation']})\n{note}", fontsize="small")
        ax.set_xlabel("training step")
        ax.legend(fontsize="x-small", loc="center right")
    if axes:
        axes[0].set_ylabel("distinct units (log)")
    return finish(fig, path)


# --------------------------------------------------------------------------------------- depth
def plot_depth_profiles(
    profiles: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None
) -> Any:
    """Rows: activations; columns: the forward signal (std of each hidden activation) and the
    backward signal (std of dL/d(out) of each weight layer, the back-propagated gradient) against
    the layer, at initialization, one line per scheme (from the depth study,
    :mod:`tinynet.experiments.studies.depth`), with the mean-field prediction of each activation
    std dotted in its scheme's colour (``act_std_theory``). The weight-gradient norm is not drawn: in a
    zero-bias net its forward and backward decays cancel, hiding vanishing gradients."""
    activations = list(dict.fromkeys(p["activation"] for p in profiles))
    predicted = False
    fig = new_figure(11, 3.0 * len(activations))
    axes = fig.subplots(len(activations), 2, squeeze=False)
    for row, activation in enumerate(activations):
        ax_std, ax_grad = axes[row]
        for p in (p for p in profiles if p["activation"] == activation):
            label = p.get("scheme", p["init"])
            layers = np.arange(1, len(p["act_std"]) + 1)
            line = ax_std.plot(layers, positive(p["act_std"]), marker=".", label=label)[0]
            theory = p.get("act_std_theory")
            if theory is not None and any(v is not None for v in theory):
                ax_std.plot(layers, positive(theory), color=line.get_color(), linestyle=":", linewidth=2)
                predicted = True
            grads = p["out_grad_std"]
            ax_grad.plot(np.arange(1, len(grads) + 1), positive(grads), marker=".", label=label)
        for ax, what in ((ax_std, "activation std"), (ax_grad, "back-propagated std dL/d(out)")):
            ax.set_yscale("log")
            ax.set_title(f"{activation}: {what} per layer at init", fontsize="small")
            ax.set_xlabel("layer")
        if predicted:
            ax_std.plot([], [], ":", color="gray", linewidth=2, label="mean-field prediction")
        ax_std.legend(fontsize="x-small", ncols=2)
    return finish(fig, path)


def plot_trainability(results: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None) -> Any:
    """Mean training loss per epoch for each scheme (from the trainability study,
    :mod:`tinynet.experiments.studies.trainability`), with ``ln C`` and ``0.7 ln C`` as reference
    lines."""
    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    optimizers = list(dict.fromkeys(r.get("optimizer", "sgd") for r in results))
    for r in results:
        losses = np.asarray(r["train_loss"], dtype=float)  # None (a non-finite mean) → nan
        who = r["scheme"] if len(optimizers) == 1 else f"{r['scheme']} ({r.get('optimizer', 'sgd')})"
        final = r["final_loss"]
        if final is None or not np.isfinite(final):
            stop = r.get("divergence")
            label = f"{who}: diverged" + (f" at step {stop['step']}" if stop else "")
        else:
            label = f"{who}: {final:.3f} ({100 * r['loss_ratio']:.0f}% of ln C)"
            label += " (diverged)" if r.get("diverged") else ""
        ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", label=label)
    if results:
        ln_c = results[0]["ln_classes"]
        ax.axhline(ln_c, color="gray", linestyle=":", label="ln C")
        ax.axhline(0.7 * ln_c, color="gray", linestyle="--", label="0.7 ln C")
        r = results[0]
        how = " vs ".join("plain SGD" if o == "sgd" else o.capitalize() for o in optimizers)
        ax.set_title(f"{r['depth']}-layer {r.get('width')}-wide MLP, {how}: training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss")
    ax.legend(fontsize="small")
    return finish(fig, path)


def plot_dynamics(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """Mean (line) ± std (band) of each hidden activation on the probe against the training step
    (from :mod:`tinynet.experiments.studies.dynamics`; Glorot & Bengio 2010, fig. 2)."""
    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    steps = np.asarray(result["steps"])
    for k, (mean, std) in enumerate(zip(result["mean"], result["std"]), start=1):
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        line = ax.plot(steps, mean, label=f"layer {k}")[0]
        ax.fill_between(steps, mean - std, mean + std, alpha=0.15, color=line.get_color())
    ax.set_title(
        f"{result['activation']} MLP, init {result['init']}: activation mean ± std per hidden layer",
        fontsize="small",
    )
    ax.set_xlabel("training step")
    ax.set_ylabel("activation value")
    ax.legend(fontsize="small")
    return finish(fig, path)


def plot_jacobian(results: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None) -> Any:
    """Left: singular values of the input-output Jacobian at the largest depth, per scheme; right:
    condition number against depth (from :mod:`tinynet.experiments.studies.jacobian`)."""
    fig = new_figure(11, 4.0)
    ax_s, ax_c = fig.subplots(1, 2)
    inits = list(dict.fromkeys(r["init"] for r in results))
    for init in inits:
        rows = sorted((r for r in results if r["init"] == init), key=lambda r: r["depth"])
        deepest = rows[-1]
        s = deepest["singular_values"]
        ax_s.plot(np.arange(1, len(s) + 1), positive(s), marker=".",
                  label=f"{init}, depth {deepest['depth']}")  # fmt: skip
        ax_c.plot([r["depth"] for r in rows], [r["condition"] for r in rows], marker="o", label=init)
    ax_s.set_yscale("log")
    ax_s.set_title("singular values of the input-output Jacobian", fontsize="small")
    ax_s.set_xlabel("index (sorted)")
    ax_c.set_xscale("log", base=2)
    ax_c.set_yscale("log")
    ax_c.set_title("condition number s_max / s_min against depth", fontsize="small")
    ax_c.set_xlabel("depth (layers)")
    for ax in (ax_s, ax_c):
        ax.legend(fontsize="small")
    return finish(fig, path)
