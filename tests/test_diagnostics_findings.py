"""find_problems on hand-written records, and the saturation rule read off an activation's mask."""

from __future__ import annotations

import numpy as np
import pytest

from tinynet import nn
from tinynet._text import format_ratio
from tinynet.diagnostics import find_problems
from tinynet.diagnostics.findings import SATURATION_WARN


def _record(modules, layers=None, **extra):
    """A record with the keys find_problems reads; ``modules`` are activation rows."""
    record = {"step": 3, "loss": None, "ln_classes": None, "n_classes": None, "gradient_flow": None,
              "modules": modules, "layers": layers or []}  # fmt: skip
    record.update(extra)
    return record


def _act(kind, layer, saturated=None, dead=None, shape=(10, 5), std=1.0):
    return {"role": "activation", "kind": kind, "layer": layer, "shape": list(shape), "std": std,
            "saturated": saturated, "dead": dead}  # fmt: skip


def test_find_problems_on_a_synthetic_record():
    record = {
        "step": 3, "loss": None, "ln_classes": None, "n_classes": None, "gradient_flow": 1e-7,
        "modules": [],
        "layers": [
            {"layer": 1, "units": 8, "distinct_units": 3, "weight_grad_norm": 1e-7,
             "bias_grad_norm": 0.0, "update_data": 0.5},
            {"layer": 2, "units": 2, "distinct_units": 2, "weight_grad_norm": 1.0,
             "bias_grad_norm": 0.0, "update_data": 0.2},
        ],
    }  # fmt: skip
    kinds = [f.kind for f in find_problems(record)]
    assert kinds.count("symmetry") == 2  # partial symmetry + the explanation
    assert "vanishing" in kinds and "update-ratio" in kinds
    messages = [f.message for f in find_problems(record)]
    assert any("only 3 distinct units of 8" in m for m in messages)
    assert any("gradient norm falls 10⁷×" in m for m in messages)


def test_format_ratio():
    assert format_ratio(1_234_567.0) == "10⁶×"
    assert format_ratio(42.0) == "42×"
    assert format_ratio(float("inf")) == "∞×"


def test_the_saturation_rule_quoted_is_the_one_each_activation_declares():
    assert nn.Tanh.saturation_rule == "|a| > 0.97"
    assert nn.Sigmoid.saturation_rule == "a < 0.03 or a > 0.97"
    assert nn.ReLU.saturation_rule is None

    class OneSided(nn.Activation):
        saturates = True
        saturation_rule = "a > 1.5"

        def forward(self, x):
            return x

        def saturated(self, output):
            return output > 1.5

    record = _record([_act("onesided", 1, saturated=0.6)])
    texts = [f.message for f in find_problems(record, {"onesided": OneSided()})]
    assert any(t.startswith("60% of OneSided units saturated (a > 1.5) — layer 1") for t in texts), texts


def test_saturation_of_a_plain_record_uses_the_built_in_of_that_kind():
    """A record read back from JSON carries only kinds: tanh and sigmoid are named with their rules
    as when the Monitor passes its modules; an unknown kind is named as recorded, without a rule."""
    record = _record([_act("sigmoid", 1, saturated=0.6), _act("tanh", 2, saturated=0.9),
                      _act("tanh", 3, saturated=0.1), _act("mine", 4, saturated=0.5)])  # fmt: skip
    messages = [f.message for f in find_problems(record)]
    # built-ins in the order of nn.ACTIVATIONS (tanh before sigmoid), then the others
    assert [m.split(" units")[0] for m in messages[:3]] == ["50% of tanh", "60% of sigmoid", "50% of mine"]
    assert messages[0].startswith("50% of tanh units saturated (|a| > 0.97) — layer 2 over 20%")
    assert messages[1].startswith("60% of sigmoid units saturated (a < 0.03 or a > 0.97) — layer 1")
    assert messages[2].startswith("50% of mine units saturated — layer 4 over 20%")
    with_modules = find_problems(record, {"tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()})
    assert [f.message for f in with_modules] == messages


def test_saturation_and_dead_findings_use_the_display_name_of_the_given_module():
    class Wobble(nn.Activation):
        display_name = "WOBBLE"
        saturates = True
        can_die = True
        output_range = (-2.0, 2.0)
        saturation_rule = "|a| > 1"

        def forward(self, x):
            return x

        def saturated(self, output):
            return np.abs(output) > 1.0

    record = _record([_act("wobble", 1, saturated=0.3, dead=0.4), _act("relu", 2, dead=0.2)])
    messages = [f.message for f in find_problems(record, {"wobble": Wobble()})]
    assert messages[0].startswith("30% of WOBBLE units saturated (|a| > 1) — layer 1 over 20%")
    assert messages[1].startswith("30% of ReLU/WOBBLE units are dead (≤ 0 on every probe example) —")
    assert "every layer over 10%, worst layer 1 at 40%" in messages[1]


def test_saturation_below_the_threshold_is_not_named():
    record = _record([_act("tanh", 1, saturated=SATURATION_WARN)])  # "over 20%": 20% is not over
    assert [f.kind for f in find_problems(record)] == ["healthy"]


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (1.0, 0.05, "activation std shrinks 20× from layer 1 to layer 2 (1 → 0.05)"),
        (0.01, 1.0, "activation std grows 100× from layer 1 to layer 2 (0.01 → 1)"),
    ],
)
def test_activation_std_across_depth(first, last, text):
    layers = [{"layer": k, "units": None, "distinct_units": None, "weight_grad_norm": None,
               "update_data": None} for k in (1, 2, 3)]  # fmt: skip
    record = _record([_act("identity", 1, std=first), _act("identity", 2, std=last)], layers)
    assert any(f.message.startswith(text) for f in find_problems(record))
