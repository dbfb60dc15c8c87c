"""What one Monitor record shows, named in plain words.

:func:`find_problems` runs every check below on a record and returns :class:`Finding` objects, most
severe first. The thresholds are the module constants of this file (``docs/diagnostics.md`` lists
them with the findings they trigger).

Activations are described by their own declarations: the name in a finding is the activation's
``display_name`` and the saturation rule quoted is its ``saturation_rule``. A record is plain data
that only holds each activation's ``kind`` (its ``name``), so :func:`find_problems` takes the
observed activation modules by kind (the Monitor passes its own); a kind without a module falls back
to the built-in of that name in :data:`tinynet.nn.activation.ACTIVATIONS`, if there is one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._text import format_number, format_ratio
from ..nn.activation import ACTIVATIONS, Activation, make_activation

__all__ = [
    "DEAD_WARN",
    "FLOW_STEP",
    "FLOW_WARN",
    "LOSS_CONFIDENT",
    "LOSS_TOLERANCE",
    "PARTIAL_SYMMETRY",
    "SATURATION_WARN",
    "STD_RATIO_WARN",
    "UPDATE_HIGH",
    "UPDATE_LOW",
    "Finding",
    "find_problems",
]

#: a saturating activation layer with more than this share of saturated outputs is named
SATURATION_WARN = 0.2
#: an activation layer that can die with more than this share of dead units is named
DEAD_WARN = 0.1
#: gradient flow (back-propagated signal, first/last hidden layer) below 1/FLOW_WARN is vanishing,
#: above FLOW_WARN exploding
FLOW_WARN = 100.0
#: a vanishing (exploding) finding names the layer where the signal has fallen (risen) this much
#: relative to the last hidden layer
FLOW_STEP = 10.0
#: last hidden activation std below 1/STD_RATIO_WARN or above STD_RATIO_WARN times the first
STD_RATIO_WARN = 10.0
#: a layer with fewer distinct units than this share of its units is partially symmetric
PARTIAL_SYMMETRY = 0.5
#: an initial loss within this relative distance of ln C is "≈ ln C" (uniform guessing)
LOSS_TOLERANCE = 0.05
#: an initial loss of LOSS_CONFIDENT * ln C or more starts "confidently wrong"
LOSS_CONFIDENT = 2.0
#: median log10 update:data ratio above UPDATE_HIGH (too fast) or below UPDATE_LOW (too slow)
UPDATE_HIGH = -1.0
UPDATE_LOW = -5.0


@dataclass
class Finding:
    """One plain-words observation; ``kind`` is a short tag such as ``"symmetry"``."""

    kind: str
    message: str
    layer: int | None = None

    def __str__(self) -> str:
        return self.message


def find_problems(
    record: dict[str, Any], activations: Mapping[str, Activation] | None = None
) -> list[Finding]:
    """Name what one Monitor record shows, in plain words, most severe first.

    Looks for: symmetry (layers with 1 distinct unit, or fewer than half their units distinct);
    weight gradients that are exactly zero; vanishing or exploding gradients (``gradient_flow``, the
    back-propagated signal at the first over the last hidden layer, below 1/100 or above 100, naming
    the layer where it has fallen or risen 10×); saturated units of activations that saturate (over
    20% of a layer); dead units of activations that can die (over 10% of a layer); activation std
    shrinking or growing over 10× from the first to the last hidden layer; at step 0, the initial
    loss against ``ln C`` (within 5%, or how far above with the logits' std); update:data ratios
    above 10⁻¹ or below 10⁻⁵. Says so when it finds none of these.

    ``activations`` maps an activation kind of the record (``record["modules"][i]["kind"]``) to the
    module that produced it; it supplies the display name and the saturation rule.
    """
    known = ActivationLookup(activations)
    found: list[Finding] = []
    found += _symmetry(record)
    found += _gradients(record)
    found += _saturation(record, known)
    found += _dead(record, known)
    found += _activation_std(record)
    found += _initial_loss(record)
    found += _updates(record)
    if all(f.kind in ("initial-loss-ok", "initial-loss-low") for f in found):
        found.append(
            Finding(
                "healthy",
                "no symmetry, saturation, dead units or vanishing/exploding gradients detected",
            )
        )
    return found


class ActivationLookup:
    """The activation module of each kind of a record: the given modules, else the built-in of that
    name (None for neither); ``display(kind)`` is its ``display_name``, or the kind itself."""

    def __init__(self, given: Mapping[str, Activation] | None) -> None:
        self._modules: dict[str, Activation | None] = dict(given or {})

    def get(self, kind: str) -> Activation | None:
        if kind not in self._modules:
            self._modules[kind] = make_activation(kind) if kind in ACTIVATIONS else None
        return self._modules[kind]

    def display(self, kind: str) -> str:
        module = self.get(kind)
        return kind if module is None else module.display_name


def _layer_list(numbers: Iterable[int]) -> str:
    """``"layer 3"``, ``"layers 2–5"`` (more than two consecutive) or ``"layers 1, 4"``."""
    numbers = sorted(set(numbers))
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"layers {numbers[0]}–{numbers[-1]}"
    if len(numbers) == 1:
        return f"layer {numbers[0]}"
    return "layers " + ", ".join(map(str, numbers))


def _symmetry(record: dict[str, Any]) -> list[Finding]:
    found = []
    layers = record["layers"]
    for i, row in enumerate(layers):
        units, distinct, number = row["units"], row["distinct_units"], row["layer"]
        if distinct is None or units is None or units < 2:
            continue
        if distinct == 1:
            what = (
                "every hidden unit is identical (symmetry)"
                if i < len(layers) - 1
                else "every output unit has the same weights (symmetry)"
            )
            text = f"layer {number}: 1 distinct unit of {units} — {what}"
            found.append(Finding("symmetry", text, number))
        elif distinct < PARTIAL_SYMMETRY * units:
            text = (
                f"layer {number}: only {distinct} distinct units of {units} — units are duplicated "
                "(partial symmetry)"
            )
            found.append(Finding("symmetry", text, number))
    if found:
        text = (
            "identical units get identical gradients and stay identical: gradient descent cannot "
            "break the symmetry — initialize the weights randomly (e.g. --init xavier or he)"
        )
        found.append(Finding("symmetry", text))
    return found


def _gradients(record: dict[str, Any]) -> list[Finding]:
    layers = record["layers"]
    if not layers or any(row["weight_grad_norm"] is None for row in layers):
        return []
    found = []
    zero = [row["layer"] for row in layers if row["weight_grad_norm"] == 0]
    if len(zero) == len(layers):
        bias_moves = any((row["bias_grad_norm"] or 0) > 0 for row in layers)
        who = "only the biases can learn" if bias_moves else "nothing can learn"
        found.append(Finding("zero-gradient", f"every weight gradient is exactly 0 — {who}"))
    elif zero:
        text = f"{_layer_list(zero)}: weight gradient exactly 0 — cannot learn"
        found.append(Finding("zero-gradient", text))
    return found + _flow(record)


def _signal_step(layers: list[dict[str, Any]], falls: bool) -> int | None:
    """The highest-numbered layer before the last hidden one whose back-propagated signal is
    FLOW_STEP times smaller (``falls``) or larger than the last hidden layer's."""
    reference = layers[-2].get("out_grad_std")
    if not reference:
        return None
    for row in reversed(layers[:-2]):
        value = row.get("out_grad_std")
        if value is not None and (value * FLOW_STEP < reference if falls else value > FLOW_STEP * reference):
            return int(row["layer"])
    return None


def _flow(record: dict[str, Any]) -> list[Finding]:
    """Vanishing or exploding gradients, from the back-propagated signal ratio ``gradient_flow``."""
    flow, layers = record.get("gradient_flow"), record["layers"]
    if flow is None or len(layers) < 2:
        return []
    first, last = layers[0]["layer"], layers[-2]["layer"]
    span = f"from layer {last} (last hidden) to layer {first}"
    what = "the back-propagated signal (∇pre std)"
    if flow == 0:
        text = f"no back-propagated signal reaches layer {first}: gradients vanish toward the input"
        return [Finding("vanishing", text, first)]
    if flow < 1.0 / FLOW_WARN or flow > FLOW_WARN:
        falls = flow < 1.0
        step = _signal_step(layers, falls)
        ratio = format_ratio(1.0 / flow if falls else flow)
        text = (
            f"gradients {'vanish' if falls else 'explode'} toward the input: {what} "
            f"{'falls' if falls else 'grows'} {ratio} {span}"
        )
        if step is not None and step != first:
            text += f", {format_ratio(FLOW_STEP)} already by layer {step}"
        return [Finding("vanishing" if falls else "exploding", text, step)]
    return []


def _observed(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The activation rows of the record that saw an output."""
    return [m for m in record["modules"] if m["role"] == "activation" and m["std"] is not None]


def _by_kind(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    """Rows with a ``key`` figure, grouped by kind: built-in kinds in the order of
    ``ACTIVATIONS``, then the others in order of appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in rows:
        if m[key] is not None:
            groups.setdefault(m["kind"], []).append(m)
    order = list(ACTIVATIONS)
    ranked = sorted(groups, key=lambda kind: order.index(kind) if kind in order else len(order))
    return {kind: groups[kind] for kind in ranked}


def _weighted(rows: list[dict[str, Any]], key: str, per_example: bool) -> float:
    """Mean of ``key`` over modules, weighted by their number of elements (or units)."""
    sizes = [float(np.prod(m["shape"][1:] if per_example else m["shape"])) for m in rows]
    return float(np.dot(sizes, [m[key] for m in rows]) / max(sum(sizes), 1.0))


def _saturation(record: dict[str, Any], known: ActivationLookup) -> list[Finding]:
    found = []
    for kind, rows in _by_kind(_observed(record), "saturated").items():
        hot = [m for m in rows if m["saturated"] > SATURATION_WARN]
        if not hot:
            continue
        worst = max(hot, key=lambda m: m["saturated"])
        module = known.get(kind)
        rule = None if module is None else module.saturation_rule
        text = (
            f"{100 * _weighted(rows, 'saturated', False):.0f}% of {known.display(kind)} units "
            f"saturated{f' ({rule})' if rule else ''} — {_layer_list(m['layer'] for m in hot)} over "
            f"{100 * SATURATION_WARN:.0f}%, worst layer {worst['layer']} at "
            f"{100 * worst['saturated']:.0f}%; their local gradient is nearly 0 (weights too large "
            "for this activation?)"
        )
        found.append(Finding("saturation", text))
    return found


def _dead(record: dict[str, Any], known: ActivationLookup) -> list[Finding]:
    rows = [m for m in _observed(record) if m["dead"] is not None]
    dead = [m for m in rows if m["dead"] > DEAD_WARN]
    if not dead:
        return []
    worst = max(dead, key=lambda m: m["dead"])
    names = "/".join(sorted({known.display(m["kind"]) for m in dead}))
    where = "every layer" if len(dead) == len(rows) > 1 else _layer_list(m["layer"] for m in dead)
    text = (
        f"{100 * _weighted(rows, 'dead', True):.0f}% of {names} units are dead (φ' = 0 on every probe "
        f"example) — {where} over {100 * DEAD_WARN:.0f}%, worst layer {worst['layer']} at "
        f"{100 * worst['dead']:.0f}%; they pass no gradient"
    )
    return [Finding("dead", text)]


def _hidden_activation_std(record: dict[str, Any]) -> list[tuple[int, float]]:
    """(layer, std) of the last activation of each hidden layer (all but the output layer)."""
    n = len(record["layers"])
    by_layer: dict[int, float] = {}
    for m in record["modules"]:
        if m["role"] == "activation" and m["std"] is not None and 1 <= m["layer"] < n:
            by_layer[m["layer"]] = m["std"]
    return sorted(by_layer.items())


def _activation_std(record: dict[str, Any]) -> list[Finding]:
    stds = _hidden_activation_std(record)
    if len(stds) < 2:
        return []
    (l0, s0), (l1, s1) = stds[0], stds[-1]
    if not s0 > 0:
        return []
    span = f"from layer {l0} to layer {l1} ({format_number(s0)} → {format_number(s1)})"
    if s1 < s0 / STD_RATIO_WARN:
        how = format_ratio(s0 / s1) if s1 > 0 else "to 0"
        text = f"activation std shrinks {how} {span}: the signal fades with depth"
        return [Finding("activation-std", text)]
    if s1 > s0 * STD_RATIO_WARN:
        grows = format_ratio(s1 / s0)
        text = f"activation std grows {grows} {span}: the signal explodes with depth"
        return [Finding("activation-std", text)]
    return []


def _initial_loss(record: dict[str, Any]) -> list[Finding]:
    loss, ln_c, c = record["loss"], record["ln_classes"], record["n_classes"]
    if record["step"] != 0 or ln_c is None or loss is None:
        return []
    if not math.isfinite(loss):
        return [Finding("initial-loss", f"initial loss is {loss}: the forward pass overflows")]
    off = loss / ln_c - 1.0
    if abs(off) <= LOSS_TOLERANCE:
        text = f"initial loss {loss:.3g} ≈ ln({c}) = {ln_c:.3g}, as for uniform guessing"
        return [Finding("initial-loss-ok", text)]
    logit_std = record.get("logit_std")
    spread = "" if logit_std is None else f" (std {format_number(logit_std)} on the probe)"
    if off > 0:
        text = (
            f"initial loss {loss:.3g} is {100 * off:.0f}% above ln({c}) = {ln_c:.3g} (uniform guessing): "
            f"the logits start large{spread}"
        )
        if loss >= LOSS_CONFIDENT * ln_c:
            text += ", the network starts confidently wrong"
        return [Finding("initial-loss", text)]
    text = (
        f"initial loss {loss:.3g} is {-100 * off:.0f}% below ln({c}) = {ln_c:.3g} (uniform guessing): "
        f"the logits{spread} already favour the right classes (a trained model?)"
    )
    return [Finding("initial-loss-low", text)]


def _updates(record: dict[str, Any]) -> list[Finding]:
    ratios = [row["update_data"] for row in record["layers"] if row["update_data"] is not None]
    if not ratios:
        return []
    median = float(np.median(ratios))
    if median > UPDATE_HIGH:
        text = (
            f"update:data ratio 10^{median:.1f} ≫ 10⁻³: each step rewrites the weights (learning "
            "rate too high?)"
        )
        return [Finding("update-ratio", text)]
    if median < UPDATE_LOW:
        text = (
            f"update:data ratio 10^{median:.1f} ≪ 10⁻³: the weights barely move (learning rate "
            "too low, or vanishing gradients?)"
        )
        return [Finding("update-ratio", text)]
    return []
