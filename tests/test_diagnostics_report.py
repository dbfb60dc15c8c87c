"""The record table: the default columns fit 100 characters for the examples' MLPs, ``wide=True``
shows every column, and the report carries the choice through."""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn
from tinynet.diagnostics import Monitor
from tinynet.diagnostics.report import TABLE_COLUMNS, TABLE_HEADER, WIDE_COLUMNS, record_table

#: the columns of the table before issue 12, all still in the wide one ("grad std" is now "∇act std")
BEFORE = ("layer", "module", "in→out", "pre std", "act", "act mean", "act std", "sat %", "dead %",
          "|∇W|", "grad:data", "upd:data", "distinct", "max cos", "rank")  # fmt: skip


def _mlp(depth: int, width: int, spec: str, activation: type[nn.Activation] = nn.ReLU) -> nn.Sequential:
    layers, fan_in = [], 784
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width, weight_init=spec), activation()]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, 10, weight_init=spec))


def _trained_monitor(model: nn.Sequential) -> Monitor:
    """A Monitor after one pretend optimizer step at a large step number, so every column is filled."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    monitor = Monitor(model, x, rng.integers(0, 10, 128))
    for p in model.parameters():
        p.data = p.data + np.float32(1e-3) * rng.standard_normal(p.shape).astype(np.float32)
    monitor.on_step(28_140)
    monitor.record()
    return monitor


@pytest.mark.parametrize(
    ("depth", "width", "spec", "activation"),
    [
        (6, 128, "he", nn.ReLU),
        (6, 128, "normal(std=0.01)", nn.ReLU),  # tiny figures print in scientific notation
        (6, 128, "xavier", nn.ReLU),
        (2, 256, "xavier", nn.ReLU),  # examples/train.py's default
        (2, 256, "normal(std=1.0)", nn.Tanh),
    ],
)
def test_default_table_fits_100_columns_with_the_back_propagated_signal(depth, width, spec, activation):
    monitor = _trained_monitor(_mlp(depth, width, spec, activation))
    for record in ("first", "last"):
        lines = monitor.table(record).splitlines()
        assert max(len(line) for line in lines) <= 100, "\n".join(lines)
        assert lines[0].split()[:3] == ["layer", "module", "in→out"]
        assert "∇pre std" in lines[0] and len(lines) == 2 + depth + 1 + 1
    report = monitor.report()
    assert max(len(line) for line in report.splitlines()) <= 100, report  # findings wrap too
    findings = report.split("\n\nFindings")[1].splitlines()[1:]
    assert all(line.startswith(("  - ", "    ", "Findings")) for line in findings), findings
    wide = monitor.table(wide=True).splitlines()
    assert max(len(line) for line in wide) > 100  # what the default leaves out


def test_wide_table_shows_every_column():
    tn.set_default_dtype(np.float64)
    monitor = _trained_monitor(_mlp(3, 16, "he"))
    header = monitor.table(wide=True).splitlines()[0]
    columns = [c.strip() for c in header.split("  ") if c.strip()]
    assert tuple(columns) == WIDE_COLUMNS == TABLE_HEADER
    assert set(BEFORE) <= set(columns) and {"∇act std", "∇pre std"} <= set(columns)
    assert set(TABLE_COLUMNS) < set(WIDE_COLUMNS)
    assert monitor.report(wide=True).splitlines()[0] == header
    record = monitor.history[-1]
    rows = monitor.table(wide=True).splitlines()[2:-1]
    # the ∇pre std cells are each layer's out_grad_std, formatted
    index = columns.index("∇pre std")
    cells = [[c for c in row.split("  ") if c.strip()][index].strip() for row in rows]
    assert cells == [f"{r['out_grad_std']:.3g}" if 1e-3 <= r["out_grad_std"] < 1e4
                     else f"{r['out_grad_std']:.2e}" for r in record["layers"]]  # fmt: skip
    summary = monitor.table(wide=True).splitlines()[-1]
    assert "gradient flow" in summary and "|∇W| first/last" in summary and "logit std" in summary


def test_summary_line_names_the_gradient_flow_of_layer_1_over_the_last_hidden_layer():
    monitor = _trained_monitor(_mlp(6, 128, "he"))
    summary = monitor.table().splitlines()[-1]
    flow = monitor.history[-1]["gradient_flow"]
    assert summary.startswith("step 28140  probe loss ")
    assert f"gradient flow {flow:.3g} (∇pre 1/6)" in summary
    shallow = _trained_monitor(_mlp(1, 32, "he"))  # one hidden layer: its own ratio, 1, is not shown
    assert "gradient flow" not in shallow.table().splitlines()[-1]


def test_record_table_of_a_plain_record_without_the_new_keys():
    """A record read back from an older JSON file (no out_grad_std, gradient_flow of another kind)."""
    monitor = _trained_monitor(_mlp(2, 8, "he"))
    record = {k: v for k, v in monitor.history[0].items() if k not in ("weight_grad_ratio", "logit_std")}
    record["layers"] = [{k: v for k, v in row.items() if k != "out_grad_std"} for row in record["layers"]]
    lines = record_table(record, wide=True).splitlines()
    assert len(lines) == 2 + 3 + 1
