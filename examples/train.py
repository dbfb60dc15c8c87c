"""Train a network (an MLP by default; --arch cnn, resmlp, resnet) on MNIST-like digits under one
initialization scheme and show, layer by layer, why it trains or does not.

    python examples/train.py --init xavier
    python examples/train.py --init zeros                      # symmetry: 1 distinct unit per layer
    python examples/train.py --init "normal(std=1.0)" --activation tanh --depth 10   # saturation
    python examples/train.py --init he --lr 1e3                # divergence
    python examples/train.py --arch cnn --init he --limit 4000  # a small CNN on NHWC digits
    python examples/train.py --arch resmlp --init he           # residual blocks explode at init

    python examples/train.py --init xavier --save ckpt.npz --epochs 2
    python examples/train.py --init xavier --resume ckpt.npz --epochs 4  # same flags, more epochs
    python examples/train.py --data mnist --mirror https://example.org/mnist/   # fetch from a mirror

Prints one line per epoch, then the per-layer diagnostics table (the columns that fit 100
characters; ``--wide`` for all) and plain-words findings. numpy's BLAS runs one thread unless
``--threads N``. ``--resume`` refuses a checkpoint written with other flags (init, architecture,
optimizer, data, seed; not ``--epochs``) unless ``--force``. Exit status: 0 trained, 1 diverged,
2 bad arguments, data or checkpoint (one line on stderr; every flag is checked before any work:
sizes against a memory estimate, output paths, rates, seeds, specs). Everything here is a thin
face over ``tinynet.experiments`` (model, data, run, report), ``tinynet.training`` and
``tinynet.plotting``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from tinynet import experiments
from tinynet.experiments import Config
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_run_arguments,
    add_threads_argument,
    blas_threads,
    check_output_path,
    check_plot_option,
    config_from_args,
    int_at_least,
    mirror_url,
    reporter,
    use_threads,
    write_run_report,
)
from tinynet.experiments.run import check_resume
from tinynet.plotting import plot_dashboard
from tinynet.training import ConfigMismatchError

#: Monitor records per epoch when ``--report`` asks for the time scrubber (one otherwise)
REPORT_RECORDS_PER_EPOCH = 4


def build_parser() -> argparse.ArgumentParser:
    """The command line; every default is the library's :class:`tinynet.experiments.Config`."""
    d = Config()
    p = Parser(
        prog="train.py",
        description="Train a network on MNIST-like digits and diagnose its initialization.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--init", default=d.init, help="weight init spec: name, alias or name(args)")
    p.add_argument("--bias-init", default=None,
                   help=f"bias init spec (default: the weight scheme's own, e.g. edge_of_chaos's "
                        f"N(0, sigma_b2), else {d.bias_init})")  # fmt: skip
    add_run_arguments(p, d, min_epochs=0, seed_help="init and shuffling seed")
    p.add_argument("--parametrization", default=None,
                   help="sp, ntk or mup: re-initialize by that table (--init is then unused) and give "
                        "each layer its lr_mult (Tensor Programs V)")  # fmt: skip
    p.add_argument("--base-width", type=int_at_least(1), default=None,
                   help="the width at which --parametrization equals SP (default: --width)")
    p.add_argument("--download", action="store_true", help="fetch the MNIST family if missing")
    p.add_argument("--mirror", metavar="URL", type=mirror_url,
                   help="fetch --data mnist/fashion/kmnist from this http(s):// or file:// folder "
                        "(implies --download)")  # fmt: skip
    p.add_argument("--plot", metavar="FILE.png", help="save a dashboard of the diagnostics")
    add_report_argument(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--save", metavar="CKPT", help="checkpoint after every epoch")
    p.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint of the same flags")
    p.add_argument("--force", action="store_true",
                   help="--resume even a checkpoint of other flags (with a warning)")  # fmt: skip
    p.add_argument("--wide", action="store_true", help="every column of the diagnostics table")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_threads_argument(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.mirror:
        args.download = True
    use_threads(args.threads)
    config = config_from_args(parser, args)
    check_output_path(parser, "--plot", args.plot)
    check_output_path(parser, "--save", args.save)
    check_output_path(parser, "--report", args.report)
    check_plot_option(parser, args.plot)
    if args.resume:
        if not os.path.isfile(args.resume):
            parser.error(f"argument --resume: no such checkpoint file: {args.resume!r}")
        try:  # before any data is loaded; with --force, run() prints the warning
            check_resume(config, args.resume, force=args.force)
        except ConfigMismatchError as error:
            parser.error(f"argument --resume: {error.describe('command line')}; --force continues anyway")
        except ValueError as error:
            parser.error(f"argument --resume: {error}")

    say = reporter(args.json)

    try:
        dataset = experiments.load_dataset(
            config.data, config.limit, config.download,
            mirrors=[args.mirror] if args.mirror else None,
        )  # fmt: skip
    except (OSError, ValueError) as error:
        parser.error(f"argument --data: {error}")
    say(experiments.describe(config, dataset))
    say(f"data: {dataset.name}, {len(dataset.x_train)} train / {len(dataset.x_test)} test examples "
        f"({dataset.seconds:.1f} s)")  # fmt: skip
    # a report's time scrubber gets REPORT_RECORDS_PER_EPOCH records per epoch (default: one)
    per_epoch = math.ceil(len(dataset.x_train) / config.batch_size)
    every = max(1, math.ceil(per_epoch / REPORT_RECORDS_PER_EPOCH)) if args.report else None
    try:
        result = experiments.run(
            config, progress=not args.no_progress, log=say, checkpoint=args.save,
            resume=args.resume, force=args.force, dataset=dataset, record_every=every,
        )  # fmt: skip
    except (OSError, ValueError) as error:  # e.g. a checkpoint of another model
        parser.error(str(error))
    say()
    say(result.report(wide=args.wide))
    if args.plot:
        plot_dashboard(result.monitor, result.fit, args.plot)
        say(f"\nplot saved to {args.plot}")
    say()
    say(experiments.summary(result))
    if args.report:
        say(write_run_report(args.report, result))
    if args.json:
        print(json.dumps({**result.to_dict(), "blas_threads": blas_threads()}, indent=1))
    return 1 if result.diverged else 0


if __name__ == "__main__":
    sys.exit(main())
