"""Signal-propagation theory beside measurement: the edge of chaos of deep tanh networks.

    python examples/edge_of_chaos.py                                  # every study
    python examples/edge_of_chaos.py --study tent --jobs 2 --plot theory.png

Studies (``--study``, comma-separated, or ``all``):

- ``phase``: χ₁ over a (σ_w², σ_b²) grid, ordered against chaotic, and the critical line
  (Poole et al. 2016; Schoenholz et al. 2017);
- ``xi``: the correlation depth scale ξ_c against σ_w² at σ_b² = ``--sigma-b2``;
- ``corr``: correlations of input pairs measured through wide random tanh networks against the
  c-map, in the ordered phase, at the critical point and in the chaotic phase;
- ``tent``: training accuracy of a tanh MLP over a (σ_w², depth) grid against k·ξ_c, the grid run
  through a process pool of ``--jobs`` workers;
- ``jacobian``: the spectrum of JJᵀ at criticality, orthogonal against Gaussian weights, tanh
  against ReLU (Pennington et al. 2017).

``--plot FILE.png`` saves one figure per study as ``FILE-<study>.png``; ``--report FILE.html`` writes
one interactive HTML file of every study's charts (:mod:`tinynet.report`). Exit status: 0, or 2 for bad
arguments (one line on stderr, before any work). A thin face over ``tinynet.experiments.studies``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tqdm.auto import tqdm

from tinynet import experiments, plotting
from tinynet._text import format_number, render_table
from tinynet.experiments import studies
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_threads_argument,
    check_output_path,
    check_plot_option,
    check_size,
    chosen_studies,
    int_at_least,
    number,
    number_list,
    positive_number,
    reporter,
    save_study_figures,
    unknown_choice,
    use_threads,
    write_study_report,
)
from tinynet.theory import meanfield as mf

STUDIES = ("phase", "xi", "corr", "tent", "jacobian")
#: each study's name in the report (the readers of :mod:`tinynet.report.studies`)
REPORT_NAMES = {"phase": "phase", "xi": "depth_scale", "corr": "correlation", "tent": "tent",
                "jacobian": "spectra"}  # fmt: skip


def _fraction_01(text: str) -> float:
    value = number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line; defaults are those of the :mod:`tinynet.experiments.studies` functions."""
    p = Parser(
        prog="edge_of_chaos.py",
        description="Mean-field signal propagation (the edge of chaos) beside tinynet networks.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--study", default="all", help=f"{', '.join(STUDIES)} or all")
    p.add_argument("--sigma-b2", type=number, default=studies.SIGMA_B2,
                   help="bias variance of the xi, corr and tent studies")  # fmt: skip
    g = p.add_argument_group("phase: the phase diagram")
    g.add_argument("--activations", default=",".join(studies.PHASE_ACTIVATIONS),
                   help=", ".join(mf.ACTIVATIONS))  # fmt: skip
    g = p.add_argument_group("corr: correlations through wide random tanh networks")
    g.add_argument("--corr-width", type=int_at_least(2), default=1000)
    g.add_argument("--corr-depth", type=int_at_least(1), default=30)
    g.add_argument("--corr-seeds", type=int_at_least(1), default=3, help="networks per setting")
    g = p.add_argument_group("tent: trainability over (sigma_w2, depth), one task per point")
    g.add_argument("--sigma-w2", type=number_list(float, 0.0, strict=True, example="1.0,1.5,2.0"),
                   default=list(studies.TENT_SIGMA_W2), help="weight variances (columns)")  # fmt: skip
    g.add_argument("--depths", type=number_list(int, 1, example="10,20,40"),
                   default=list(studies.TENT_DEPTHS), help="hidden layers (rows)")  # fmt: skip
    g.add_argument("--width", type=int_at_least(1), default=64, help="units per hidden layer")
    g.add_argument("--epochs", type=int_at_least(1), default=10)
    g.add_argument("--limit", type=int_at_least(10), default=1000, help="training (and test) digits")
    g.add_argument("--optimizer", default="sgd", help=", ".join(experiments.OPTIMIZERS))
    g.add_argument("--lr", type=positive_number, default=0.001)
    g.add_argument("--momentum", type=number, default=None, help="SGD/RMSprop momentum (SGD: 0.9)")
    g.add_argument("--batch-size", type=int_at_least(1), default=32)
    g.add_argument("--tent-seeds", type=int_at_least(1), default=3, help="runs per grid point")
    g.add_argument("--threshold", type=_fraction_01, default=0.5,
                   help="training accuracy from which a point counts as trainable")  # fmt: skip
    g.add_argument("--jobs", type=int_at_least(1), default=experiments.default_jobs(),
                   help="worker processes of the tent grid (1: this process)")  # fmt: skip
    g.add_argument("--no-progress", action="store_true", help="no progress bar for the tent grid")
    g = p.add_argument_group("jacobian: spectra of JJᵀ at criticality")
    g.add_argument("--jacobian-depths", type=number_list(int, 1, example="8,32,128"),
                   default=list(studies.SPECTRA_DEPTHS))  # fmt: skip
    g.add_argument("--jacobian-width", type=int_at_least(1), default=200)
    g.add_argument("--q-star", type=positive_number, default=1 / 64, help="tanh's fixed point q*")
    g.add_argument("--jacobian-seeds", type=int_at_least(1), default=2, help="networks per point")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="first seed of every study")
    p.add_argument("--plot", metavar="FILE.png", help="save FILE-<study>.png for each study")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_report_argument(p)
    add_threads_argument(p)
    return p


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[tuple[str, ...], list[str]]:
    """Every check before any work; returns the studies and the phase diagram's activations."""
    chosen = chosen_studies(parser, args.study, STUDIES)
    activations = [a.strip() for a in args.activations.split(",")]
    for name in activations:
        if name not in mf.ACTIVATIONS:
            parser.error(f"argument --activations: {unknown_choice('activation', name, mf.ACTIVATIONS)}")
    if not 0 <= args.sigma_b2 <= 5:
        parser.error(f"argument --sigma-b2: must be in [0, 5], got {args.sigma_b2} (tanh's critical line is "
                     "computed accurately for q* up to about 10, where sigma_b2 is about 5)")  # fmt: skip
    if "tent" in chosen:
        try:
            settings = _tent_settings(args)
            settings.pop("seeds")
            studies.tent_config(max(args.depths), seed=args.seed, **settings)
        except experiments.ConfigError as error:
            parser.error(f"argument --{error.field.replace('_', '-')}: {error.reason}")
        check_size(parser, args.width, max(args.depths), args.batch_size, ("--width", "--depths"))
    if "corr" in chosen:
        check_size(parser, args.corr_width, args.corr_depth, 2, ("--corr-width", "--corr-depth"))
    if "jacobian" in chosen:
        check_size(parser, args.jacobian_width, max(args.jacobian_depths), args.jacobian_width,
                   ("--jacobian-width", "--jacobian-depths"))  # fmt: skip
        sw, sb = mf.critical_line("tanh", [args.q_star])
        if not (sw[0] > 0 and sb[0] >= 0):
            parser.error(f"argument --q-star: tanh has no critical point with q* = {args.q_star}")
    if args.sigma_b2 == 0 and {"corr", "tent"} & set(chosen):
        parser.error("argument --sigma-b2: at 0 the critical point of tanh is the limit q* -> 0 (the signal "
                     "dies out), so there is nothing to measure there; give a value > 0")  # fmt: skip
    if {"xi", "corr", "tent"} & set(chosen):
        try:
            mf.critical_sigma_w2("tanh", args.sigma_b2)
        except ValueError as error:
            parser.error(f"argument --sigma-b2: {error}")
    check_output_path(parser, "--plot", args.plot)
    check_output_path(parser, "--report", args.report)
    check_plot_option(parser, args.plot)
    return chosen, activations


def _tent_settings(args: argparse.Namespace) -> dict:
    momentum = args.momentum if args.momentum is not None else (0.9 if args.optimizer == "sgd" else None)
    return {"width": args.width, "epochs": args.epochs, "limit": args.limit, "optimizer": args.optimizer,
            "lr": args.lr, "momentum": momentum, "batch_size": args.batch_size,
            "seeds": range(args.seed, args.seed + args.tent_seeds), "sigma_b2": args.sigma_b2}  # fmt: skip


def _f(value, digits: int = 3, missing: str = "∞") -> str:
    """A number with ``digits`` decimals; None (an infinite or undefined figure) as ``missing``."""
    return missing if value is None else f"{value:.{digits}f}"


def _g(value) -> str:
    return "∞" if value is None else f"{value:.3g}"


def _report_phase(results: list[dict], say) -> None:
    for r in results:
        rows = [[f"{sb:g}", f"{sw:.4f}"] for sb, sw in zip(r["sigma_b2"], r["critical_sigma_w2"])
                if round(sb * 100) % 5 == 0]  # fmt: skip
        say(f"\n{r['activation']}: critical σ_w² (χ₁ = 1) against σ_b²; on the {len(r['sigma_w2'])}×"
            f"{len(r['sigma_b2'])} grid {r['ordered']} points are ordered (χ₁ < 1), {r['chaotic']} chaotic; "
            f"each phase lies on its side of the critical line at {100 * r['agreement']:.1f}% of them")
        say(render_table(["σ_b²", "critical σ_w²"], rows))


def _report_xi(r: dict, say) -> None:
    say(f"\n{r['activation']} at σ_b² = {r['sigma_b2']:g}: critical σ_w² = {r['critical_sigma_w2']:.4f}; "
        f"largest ξ_c on the grid {format_number(r['peak_xi_c'])} at σ_w² = {r['peak_sigma_w2']:g}")
    marks = [i for i, s in enumerate(r["sigma_w2"]) if round(s * 4, 6) == round(s * 4) or s in (1.2, 1.5)]
    rows = []
    for i in marks:
        gap = "-" if r["chi1"][i] is None else "∞"  # no fixed point q* > 0, or an infinite depth scale
        rows.append([f"{r['sigma_w2'][i]:g}", _f(r["chi1"][i], 4, "-"), _f(r["q_star"][i], 4, "-"),
                     _f(r["c_star"][i], 4, "-"), _f(r["xi_q"][i], 2, gap), _f(r["xi_c"][i], 2, gap)])
    for ref in r["references"]:
        gap = "-" if ref["chi1"] is None else "∞"
        exact = f"{ref['sigma_w2']:g} (exact)"
        rows.append([exact, _f(ref["chi1"], 4, "-"), "", "", "", _f(ref["xi_c"], 2, gap)])
    say(render_table(["σ_w²", "χ₁", "q*", "c*", "ξ_q", "ξ_c"], rows, left=(0,)))


def _report_corr(records: list[dict], say) -> None:
    r0 = records[0]
    marks = sorted({1, 2, 5, 10, 20, r0["depth"]} & set(r0["layers"]))
    say(f"\ncorrelation c^l of input pairs, measured (mean of {len(r0['seeds'])} networks of width "
        f"{r0['width']}) / c-map, σ_b² = {r0['sigma_b2']:g}:")
    rows = [[r["phase"], f"{r['sigma_w2']:.3f}", f"{r['c0']:g}",
             *(f"{r['measured'][k - 1]:.3f}/{r['predicted'][k - 1]:.3f}" for k in marks),
             f"{r['max_error']:.3f}", _f(r["c_star"])] for r in records]  # fmt: skip
    say(render_table(["phase", "σ_w²", "c0", *(f"layer {k}" for k in marks), "max |err|", "c*"], rows,
                     left=(0,)))  # fmt: skip


def _report_tent(r: dict, say) -> None:
    seeds = r["seeds"]
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean of seeds {seeds[0]}-{seeds[-1]}"
    say(f"\ntrainability tent: training accuracy (%, {which}) of a tanh MLP "
        f"of width {r['width']}, σ_b² = {r['sigma_b2']:g}, {r['optimizer']} lr {r['lr']:g}"
        + (f" momentum {r['momentum']:g}" if r["momentum"] else "")
        + f", batch {r['batch_size']}, {r['epochs']} epochs ({r['steps']} steps) on {r['limit']} digits; "
        f"{len(r['runs'])} runs in {r['seconds']:.0f} s on {r['executor']}"
        + (f" ({r['jobs']} jobs)" if r["jobs"] else ""))
    header = ["depth", *(f"{s:g}" for s in r["sigma_w2"])]
    rows = [[str(d), *("-" if a is None else f"{100 * a:.0f}" for a in row)]
            for d, row in zip(r["depths"], r["accuracy"])]  # fmt: skip
    rows.append(["ξ_c", *(_f(x, 1) for x in r["xi_c"])])
    rows.append(["trains to", *(f"{x:.0f}" for x in r["trainable_depth"])])
    rows.append(["± (seeds)", *("-" if x is None else f"{x:.0f}" for x in r["trainable_depth_std"])])
    rows.append(["÷ ξ_c", *("-" if x is None else f"{x:.2g}" for x in r["depth_over_xi"])])
    say(render_table(header, rows, left=(0,)))
    say(f"(trains to: where the accuracy first falls below {100 * r['threshold']:.0f}%, interpolated; "
        "mean ± std over the seeds)")
    for error in r["errors"][:3]:
        say(f"error: {error}")
    c = r["calibration"]
    if c["k"] is None:
        say(f"k not calibrated: {c['status']}")
    else:
        share = f"{100 * c['agreement']:.0f}%"
        say(f"calibrated k = {c['k']:.3g}: 'trainable iff L <= k ξ_c' agrees with {share} of the "
            f"{c['points']} grid points (mean accuracy >= {100 * r['threshold']:.0f}%; that score is reached "
            f"for k between {c['best_low']:.3g} and {_g(c['best_high'])}); the paper's k = 6 agrees "
            f"with {100 * c['paper_agreement']:.0f}%")
    p = r["peak"]
    if p["sigma_w2"] is None:
        say(f"no column reached {100 * r['threshold']:.0f}% even at depth {r['depths'][0]}")
        return
    within = "within" if p["tied_distance"] <= 0.25 else "not all within"
    say(f"deepest trainable depth {p['depth']:.1f} at σ_w² = {p['sigma_w2']:g}, {p['distance']:.3f} from the "
        f"critical {r['critical_sigma_w2']:.3f}; tied within the seeds' spread: σ_w² = "
        f"{', '.join(f'{s:g}' for s in p['tied'])} (up to {p['tied_distance']:.3f} away, {within} ±0.25)")


def _report_jacobian(records: list[dict], say) -> None:
    r0 = records[0]
    say(f"\neigenvalues of JJᵀ at criticality (width {r0['width']}, {len(r0['seeds'])} networks pooled; "
        f"tanh at q* = {r0['q_star']:.4g}, ReLU at σ_w² = 2, σ_b² = 0); theory in brackets:")
    rows = [[r["activation"], r["weights"], str(r["depth"]), f"{r['sigma_w2']:.4f}",
             f"{r['mean']:.3f} ({r['predicted_mean']:.3f})",
             f"{format_number(r['variance'])} ({format_number(r['predicted_variance'])})",
             format_number(r["max"]), format_number(r["min"])] for r in records]  # fmt: skip
    say(render_table(["activation", "weights", "depth", "σ_w²", "mean", "variance", "max", "min"], rows,
                     left=(0, 1)))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    use_threads(args.threads)
    chosen, activations = _check(parser, args)
    say = reporter(args.json)
    results: dict = {"config": vars(args), "seconds": {}}
    for name in chosen:
        began = time.perf_counter()
        if name == "phase":
            results[name] = studies.phase_diagram(activations)
            _report_phase(results[name], say)
        elif name == "xi":
            results[name] = studies.depth_scale_curve(sigma_b2=args.sigma_b2)
            _report_xi(results[name], say)
        elif name == "corr":
            results[name] = studies.correlation_study(
                sigma_b2=args.sigma_b2, depth=args.corr_depth, width=args.corr_width,
                seeds=range(args.seed, args.seed + args.corr_seeds),
            )  # fmt: skip
            _report_corr(results[name], say)
        elif name == "tent":
            total = len(args.sigma_w2) * len(args.depths) * args.tent_seeds
            with tqdm(total=total, desc="tent", unit="run", disable=args.no_progress, file=sys.stderr) as bar:
                results[name] = studies.trainability_tent(
                    args.sigma_w2, args.depths, threshold=args.threshold, jobs=args.jobs,
                    on_result=lambda _r, _done, _total: bar.update(1), **_tent_settings(args),
                )  # fmt: skip
            _report_tent(results[name], say)
        else:
            results[name] = studies.jacobian_spectra(
                depths=args.jacobian_depths, width=args.jacobian_width, q_star=args.q_star,
                seeds=range(args.seed, args.seed + args.jacobian_seeds),
            )  # fmt: skip
            _report_jacobian(results[name], say)
        results["seconds"][name] = time.perf_counter() - began
        say(f"({name}: {results['seconds'][name]:.1f} s)")
    draw = {
        "phase": plotting.plot_phase_diagram,
        "xi": plotting.plot_depth_scale,
        "corr": plotting.plot_correlations,
        "tent": plotting.plot_trainability_tent,
        "jacobian": plotting.plot_jacobian_spectra,
    }
    figures = save_study_figures(args.plot, results, {n: draw[n] for n in chosen}, say)
    if args.report:
        shown = {"config": vars(args), **{REPORT_NAMES[n]: results[n] for n in chosen}}
        say(write_study_report(args.report, shown, "edge_of_chaos.py: signal propagation theory beside "
                               "measurement"))  # fmt: skip
    if args.json:
        results["figures"] = figures
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
