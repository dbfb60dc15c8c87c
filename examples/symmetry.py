"""Why weights must start random: zero and constant initialization never break the symmetry.

    python examples/symmetry.py                                   # zeros, constant(0.05), he
    python examples/symmetry.py --inits "zeros,ones,xavier" --activation relu --plot symmetry.png

Trains the same MLP from each scheme and prints, per layer, the number of distinct units (columns
of the weight matrix) at initialization and at the end, whether every hidden weight gradient was
exactly zero, which parameters changed at all, and the test accuracy. Exit status: 0, or 2 for bad
arguments (one line on stderr, before any work). A thin face over
``tinynet.experiments.studies.symmetry_study``.
"""

from __future__ import annotations

import argparse
import json
import sys

from tinynet import experiments, nn
from tinynet.experiments import studies
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_threads_argument,
    check_output_path,
    check_plot_option,
    check_size,
    fraction,
    int_at_least,
    positive_number,
    reporter,
    unknown_choice,
    use_threads,
    write_study_report,
)
from tinynet.experiments.config import architecture
from tinynet.plotting import plot_symmetry


def build_parser() -> argparse.ArgumentParser:
    """The command line; defaults are those of :func:`tinynet.experiments.studies.symmetry_study` except the
    activation (tanh, where a constant init still learns a little, through its one unit)."""
    p = Parser(
        prog="symmetry.py",
        description="Zero vs constant vs random initialization: distinct units over training.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--inits", default=",".join(studies.SYMMETRY_INITS),
                   help="comma-separated init specs")  # fmt: skip
    p.add_argument("--activation", default="tanh", help=", ".join(nn.ACTIVATIONS))
    p.add_argument("--depth", type=int_at_least(1), default=2, help="hidden layers")
    p.add_argument("--width", type=int_at_least(2), default=64, help="units per hidden layer")
    p.add_argument("--epochs", type=int_at_least(1), default=3)
    p.add_argument("--limit", type=int_at_least(10), default=5000, help="training (and test) digits")
    p.add_argument("--lr", type=positive_number, default=0.05, help="SGD learning rate")
    p.add_argument("--momentum", type=fraction, default=0.9, help="SGD momentum")
    p.add_argument("--batch-size", type=int_at_least(1), default=64)
    p.add_argument("--record-every", type=int_at_least(1), default=20, help="steps between records")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="init and shuffling seed")
    p.add_argument("--plot", metavar="FILE.png", help="save distinct units against steps")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_report_argument(p)
    add_threads_argument(p)
    return p


def _layers(counts: list[int], units: list[int]) -> str:
    return "  ".join(f"{c}/{u}" for c, u in zip(counts, units))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    use_threads(args.threads)
    try:
        inits = experiments.split_specs(args.inits)
        experiments.check_inits(inits)
    except ValueError as error:
        parser.error(f"argument --inits: {error}")
    if args.activation not in nn.ACTIVATIONS:
        error = unknown_choice("activation", args.activation, nn.ACTIVATIONS)
        parser.error(f"argument --activation: {error}")
    check_size(parser, args.width, args.depth, args.batch_size)
    check_output_path(parser, "--plot", args.plot)
    check_output_path(parser, "--report", args.report)
    check_plot_option(parser, args.plot)
    say = reporter(args.json)

    say(f"MLP {architecture(784, args.width, args.depth, 10)} ({args.activation}), SGD lr "
        f"{args.lr:g} momentum {args.momentum:g}, batch {args.batch_size}, {args.epochs} epochs on "
        f"{args.limit} digits, seed {args.seed}")  # fmt: skip
    results = studies.symmetry_study(
        inits, depth=args.depth, width=args.width, activation=args.activation, epochs=args.epochs,
        limit=args.limit, lr=args.lr, momentum=args.momentum, batch_size=args.batch_size,
        record_every=args.record_every, seed=args.seed,
    )  # fmt: skip
    for r in results:
        first = [d[0] for d in r["distinct"]]
        last = [d[-1] for d in r["distinct"]]
        hidden_min = min(min(d) for d in r["distinct"][:-1])
        hidden_max = max(max(d) for d in r["distinct"][:-1])
        acc = r["test_accuracy"]
        say()
        say(f"{r['init']}:")
        say(f"  distinct units per layer at step {r['steps'][0]}:  {_layers(first, r['units'])}")
        say(f"  distinct units per layer at step {r['steps'][-1]}:  {_layers(last, r['units'])}")
        say(f"  hidden layers over all {len(r['steps'])} records: {hidden_min}..{hidden_max} "
            "distinct units")  # fmt: skip
        say(f"  every hidden weight gradient exactly 0: {'yes' if r['hidden_grads_zero'] else 'no'}")
        learned = r["learned"]
        say(f"  parameters that changed: {', '.join(learned) if learned else 'none'}")
        say("  test accuracy: " + (f"{100 * acc:.2f}%" if acc is not None else "- (diverged)"))
    if args.plot:
        plot_symmetry(results, args.plot)
        say(f"\nplot saved to {args.plot}")
    if args.report:
        say(write_study_report(args.report, {"config": vars(args), "symmetry": results},
                               "symmetry.py: zero, constant and random weights"))  # fmt: skip
    if args.json:
        print(json.dumps({"config": vars(args), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
