"""Learning-rate transfer across width: does the best learning rate of a narrow MLP stay the best
when the MLP grows wider? Under µP it does; under SP it shrinks (Yang et al. 2022).

    python examples/lr_transfer.py --jobs 2                       # sp and mup, widths 64, 256, 1024
    python examples/lr_transfer.py --jobs 2 --plot lr.png --json > lr.json

For each parametrization, width and learning rate (a factor 2 apart), an MLP 784-w-w-10 (ReLU) is
trained with Adam on the built-in synthetic digits for a fixed budget, once per seed; the training
loss of the trained model is tabulated (rows: learning rate, columns: width, ``*`` the best of each
width, ``=`` a point tied with it within the seeds' spread, ``div`` a diverged run) and the
optimum's movement across widths is reported. Every run is one task through a process pool of
``--jobs`` workers. ``--report FILE.html`` writes one interactive HTML file of the curves
(:mod:`tinynet.report`).

Exit status: 0, or 2 for bad arguments (one line on stderr, before any work). A thin face over
``tinynet.experiments.studies.lr_transfer``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from tqdm.auto import tqdm

from tinynet import experiments, init, plotting
from tinynet._text import render_table
from tinynet.experiments import studies
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_threads_argument,
    check_output_path,
    check_plot_option,
    check_size,
    int_at_least,
    number_list,
    positive_number,
    reporter,
    unknown_choice,
    use_threads,
    write_study_report,
)
from tinynet.init.parametrization import OPTIMIZERS as TABLE_OPTIMIZERS


def _rates(text: str) -> list[float]:
    """An argparse type for a comma-separated list of distinct learning rates > 0."""
    try:
        values = [positive_number(item) for item in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected positive numbers like 1e-3,2e-3, got {text!r}") from None
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"values must be distinct, got {text!r}")
    return values


def _log2(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer (a power of 2), got {text!r}") from None
    if not -40 <= value <= 4:
        raise argparse.ArgumentTypeError(f"must be in [-40, 4], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line; defaults are those of :func:`tinynet.experiments.studies.lr_transfer`."""
    p = Parser(
        prog="lr_transfer.py",
        description="Training loss over learning rates and widths, per parametrization (SP against µP).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--parametrizations", default=",".join(studies.LR_PARAMETRIZATIONS),
                   help=", ".join(init.parametrization_names()))  # fmt: skip
    p.add_argument("--widths", type=number_list(int, 1, example="64,256,1024"),
                   default=list(studies.LR_WIDTHS), help="hidden widths (columns)")  # fmt: skip
    p.add_argument("--base-width", type=int_at_least(1), default=64,
                   help="width at which every parametrization equals SP")  # fmt: skip
    p.add_argument("--lrs", type=_rates, default=None, help="learning rates (rows); default: the powers of 2 "
                   "from 2^LOG2_LR_MIN to 2^LOG2_LR_MAX")  # fmt: skip
    p.add_argument("--log2-lr-min", type=_log2, default=min(studies.LR_LOG2))
    p.add_argument("--log2-lr-max", type=_log2, default=max(studies.LR_LOG2))
    p.add_argument("--optimizer", default="adam", help="adam or sgd (the tables' optimizers)")
    p.add_argument("--epochs", type=int_at_least(1), default=4)
    p.add_argument("--limit", type=int_at_least(10), default=4000, help="training (and test) digits")
    p.add_argument("--batch-size", type=int_at_least(1), default=64)
    p.add_argument("--seeds", type=int_at_least(1), default=3, help="runs per grid point")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="first seed")
    p.add_argument("--jobs", type=int_at_least(1), default=experiments.default_jobs(),
                   help="worker processes (1: this process)")  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--plot", metavar="FILE.png", help="save the figure (one panel per parametrization)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_report_argument(p)
    add_threads_argument(p)
    return p


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[list[str], list[float]]:
    """Every check before any work; returns the parametrizations and the log₂ learning rates."""
    names = [n.strip() for n in args.parametrizations.split(",")]
    known = init.parametrization_names()
    for name in names:
        if name not in known:
            parser.error(f"argument --parametrizations: {unknown_choice('parametrization', name, known)}")
    if len(set(names)) != len(names):
        parser.error(f"argument --parametrizations: must be distinct, got {args.parametrizations!r}")
    if args.optimizer not in TABLE_OPTIMIZERS:
        choice = unknown_choice("optimizer", args.optimizer, TABLE_OPTIMIZERS)
        parser.error(f"argument --optimizer: {choice}")
    if args.lrs is not None:
        log2_lrs = sorted(math.log2(lr) for lr in args.lrs)
    else:
        if args.log2_lr_min > args.log2_lr_max:
            parser.error(f"argument --log2-lr-min: {args.log2_lr_min} is above --log2-lr-max "
                         f"{args.log2_lr_max}")  # fmt: skip
        log2_lrs = [float(k) for k in range(args.log2_lr_min, args.log2_lr_max + 1)]
    check_size(parser, max(args.widths), 2, args.batch_size, ("--widths", "--widths"))
    try:
        studies.lr_config(max(args.widths), parametrization=names[0], base_width=args.base_width,
                          optimizer=args.optimizer, log2_lr=log2_lrs[0], epochs=args.epochs,
                          limit=args.limit, batch_size=args.batch_size, seed=args.seed)  # fmt: skip
    except experiments.ConfigError as error:
        parser.error(f"argument --{error.field.replace('_', '-')}: {error.reason}")
    check_output_path(parser, "--plot", args.plot)
    check_output_path(parser, "--report", args.report)
    check_plot_option(parser, args.plot)
    return names, log2_lrs


def _rate(k: float) -> str:
    return f"2^{k:g}" if float(k).is_integer() else f"2^{k:.2f}"


def report(result: dict, say) -> None:
    """Print one table per parametrization and where its optimum sits."""
    seeds = result["seeds"]
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean of {len(seeds)} seeds"
    say(f"training loss ({which}) of an MLP 784-w-w-10 (relu) after {result['epochs']} epoch(s) "
        f"({result['steps']} steps of batch {result['batch_size']}) on {result['limit']} synthetic digits, "
        f"{result['optimizer']}, base width {result['base_width']}; {len(result['runs'])} runs in "
        f"{result['seconds']:.0f} s on {result['executor']}"
        + (f" ({result['jobs']} jobs)" if result["jobs"] else ""))
    widths, log2_lrs = result["widths"], result["log2_lrs"]
    for r in result["results"]:
        rows = []
        for j, k in enumerate(log2_lrs):
            cells = []
            for i in range(len(widths)):
                value = r["loss"][i][j]
                cell = "div" if value is None else f"{value:.4f}"
                cells.append(cell + ("*" if r["best"][i] == j else "=" if j in r["tied"][i] else " "))
            rows.append([_rate(k), f"{2.0 ** k:.3g}", *cells])
        say(f"\n{r['parametrization']} (* best of the width, = tied with it within the seeds' spread, "
            "div: a seed diverged)")
        say(render_table(["lr", "", *(f"w={w}" for w in widths)], rows, left=(0,)))
        best = ", ".join(f"{w}: {'-' if k is None else _rate(k)}" for w, k in zip(widths, r["best_log2_lr"]))
        if r["shift"] is None:
            verdict = "some width has no optimum (every rate diverged)"
        else:
            verdict = (f"the optimum moves {r['shift']} grid point(s) across widths: "
                       + ("it transfers (within ±1)" if r["transfers"] else "it does not transfer"))
        if r["shift_within_noise"] is not None and r["shift_within_noise"] != r["shift"]:
            noise = r["shift_within_noise"]
            verdict += (f"; counting ties as ties it moves {noise} point(s): "
                        + ("it transfers (within ±1)" if noise <= 1 else "it does not transfer"))
        if r["widest_diverges_at_base_best"]:
            verdict += f"; width {widths[-1]} diverges at width {widths[0]}'s best rate"
        say(f"{r['parametrization']}: best lr per width {best}; {verdict}")
    for error in result["errors"][:3]:
        say(f"error: {error}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    use_threads(args.threads)
    names, log2_lrs = _check(parser, args)
    say = reporter(args.json)
    total = len(names) * len(args.widths) * len(log2_lrs) * args.seeds
    with tqdm(total=total, desc="lr transfer", unit="run", disable=args.no_progress, file=sys.stderr) as bar:
        result = studies.lr_transfer(
            names, args.widths, log2_lrs, base_width=args.base_width, optimizer=args.optimizer,
            epochs=args.epochs, limit=args.limit, batch_size=args.batch_size,
            seeds=range(args.seed, args.seed + args.seeds), jobs=args.jobs,
            on_result=lambda _r, _done, _total: bar.update(1),
        )  # fmt: skip
    report(result, say)
    figures = {}
    if args.plot is not None:
        plotting.plot_lr_transfer(result, args.plot)
        figures["lr_transfer"] = args.plot
        say(f"plot saved to {args.plot}")
    if args.report:
        say(write_study_report(args.report, {"config": vars(args), "lr_transfer": result},
                               "lr_transfer.py: the best learning rate across widths"))  # fmt: skip
    if args.json:
        print(json.dumps({"config": vars(args), "figures": figures, **result}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
