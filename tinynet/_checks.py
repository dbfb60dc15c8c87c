"""Argument validation, in one place, with one rule for the error type.

A value of the wrong *type* raises ``TypeError``; a value of the right type but outside what is
valid raises ``ValueError``. Every message names the function or class (``owner``), the argument,
what is valid and what was received: ``"fit: epochs must be an int >= 0, got '3'"``. An unknown
name lists the valid names and the closest match.

``bool`` is never accepted where a number is asked for, although Python makes it an ``int``:
``Linear(True, 3)`` is a mistake, not one input feature.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "check_choice",
    "check_int",
    "check_real",
    "closest",
    "is_int",
    "is_real",
    "unknown_choice",
]


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer that is not a ``bool``."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """True for a Python or numpy integer or float that is not a ``bool``."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _bounds(minimum: float | None, maximum: float | None, strict_min: bool, strict_max: bool) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if strict_min else '>='} {minimum}")
    if maximum is not None:
        parts.append(f"{'<' if strict_max else '<='} {maximum}")
    return " and ".join(parts)


def check_int(
    owner: str,
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``value`` as a Python int, checked against ``minimum <= value <= maximum`` (either optional).

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``bool`` included).
    ValueError
        If it is out of range.
    """
    bounds = _bounds(minimum, maximum, False, False)
    what = f"an int {bounds}" if bounds else "an int"
    if not is_int(value):
        raise TypeError(f"{owner}: {name} must be {what}, got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
    return int(value)


def check_real(
    owner: str,
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
    finite: bool = True,
) -> float:
    """``value`` as a Python float, checked to be finite (unless ``finite=False``: then only NaN is
    refused) and within the bounds; ``strict_min``/``strict_max`` exclude the bound itself.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (``bool`` included).
    ValueError
        If it is NaN, infinite (with ``finite=True``), an int beyond the float range, or out of range.
    """
    bounds = _bounds(minimum, maximum, strict_min, strict_max)
    what = ("a finite number" if finite else "a number") + (f" {bounds}" if bounds else "")
    if not is_real(value):
        raise TypeError(f"{owner}: {name} must be {what}, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range, e.g. 10**400
        digits = int(int(value).bit_length() * math.log10(2)) + 1  # str() of it may be refused
        raise ValueError(f"{owner}: {name} must be {what}, got an int of about {digits} digits") from None
    bad = math.isnan(number) or (finite and math.isinf(number))
    if minimum is not None:
        bad = bad or number < minimum or (strict_min and number == minimum)
    if maximum is not None:
        bad = bad or number > maximum or (strict_max and number == maximum)
    if bad:
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
    return number


def closest(value: str, valid: Iterable[str], cutoff: float = 0.5) -> str | None:
    """The valid name most similar to ``value`` (case-insensitive difflib ratio >= ``cutoff``), or None."""
    lowered = {v.lower(): v for v in valid}
    match = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None


def unknown_choice(what: str, value: Any, valid: Iterable[str]) -> ValueError:
    """The ``ValueError`` for an unknown name: ``unknown <what> <value>; valid: a, b, c (closest
    match: 'b')``."""
    names = list(valid)
    hint = closest(str(value), names)
    text = f"unknown {what} {value!r}; valid: {', '.join(names)}"
    if hint is not None:
        text += f" (closest match: {hint!r})"
    return ValueError(text)


def check_choice(owner: str, name: str, value: Any, valid: Iterable[str]) -> str:
    """``value`` if it is one of ``valid``; else a ``TypeError`` (not a string) or a ``ValueError``
    that lists the valid values and the closest match."""
    names = list(valid)
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {name} must be one of {', '.join(map(repr, names))}, got {value!r}")
    if value not in names:
        hint = closest(value, names)
        text = f"{owner}: {name} must be one of {', '.join(map(repr, names))}, got {value!r}"
        raise ValueError(text + (f" (closest match: {hint!r})" if hint else ""))
    return value
