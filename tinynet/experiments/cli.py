"""Shared pieces of the example command lines: the one-line-error parser, argparse value types, the
run flags and their Config, the ``--threads`` flag and its BLAS setting, the output-path, network
size, mirror and --plot checks, the --json-aware printer and the unknown-name error. A bad value
names the flag and what is valid; every check runs before any work starts."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, NoReturn

from threadpoolctl import threadpool_info, threadpool_limits

from .. import init, report
from .._checks import check_int, unknown_choice
from ..nn.activation import ACTIVATIONS
from ..plotting import require_matplotlib
from ..training import write_line
from .architectures import ARCHITECTURES, DEFAULT_SIZES, NORMS, RESIDUAL_INITS
from .config import OPTIMIZERS, Config, ConfigError, check_memory, describe, validate
from .leaderboard import COLUMNS

__all__ = [
    "DEFAULT_THREADS",
    "MAX_ERROR_CHARS",
    "Parser",
    "add_report_argument",
    "add_run_arguments",
    "add_threads_argument",
    "blas_threads",
    "check_output_path",
    "check_plot_option",
    "check_size",
    "chosen_studies",
    "config_from_args",
    "fraction",
    "int_at_least",
    "mirror_url",
    "number",
    "number_list",
    "one_line",
    "positive_number",
    "reporter",
    "save_study_figures",
    "unknown_choice",
    "use_threads",
    "write_run_report",
    "write_study_report",
    "write_sweep_report",
]

#: BLAS threads of an example's process unless ``--threads`` says otherwise: several BLAS threads
#: on a busy machine slow the small matrix products of these networks down several times over
DEFAULT_THREADS = 1
#: an error line longer than this loses its middle (a flag's value may be megabytes long)
MAX_ERROR_CHARS = 800


class Parser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` whose errors are one line on stderr, ``prog: error: message
    (see --help)``, and exit status 2: no usage block, newlines in the message folded, the line
    cut at :data:`MAX_ERROR_CHARS` characters."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see --help)\n")


def one_line(message: object) -> str:
    """``message`` as one line: whitespace runs (newlines too) folded to one space; past
    :data:`MAX_ERROR_CHARS` characters the middle is replaced by an ellipsis, keeping the start
    (the flag) and the end (what is wrong)."""
    line = " ".join(str(message).split())
    if len(line) <= MAX_ERROR_CHARS:
        return line
    keep = (MAX_ERROR_CHARS - 3) // 2  # the start names the flag, the end says what is wrong
    return f"{line[:keep]} … {line[-keep:]}"


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers >= ``low``; anything else is an ``ArgumentTypeError``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def number(text: str) -> float:
    """An argparse ``type`` accepting any finite float (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_number(text: str) -> float:
    """An argparse ``type`` accepting finite floats > 0."""
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def number_list(
    kind: type, low: float, *, strict: bool = False, distinct: bool = True, example: str = "1,2,4",
    noun: str = "a list",
) -> Callable[[str], list[Any]]:
    """An argparse ``type`` for a comma-separated list of ``kind`` (int or float; floats finite),
    each >= ``low`` (> ``low`` when ``strict``), all different unless ``distinct=False``; a value
    that does not parse is ``expected <noun> like <example>``."""

    def parse(text: str) -> list[Any]:
        try:
            values = [kind(number(item)) if kind is float else kind(item) for item in text.split(",")]
        except (ValueError, argparse.ArgumentTypeError):
            raise argparse.ArgumentTypeError(f"expected {noun} like {example}, got {text!r}") from None
        if any(v < low or (strict and v == low) for v in values):
            bound = f"{'>' if strict else '>='} {low:g}"
            raise argparse.ArgumentTypeError(f"every value must be {bound}, got {text!r}")
        if distinct and len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"values must be distinct, got {text!r}")
        return values

    return parse


def fraction(text: str) -> float:
    """An argparse ``type`` accepting floats in [0, 1) (a momentum)."""
    value = number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def mirror_url(text: str) -> str:
    """An argparse ``type`` accepting an ``http://``, ``https://`` or ``file://`` URL of a folder
    holding the data files (a mirror of the MNIST family)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https", "file") or not (parts.netloc or parts.path):
        raise argparse.ArgumentTypeError(f"expected an http://, https:// or file:// URL, got {text!r}")
    return text


def check_output_path(parser: argparse.ArgumentParser, flag: str, path: str | None) -> None:
    """Refuse an output path (``--plot``, ``--save``, ...) that cannot be written, before any work:
    a folder, a path whose folder does not exist or is not writable, a file that is not writable.
    Nothing is created. Does nothing when ``path`` is None."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not path or os.path.isdir(path):
        problem = "is a folder, not a file name" if path else "is empty"
    elif not os.path.isdir(folder):
        problem = f"cannot be written: its folder {folder!r} does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        problem = "cannot be written: permission denied"
    else:
        return
    parser.error(f"argument {flag}: {path!r} {problem}")


def check_size(
    parser: argparse.ArgumentParser, width: int, depth: int, batch_size: int = 64,
    flags: tuple[str, str] = ("--width", "--depth"),
) -> None:
    """Refuse a network too large for this machine before building it (exit 2 naming the flag):
    :func:`tinynet.experiments.config.check_memory` of an MLP of that ``width`` and ``depth``."""
    try:
        check_memory(Config(width=width, depth=depth, batch_size=batch_size))
    except ConfigError as error:
        parser.error(f"argument {flags[error.field == 'depth']}: {error.reason}")
    except ValueError as error:  # a malformed $TINYNET_MEMORY_LIMIT
        parser.error(str(error))


def check_plot_option(parser: argparse.ArgumentParser, path: str | None) -> None:
    """Refuse ``--plot`` up front (exit 2, with the install hint) when matplotlib is missing, so a long
    run does not end in an ImportError. Does nothing when ``path`` is None."""
    if path is None:
        return
    try:
        require_matplotlib()
    except ImportError as error:
        parser.error(f"argument --plot: {error}")


def save_study_figures(
    path: str | None,
    results: dict[str, Any],
    draw: dict[str, Callable[[Any, str], Any]],
    say: Callable[..., None],
) -> dict[str, str]:
    """Draw ``results[name]`` with ``draw[name]`` into ``FILE-<name>.png`` for every study name in
    ``draw`` that has results (``path`` is the ``--plot FILE.png``; a missing extension is
    ``.png``), saying where each went; returns ``{name: file}`` (empty when ``path`` is None)."""
    figures: dict[str, str] = {}
    if path is None:
        return figures
    stem, ext = os.path.splitext(path)
    for name, plot in draw.items():
        if name in results:
            figures[name] = f"{stem}-{name}{ext or '.png'}"
            plot(results[name], figures[name])
            say(f"plot saved to {figures[name]}")
    return figures


def chosen_studies(
    parser: argparse.ArgumentParser, text: str, studies: Sequence[str], distinct: bool = True
) -> tuple[str, ...]:
    """The studies a ``--study`` value names: ``"all"`` (every one of ``studies``) or a
    comma-separated list of them; an unknown name (and, with ``distinct``, a repeated one) exits 2
    through ``parser.error`` naming the flag and the valid names."""
    chosen = tuple(studies) if text == "all" else tuple(s.strip() for s in text.split(","))
    for name in chosen:
        if name not in studies:
            parser.error(f"argument --study: {unknown_choice('study', name, (*studies, 'all'))}")
    if distinct and len(set(chosen)) != len(chosen):
        parser.error(f"argument --study: studies must be distinct, got {text!r}")
    return chosen


def reporter(json_output: bool) -> Callable[..., None]:
    """``say(line="")``: print a progress or report line, to stderr when stdout carries ``--json``.

    Lines go through :func:`tinynet.training.write_line` (``tqdm.write``), so a line printed while
    progress bars are shown starts on a line of its own and the bars are redrawn below it."""

    def say(line: str = "") -> None:
        write_line(line, file=sys.stderr if json_output else sys.stdout)

    return say


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--threads N`` (default :data:`DEFAULT_THREADS`): the BLAS threads of this process.
    Apply it with :func:`use_threads` right after parsing, before any work."""
    parser.add_argument(
        "--threads", type=int_at_least(1), default=DEFAULT_THREADS,
        help="BLAS threads of this process (numpy's matrix products); sweep workers keep one each",
    )  # fmt: skip


def use_threads(threads: int) -> int | None:
    """Cap the BLAS libraries loaded in this process (numpy's OpenBLAS, MKL, ...) at ``threads``
    threads, and return the count now in force (:func:`blas_threads`; None without a BLAS
    threadpoolctl knows).

    numpy reads ``OPENBLAS_NUM_THREADS`` and friends only when it is loaded, which happened on
    ``import tinynet``; ``threadpoolctl`` changes the running library's setting instead. Worker
    processes of :func:`tinynet.experiments.sweep` keep their own setting (one thread each).

    Raises
    ------
    TypeError, ValueError
        If ``threads`` is not an int >= 1.
    """
    threadpool_limits(limits=check_int("use_threads", "threads", threads, minimum=1), user_api="blas")
    return blas_threads()


def blas_threads() -> int | None:
    """The largest thread count of the BLAS libraries loaded in this process, as they report it
    (None when threadpoolctl finds none)."""
    counts = [int(pool["num_threads"]) for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts) if counts else None


def add_run_arguments(
    parser: argparse.ArgumentParser, defaults: Config, min_epochs: int = 1, seed_help: str = "seed"
) -> None:
    """Add the flags shared by every command that trains one :class:`tinynet.experiments.Config`:
    ``--arch --depth --width --residual --norm --activation --optimizer --lr --momentum --batch-size
    --epochs --seed --data --limit``, with ``defaults`` (a Config) as their defaults;
    ``--depth``/``--width`` not given take ``defaults``' for an MLP and
    :data:`~.architectures.DEFAULT_SIZES` for the others (:func:`config_from_args`)."""
    d, p = defaults, parser
    sizes = ", ".join(f"{arch} {depth}x{width}" for arch, (depth, width) in DEFAULT_SIZES.items())
    p.add_argument("--arch", choices=ARCHITECTURES, default=d.arch,
                   help="the network: an MLP, a small plain CNN, a deep plain CNN without pooling (circular "
                   "padding), a residual MLP, a small residual CNN")
    p.add_argument("--depth", type=int_at_least(0), default=None,
                   help=f"hidden layers (cnn: conv layers; resmlp, resnet: residual blocks); default "
                   f"{d.depth} for mlp, {sizes}")
    p.add_argument("--width", type=int_at_least(1), default=None,
                   help=f"units per hidden layer (cnn, resnet: channels); default {d.width} for mlp")
    p.set_defaults(mlp_depth=d.depth, mlp_width=d.width)
    p.add_argument("--residual", choices=RESIDUAL_INITS, default=d.residual,
                   help="resmlp, resnet: start every block by Fixup (after --init) or ReZero (scale 0)")
    p.add_argument("--norm", choices=NORMS, default=d.norm,
                   help="mlp: a BatchNorm1d or LayerNorm between every hidden Linear and its activation")
    p.add_argument("--activation", default=d.activation, help=", ".join(ACTIVATIONS))
    p.add_argument("--optimizer", default=d.optimizer, help=", ".join(OPTIMIZERS))
    p.add_argument("--lr", type=number, default=None, help="learning rate (default per optimizer)")
    p.add_argument("--momentum", type=number, default=None, help="SGD/RMSprop momentum")
    p.add_argument("--batch-size", type=int_at_least(1), default=d.batch_size)
    p.add_argument("--epochs", type=int_at_least(min_epochs), default=d.epochs)
    p.add_argument("--seed", type=int_at_least(0), default=d.seed, help=seed_help)
    p.add_argument("--data", default=d.data, help="synthetic, mnist, fashion, kmnist or a path")
    p.add_argument("--limit", type=int_at_least(1), default=None, help="use N examples per split")


def config_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Config:
    """The :class:`tinynet.experiments.Config` of every parsed flag that names one of its fields,
    validated; a bad field exits through ``parser.error`` naming its flag. A ``bias_init`` flag
    left at None takes the weight scheme's ``bias_partner`` (``edge_of_chaos``), else zeros."""
    given = {f.name: getattr(args, f.name) for f in fields(Config) if hasattr(args, f.name)}
    for i, name in enumerate(("depth", "width")):  # not given: the architecture's own size
        if name in given and given[name] is None:
            arch = given.get("arch", Config.arch)
            mlp = getattr(args, f"mlp_{name}", getattr(Config, name))
            given[name] = mlp if arch not in DEFAULT_SIZES else DEFAULT_SIZES[arch][i]
    if "bias_init" in given and given["bias_init"] is None:  # not given: the weight scheme's own
        try:
            partner = getattr(init.get(given.get("init", Config.init)), "bias_partner", None)
        except (TypeError, ValueError):
            partner = None  # validate() below names the bad --init
        given["bias_init"] = partner if partner is not None else Config.bias_init
    config = Config(**given)
    try:
        validate(config)
    except ConfigError as error:
        parser.error(f"argument --{error.field.replace('_', '-')}: {error.reason}")
    except ValueError as error:  # a malformed $TINYNET_MEMORY_LIMIT
        parser.error(str(error))
    return config


# ------------------------------------------------------------------------------------- --report
def add_report_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--report FILE.html``: one self-contained, interactive HTML file of the results
    (:mod:`tinynet.report`). Check it with :func:`check_output_path` before any work."""
    parser.add_argument("--report", metavar="FILE.html",
                        help="write an interactive HTML report (one file, opens offline)")  # fmt: skip


def write_run_report(path: str, result: Any, title: str = "train.py") -> str:
    """Write the report of one :class:`tinynet.experiments.ExperimentResult` (its Monitor's records
    with histograms, its training losses) to ``path``; returns the "open it" line."""
    began = time.perf_counter()
    config = result.config
    entry = report.run_entry(
        config.init if config.parametrization is None else config.parametrization,
        result.monitor.to_dict(histograms=True), fit=result.fit.to_dict(), seed=config.seed,
    )  # fmt: skip
    data = report.report_data(
        f"{title}: {entry['label']}", subtitle=describe(config, result.dataset), runs=[entry],
        config=config.to_dict(),
    )  # fmt: skip
    size = report.write_report(path, data)
    return report.open_line(path, size, time.perf_counter() - began)


def write_sweep_report(path: str, result: Any, title: str = "compare_inits.py") -> str:
    """Write the report of a :class:`tinynet.experiments.SweepResult`: the sortable leaderboard,
    every run's loss, and the per-layer views of each scheme whose run kept its records
    (``sweep(..., histories=True)``); returns the "open it" line."""
    began = time.perf_counter()
    summary = result.to_dict()
    runs = [
        report.run_entry(r["init"], r["monitor"], seed=r.get("seed"))
        for r in summary["runs"]
        if r.get("monitor")
    ]
    data = report.report_data(
        f"{title}: {len(result.inits)} schemes × {len(result.seeds)} seed(s)",
        subtitle=describe(result.config), runs=runs,
        sweep=report.sweep_section(summary, columns=COLUMNS), config=result.config.to_dict(),
    )  # fmt: skip
    size = report.write_report(path, data)
    return report.open_line(path, size, time.perf_counter() - began)


def write_study_report(path: str, results: dict[str, Any], title: str, subtitle: str = "") -> str:
    """Write the report of studies' plain results (``{study name: results}``, as the study
    examples print with ``--json``): their charts (:func:`tinynet.report.study_panels`) and the
    results embedded (without wall-clock times, output paths and ``figures``); returns the "open
    it" line."""
    began = time.perf_counter()
    studies = {k: v for k, v in results.items() if k not in ("config", "figures")}
    data = report.report_data(
        title, subtitle=subtitle, panels=report.study_panels(studies), studies=studies,
        config=results.get("config"),
    )  # fmt: skip
    size = report.write_report(path, data)
    return report.open_line(path, size, time.perf_counter() - began)
