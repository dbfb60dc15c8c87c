"""Divergence: the tests of each training step, and the one message that says where and why.

Training stops *before* the bad update when the loss turns NaN/inf or explodes, or a gradient is not
finite; :func:`diverged` names the step, the layer whose gradient blew up first and the likely causes.
The data is checked first (:func:`count_nonfinite`): when the failing batch holds NaN/inf, the message
says so, with the counts, instead of blaming the learning rate or the initialization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._text import format_ratio
from ..init.model import is_layer

if TYPE_CHECKING:
    from .loop import FitResult

__all__ = [
    "Divergence",
    "DivergenceError",
    "GradTracker",
    "Guard",
    "NonFinite",
    "count_nonfinite",
    "diverged",
    "learning_rates",
]

_CHUNK = 2**20  # elements tested at a time: no full-size boolean copy of a large training set


@dataclass(frozen=True)
class NonFinite:
    """NaN/inf values in a data set: how many values, in how many of its examples."""

    values: int
    examples: int
    total: int

    def __bool__(self) -> bool:
        return self.values > 0

    def text(self) -> str:
        """``"3 NaN/inf values in 2 of 60,000 examples"``."""
        noun = "value" if self.values == 1 else "values"
        return f"{self.values:,} NaN/inf {noun} in {self.examples:,} of {self.total:,} examples"


def count_nonfinite(x: Any, y: Any = None, *, x_dtype: Any = None) -> NonFinite:
    """Count the NaN/inf values of ``x`` (and of ``y`` when it holds floats), and the examples
    (rows along the first axis) holding any; integer and bool arrays hold none. With ``x_dtype``
    (the model's dtype), ``x`` is judged as converted to it: ``1e300`` is inf in float32.

    One pass in chunks of about a million elements, so checking a whole training set once costs a
    few milliseconds per 10 million values and no full-size temporary.
    """
    pairs = [(np.asarray(x), x_dtype)] + ([] if y is None else [(np.asarray(y), None)])
    first = pairs[0][0]
    n = len(first) if first.ndim else 1
    bad_rows = np.zeros(n, dtype=bool)
    values = 0
    for array, dtype in pairs:
        if array.dtype.kind not in "fc" or array.size == 0:
            continue
        rows = array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)
        cast = dtype is not None and np.dtype(dtype) != array.dtype
        step = max(1, _CHUNK // max(1, rows.shape[1]))
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            if cast:
                with np.errstate(over="ignore"):
                    chunk = chunk.astype(dtype)
            bad = ~np.isfinite(chunk)
            values += int(np.count_nonzero(bad))
            bad_rows[start : start + step] |= bad.any(axis=1)
    return NonFinite(values, int(np.count_nonzero(bad_rows)), n)


@dataclass
class Divergence:
    """Where and why training stopped.

    ``reason`` is ``"nan loss"``, ``"inf loss"``, ``"exploding loss"`` or ``"non-finite gradient"``;
    ``layer`` names the parameter whose gradient blew up first (None if unknown);
    ``batch_nonfinite`` counts the NaN/inf values of the failing batch (inputs and float targets):
    when it is > 0 the message names the data as the cause.
    """

    step: int
    epoch: int
    batch: int
    reason: str
    loss: float
    layer: str | None
    message: str
    batch_nonfinite: int = 0


class DivergenceError(RuntimeError):
    """Raised by :func:`fit` with ``on_divergence="raise"``; see ``.divergence`` and ``.result``."""

    def __init__(self, divergence: Divergence, result: FitResult) -> None:
        super().__init__(divergence.message)
        self.divergence = divergence
        self.result = result


class GradTracker:
    """Per-parameter gradient norms at every step, to find the gradient that blew up first."""

    def __init__(self, model: Any, blowup: float) -> None:
        self.named = list(model.named_parameters())
        self.layer_of = _layer_numbers(model)
        self.steps: list[int] = []
        self.norms: list[np.ndarray] = []
        self.blowup = blowup

    def add(self, step: int) -> bool:
        """Record this step's gradient norms; False when one of them is not finite."""
        norms = np.empty(len(self.named))
        for i, (_, p) in enumerate(self.named):
            g = p.grad
            if g is None:
                norms[i] = 0.0
            else:
                flat = g.ravel()
                with np.errstate(over="ignore", invalid="ignore"):
                    sq = float(flat @ flat)
                if math.isinf(sq):  # float32 squares overflow long before the norm does
                    sq = float(np.dot(flat.astype(np.float64), flat.astype(np.float64)))
                norms[i] = math.sqrt(sq)
        self.steps.append(step)
        self.norms.append(norms)
        return bool(np.isfinite(norms).all())

    def culprit(self) -> tuple[str, str] | None:
        """(parameter name, description) of the gradient that blew up first; None if no history.

        A gradient *blows up* at the first step where its norm is not finite or exceeds
        ``blowup`` times its norm at the first recorded step; among those of that step, the one
        that grew most is named.
        """
        if not self.norms:
            return None
        table = np.vstack(self.norms)  # (steps, params)
        base = table[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where(
                base > 0, table / np.where(base > 0, base, 1.0), np.where(table > 0, np.inf, 1.0)
            )
        growth = np.where(np.isfinite(table), growth, np.inf)
        blown = growth > self.blowup
        if blown.any():
            row = int(np.argmax(blown.any(axis=1)))  # first step where any gradient blew up
        else:
            row = len(table) - 1
        col = int(np.nanargmax(np.where(np.isnan(growth[row]), -np.inf, growth[row])))
        name = self.named[col][0]
        layer = self.layer_of.get(name)
        where = f"layer {layer} ({name})" if layer is not None else name
        value = table[row, col]
        if not math.isfinite(value):
            desc = f"{where}: its gradient became {value} at step {self.steps[row]}"
        elif row == 0 or base[col] == 0:
            desc = f"{where}: gradient norm {value:.3g} at step {self.steps[row]}, the largest"
        else:
            desc = (
                f"{where}: gradient norm {value:.3g} at step {self.steps[row]}, "
                f"{format_ratio(float(growth[row, col]))} its value at step {self.steps[0]}"
            )
        return name, desc


def _layer_numbers(model: Any) -> dict[str, int]:
    """Parameter name → 1-based number of the layer (see :func:`tinynet.init.model.is_layer`) that owns it."""
    out: dict[str, int] = {}
    number = 0
    for mod_name, module in model.named_modules():
        if is_layer(module):
            number += 1
            for p_name, _ in module.named_parameters():
                out[f"{mod_name}.{p_name}" if mod_name else p_name] = number
    return out


def learning_rates(optimizer: Any) -> list[float]:
    """The ``lr`` of every parameter group of ``optimizer`` (empty if it has none)."""
    return [float(g["lr"]) for g in getattr(optimizer, "param_groups", []) if "lr" in g]


class Guard:
    """The divergence tests of one step: the loss first, then (after backward) the gradients."""

    def __init__(self, explode_factor: float) -> None:
        self.explode_factor = explode_factor
        self.first_loss: float | None = None
        self.first_step = 0

    def check_loss(self, value: float, step: int) -> str | None:
        if self.first_loss is None:
            self.first_loss, self.first_step = value, step
        if math.isnan(value):
            return "nan loss"
        if math.isinf(value):
            return "inf loss"
        if value > self.explode_factor * max(self.first_loss, 1.0):
            return "exploding loss"
        return None

    @staticmethod
    def check_gradients(finite: bool) -> str | None:
        return None if finite else "non-finite gradient"


def diverged(
    reason: str, loss: float, step: int, epoch: int, batch: int, guard: Guard,
    tracker: GradTracker, optimizer: Any, *, in_batch: NonFinite | None = None,
    in_data: NonFinite | None = None,
) -> Divergence:  # fmt: skip
    """The :class:`Divergence` of a stopped step, with one message naming the step, what went wrong,
    the gradient that blew up first and the likely causes.

    The data comes first: when the failing batch holds NaN/inf (``in_batch``), the message says
    "the data holds NaN/inf" with the counts of the batch and of the training set (``in_data``), and
    blames neither the learning rate nor the initialization. When only other examples of the
    training set hold them, the usual causes are given and the data's NaN/inf are named as well.
    """
    culprit = tracker.culprit()
    what = {
        "nan loss": "the loss became nan",
        "inf loss": f"the loss became {loss}",
        "exploding loss": f"the loss exploded to {loss:.3g}",
        "non-finite gradient": f"a gradient became non-finite (loss {loss:.3g})",
    }[reason]
    text = f"training diverged at step {step} (epoch {epoch}, batch {batch}): {what}"
    if guard.first_loss is not None and step > guard.first_step:
        text += f" (it was {guard.first_loss:.3g} at step {guard.first_step})"
    text += ". "
    if in_batch:
        where = f"; the training data holds {in_data.text()}" if in_data else ""
        text += (
            f"The data holds NaN/inf: this batch holds {in_batch.text()}{where}. A single NaN input "
            "makes the loss NaN (and standardizing with a NaN mean spreads it to every input), "
            "whatever the learning rate or the initialization: replace or drop those values."
        )
        return Divergence(
            step, epoch, batch, reason, loss, culprit[0] if culprit else None, text, in_batch.values
        )
    if culprit:
        text += f"The gradient blew up first in {culprit[1]}. "
    lrs = learning_rates(optimizer)
    lr_text = f" (lr={lrs[0]:g}: try 10× to 100× smaller)" if lrs else ""
    text += (
        f"Likely causes: a learning rate too high for this network{lr_text}, or initial weights "
        "too large (check the init scale: xavier, he or lecun keep activations near unit "
        "variance). Gradient clipping (nn.utils.clip_grad_norm_) also caps such steps."
    )
    if in_data:
        text += f" Also, the data holds NaN/inf: {in_data.text()} (none in this batch)."
    return Divergence(step, epoch, batch, reason, loss, culprit[0] if culprit else None, text)
