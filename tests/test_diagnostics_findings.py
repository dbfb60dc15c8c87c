"""find_problems on hand-written records: gradient flow, the saturation rule each activation declares,
dead units, activation std and the initial loss against ln C."""

from __future__ import annotations

import math

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


def _layer(number, out_grad_std, units=8, distinct=8, update=None):
    return {"layer": number, "units": units, "distinct_units": distinct, "weight_grad_norm": 1.0,
            "bias_grad_norm": 0.0, "update_data": update, "out_grad_std": out_grad_std}  # fmt: skip


def test_find_problems_on_a_synthetic_record():
    layers = [_layer(1, 1e-7, 8, 3, 0.5), _layer(2, 1.0, 8, 8, 0.2), _layer(3, 0.5, 2, 2, 0.3)]
    record = _record([], layers, gradient_flow=1e-7)
    kinds = [f.kind for f in find_problems(record)]
    assert kinds.count("symmetry") == 2  # partial symmetry + the explanation
    assert "vanishing" in kinds and "update-ratio" in kinds
    messages = [f.message for f in find_problems(record)]
    assert any("only 3 distinct units of 8" in m for m in messages)
    assert any("the back-propagated signal (∇pre std) falls 10⁷× from layer 2" in m for m in messages)


@pytest.mark.parametrize(
    ("signal", "flow", "kind", "text"),
    [
        # vanishing: 10x below the last hidden layer (5) first at layer 3
        ([1e-5, 1e-3, 0.05, 0.5, 1.0, 2.0], 1e-5, "vanishing",
         "gradients vanish toward the input: the back-propagated signal (∇pre std) falls 10⁵× "
         "from layer 5 (last hidden) to layer 1, 10× already by layer 3"),
        # exploding: 10x above it first at layer 4
        ([1e3, 50.0, 20.0, 11.0, 1.0, 0.1], 1e3, "exploding",
         "gradients explode toward the input: the back-propagated signal (∇pre std) grows 10³× "
         "from layer 5 (last hidden) to layer 1, 10× already by layer 4"),
        # only the first layer has fallen 10x: no second clause
        ([1e-3, 0.5, 0.6, 0.8, 1.0, 1.0], 1e-3, "vanishing",
         "gradients vanish toward the input: the back-propagated signal (∇pre std) falls 10³× "
         "from layer 5 (last hidden) to layer 1"),
        ([0.0, 0.5, 0.6, 0.8, 1.0, 1.0], 0.0, "vanishing",
         "no back-propagated signal reaches layer 1: gradients vanish toward the input"),
    ],
)  # fmt: skip
def test_vanishing_and_exploding_name_the_layer_where_the_signal_moved_tenfold(signal, flow, kind, text):
    record = _record([], [_layer(k + 1, v) for k, v in enumerate(signal)], gradient_flow=flow)
    found = [f for f in find_problems(record) if f.kind == kind]
    assert [f.message for f in found] == [text]


@pytest.mark.parametrize("flow", [1.01e-2, 1.0, 0.2, 99.0, None])
def test_gradient_flow_within_a_hundredfold_is_not_named(flow):
    record = _record([], [_layer(k, 1.0) for k in (1, 2, 3)], gradient_flow=flow)
    assert [f.kind for f in find_problems(record)] == ["healthy"]


def _start(loss, logit_std=None, c=10):
    return _record([], [], step=0, loss=loss, n_classes=c, ln_classes=math.log(c), logit_std=logit_std)


def test_initial_loss_is_near_ln_c_only_within_five_percent():
    ok = find_problems(_start(1.04 * math.log(10), 0.3))
    assert [f.kind for f in ok] == ["initial-loss-ok", "healthy"]
    assert ok[0].message == "initial loss 2.39 ≈ ln(10) = 2.3, as for uniform guessing"
    # He on the 6x128 ReLU MLP: 2.8, which the old rule (below 1.5 ln C + 0.5 = 3.95) called ≈ ln 10
    (high,) = find_problems(_start(2.785, 1.18))
    assert high.kind == "initial-loss"
    assert high.message == (
        "initial loss 2.79 is 21% above ln(10) = 2.3 (uniform guessing): the logits start large "
        "(std 1.18 on the probe)"
    )
    (wrong,) = find_problems(_start(2 * math.log(10), 9.5))  # from 2 ln C on: confidently wrong
    assert wrong.message.endswith("is 100% above ln(10) = 2.3 (uniform guessing): the logits start "
                                  "large (std 9.5 on the probe), the network starts confidently wrong")
    (low,) = [f for f in find_problems(_start(0.5, 6.2)) if f.kind == "initial-loss-low"]
    assert low.message.startswith("initial loss 0.5 is 78% below ln(10) = 2.3 (uniform guessing): the logits")
    assert "(std 6.2 on the probe)" in low.message
    assert find_problems(_start(0.5, 6.2))[-1].kind == "healthy"  # not a problem in itself
    no_std = find_problems(_start(3.0))[0].message  # a record without logit_std (older JSON)
    assert no_std.endswith("is 30% above ln(10) = 2.3 (uniform guessing): the logits start large")


def test_format_ratio():
    assert format_ratio(1_234_567.0) == "10⁶×"
    assert format_ratio(42.0) == "42×"
    assert format_ratio(float("inf")) == "∞×"


def test_the_saturation_rule_quoted_is_the_one_each_activation_declares():
    assert nn.Tanh.saturation_rule == "|a| > 0.97"
    assert nn.Sigmoid.saturation_rule == "a < 0.015 or a > 0.985"
    assert nn.Activation.saturation_rule == "φ' < 6% of its maximum"  # the generic rule, true for all

    class OneSided(nn.Activation):
        saturates = True
        saturation_rule = "a > 1.5"

        def forward(self, x):
            return x

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
    assert messages[1].startswith("60% of sigmoid units saturated (a < 0.015 or a > 0.985) — layer 1")
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

    record = _record([_act("wobble", 1, saturated=0.3, dead=0.4), _act("relu", 2, dead=0.2)])
    messages = [f.message for f in find_problems(record, {"wobble": Wobble()})]
    assert messages[0].startswith("30% of WOBBLE units saturated (|a| > 1) — layer 1 over 20%")
    assert messages[1].startswith("30% of ReLU/WOBBLE units are dead (φ' = 0 on every probe example) —")
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
