"""Initialization beyond the MLP: deep CNNs, very deep residual nets, and normalization layers.

    python examples/architectures.py --study residual --jobs 2
    python examples/architectures.py --study all --jobs 2 --plot arch.png

Studies (``--study``, comma-separated, or ``all``):

- ``he_cnn``: a deep plain ReLU CNN under He, Xavier and the PyTorch preset: activation std per
  layer at initialization and the training loss (He et al. 2015);
- ``delta_orthogonal``: a 32-layer vanilla tanh CNN (circular padding, no pooling) at σ_w² = 1.05,
  σ_b² = 2e-5, delta-orthogonal against Gaussian kernels: the mean-field check, the singular values
  of the conv stack's Jacobian at initialization, and the training loss (Xiao et al. 2018);
- ``residual``: a 64-block residual MLP with He blocks against Fixup and ReZero: the residual
  stream's std at initialization and the training loss (Zhang et al. 2019; Bachlechner et al. 2020);
- ``normalization``: a bad init (``normal(std=0.01)``, deep ReLU MLP) with and without BatchNorm
  or LayerNorm, against He: loss, and the time per step and parameters it costs.

``--depth``, ``--width``, ``--epochs``, ``--limit``, ``--lr`` and ``--batch-size`` override the
study's own defaults (given, they apply to every chosen study). ``--plot FILE.png`` saves one
figure per study as ``FILE-<study>.png``; ``--report FILE.html`` writes one interactive HTML file of
every study's charts (:mod:`tinynet.report`). Exit status: 0, or 2 for bad arguments (one line on
stderr, before any work). A thin face over ``tinynet.experiments.studies``.
"""

from __future__ import annotations

import argparse
import json
import sys

from tinynet import experiments, plotting
from tinynet._text import render_table
from tinynet.experiments import studies
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_threads_argument,
    check_output_path,
    check_plot_option,
    chosen_studies,
    int_at_least,
    positive_number,
    reporter,
    save_study_figures,
    use_threads,
    write_study_report,
)

STUDIES = ("he_cnn", "delta_orthogonal", "residual", "normalization")
RUNNERS = {
    "he_cnn": studies.conv_depth_study,
    "delta_orthogonal": studies.delta_orthogonal_study,
    "residual": studies.residual_study,
    "normalization": studies.normalization_study,
}
DRAW = {
    "he_cnn": plotting.plot_conv_depth,
    "delta_orthogonal": plotting.plot_delta_orthogonal,
    "residual": plotting.plot_residual,
    "normalization": plotting.plot_normalization,
}
CONFIGS = {
    "he_cnn": lambda **s: studies.conv_depth_config("he", **s),
    "delta_orthogonal": lambda **s: studies.delta_config("delta_orthogonal", **s),
    "residual": lambda **s: studies.residual_config("plain", **s),
    "normalization": lambda **s: studies.normalization_config("he", "batchnorm", **s),
}
OVERRIDES = ("depth", "width", "epochs", "limit", "lr", "batch_size")


def build_parser() -> argparse.ArgumentParser:
    """The command line; the studies' defaults live in :mod:`tinynet.experiments.studies`."""
    p = Parser(
        prog="architectures.py",
        description="Initialization of deep CNNs, residual networks and normalized networks.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--study", default="all", help=f"{', '.join(STUDIES)} or all")
    p.add_argument(
        "--seeds", type=int_at_least(1), default=2, help="runs per variant (seeds 0..N-1 + --seed)"
    )
    p.add_argument("--seed", type=int_at_least(0), default=0, help="first seed")
    p.add_argument("--depth", type=int_at_least(1), help="conv layers / blocks / hidden layers")
    p.add_argument("--width", type=int_at_least(1), help="channels / units")
    p.add_argument("--epochs", type=int_at_least(1))
    p.add_argument("--limit", type=int_at_least(10), help="training (and test) digits")
    p.add_argument("--lr", type=positive_number, help="SGD learning rate (momentum 0.9)")
    p.add_argument("--batch-size", type=int_at_least(1))
    p.add_argument("--jobs", type=int_at_least(1), default=1, help="worker processes (1: this process)")
    p.add_argument("--plot", metavar="FILE.png", help="save FILE-<study>.png for each study")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_report_argument(p)
    add_threads_argument(p)
    return p


def _f(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"  # 6.0e14, 2.5e-3: short enough for a 100-column table
    return f"{value:.{digits}g}"


def _mean(summary: dict) -> str:
    """The mean over the seeds of a seed summary (the spread is in --json)."""
    return _f(summary["mean"])


def _spread(summary: dict) -> str:
    """mean (min-max) of a seed summary, or the mean alone when the seeds agree to 3 digits."""
    mean, low, high = summary["mean"], summary["min"], summary["max"]
    if mean is None:
        return "-"
    return _f(mean) if _f(low) == _f(high) else f"{_f(mean)} ({_f(low)}-{_f(high)})"


def _conditions(result: dict) -> str:
    s = result["settings"]
    return (
        f"SGD lr {s['lr']:g} momentum {s['momentum']:g}, batch {s['batch_size']}, {s['epochs']} epochs "
        f"on {s['limit']} synthetic digits, {len(result['variants'][0]['seeds'])} seed(s)"
    )


def _accuracy(summary: dict) -> str:
    return "-" if summary["mean"] is None else f"{100 * summary['mean']:.1f}"


def _failed(v: dict) -> str:
    n = len(v["seeds"])
    return f"{v['diverged']}/{n}" + (f" ({len(v['errors'])} errors)" if v["errors"] else "")


def _report_he_cnn(result: dict, say) -> None:
    s = result["settings"]
    say(f"\nplain CNN, {s['depth']} 3×3 conv layers of {s['width']} channels, ReLU;\n{_conditions(result)}:")
    rows = []
    for v in result["variants"]:
        run = next(r for r in result["runs"] if r["variant"] == v["variant"] and not r.get("error"))
        stds = run["act_std"]
        marks = [stds[0], stds[len(stds) // 2], stds[-1]]
        rows.append(
            [
                v["variant"],
                *(_f(x) for x in marks),
                _f(run["gradient_flow"]),
                _mean(v["initial_loss"]),
                _spread(v["final_loss"]),
                _accuracy(v["test_accuracy"]),
                _failed(v),
            ]
        )
    mid = len(result["runs"][0]["act_std"]) // 2 + 1
    say(
        render_table(
            [
                "scheme",
                "std L1",
                f"std L{mid}",
                f"std L{s['depth']}",
                "grad flow",
                "init loss",
                "final loss",
                "test acc %",
                "diverged",
            ],
            rows,
            left=(0,),
        )
    )
    say(
        "(std after each ReLU at init, first seed; final loss: training loss of the last epoch, mean\n"
        " (min-max) over the seeds, other columns their mean; grad flow: std dL/d(out) at the first\n"
        " layer / the last hidden one)"
    )


def _report_residual(result: dict, say) -> None:
    s = result["settings"]
    say(
        f"\nresidual MLP, {s['depth']} blocks of {s['width']} ReLU units, init {s['init']};\n"
        f"{_conditions(result)}:"
    )
    rows = [
        [
            v["variant"],
            _mean(v["last_stream_std"]),
            _mean(v["output_std"]),
            _mean(v["initial_loss"]),
            _spread(v["final_loss"]),
            _accuracy(v["test_accuracy"]),
            _failed(v),
        ]
        for v in result["variants"]
    ]
    say(
        render_table(
            [
                "blocks",
                f"std after block {s['depth']}",
                "logit std",
                "init loss",
                "final loss",
                "test acc %",
                "diverged",
            ],
            rows,
            left=(0,),
        )
    )
    say("(std at init, init loss: mean over the seeds; final loss: mean (min-max))")
    for r in result["runs"]:
        if r.get("divergence"):
            say(
                f"{r['variant']} seed {r['seed']}: stopped at step {r['divergence']['step']} "
                f"({r['divergence']['reason']})"
            )


def _report_normalization(result: dict, say) -> None:
    s = result["settings"]
    say(
        f"\nMLP, {s['depth']} hidden layers of {s['width']} {s['activation']} units; bad init "
        f"{result['bad_init']}, good init {result['good_init']};\n{_conditions(result)}:"
    )
    rows = [
        [
            v["variant"],
            _mean(v["last_act_std"]),
            _mean(v["initial_loss"]),
            _spread(v["final_loss"]),
            _accuracy(v["test_accuracy"]),
            _failed(v),
            "-" if v["seconds_per_step"]["mean"] is None else _f(1e3 * v["seconds_per_step"]["mean"]),
            "-" if v["cost"] is None else f"{v['cost']:.2f}",
            f"{v['parameters']:,}",
        ]
        for v in result["variants"]
    ]
    say(
        render_table(
            [
                "variant",
                f"std L{s['depth']}",
                "init loss",
                "final loss",
                "test acc %",
                "diverged",
                "ms/step",
                "× bad",
                "parameters",
            ],
            rows,
            left=(0,),
        )
    )
    say(
        "(std at init from a training-mode forward pass; std, init loss: mean over the seeds;\n"
        " final loss: mean (min-max); ms/step: median over the steps, mean over the seeds)"
    )


def _report_delta(result: dict, say) -> None:
    s, t = result["settings"], result["theory"]
    say(
        f"\ntanh at σ_w² = {t['sigma_w2']:g}, σ_b² = {t['sigma_b2']:g}: critical σ_w² = "
        f"{t['critical_sigma_w2']:.4f}, χ₁ = {t['chi1']:.6f},\n"
        f"q* = {t['q_star']:.4g}, ξ_q = {_f(t['xi_q'])}, "
        f"ξ_c = {'∞' if t['xi_c'] is None else _f(t['xi_c'])}"
    )
    size = result["runs"][0]["spectrum"]["size"]
    say(
        f"plain tanh CNN, {s['depth']} circular 3×3 conv layers of {s['width']} channels;\n"
        f"{_conditions(result)};\nJacobian of the conv stack on {size}×{size}×{s['width']} inputs at init:"
    )
    rows = [
        [
            v["variant"],
            _f(v["mean_sq"]),
            _f(v["var_sq"]),
            _f(v["condition"]),
            _mean(v["initial_loss"]),
            _spread(v["final_loss"]),
            _accuracy(v["test_accuracy"]),
            _failed(v),
        ]
        for v in result["variants"]
    ]
    say(
        render_table(
            [
                "kernels",
                "mean s²",
                "var s²",
                "s_max/s_min",
                "init loss",
                "final loss",
                "test acc %",
                "diverged",
            ],
            rows,
            left=(0,),
        )
    )


REPORTS = {
    "he_cnn": _report_he_cnn,
    "delta_orthogonal": _report_delta,
    "residual": _report_residual,
    "normalization": _report_normalization,
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    use_threads(args.threads)
    chosen = chosen_studies(parser, args.study, STUDIES)
    settings = {k: getattr(args, k) for k in OVERRIDES if getattr(args, k) is not None}
    for name in chosen:  # every config checked before anything trains
        try:
            experiments.validate(CONFIGS[name](**settings))
        except experiments.ConfigError as error:
            parser.error(f"argument --{error.field.replace('_', '-')}: {error.reason}")
        except ValueError as error:
            parser.error(f"study {name}: {error}")
    check_output_path(parser, "--plot", args.plot)
    check_plot_option(parser, args.plot)
    check_output_path(parser, "--report", args.report)
    say = reporter(args.json)
    seeds = list(range(args.seed, args.seed + args.seeds))
    results: dict = {"config": vars(args)}
    for name in chosen:
        try:
            results[name] = RUNNERS[name](seeds=seeds, jobs=args.jobs, **settings)
        except (experiments.ConfigError, ValueError) as error:
            parser.error(f"study {name}: {error}")
        REPORTS[name](results[name], say)
    figures = save_study_figures(args.plot, results, {n: DRAW[n] for n in chosen}, say)
    if args.report:
        say(write_study_report(args.report, results, "architectures.py: initialization beyond the MLP"))
    if args.json:
        results["figures"] = figures
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
