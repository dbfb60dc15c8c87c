"""What an initialization does to a network, measured layer by layer.

- :mod:`~tinynet.diagnostics.metrics`: the array figures (distinct units, max cosine, numerical
  rank, saturated and dead shares, update:data ratio, gradient flow, histograms);
- :mod:`~tinynet.diagnostics.monitor`: :class:`Monitor`, which records them on a probe batch through
  forward hooks;
- :mod:`~tinynet.diagnostics.findings`: :func:`find_problems`, a record in plain words, and the
  thresholds it uses;
- :mod:`~tinynet.diagnostics.report`: a record as a text table, and the report.

See ``docs/diagnostics.md`` for each figure and how to read it.
"""

from __future__ import annotations

from .findings import Finding, find_problems
from .metrics import (
    dead_fraction,
    distinct_units,
    gradient_flow,
    histogram,
    max_cosine,
    numerical_rank,
    saturation_fraction,
    update_ratio,
)
from .monitor import Monitor, Tracked

__all__ = [
    "Finding",
    "Monitor",
    "Tracked",
    "dead_fraction",
    "distinct_units",
    "find_problems",
    "gradient_flow",
    "histogram",
    "max_cosine",
    "numerical_rank",
    "saturation_fraction",
    "update_ratio",
]
