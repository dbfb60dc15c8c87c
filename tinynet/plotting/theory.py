"""Figures of signal-propagation theory beside measurement, drawn from the plain records of the
edge-of-chaos studies (:mod:`tinynet.experiments.studies.edge_of_chaos`, ``.spectra``, ``.tent``):
the phase diagram, the depth scale ξ_c, correlations layer by layer, the trainability tent and the
Jacobian spectra.

They read dicts and lists only; nothing here imports the experiments or the theory. Each function
draws one figure, saves it to ``path`` as PNG when given, and returns it. matplotlib is imported
only when a figure is drawn.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._figure import colours, finish, grid, new_figure, positive

__all__ = [
    "plot_correlations",
    "plot_depth_scale",
    "plot_jacobian_spectra",
    "plot_phase_diagram",
    "plot_trainability_tent",
]


def _edges(centres: Sequence[float]) -> np.ndarray:
    """Cell edges around sorted centres (midpoints; the end cells as wide as their neighbours)."""
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[:-1] + c[1:]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def _floats(values: Sequence[Any]) -> np.ndarray:
    """None (an infinite or missing value in a JSON record) as nan."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


# ----------------------------------------------------------------------------- phase diagram
def plot_phase_diagram(results: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None) -> Any:
    """One panel per activation: log₁₀ χ₁ over the (σ_w², σ_b²) grid (blue: ordered, χ₁ < 1;
    red: chaotic, χ₁ > 1), the critical line χ₁ = 1 traced through its fixed points q* (black), and
    the critical point at σ_b² = 0.05 where the grid holds that row (from
    :func:`tinynet.experiments.studies.phase_diagram`)."""
    fig = new_figure(5.4 * len(results), 4.4)
    axes = grid(fig, len(results), len(results))
    spread = max((np.nanmax(np.abs(np.log10(np.asarray(r["chi1"], dtype=float)))) for r in results),
                 default=1.0)  # fmt: skip
    spread = min(max(spread, 0.05), 1.0)
    for ax, r in zip(axes, results):
        sw, sb = np.asarray(r["sigma_w2"], dtype=float), np.asarray(r["sigma_b2"], dtype=float)
        chi = np.log10(np.asarray(r["chi1"], dtype=float))
        mesh = ax.pcolormesh(_edges(sw), _edges(sb), chi, cmap="RdBu_r", vmin=-spread, vmax=spread,
                             shading="flat")  # fmt: skip
        line = r["critical_line"]
        ax.plot(line["sigma_w2"], line["sigma_b2"], color="black", linewidth=2,
                label="critical line χ₁ = 1 (from q*)")  # fmt: skip
        if len(sb) > 1 and len(sw) > 1:
            ax.contour(sw, sb, chi, levels=[0.0], colors="white", linewidths=1, linestyles="--")
        if 0.05 in r["sigma_b2"]:
            crit = r["critical_sigma_w2"][r["sigma_b2"].index(0.05)]
            ax.plot([crit], [0.05], marker="o", color="gold", markeredgecolor="black", linestyle="none",
                    label=f"σ_b² = 0.05: σ_w² = {crit:.3f}")  # fmt: skip
        ax.set_xlim(sw.min(), sw.max())
        ax.set_ylim(sb.min(), sb.max())
        ax.text(0.04, 0.9, "ordered\nχ₁ < 1", transform=ax.transAxes, fontsize="small", color="navy")
        ax.text(0.75, 0.08, "chaotic\nχ₁ > 1", transform=ax.transAxes, fontsize="small", color="darkred")
        ax.set_title(f"{r['activation']}: log₁₀ χ₁ (dashed white: χ₁ = 1 on the grid)", fontsize="small")
        ax.set_xlabel("σ_w² (weight variance × fan_in)")
        ax.set_ylabel("σ_b² (bias variance)")
        ax.legend(fontsize="x-small", loc="upper right")
        fig.colorbar(mesh, ax=ax, label="log₁₀ χ₁")
    return finish(fig, path)


# ------------------------------------------------------------------------------- depth scale
def plot_depth_scale(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """ξ_c and ξ_q against σ_w² at one σ_b² (log scale), the critical σ_w² dashed and the
    reference points annotated (from :func:`tinynet.experiments.studies.depth_scale_curve`)."""
    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    sw = np.asarray(result["sigma_w2"], dtype=float)
    ax.plot(sw, positive(result["xi_c"]), marker=".", label="ξ_c (correlations)")
    ax.plot(sw, positive(result["xi_q"]), marker=".", linestyle="--", label="ξ_q (lengths)")
    crit = result["critical_sigma_w2"]
    ax.axvline(crit, color="gray", linestyle=":", label=f"critical σ_w² = {crit:.3f} (χ₁ = 1)")
    for ref in result.get("references", []):
        if ref.get("xi_c") is None:
            continue
        ax.plot([ref["sigma_w2"]], [ref["xi_c"]], marker="o", color="black", linestyle="none")
        ax.annotate(f"ξ_c({ref['sigma_w2']:g}) = {ref['xi_c']:.2f}", (ref["sigma_w2"], ref["xi_c"]),
                    textcoords="offset points", xytext=(8, -4), fontsize="x-small")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("σ_w²")
    ax.set_ylabel("depth scale (layers, log)")
    ax.set_title(f"{result['activation']}, σ_b² = {result['sigma_b2']:g}: depth scales; ξ_c diverges at "
                 "the edge of chaos", fontsize="small")  # fmt: skip
    ax.legend(fontsize="small")
    return finish(fig, path)


# ------------------------------------------------------------------------------ correlations
def plot_correlations(records: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None) -> Any:
    """One panel per σ_w²: the correlation c^l of each input pair measured through the network
    (markers, mean over seeds ± one std) against the c-map iterated from c0 (lines), c* dotted
    (from :func:`tinynet.experiments.studies.correlation_study`)."""
    settings = list(dict.fromkeys(r["sigma_w2"] for r in records))
    fig = new_figure(4.4 * len(settings), 3.8)
    axes = grid(fig, len(settings), len(settings))
    for ax, sw in zip(axes, settings):
        group = [r for r in records if r["sigma_w2"] == sw]
        for colour, r in zip(colours(len(group)), group):
            layers = np.asarray(r["layers"])
            measured = _floats(r["measured"])
            ax.plot(layers, r["predicted"], color=colour, label=f"c0 = {r['c0']:g}: c-map")
            ax.plot(layers, measured, marker="o", markersize=3, linestyle="none", color=colour,
                    label=f"c0 = {r['c0']:g}: measured")  # fmt: skip
            if r.get("measured_std") is not None:
                std = _floats(r["measured_std"])
                ax.fill_between(layers, measured - std, measured + std, color=colour, alpha=0.15)
        r0 = group[0]
        if r0.get("c_star") is not None:
            ax.axhline(r0["c_star"], color="gray", linestyle=":", label="c* (fixed point)")
            ax.annotate(f" c* = {r0['c_star']:.3f}", (r0["layers"][0], r0["c_star"]), ha="left",
                        va="top", fontsize="x-small", color="gray")  # fmt: skip
        xi = r0.get("xi_c")
        ax.set_title(f"{r0['phase']}: σ_w² = {sw:.3f}, σ_b² = {r0['sigma_b2']:g} (χ₁ = {r0['chi1']:.3f}, "
                     f"ξ_c = {'∞' if xi is None else f'{xi:.1f}'})", fontsize="small")  # fmt: skip
        ax.set_xlabel("layer l")
        ax.set_ylim(min(0.0, *(min(_floats(r["measured"])) for r in group)) - 0.02, 1.02)
    if axes:
        r0 = records[0]
        axes[0].set_ylabel(f"correlation c^l (width {r0['width']}, {len(r0['seeds'])} seeds)")
        axes[0].legend(fontsize="x-small", ncols=2, loc="lower right")
    return finish(fig, path)


# ---------------------------------------------------------------------------------- the tent
def plot_trainability_tent(result: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """Training accuracy over the (σ_w², depth) grid, with k·ξ_c(σ_w²) for the calibrated k and for
    the paper's k = 6, each column's trainable depth (white dots) and the critical σ_w² (from
    :func:`tinynet.experiments.studies.trainability_tent`)."""
    fig = new_figure(7.4, 4.8)
    ax = fig.add_subplot()
    sw, depths = np.asarray(result["sigma_w2"], dtype=float), np.asarray(result["depths"], dtype=float)
    acc = np.array([_floats(row) for row in result["accuracy"]])
    mesh = ax.pcolormesh(_edges(sw), _edges(depths), acc, cmap="viridis", vmin=0.0, vmax=1.0, shading="flat")
    fig.colorbar(mesh, ax=ax, label="training accuracy")
    curve = result.get("xi_curve") or {"sigma_w2": result["sigma_w2"], "xi_c": result["xi_c"]}
    xs, xi = np.asarray(curve["sigma_w2"], dtype=float), _floats(curve["xi_c"])
    top = float(_edges(depths)[-1])
    calibration = result.get("calibration") or {}
    k = calibration.get("k")
    lines = [(6.0, "white", "--", "6 ξ_c (the paper)")]
    if k is not None:
        agree = calibration.get("agreement")
        text = f"{k:.2f} ξ_c (calibrated" + (f", {100 * agree:.0f}% agree)" if agree is not None else ")")
        lines.insert(0, (k, "orange", "-", text))
    for factor, colour, style, label in lines:
        ax.plot(xs, np.where(np.isfinite(xi), factor * xi, top * 10), color=colour, linestyle=style,
                linewidth=2, label=label)  # fmt: skip
    reach = _floats(result.get("trainable_depth", [None] * len(sw)))
    ax.plot(sw, reach, marker="o", color="white", markeredgecolor="black", linestyle="none",
            label=f"trainable depth (accuracy ≥ {result['threshold']:g})")  # fmt: skip
    crit = result["critical_sigma_w2"]
    ax.axvline(crit, color="red", linestyle=":", label=f"critical σ_w² = {crit:.3f}")
    ax.set_ylim(float(_edges(depths)[0]), top)
    ax.set_xlim(float(_edges(sw)[0]), float(_edges(sw)[-1]))
    ax.set_xlabel("σ_w²")
    ax.set_ylabel("depth L (hidden layers)")
    opt = result["optimizer"].upper() if result["optimizer"] == "sgd" else result["optimizer"]
    seeds = len(result.get("seeds", [])) or 1
    ax.set_title(f"tanh MLP width {result['width']}, σ_b² = {result['sigma_b2']:g}, {opt} lr {result['lr']:g}"
                 f", {result['steps']} steps on {result['limit']} digits; mean of {seeds} seed(s)",
                 fontsize="small")  # fmt: skip
    ax.legend(fontsize="x-small", loc="upper right", framealpha=0.8)
    return finish(fig, path)


# ---------------------------------------------------------------------------------- spectra
def plot_jacobian_spectra(records: Sequence[dict[str, Any]], path: str | os.PathLike[str] | None = None
                          ) -> Any:
    """One panel per (activation, weights): the cumulative distribution of the eigenvalues of JJᵀ
    (log axis, one line per depth; eigenvalues below 1e-8 counted at the left edge), then the
    measured variance against depth beside the prediction (from
    :func:`tinynet.experiments.studies.jacobian_spectra`)."""
    cases = list(dict.fromkeys((r["activation"], r["weights"]) for r in records))
    ncols = 3 if len(cases) > 2 else len(cases) + 1
    fig = new_figure(4.2 * ncols, 3.5 * math.ceil((len(cases) + 1) / ncols))
    axes = grid(fig, len(cases) + 1, ncols)
    depths = sorted({r["depth"] for r in records})
    palette = dict(zip(depths, colours(len(depths), ordered=True)))
    floor = 1e-8
    for ax, (activation, weights) in zip(axes, cases):
        for r in (r for r in records if (r["activation"], r["weights"]) == (activation, weights)):
            eig = np.sort(np.clip(np.asarray(r["eigenvalues"], dtype=float), floor, None))
            share = np.arange(1, eig.size + 1) / max(eig.size, 1)
            below = float(np.mean(eig <= floor)) if eig.size else 0.0
            label = f"L = {r['depth']}: var {r['variance']:.3g} (theory {r['predicted_variance']:.3g})"
            if below:
                label += f", {100 * below:.0f}% ≤ 1e-8"
            ax.step(eig, share, where="post", color=palette[r["depth"]], label=label)
        ax.axvline(1.0, color="gray", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlim(floor / 2, 1e4)
        ax.set_ylim(0.0, 1.02)
        r0 = next(r for r in records if (r["activation"], r["weights"]) == (activation, weights))
        ax.set_title(f"{activation}, {weights} (σ_w² = {r0['sigma_w2']:.3f}, σ_b² = {r0['sigma_b2']:.2g})",
                     fontsize="small")  # fmt: skip
        ax.set_xlabel("eigenvalue λ of JJᵀ (log; smaller ones at the left edge)")
        ax.set_ylabel("share of eigenvalues ≤ λ")
        ax.legend(fontsize="x-small", loc="lower right")
    ax = axes[len(cases)]
    for colour, (activation, weights) in zip(colours(len(cases)), cases):
        rows = sorted((r for r in records if (r["activation"], r["weights"]) == (activation, weights)),
                      key=lambda r: r["depth"])  # fmt: skip
        ds = [r["depth"] for r in rows]
        ax.plot(ds, positive([r["variance"] for r in rows]), marker="o", linestyle="none", color=colour,
                label=f"{activation}, {weights}")  # fmt: skip
        ax.plot(ds, positive([r["predicted_variance"] for r in rows]), color=colour, linestyle="--")
    values = [v for r in records for v in (r["variance"], r["predicted_variance"]) if v and v > 0]
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    if values:
        ax.set_ylim(min(values) / 100, max(values) * 3)
    ax.set_xlabel("depth L")
    ax.set_ylabel("variance of the eigenvalues of JJᵀ")
    r0 = records[0] if records else {"width": "?", "q_star": 0}
    ax.set_title(f"spread against depth: measured (dots), theory for width → ∞ (dashed)\n"
                 f"width {r0['width']}, tanh at q* = {r0['q_star']:.4g}", fontsize="small")  # fmt: skip
    ax.legend(fontsize="x-small", loc="lower right")
    return finish(fig, path)
