"""What depth does to the signal under each initialization, and whether a deep net can still train.

    python examples/depth_sweep.py                               # studies "init" and "train"
    python examples/depth_sweep.py --study all --plot depth.png  # + "sigmoid" and "jacobian"

Studies (``--study``, comma-separated, or ``all``):

- ``init``: activation std, saturation, dead units and weight-gradient norm per layer of a
  ``--depth``-layer MLP at initialization, for each activation and scheme;
- ``train``: training loss of a ``--train-depth``-layer ReLU MLP under plain SGD (He et al. 2015),
  or under each optimizer of ``--optimizer sgd,adam`` (which verdicts hold for SGD only);
- ``sigmoid``: mean of each hidden sigmoid activation over training with the standard init
  (Glorot & Bengio 2010, fig. 2);
- ``jacobian``: singular values of a deep linear network's input-output Jacobian (Saxe et al. 2014).

``--plot FILE.png`` saves one figure per study as ``FILE-<study>.png``. Exit status: 0, or 2 for
bad arguments (one line on stderr, before any work); a diverged run is reported as diverged. A
thin face over ``tinynet.experiments.studies``.
"""

from __future__ import annotations

import argparse
import json
import sys

from tinynet import experiments, nn, plotting
from tinynet.experiments import studies
from tinynet.experiments.cli import (
    Parser,
    add_report_argument,
    add_threads_argument,
    check_output_path,
    check_plot_option,
    check_size,
    chosen_studies,
    fraction,
    int_at_least,
    number_list,
    positive_number,
    reporter,
    save_study_figures,
    unknown_choice,
    use_threads,
    write_study_report,
)

STUDIES = ("init", "train", "sigmoid", "jacobian")




def build_parser() -> argparse.ArgumentParser:
    """The command line; defaults are those of the :mod:`tinynet.experiments.studies` functions."""
    p = Parser(
        prog="depth_sweep.py",
        description="Signal propagation with depth under each initialization, and trainability.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--study", default="init,train", help=f"{', '.join(STUDIES)} or all")
    g = p.add_argument_group("init: signal propagation at initialization")
    g.add_argument("--activations", default=",".join(studies.DEPTH_ACTIVATIONS))
    g.add_argument("--inits", default=",".join(studies.DEPTH_INITS),
                   help="init specs or presets (pytorch, keras, flax)")  # fmt: skip
    g.add_argument("--depth", type=int_at_least(1), default=32, help="hidden layers")
    g.add_argument("--width", type=int_at_least(1), default=128, help="units per hidden layer")
    g.add_argument("--probe", type=int_at_least(2), default=512, help="probe digits")
    g = p.add_argument_group("train: trainability of a deep ReLU MLP (plain SGD by default)")
    g.add_argument("--train-inits", default=",".join(studies.TRAINABILITY_SCHEMES))
    g.add_argument("--train-depth", type=int_at_least(1), default=30, help="hidden layers")
    g.add_argument("--train-width", type=int_at_least(1), default=128)
    g.add_argument("--epochs", type=int_at_least(1), default=10)
    g.add_argument("--limit", type=int_at_least(10), default=2000, help="training (and test) digits")
    g.add_argument("--optimizer", default="sgd",
                   help="sgd, adam, or both (sgd,adam): one run per scheme and optimizer")  # fmt: skip
    g.add_argument("--lr", type=positive_number, default=None,
                   help="learning rate of every optimizer (default: sgd 0.01, adam 0.001)")  # fmt: skip
    g.add_argument("--momentum", type=fraction, default=0.0, help="SGD momentum (0: plain SGD)")
    g.add_argument("--batch-size", type=int_at_least(1), default=64)
    g = p.add_argument_group("sigmoid: hidden activations over training (Glorot & Bengio, fig. 2)")
    g.add_argument("--sigmoid-init", default="default")
    g.add_argument("--sigmoid-width", type=int_at_least(1), default=256)
    g.add_argument("--sigmoid-epochs", type=int_at_least(1), default=2)
    g.add_argument("--sigmoid-limit", type=int_at_least(10), default=10000)
    g = p.add_argument_group("jacobian: conditioning of a deep linear network")
    g.add_argument("--jacobian-inits", default="orthogonal,lecun_normal")
    depths = number_list(int, 1, distinct=False, example="1,4,16", noun="integers")
    g.add_argument("--jacobian-depths", type=depths, default=[1, 2, 4, 8, 16, 32])
    g.add_argument("--jacobian-width", type=int_at_least(2), default=64)
    p.add_argument("--seed", type=int_at_least(0), default=0, help="init (and shuffling) seed")
    p.add_argument("--plot", metavar="FILE.png", help="save FILE-<study>.png for each study")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_report_argument(p)
    add_threads_argument(p)
    return p


def _schemes(parser: argparse.ArgumentParser, flag: str, text: str) -> list[str]:
    try:
        items = experiments.split_specs(text)
        for item in items:
            studies.resolve_scheme(item)
    except ValueError as error:
        parser.error(f"argument --{flag}: {error}")
    return items


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
        return f"{value:.1e}"
    return f"{value:.3g}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(line, widths))) for line in [header, *rows]]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _report_init(profiles: list[dict], say) -> None:
    depth = profiles[0]["depth"]
    marks = sorted({k for k in (1, 10, 20, depth) if k <= depth})
    for activation in dict.fromkeys(p["activation"] for p in profiles):
        header = ["scheme", *(f"std L{k}" for k in marks), f"mf L{depth}", "last/first",
                  f"var L{depth}", "sat %", "dead %", "flow"]  # fmt: skip
        rows = []
        for p in (p for p in profiles if p["activation"] == activation):
            sat, dead = _mean(p["saturated"]), _mean(p["dead"])
            rows.append([
                p["scheme"], *(_fmt(p["act_std"][k - 1]) for k in marks),
                _fmt((p.get("act_std_theory") or [None])[-1]), _fmt(studies.std_ratio(p)),
                _fmt(p["act_std"][-1] ** 2),
                "-" if sat is None else f"{100 * sat:.0f}", "-" if dead is None else f"{100 * dead:.0f}",
                _fmt(p["gradient_flow"]),
            ])  # fmt: skip
        say(f"\n{activation}, {depth} hidden layers of {profiles[0]['width']}, at initialization "
            f"(std of each activation output; mf L{depth}: its mean-field prediction at layer "
            f"{depth}; flow = std dL/d(out) at the first layer / at the last hidden one):")  # fmt: skip
        say(_table(header, rows))


def _optimizer_text(r: dict) -> str:
    if r["optimizer"] == "sgd":
        return f"SGD lr {r['lr']:g} " + (f"momentum {r['momentum']:g}" if r["momentum"] else "(plain)")
    return f"{r['optimizer'].capitalize()} lr {r['lr']:g}"


def _report_train(results: list[dict], say) -> None:
    for optimizer in dict.fromkeys(r["optimizer"] for r in results):
        group = [r for r in results if r["optimizer"] == optimizer]
        r0 = group[0]
        say(f"\n{r0['depth']}-layer {r0.get('activation', 'ReLU')} MLP of width {r0['width']}, "
            f"{_optimizer_text(r0)}: mean training loss per epoch (ln C = {r0['ln_classes']:.4f}):")
        header = ["scheme", "final loss", "% of ln C", "test acc %", "losses per epoch"]
        rows = [
            [r["scheme"] + (" *" if r["diverged"] else ""), _loss(r["final_loss"]),
             "-" if r["loss_ratio"] is None else f"{100 * r['loss_ratio']:.1f}",
             "-" if r["test_accuracy"] is None else f"{100 * r['test_accuracy']:.1f}",
             " ".join([*(_loss(v, 3) for v in r["train_loss"]), *_stopped(r)])]
            for r in group
        ]  # fmt: skip
        say(_table(header, rows))
        if any(r["diverged"] for r in group):
            say("* diverged: training stopped at a non-finite or exploding loss (nan: no finite mean)")


def _stopped(r: dict) -> list[str]:
    d = r.get("divergence")
    return [f"(stopped at step {d['step']}: {d['reason']})"] if d else []


def _loss(value: float | None, digits: int = 4) -> str:
    return "nan" if value is None else f"{value:.{digits}f}"


def _report_sigmoid(result: dict, say) -> None:
    steps = result["steps"]
    picks = sorted({0, len(steps) // 4, len(steps) // 2, len(steps) - 1})
    say(f"\n{result['activation']} MLP {result['depth']}×{result['width']}, init {result['init']}: "
        f"mean activation of each hidden layer on the probe (test acc at the end "
        f"{100 * (result['test_accuracy'] or 0):.1f}%):")  # fmt: skip
    header = ["layer", *(f"step {steps[i]}" for i in picks), "min", "max"]
    rows = [
        [str(k), *(f"{series[i]:.3f}" for i in picks), f"{min(series):.3f}", f"{max(series):.3f}"]
        for k, series in enumerate(result["mean"], start=1)
    ]
    say(_table(header, rows))


def _report_jacobian(results: list[dict], say) -> None:
    say(f"\ninput-output Jacobian of a deep linear network of width {results[0]['width']} at init:")
    header = ["init", "depth", "s_max", "s_min", "condition", "mean s²"]
    rows = [
        [r["init"], str(r["depth"]), _fmt(r["s_max"]), _fmt(r["s_min"]),
         f"{r['condition']:.12f}" if r["condition"] < 10 else _fmt(r["condition"]), _fmt(r["mean_sq"])]
        for r in results
    ]  # fmt: skip
    say(_table(header, rows))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argument errors exit 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    use_threads(args.threads)
    chosen = chosen_studies(parser, args.study, STUDIES, distinct=False)
    activations = [a.strip() for a in args.activations.split(",")]
    for activation in activations:
        if activation not in nn.ACTIVATIONS:
            error = unknown_choice("activation", activation, nn.ACTIVATIONS)
            parser.error(f"argument --activations: {error}")
    inits = _schemes(parser, "inits", args.inits)
    train_inits = _schemes(parser, "train-inits", args.train_inits)
    sigmoid_init = _schemes(parser, "sigmoid-init", args.sigmoid_init)
    if len(sigmoid_init) != 1:
        parser.error(f"argument --sigmoid-init: expected one scheme, got {args.sigmoid_init!r}")
    jacobian_inits = _schemes(parser, "jacobian-inits", args.jacobian_inits)
    optimizers = [o.strip() for o in args.optimizer.split(",")]
    for name in optimizers:
        if name not in studies.TRAINABILITY_OPTIMIZERS:
            error = unknown_choice("optimizer", name, studies.TRAINABILITY_OPTIMIZERS)
            parser.error(f"argument --optimizer: {error}")
    if len(set(optimizers)) != len(optimizers):
        parser.error(f"argument --optimizer: optimizers must be distinct, got {args.optimizer!r}")
    if args.momentum and optimizers != ["sgd"]:
        parser.error(f"argument --momentum: needs --optimizer sgd alone, got {args.momentum} with "
                     f"{args.optimizer!r}")  # fmt: skip
    sizes = {
        "init": (args.width, args.depth, args.probe, ("--width", "--depth")),
        "train": (args.train_width, args.train_depth, args.batch_size, ("--train-width", "--train-depth")),
        "sigmoid": (args.sigmoid_width, 4, 64, ("--sigmoid-width", "--sigmoid-width")),
        "jacobian": (args.jacobian_width, max(args.jacobian_depths), 64,
                     ("--jacobian-width", "--jacobian-depths")),
    }  # fmt: skip
    for name in chosen:
        width, depth, batch, flags = sizes[name]
        check_size(parser, width, depth, batch, flags)
    check_output_path(parser, "--plot", args.plot)
    check_output_path(parser, "--report", args.report)
    check_plot_option(parser, args.plot)
    say = reporter(args.json)

    results: dict = {"config": vars(args)}
    if "init" in chosen:
        results["init"] = studies.depth_study(
            activations, inits, depth=args.depth, width=args.width, probe_size=args.probe,
            seed=args.seed,
        )  # fmt: skip
        _report_init(results["init"], say)
    if "train" in chosen:
        results["train"] = [
            row
            for optimizer in optimizers
            for row in studies.trainability(
                train_inits, depth=args.train_depth, width=args.train_width, epochs=args.epochs,
                limit=args.limit, optimizer=optimizer, lr=args.lr, momentum=args.momentum,
                batch_size=args.batch_size, seed=args.seed,
            )
        ]  # fmt: skip
        _report_train(results["train"], say)
    if "sigmoid" in chosen:
        results["sigmoid"] = studies.activation_dynamics(
            sigmoid_init[0], width=args.sigmoid_width, epochs=args.sigmoid_epochs,
            limit=args.sigmoid_limit, seed=args.seed,
        )  # fmt: skip
        _report_sigmoid(results["sigmoid"], say)
    if "jacobian" in chosen:
        results["jacobian"] = studies.jacobian_study(
            jacobian_inits, depths=args.jacobian_depths, width=args.jacobian_width, seed=args.seed
        )
        _report_jacobian(results["jacobian"], say)
    draw = {
        "init": plotting.plot_depth_profiles,
        "train": plotting.plot_trainability,
        "sigmoid": plotting.plot_dynamics,
        "jacobian": plotting.plot_jacobian,
    }
    figures = save_study_figures(args.plot, results, {n: draw[n] for n in chosen}, say)
    if args.report:
        say(write_study_report(args.report, dict(results), "depth_sweep.py: signal propagation with depth"))
    if args.json:
        results["figures"] = figures
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
