"""A Monitor record as text: the per-layer table with its summary line, and the report (the table
of the latest record followed by the findings at initialization and at the latest step).

:meth:`tinynet.diagnostics.Monitor.table` and :meth:`~tinynet.diagnostics.Monitor.report` delegate
here. The default table keeps the columns that fit a 100-column terminal for the usual MLPs
(:data:`TABLE_COLUMNS`); ``wide=True`` shows every column (:data:`WIDE_COLUMNS`). Numbers go through
:mod:`tinynet._text` (``format_number``, ``format_percent``) and the table through its one renderer.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from .._text import format_number, format_percent, render_table
from ..nn.activation import Activation
from .findings import ActivationLookup, find_problems

__all__ = ["TABLE_COLUMNS", "TABLE_HEADER", "WIDE_COLUMNS", "record_table", "report_text"]

#: a cell from (layer row, its pre-activation module row, its activation module row, lookup)
_Cell = Callable[[dict[str, Any], dict[str, Any], dict[str, Any], ActivationLookup], str]


def _of_act(key: str, fmt: Callable[[Any], str]) -> _Cell:
    return lambda layer, pre, act, known: fmt(act.get(key)) if act else "-"


def _optional(value: Any, fmt: Callable[[Any], str]) -> str:
    return "-" if value is None else fmt(value)


def _sizes(layer: dict[str, Any]) -> str:
    """``"784→256"`` (the fans) for a dense layer; ``"1→16 3×3"`` (channels and kernel) for a
    channels-last kernel ``(k1, ..., in, out)``, whose fans would read ``9→144``."""
    shape = layer.get("weight_shape") or []
    if len(shape) > 2:
        return f"{shape[-2]}→{shape[-1]} " + "×".join(str(k) for k in shape[:-2])
    return f"{layer['fan_in']}→{layer['fan_out']}"


#: every column: header -> cell; "module" and "act" are left-aligned, the numbers right-aligned
_COLUMNS: dict[str, _Cell] = {
    "layer": lambda layer, pre, act, known: str(layer["layer"]),
    "module": lambda layer, pre, act, known: f"{layer['name']} {layer['type']}",
    "in→out": lambda layer, pre, act, known: _sizes(layer),
    "pre std": lambda layer, pre, act, known: format_number(pre.get("std")),
    "mf pre": lambda layer, pre, act, known: format_number(layer.get("pre_std_theory")),
    "act": lambda layer, pre, act, known: known.display(act["kind"]) if act else "-",
    "act mean": _of_act("mean", format_number),
    "act std": _of_act("std", format_number),
    "mf act": lambda layer, pre, act, known: format_number(layer.get("act_std_theory")),
    "sat %": lambda layer, pre, act, known: format_percent(act.get("saturated")),
    "dead %": lambda layer, pre, act, known: format_percent(act.get("dead")),
    "∇act std": _of_act("grad_std", format_number),
    "∇pre std": lambda layer, pre, act, known: format_number(layer.get("out_grad_std")),
    "|∇W|": lambda layer, pre, act, known: format_number(layer["weight_grad_norm"]),
    "grad:data": lambda layer, pre, act, known: format_number(layer["grad_data"]),
    "upd:data": lambda layer, pre, act, known: _optional(layer["update_data"], "{:.2f}".format),
    "distinct": lambda layer, pre, act, known: _optional(
        layer["distinct_units"], lambda d: f"{d}/{layer['units']}"
    ),
    "max cos": lambda layer, pre, act, known: format_number(layer["max_cosine"]),
    "rank": lambda layer, pre, act, known: _optional(layer["rank"], str),
}
_LEFT = ("module", "act")

#: the columns of ``wide=True``: every one
WIDE_COLUMNS: tuple[str, ...] = tuple(_COLUMNS)
#: the default columns, which fit 100 characters for a 784-input MLP of width up to 9999
TABLE_COLUMNS: tuple[str, ...] = (
    "layer", "module", "in→out", "pre std", "act", "act std", "sat %", "dead %", "∇pre std",
    "upd:data", "distinct",
)  # fmt: skip
#: the wide table's header (the name kept from before the default table was narrowed)
TABLE_HEADER = WIDE_COLUMNS


def record_table(
    record: dict[str, Any],
    activations: Mapping[str, Activation] | None = None,
    *,
    wide: bool = False,
) -> str:
    """Aligned text table of one record, one row per layer, then a summary line.

    Columns (:data:`WIDE_COLUMNS`): layer, module, fans, pre-activation std, the activation after
    the layer (its ``display_name``), its mean and std, the mean-field prediction of the two stds
    (``mf pre``, ``mf act``: ``pre_std_theory``, ``act_std_theory``), % saturated, % dead, ``∇act std`` =
    std(dL/d activation output), ``∇pre std`` = the back-propagated signal std(dL/d layer output)
    (``out_grad_std``), weight-gradient norm, grad:data, latest update:data (log10), distinct units /
    units, max cosine, rank. By default only :data:`TABLE_COLUMNS`, which fit 100 characters for
    the 784-input MLPs of the examples; ``wide=True`` shows all. The summary gives the step, the
    probe loss against ``ln C``, the probe accuracy and the gradient flow (wide: also the
    weight-gradient ratio and the std of the logits). ``activations`` maps a kind to its module, for
    the display names (see :func:`~tinynet.diagnostics.findings.find_problems`).
    """
    known = ActivationLookup(activations)
    pres = {m["layer"]: m for m in record["modules"] if m["role"] == "layer"}
    acts: dict[int, dict[str, Any]] = {}
    for m in record["modules"]:
        if m["role"] == "activation":
            acts[m["layer"]] = m  # the last activation of each layer's group
    header = WIDE_COLUMNS if wide else TABLE_COLUMNS
    rows = []
    for layer in record["layers"]:
        pre, act = pres.get(layer["layer"], {}), acts.get(layer["layer"], {})
        rows.append([_COLUMNS[c](layer, pre, act, known) for c in header])
    left = [i for i, c in enumerate(header) if c in _LEFT]
    return render_table(header, rows, left=left) + "\n" + _summary(record, wide)


def _summary(record: dict[str, Any], wide: bool) -> str:
    parts = [f"step {record['step']}"]
    if record["loss"] is not None:
        loss = f"probe loss {record['loss']:.4g}"
        if record["ln_classes"] is not None:
            loss += f" (ln {record['n_classes']} = {record['ln_classes']:.4g})"
        if record["accuracy"] is not None:
            loss += f", accuracy {100 * record['accuracy']:.1f}%"
        parts.append(loss)
    elif record["accuracy"] is not None:
        parts.append(f"probe accuracy {100 * record['accuracy']:.1f}%")
    flow = record.get("gradient_flow")
    if flow is not None and len(record["layers"]) > 2:  # layer 1 over the last hidden layer (not 1 itself)
        parts.append(f"gradient flow {format_number(flow)} (∇pre 1/{len(record['layers']) - 1})")
    if wide and record.get("weight_grad_ratio") is not None:
        parts.append(f"|∇W| first/last {record['weight_grad_ratio']:.3g}")
    if wide and record.get("logit_std") is not None:
        parts.append(f"logit std {format_number(record['logit_std'])}")
    return "  ".join(parts)


def report_text(
    first: dict[str, Any],
    last: dict[str, Any],
    activations: Mapping[str, Activation] | None = None,
    *,
    wide: bool = False,
    width: int = 100,
) -> str:
    """The table of ``last`` (every column with ``wide=True``), then the findings of ``first`` ("at
    initialization" when it is step 0) and, when it is another record, of ``last``: each finding a
    ``"  - message"`` item, wrapped at word boundaries to ``width`` columns (continuation lines
    indented under the message)."""
    parts = [record_table(last, activations, wide=wide), ""]
    sections = [(first, "at initialization" if first["step"] == 0 else f"at step {first['step']}")]
    if last is not first:
        sections.append((last, f"at step {last['step']}"))
    for record, title in sections:
        parts.append(f"Findings {title}:")
        parts.extend(
            textwrap.fill(f.message, width, initial_indent="  - ", subsequent_indent="    ")
            for f in find_problems(record, activations)
        )
    return "\n".join(parts)
