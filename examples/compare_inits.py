"""Every initialization scheme on the same network, data and seeds: one leaderboard.

    python examples/compare_inits.py                          # every registered scheme, 3 seeds
    python examples/compare_inits.py --inits he,xavier,default,pytorch --seeds 5 --plot sweep.png
    python examples/compare_inits.py --jobs 1 --seeds 1 --epochs 1 --limit 2000 --json > sweep.json

Each (scheme, seed) is an independent run in a worker process (``--jobs``, default: the number of
cores). A scheme is an init spec (zero biases) or a preset that sets the biases too (``pytorch``:
what ``torch.nn.Linear`` does; the default list has it beside ``default``, PyTorch's weight rule with
zero biases). Prints a line per finished run, then the leaderboard: test accuracy, final and initial
loss, gradient flow at init (back-propagated signal, first over last hidden layer), distinct units,
dead/saturated fractions at init and training time (mean ± std over seeds; schemes whose mean
accuracies lie within the seeds' spread share a rank, ``=3``). Exit status: 0; 1 when every run
failed; 2 for bad arguments (one line on stderr, before any run starts). A thin face over
``tinynet.experiments``; to run the sweep on a Dask or Ray cluster, call ``tinynet.experiments.sweep`` with
their executor (see ``docs/experiments.md``).
"""

from __future__ import annotations

import argparse
import json
import sys

from tinynet import experiments
from tinynet.experiments import Config
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_run_arguments,
    add_threads_argument,
    check_output_path,
    check_plot_option,
    config_from_args,
    int_at_least,
    one_line,
    reporter,
    use_threads,
    write_sweep_report,
)
from tinynet.plotting import plot_sweep

#: the default network: deep enough that the schemes part ways, small enough that the full sweep
#: (every registered scheme and the pytorch preset, 3 seeds each) runs in minutes on a few cores
DEFAULTS = Config(depth=6, width=128, epochs=5)




def build_parser() -> argparse.ArgumentParser:
    """The command line; network and training defaults are :data:`DEFAULTS`."""
    d = DEFAULTS
    p = Parser(
        prog="compare_inits.py",
        description="Train the same MLP under every initialization scheme and rank them.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--inits", default=None,
                   help="comma-separated init specs or presets (pytorch, keras, flax); default: every "
                        "registered scheme and the pytorch preset")  # fmt: skip
    p.add_argument("--seeds", type=int_at_least(1), default=3, help="seeds per scheme (K)")
    p.add_argument("--jobs", type=int_at_least(1), default=experiments.default_jobs(),
                   help="worker processes (default: the number of cores)")  # fmt: skip
    add_run_arguments(p, d, seed_help="first seed")
    p.add_argument("--plot", metavar="FILE.png", help="save a grid of loss curves, one per scheme")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    add_report_argument(p)
    add_threads_argument(p)
    p.add_argument("--markdown", action="store_true", help="print the leaderboard as Markdown")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    use_threads(args.threads)
    config = config_from_args(parser, args)
    try:
        inits = experiments.split_specs(args.inits) if args.inits is not None else None
        experiments.check_inits(inits)
    except ValueError as error:
        parser.error(f"argument --inits: {error}")
    check_output_path(parser, "--plot", args.plot)
    check_output_path(parser, "--report", args.report)
    check_plot_option(parser, args.plot)

    say = reporter(args.json)

    n_inits = len(inits) if inits is not None else len(experiments.registered_schemes())
    say(f"{n_inits} schemes × {args.seeds} seed(s) on {experiments.describe(config)}; "
        f"{args.jobs} worker(s)")  # fmt: skip

    def progress(run: dict, done: int, total: int) -> None:
        if run.get("error"):
            what = run["error"]
        elif run.get("diverged"):
            what = "diverged"
        else:
            acc = run.get("test_accuracy")
            what = f"test acc {100 * acc:.2f}%" if acc is not None else "no epoch"
        seconds = run.get("seconds")
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        say(f"[{done:>{len(str(total))}}/{total}] {run['init']} seed {run['seed']}: {what}{took}")

    try:
        result = experiments.sweep(
            inits, args.seeds, config, jobs=args.jobs, on_result=progress, histories=args.report is not None
        )
    except (OSError, ValueError) as error:  # e.g. data that cannot be loaded
        parser.error(str(error))
    say()
    say(result.table(markdown=args.markdown))
    if any(row.diverged for row in result.rows):
        say("* diverged in at least one run (training stopped; figures from before the stop)")
    if any(row.rank.startswith("=") for row in result.rows):
        say("=k: a tie; these mean test accuracies differ by less than the seeds' spread (the larger "
            "std) from the first row of the group")  # fmt: skip
    say(f"\n{len(result.runs)} runs in {result.seconds:.1f} s with {args.jobs} worker(s)")
    if args.plot:
        plot_sweep(result, args.plot)
        say(f"plot saved to {args.plot}")
    if args.report:
        say(write_sweep_report(args.report, result))
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    failed = [run for run in result.runs if run.get("error")]
    if result.runs and len(failed) == len(result.runs):
        first = failed[0]["error"]
        print(f"{parser.prog}: error: {one_line(f'all {len(failed)} runs failed; the first: {first}')}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
