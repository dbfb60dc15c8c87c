"""argparse value types shared by the examples: a bad value names the flag and what is valid."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


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
    """An argparse ``type`` accepting any float."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def positive_number(text: str) -> float:
    """An argparse ``type`` accepting floats > 0."""
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def check_plot_option(parser: argparse.ArgumentParser, path: str | None) -> None:
    """Refuse ``--plot`` up front (exit 2, with the install hint) when matplotlib is missing, so a long
    run does not end in an ImportError. Does nothing when ``path`` is None."""
    if path is None:
        return
    from .plotting import require_matplotlib

    try:
        require_matplotlib()
    except ImportError as error:
        parser.error(f"argument --plot: {error}")


def reporter(json_output: bool) -> Callable[..., None]:
    """``say(line="")``: print a progress or report line, to stderr when stdout carries ``--json``."""
    out = sys.stderr if json_output else sys.stdout

    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    return say
