"""The self-contained, interactive HTML report: one file, inline CSS, JS and SVG, no network.

    from tinynet import report
    data = report.report_data("xavier on the digits", runs=[report.run_entry("xavier",
        monitor.to_dict(histograms=True), fit=fit_result.to_dict())])
    report.write_report("run.html", data)

The report only reads plain records (what the Monitor, the sweep and the studies return as dicts):
:mod:`tinynet.report.data` shapes them, :mod:`tinynet.report.studies` turns studies' results into
charts, :mod:`tinynet.report.html` writes the page (its script and style are the package files
``charts.js``, ``report.js`` and ``report.css``, inlined). The same records give the same bytes.
"""

from __future__ import annotations

import os

from .data import (
    FORMAT_VERSION,
    compact_histograms,
    expand_histograms,
    panel,
    report_data,
    run_entry,
    series,
    strip_outputs,
    strip_timings,
    sweep_section,
)
from .html import (
    CSP,
    DATA_ID,
    SCRIPTS,
    asset,
    content_security_policy,
    read_data,
    render,
    script,
    write_report,
)
from .studies import study_panels

__all__ = [
    "CSP",
    "DATA_ID",
    "FORMAT_VERSION",
    "SCRIPTS",
    "asset",
    "compact_histograms",
    "content_security_policy",
    "expand_histograms",
    "open_line",
    "panel",
    "read_data",
    "render",
    "report_data",
    "run_entry",
    "script",
    "series",
    "strip_outputs",
    "strip_timings",
    "study_panels",
    "sweep_section",
    "write_report",
]


def open_line(path: str, size: int, seconds: float | None = None) -> str:
    """The line an example prints after writing a report: where it is, how big, how long it took to
    build (``seconds``, when given), how to open it."""
    where = os.path.abspath(path)
    took = "" if seconds is None else f", built in {seconds:.1f} s"
    return f"report written to {path} ({size / 1e6:.2f} MB{took}); open it: file://{where}"
