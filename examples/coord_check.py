"""The coordinate check: does every layer's output keep its size as the network widens?

    python examples/coord_check.py                                  # SP and µP, widths 64..1024
    python examples/coord_check.py --parametrizations sp,ntk,mup --plot coord.png
    python examples/coord_check.py --variant output_mult_1 --json   # a broken µP, as JSON

Trains MLPs 784-w-w-10 (ReLU) of several widths for a few Adam steps on one fixed batch of digits
and prints, per parametrization, the log₂ slope of each layer's mean |x| against log₂ width after
each step: near 0 under µP, about +½ (hidden) and +1 (logits) under SP. ``--report FILE.html``
writes those curves as one interactive HTML file (:mod:`tinynet.report`). Exit status: 0, or 2 for
bad arguments (one line on stderr, before any work). A thin face over
``tinynet.experiments.studies.coord_check``.
"""

from __future__ import annotations

import argparse
import json
import sys

from tinynet import init
from tinynet._text import format_signed
from tinynet.experiments import studies
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_threads_argument,
    check_output_path,
    check_plot_option,
    int_at_least,
    positive_number,
    reporter,
    unknown_choice,
    use_threads,
    write_study_report,
)
from tinynet.plotting import plot_coord_check


def build_parser() -> argparse.ArgumentParser:
    """The command line; defaults are those of :func:`tinynet.experiments.studies.coord_check`."""
    p = Parser(
        prog="coord_check.py",
        description="Coordinate check: mean |x| per layer against width under SP, NTK and µP.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--parametrizations", default=",".join(studies.COORD_PARAMETRIZATIONS),
                   help="comma-separated: " + ", ".join(init.parametrization_names()))  # fmt: skip
    p.add_argument("--widths", default=",".join(map(str, studies.COORD_WIDTHS)),
                   help="comma-separated hidden widths (at least 2)")  # fmt: skip
    p.add_argument("--seeds", type=int_at_least(1), default=3)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument("--lr", type=positive_number, default=1e-2)
    p.add_argument("--steps", type=int_at_least(1), default=4)
    p.add_argument("--batch-size", type=int_at_least(1), default=64)
    p.add_argument("--variant", choices=studies.COORD_VARIANTS, default="none",
                   help="a deliberately broken µP (none: the tables as they are)")  # fmt: skip
    p.add_argument("--plot", metavar="FILE.png", help="save one log-log panel per step")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_report_argument(p)
    add_threads_argument(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    use_threads(args.threads)
    names = [n.strip() for n in args.parametrizations.split(",") if n.strip()]
    if not names:
        parser.error("argument --parametrizations: name at least one parametrization")
    for name in names:
        if name not in init.parametrization_names():
            error = unknown_choice("parametrization", name, init.parametrization_names())
            parser.error(f"argument --parametrizations: {error}")
    try:
        widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        parser.error(f"argument --widths: expected comma-separated ints, got {args.widths!r}")
    if any(w < 1 for w in widths) or len(set(widths)) < 2:
        parser.error(f"argument --widths: need at least 2 different widths >= 1, got {args.widths!r}")
    check_output_path(parser, "--plot", args.plot)
    check_output_path(parser, "--report", args.report)
    check_plot_option(parser, args.plot)
    say = reporter(args.json)

    result = studies.coord_check(
        names, widths=widths, seeds=args.seeds, optimizer=args.optimizer, lr=args.lr,
        steps=args.steps, batch_size=args.batch_size, variant=args.variant,
    )  # fmt: skip
    say(f"MLP 784-w-w-10 (ReLU), widths {', '.join(map(str, widths))}, {args.optimizer} lr "
        f"{args.lr:g}, {args.steps} steps on {args.batch_size} digits, {args.seeds} seeds, "
        f"variant {args.variant}; log2 slope of mean |x| against log2 width:")  # fmt: skip
    layers = [f"{k + 1} {layer}" for k, layer in enumerate(result["layers"])]
    for row in result["results"]:
        say()
        say(f"{row['parametrization']}:")
        say("  step  " + "  ".join(f"{name:>9}" for name in layers))
        for s, slopes in enumerate(row["slopes"], start=1):
            say(f"  {s:>4}  " + "  ".join(f"{format_signed(v):>9}" for v in slopes))
    if args.plot:
        plot_coord_check(result, args.plot)
        say(f"\nplot saved to {args.plot}")
    if args.report:
        say(write_study_report(args.report, {"config": vars(args), "coord_check": result},
                               "coord_check.py: mean |x| per layer against width"))  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
