"""Numbers and tables as text: the one number formatter, percent and ratio formats, and the one table
renderer (aligned plain text or Markdown) behind every table tinynet prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "format_bytes", "format_number", "format_percent", "format_ratio", "format_signed", "plural",
    "render_table",
]  # fmt: skip

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_number(value: Any) -> str:
    """Three significant digits in ``[1e-3, 1e4)``, scientific notation outside; ``"-"`` for None,
    ``"0"`` for zero, ``"nan"``/``"inf"`` as such."""
    if value is None:
        return "-"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.2e}"


def format_percent(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage with ``digits`` decimals (``0.123`` → ``"12.3"``); ``"-"`` for None."""
    return "-" if value is None else f"{100 * float(value):.{digits}f}"


def format_ratio(ratio: float) -> str:
    """``1234567`` → ``"10⁶×"``; ratios under 1000 are printed plainly (``"42×"``); ``"∞×"`` for
    a non-finite ratio."""
    if not math.isfinite(ratio):
        return "∞×"
    if ratio < 1000:
        return f"{ratio:.3g}×"
    return "10" + str(round(math.log10(ratio))).translate(_SUPERSCRIPT) + "×"


def format_signed(value: float, digits: int = 2) -> str:
    """``value`` with its sign and ``digits`` decimals, ``"+0.00"`` (never ``"-0.00"``) for a value
    that rounds to zero."""
    return f"{round(float(value), digits) + 0.0:+.{digits}f}"  # + 0.0 turns -0.0 into 0.0


def format_bytes(n: float) -> str:
    """A size in binary units with three significant digits: ``1536`` → ``"1.5 KiB"``,
    ``3 * 2**30`` → ``"3 GiB"``; plain bytes under 1 KiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")


def plural(n: int, word: str) -> str:
    """``"1 epoch"``, ``"3 epochs"``."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    left: Sequence[int] = (),
    markdown: bool = False,
) -> str:
    """Render string cells as an aligned text table (a dashed rule under the header, two spaces
    between columns, columns in ``left`` left-aligned and the others right-aligned, trailing blanks
    stripped) or, with ``markdown=True``, as a Markdown table with the same alignment.

    Raises
    ------
    ValueError
        If a row does not have one cell per header column.
    """
    lines = [list(header), *(list(row) for row in rows)]
    for row in lines[1:]:
        if len(row) != len(header):
            raise ValueError(f"render_table: a row has {len(row)} cells for {len(header)} columns")
    if markdown:
        out = ["| " + " | ".join(lines[0]) + " |"]
        out.append("|" + "|".join(":---" if i in left else "---:" for i in range(len(header))) + "|")
        out += ["| " + " | ".join(line) + " |" for line in lines[1:]]
        return "\n".join(out)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for k, line in enumerate(lines):
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
