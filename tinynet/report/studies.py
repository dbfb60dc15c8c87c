"""The studies' plain results as report charts (:func:`study_panels`).

Each reader takes the list or dict a study function of :mod:`tinynet.experiments.studies` returns
(plain JSON-ready data; this module imports none of them) and gives :func:`tinynet.report.data.panel`
dicts. Where theory applies (mean-field std, the c-map, ξ_c) the prediction is a dashed line beside
the measurement. A study name without a reader gives no chart; its results are still embedded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .data import panel, series

__all__ = ["READERS", "study_panels"]


def _symmetry(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        lines = [
            series(f"layer {i + 1} (of {units})", r["steps"], counts)
            for i, (counts, units) in enumerate(zip(r["distinct"], r["units"]))
        ]
        out.append(panel(
            f"{r['init']}: distinct units per layer", lines, x="training step", y="distinct units",
            log_y=True, note="Zero and constant weights keep one distinct unit per layer forever; "
            "random weights start with every unit distinct.",
        ))  # fmt: skip
    return out


def _depth_init(profiles: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for activation in dict.fromkeys(p["activation"] for p in profiles):
        group = [p for p in profiles if p["activation"] == activation]
        lines = []
        for p in group:
            layers = list(range(1, len(p["act_std"]) + 1))
            lines.append(series(p.get("scheme", p.get("init")), layers, p["act_std"]))
            theory = p.get("act_std_theory") or []
            if any(v is not None for v in theory):
                lines.append(
                    series(f"{p.get('scheme', p.get('init'))} (mean field)", layers, theory, dashed=True)
                )
        out.append(panel(
            f"{activation}: activation std per layer at initialization", lines, x="hidden layer",
            y="std of the activation", log_y=True,
            note="Dashed: the mean-field prediction from the weights' variances. A flat line keeps the "
            "signal; a falling one loses it with depth.",
        ))  # fmt: skip
    return out


def _depth_train(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for optimizer in dict.fromkeys(r["optimizer"] for r in results):
        group = [r for r in results if r["optimizer"] == optimizer]
        lines = [
            series(r["scheme"] + (" (diverged)" if r.get("diverged") else ""),
                   range(1, len(r["train_loss"]) + 1), r["train_loss"])
            for r in group
        ]  # fmt: skip
        first = group[0]
        out.append(panel(
            f"{first['depth']}-layer MLP, {optimizer}: training loss per epoch", lines, x="epoch",
            y="mean training loss", log_y=True, reference=first.get("ln_classes"),
            note="Dotted: ln C, the loss of a network that learned nothing.",
        ))  # fmt: skip
    return out


def _depth_sigmoid(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    lines = [series(f"layer {k}", result["steps"], values) for k, values in enumerate(result["mean"], 1)]
    return [panel(
        f"{result['activation']} MLP, init {result['init']}: mean activation per hidden layer", lines,
        x="training step", y="mean activation",
        note="Glorot & Bengio (2010), fig. 2: the top sigmoid layer sinks to 0 and recovers slowly.",
    )]  # fmt: skip


def _depth_jacobian(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    lines = []
    for init in dict.fromkeys(r["init"] for r in results):
        group = [r for r in results if r["init"] == init]
        lines.append(series(init, [r["depth"] for r in group], [r["condition"] for r in group]))
    return [panel(
        "deep linear network: Jacobian condition number", lines, x="depth",
        y="s_max / s_min", log_x=True, log_y=True,
        note="Saxe et al. (2014): orthogonal weights stay perfectly conditioned (1) at any depth.",
    )]  # fmt: skip


def _depth_scales(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    lines = [
        series("ξ_c", result["sigma_w2"], result["xi_c"]),
        series("ξ_q", result["sigma_w2"], result["xi_q"]),
    ]
    return [panel(
        f"{result['activation']}: depth scales against σ_w² (σ_b² = {result['sigma_b2']:g})", lines,
        x="σ_w²", y="depth scale (layers)", log_y=True,
        note=f"ξ_c diverges at the edge of chaos, σ_w² = {result['critical_sigma_w2']:.3f}.",
    )]  # fmt: skip


def _correlations(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for sw in dict.fromkeys(r["sigma_w2"] for r in results):
        group = [r for r in results if r["sigma_w2"] == sw]
        lines = []
        for r in group:
            lines.append(series(f"c0 {r['c0']:g} measured", r["layers"], r["measured"]))
            lines.append(series(f"c0 {r['c0']:g} c-map", r["layers"], r["predicted"], dashed=True))
        first = group[0]
        out.append(panel(
            f"tanh, σ_w² = {sw:.3g} ({first['phase']}): correlation of two inputs per layer", lines,
            x="layer", y="correlation", note="Dashed: the c-map of mean-field theory; width "
            f"{first['width']}.",
        ))  # fmt: skip
    return out


def _phase(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        line = r["critical_line"]
        lines = [series("critical line", line["sigma_w2"], line["sigma_b2"])]
        out.append(panel(
            f"{r['activation']}: the critical line χ₁ = 1", lines,
            x="σ_w²", y="σ_b²", note="Left of the line: ordered (χ₁ < 1, correlations converge); right: "
            "chaotic.",
        ))  # fmt: skip
    return out


def _tent(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    sw, curve = result["sigma_w2"], result["xi_curve"]
    lines = [series("trains to (measured)", sw, result["trainable_depth"])]
    calibration = result.get("calibration") or {}
    cap = 10 * max(result["depths"])  # k ξ_c diverges at the critical point: cut at 10× the grid
    for k, name in ((calibration.get("paper_k"), "paper"), (calibration.get("k"), "calibrated")):
        if k is not None:
            xi = [None if v is None or k * v > cap else k * v for v in curve["xi_c"]]
            lines.append(series(f"{k:.3g} ξ_c ({name})", curve["sigma_w2"], xi, dashed=True))
    seeds = len(result.get("seeds") or [])
    accuracy = [series(f"depth {d}", sw, row) for d, row in zip(result["depths"], result["accuracy"])]
    return [
        panel(
            f"tanh, σ_b² = {result['sigma_b2']:g}: trainable depth against σ_w²", lines, x="σ_w²",
            y="trainable depth (layers)", log_y=True,
            note=f"Schoenholz et al. (2017): networks train to about 6 ξ_c (dashed, cut at 10× the deepest "
            f"grid depth); the critical σ_w² is {result['critical_sigma_w2']:.3f}. The depth where the "
            f"accuracy (mean of {seeds} seed(s)) falls below {result['threshold']:g}; grid depths "
            f"{', '.join(map(str, result['depths']))}.",
        ),
        panel(
            f"tanh, σ_b² = {result['sigma_b2']:g}: training accuracy after {result['epochs']} epoch(s)",
            accuracy, x="σ_w²", y="training accuracy", reference=result.get("threshold"),
            note="Dotted: the threshold from which a point counts as trainable.",
        ),
    ]  # fmt: skip


def _spectra(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    lines = []
    for key in dict.fromkeys((r["activation"], r["weights"]) for r in results):
        group = [r for r in results if (r["activation"], r["weights"]) == key]
        group.sort(key=lambda r: r["depth"])
        depths = [r["depth"] for r in group]
        lines.append(series(f"{key[0]} {key[1]}", depths, [r["variance"] for r in group]))
        lines.append(series(f"{key[0]} {key[1]} (theory)", depths, [r["predicted_variance"] for r in group],
                            dashed=True))  # fmt: skip
    width = results[0]["width"] if results else "?"
    return [panel(
        "eigenvalues of JJᵀ at criticality: their variance against depth", lines, x="depth",
        y="variance of the eigenvalues", log_x=True, log_y=True,
        note=f"Pennington et al. (2017): orthogonal tanh stays well conditioned as depth grows; Gaussian "
        f"weights and ReLU do not. Width {width}; dashed: free probability.",
    )]  # fmt: skip


def _coord(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    widths = result["config"]["widths"]
    names = [f"{k + 1} {layer}" for k, layer in enumerate(result["layers"])]
    out = []
    for r in result["results"]:
        for step, (curves, slopes) in enumerate(zip(r["mean_abs"], r["slopes"]), start=1):
            lines = [
                series(f"{name} ({'-' if slope is None else f'{slope:+.2f}'})", widths, curve)
                for name, curve, slope in zip(names, curves, slopes)
            ]
            out.append(panel(
                f"{r['parametrization']}, step {step}: mean |x| per layer against width", lines,
                x="width", y="mean |x|", log_x=True, log_y=True,
                note="In brackets: the log₂ slope against width; near 0 when the size of a layer's output "
                "does not depend on the width (µP).",
            ))  # fmt: skip
    return out


def _lr(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    log2_lrs, widths = result["log2_lrs"], result["widths"]
    for r in result["results"]:
        lines = []
        for width, losses, best, k in zip(widths, r["loss"], r["best"], r["best_log2_lr"]):
            where = "every rate diverged" if k is None else f"best 2^{k:g}"
            lines.append(series(f"width {width} ({where})", log2_lrs, losses, mark=best))
        shift = r["shift"]
        verdict = "some width has no optimum" if shift is None else f"the optimum moves {shift} grid point(s)"
        out.append(panel(
            f"{r['parametrization']}: training loss against learning rate", lines, x="log₂ learning rate",
            y="training loss", log_y=True,
            note=f"Ringed: each width's best rate ({verdict} across widths); a gap: a seed diverged. "
            f"{result['optimizer']}, {result['epochs']} epoch(s) on {result['limit']} digits.",
        ))  # fmt: skip
    return out


def _architecture(title: str, profile: str = "act_std") -> Callable[[Any], list[dict[str, Any]]]:
    """A reader for a study of :mod:`tinynet.experiments.studies` over architectures (``he_cnn``,
    ``delta_orthogonal``, ``residual``, ``normalization``): each run's std profile at init (its
    ``profile`` list per layer or block) and its training loss per step; the Jacobian's singular
    values where the study measured them."""

    def read(result: Mapping[str, Any]) -> list[dict[str, Any]]:
        runs = [r for r in result.get("runs", []) if not r.get("error")]
        key = profile if any(r.get(profile) for r in runs) else "act_std"
        stds = [
            series(f"{r['variant']} (seed {r['seed']})", range(1, len(r[key]) + 1), r[key]) for r in runs
        ]
        losses = [
            series(f"{r['variant']} (seed {r['seed']})", range(1, len(r["step_loss"]) + 1), r["step_loss"])
            for r in runs
            if r.get("step_loss")
        ]
        where = "residual block" if key == "stream_std" else "layer"
        out = [
            panel(f"{title}: std at initialization per {where}", stds, x=where, y="std", log_y=True,
                  note="A flat line keeps the signal through depth; a falling or rising one loses it or "
                  "blows it up."),
            panel(f"{title}: training loss per step", losses, x="optimizer step", y="training loss",
                  log_y=True, reference=2.302585092994046,
                  note="The guide is ln 10, the loss of uniform guessing over the ten digits."),
        ]  # fmt: skip
        spectra = [
            series(str(v["variant"]), range(1, len(v["singular_values"]) + 1), v["singular_values"])
            for v in result.get("variants", [])
            if v.get("singular_values")
        ]
        if spectra:
            out.append(panel(
                f"{title}: singular values of the input-output Jacobian at init", spectra,
                x="index (largest first)", y="singular value", log_y=True,
                note="Dynamical isometry: every singular value near 1; a spread over decades means some "
                "directions vanish and others explode.",
            ))  # fmt: skip
        return out

    return read


#: study name → reader of its results
READERS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "symmetry": _symmetry,
    "init": _depth_init,
    "train": _depth_train,
    "sigmoid": _depth_sigmoid,
    "jacobian": _depth_jacobian,
    "depth_scale": _depth_scales,
    "correlation": _correlations,
    "phase": _phase,
    "tent": _tent,
    "spectra": _spectra,
    "coord_check": _coord,
    "lr_transfer": _lr,
    "he_cnn": _architecture("deep plain CNN"),
    "delta_orthogonal": _architecture("32-layer tanh CNN"),
    "residual": _architecture("residual MLP", profile="stream_std"),
    "normalization": _architecture("bad init and normalization"),
}


def study_panels(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Charts of every study in ``results`` (``{name: that study's plain results}``) that has a
    reader in :data:`READERS`, in the order given; other names are skipped."""
    out: list[dict[str, Any]] = []
    for name, value in results.items():
        reader = READERS.get(name)
        if reader is not None and value:
            out.extend(reader(value))
    return out
