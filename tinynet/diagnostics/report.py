"""A Monitor record as text: the per-layer table with its summary line, and the report (the table
of the latest record followed by the findings at initialization and at the latest step).

:meth:`tinynet.diagnostics.Monitor.table` and :meth:`~tinynet.diagnostics.Monitor.report` delegate
here. Numbers go through :mod:`tinynet._text` (``format_number``, ``format_percent``) and the table
through its one renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._text import format_number, format_percent, render_table
from ..nn.activation import Activation
from .findings import ActivationLookup, find_problems

__all__ = ["TABLE_HEADER", "record_table", "report_text"]

#: the table's columns; "module" and "act" are left-aligned, the numbers right-aligned
TABLE_HEADER = (
    "layer", "module", "in→out", "pre std", "act", "act mean", "act std", "sat %", "dead %",
    "grad std", "|∇W|", "grad:data", "upd:data", "distinct", "max cos", "rank",
)  # fmt: skip
_LEFT = (1, 4)


def record_table(record: dict[str, Any], activations: Mapping[str, Activation] | None = None) -> str:
    """Aligned text table of one record, one row per layer, then a summary line.

    Columns (:data:`TABLE_HEADER`): layer, module, fans, pre-activation std, the activation after
    the layer (its ``display_name``), its mean and std, % saturated, % dead, std of
    dL/d(activation) (of the layer output when no activation follows), weight-gradient norm,
    grad:data, latest update:data (log10), distinct units / units, max cosine, rank. The summary
    gives the step, the probe loss against ``ln C``, the probe accuracy and the gradient flow.
    ``activations`` maps a kind to its module, for the display names (see
    :func:`~tinynet.diagnostics.findings.find_problems`).
    """
    known = ActivationLookup(activations)
    pres = {m["layer"]: m for m in record["modules"] if m["role"] == "layer"}
    acts: dict[int, dict[str, Any]] = {}
    for m in record["modules"]:
        if m["role"] == "activation":
            acts[m["layer"]] = m  # the last activation of each layer's group
    rows = [_row(layer, pres.get(layer["layer"], {}), acts.get(layer["layer"], {}), known)
            for layer in record["layers"]]  # fmt: skip
    table = render_table(TABLE_HEADER, rows, left=_LEFT)
    return table + "\n" + _summary(record)


def _row(
    layer: dict[str, Any], pre: dict[str, Any], act: dict[str, Any], known: ActivationLookup
) -> list[str]:
    out = act if act else pre
    return [
        str(layer["layer"]),
        f"{layer['name']} {layer['type']}",
        f"{layer['fan_in']}→{layer['fan_out']}",
        format_number(pre.get("std")),
        known.display(act["kind"]) if act else "-",
        format_number(act.get("mean")) if act else "-",
        format_number(act.get("std")) if act else "-",
        format_percent(act.get("saturated")),
        format_percent(act.get("dead")),
        format_number(out.get("grad_std")),
        format_number(layer["weight_grad_norm"]),
        format_number(layer["grad_data"]),
        "-" if layer["update_data"] is None else f"{layer['update_data']:.2f}",
        "-" if layer["distinct_units"] is None else f"{layer['distinct_units']}/{layer['units']}",
        format_number(layer["max_cosine"]),
        "-" if layer["rank"] is None else str(layer["rank"]),
    ]


def _summary(record: dict[str, Any]) -> str:
    parts = [f"step {record['step']}"]
    if record["loss"] is not None:
        parts.append(f"probe loss {record['loss']:.4g}")
        if record["ln_classes"] is not None:
            parts.append(f"(ln {record['n_classes']} = {record['ln_classes']:.4g})")
    if record["accuracy"] is not None:
        parts.append(f"probe accuracy {100 * record['accuracy']:.1f}%")
    if record["gradient_flow"] is not None:
        parts.append(f"gradient flow first/last {record['gradient_flow']:.3g}")
    return "  ".join(parts)


def report_text(
    first: dict[str, Any],
    last: dict[str, Any],
    activations: Mapping[str, Activation] | None = None,
) -> str:
    """The table of ``last``, then the findings of ``first`` ("at initialization" when it is step
    0) and, when it is another record, of ``last``, one ``"  - message"`` line each."""
    parts = [record_table(last, activations), ""]
    sections = [(first, "at initialization" if first["step"] == 0 else f"at step {first['step']}")]
    if last is not first:
        sections.append((last, f"at step {last['step']}"))
    for record, title in sections:
        parts.append(f"Findings {title}:")
        parts.extend(f"  - {f.message}" for f in find_problems(record, activations))
    return "\n".join(parts)
