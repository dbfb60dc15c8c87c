"""The :class:`Monitor`: what an initialization does to a network, recorded layer by layer.

The Monitor watches a model through forward hooks only (nothing in the layers changes), and tells
the modules it observes apart by declaration, never by class name:

- a *layer* is a module that declares its fans and owns a weight (:func:`tinynet.init.model.is_layer`);
- an *activation* is an ``nn.Activation``; its ``name`` is the record's ``kind``, ``saturates`` /
  ``can_die`` say whether saturated or dead units are measured (from its own ``derivative`` at the
  inputs the hook sees), and ``output_range`` fixes its histogram range.

On a fixed *probe* batch it records, at initialization and every ``every`` optimizer steps:

- per module: mean and std of each layer's output (pre-activation) and each activation's output, the
  saturated share (activations that saturate: inputs with ``|φ'(h)| < SATURATION_FACTOR · max|φ'|``),
  the dead share (activations that can die: units with ``φ'(h) = 0`` on every probe example) and the
  std of ``dL/d(output)``;
- per layer: the back-propagated signal ``out_grad_std = std(dL/d out)`` at the layer's output,
  weight-gradient norm and std, the grad:data ratio ``std(g) / std(W)``, symmetry (distinct units,
  maximum pairwise cosine similarity of units, numerical rank);
- per model: gradient flow ``std(dL/d out_first) / std(dL/d out_last)`` (first and last hidden
  weight layer), the weight-gradient ratio ``||dL/dW_first|| / ||dL/dW_last||``, the std of the
  model's output (``logit_std``) and the probe loss against ``ln C``.

Convolutions are read per output channel: a kernel ``(kh, kw, in, out)`` has ``out`` units, each
its whole filter (the kernel seen as ``(kh·kw·in, out)``), and an NHWC output ``(N, H, W, C)`` is
``N·H·W`` samples of ``C`` channels, so a dead channel is one with ``φ'(h) = 0`` at every pixel of
every probe example (the saturated share, over every element, is the mean of the channels' shares).
Means, stds, histograms and gradient figures are over every element, as for a dense layer.

After every optimizer step (:meth:`Monitor.on_step`) it also records the update:data ratio
``log10(std(ΔW) / std(W))`` of each weight. :meth:`Monitor.table` renders a text table,
:meth:`Monitor.findings` names what it sees in plain words, :meth:`Monitor.to_json` exports
everything. See ``docs/diagnostics.md`` for each figure and how to read it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_int, check_real
from .._files import json_ready, write_text
from ..function import enable_grad
from ..init.model import is_layer
from ..nn import functional as F
from ..nn.activation import Activation
from ..tensor import Tensor
from .findings import find_problems
from .metrics import (
    array_of,
    dead_fraction,
    distinct_units,
    gradient_flow,
    histogram,
    max_cosine,
    mean_of,
    norm_of,
    numerical_rank,
    saturation_fraction,
    std_of,
    update_ratio,
)
from .prediction import mean_field_prediction
from .report import record_table, report_text

__all__ = ["Monitor", "Tracked"]


@dataclass
class Tracked:
    """One observed module: its place in the model and the layer it belongs to.

    ``layer`` numbers the layers (modules with weights) from 1 in forward order; an activation
    belongs to the layer before it (0 if it comes before any layer).
    """

    name: str
    module: Any
    role: str  # "layer" or "activation"
    kind: str  # layers: lower-cased class name ("linear"); activations: their declared name ("tanh")
    layer: int


def _default_loss(output: Tensor, target: Any) -> Tensor:
    return F.cross_entropy(output, target)


class Monitor:
    """Record activation, gradient, update and symmetry statistics of a model on a probe batch.

    Parameters
    ----------
    model
        Any ``nn.Module``. Layers are modules with a ``fans()`` method and a ``weight``; activations
        are ``nn.Activation`` instances. Both are observed with ``register_forward_hook``.
    probe
        Input batch of shape ``(N, ...)`` (numpy array or Tensor), run through the model for every
        record.
    targets
        Class indices ``(N,)`` (or whatever ``loss`` takes) for the probe. Without them, no gradient
        figure is recorded (no loss to differentiate).
    every
        Record every ``every`` optimizer steps (counted by :meth:`on_step`); 0 records only when
        :meth:`record` is called.
    loss
        ``loss(output, targets) -> scalar Tensor``; cross-entropy by default.
    record_init
        Record step 0 at construction (the state at initialization).
    tol
        Relative tolerance of :func:`~tinynet.diagnostics.metrics.distinct_units`.
    bins
        Number of histogram bins kept per module and record (for :mod:`tinynet.plotting`).

    Notes
    -----
    The probe pass runs in eval mode (so BatchNorm statistics and dropout are not disturbed) with
    grad mode on, and leaves every parameter's ``.grad`` as it found it. Each record costs one
    forward and backward pass on the probe and one SVD per layer.

    Raises
    ------
    TypeError
        If ``every`` or ``bins`` is not an int, or ``tol`` not a real number.
    ValueError
        If ``every`` is negative, ``bins`` below 1, ``tol`` negative, the probe is empty, the
        targets do not match it, or the model has neither a layer nor an activation.
    """

    def __init__(
        self,
        model: Any,
        probe: Any,
        targets: Any = None,
        *,
        every: int = 0,
        loss: Callable[[Tensor, Any], Tensor] | None = None,
        record_init: bool = True,
        tol: float = 1e-3,
        bins: int = 50,
    ) -> None:
        self.every = check_int("Monitor", "every", every, minimum=0)
        self.tol = check_real("Monitor", "tol", tol, minimum=0)
        self.bins = check_int("Monitor", "bins", bins, minimum=1)
        probe_array = array_of(probe)
        if probe_array.ndim == 0 or probe_array.shape[0] == 0:
            raise ValueError(
                f"Monitor: probe must be a non-empty batch (N, ...), got shape {probe_array.shape}"
            )
        if targets is not None and len(array_of(targets)) != probe_array.shape[0]:
            raise ValueError(
                f"Monitor: targets must have one entry per probe example ({probe_array.shape[0]}), "
                f"got {len(array_of(targets))}"
            )
        self.model = model
        dtype = next((p.data.dtype for p in model.parameters()), probe_array.dtype)
        # the probe takes the model's float dtype, as the training batches do
        self.probe = probe_array.astype(dtype) if dtype.kind == "f" else probe_array
        self.targets = None if targets is None else array_of(targets)
        self.loss = loss if loss is not None else _default_loss
        self.history: list[dict[str, Any]] = []
        #: ``step -> {module name: {"values": hist, "grads": hist}, "weight_grads": {...}}``
        self.histograms: dict[int, dict[str, Any]] = {}
        #: ``weight name -> [(step, log10 update:data or None), ...]``, one per optimizer step
        self.updates: dict[str, list[tuple[int, float | None]]] = {}
        self.step = 0
        self.tracked = self._discover(model)
        if not self.tracked:
            raise ValueError(
                f"Monitor: {type(model).__name__} has no layer (module with fans() and weight) "
                "and no nn.Activation to observe"
            )
        #: the first observed activation module of each kind, for display names and rules
        self.activations: dict[str, Activation] = {}
        for t in self.tracked:
            if t.role == "activation":
                self.activations.setdefault(t.kind, t.module)
        names = {id(p): n for n, p in model.named_parameters()}
        self._weights = [
            (t, names.get(id(t.module.weight), f"{t.name}.weight")) for t in self.tracked if t.role == "layer"
        ]
        self._capturing = False
        self._outputs: dict[str, Tensor] = {}
        self._inputs: dict[str, np.ndarray] = {}
        self._handles = [t.module.register_forward_hook(self._hook_for(t.name)) for t in self.tracked]
        self._previous = self._snapshot()
        if record_init:
            self.record(0)

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _discover(model: Any) -> list[Tracked]:
        tracked: list[Tracked] = []
        layer = 0
        for name, module in model.named_modules():
            if is_layer(module):
                layer += 1
                kind = type(module).__name__.lower()
                tracked.append(Tracked(name or "(model)", module, "layer", kind, layer))
            elif isinstance(module, Activation):
                tracked.append(Tracked(name or "(model)", module, "activation", module.name, layer))
        return tracked

    def _hook_for(self, name: str) -> Callable[[Any, Any, Any], None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if not self._capturing:
                return
            if isinstance(output, Tensor):
                self._outputs[name] = output
            if isinstance(module, Activation) and inputs:
                self._inputs[name] = array_of(inputs[0])  # h, where the derivative is read

        return hook

    def remove(self) -> None:
        """Unregister every hook (the history stays readable)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _snapshot(self) -> dict[str, np.ndarray]:
        return {name: t.module.weight.data.copy() for t, name in self._weights}

    def rebase(self) -> None:
        """Take the current weights as the reference of the next update:data ratio (call it after
        changing weights outside an optimizer step, e.g. loading a checkpoint)."""
        self._previous = self._snapshot()

    @property
    def n_layers(self) -> int:
        """Number of layers (modules with weights) observed."""
        return len(self._weights)

    # ------------------------------------------------------------------ recording
    def on_step(self, step: int | None = None) -> dict[str, Any] | None:
        """Call after every ``optimizer.step()``: records the update:data ratio of each weight, and
        a full record every ``every`` steps (returned; None otherwise).

        ``step`` defaults to the internal counter + 1.
        """
        self.step = self.step + 1 if step is None else int(step)
        current = self._snapshot()
        for name, after in current.items():
            before = self._previous.get(name)
            value = None if before is None or before.shape != after.shape else update_ratio(before, after)
            self.updates.setdefault(name, []).append((self.step, value))
        self._previous = current
        if self.every and self.step % self.every == 0:
            return self.record(self.step)
        return None

    def _probe_pass(self) -> tuple[Tensor | None, Tensor | None, dict[int, np.ndarray | None]]:
        """Forward (and backward, given targets) on the probe: output, loss and parameter grads."""
        params = list(self.model.parameters())
        saved = [p.grad for p in params]
        for p in params:
            p.grad = None
        was_training = getattr(self.model, "training", False)
        self._outputs = {}
        self._inputs = {}
        self._capturing = True
        modules = self.model.modules() if callable(getattr(self.model, "modules", None)) else []
        # e.g. BatchNorm: normalized by the probe's own statistics, as in a training step
        batch_stats = [m for m in modules if getattr(m, "uses_batch_statistics", False)]
        buffers = [[b.copy() for b in m.buffers(recurse=False)] for m in batch_stats]
        try:
            if hasattr(self.model, "eval"):
                self.model.eval()
            for m in batch_stats:
                m.training = True
            with enable_grad():
                x = Tensor(self.probe)
                output = self.model(x)
                self._capturing = False
                for tensor in self._outputs.values():
                    if tensor.requires_grad:
                        tensor.retain_grad()
                loss = None
                if self.targets is not None and isinstance(output, Tensor):
                    loss = self.loss(output, self.targets)
                    if loss.requires_grad and np.isfinite(loss.data).all():
                        loss.backward()
            grads = {id(p): p.grad for p in params}
        finally:
            self._capturing = False
            if hasattr(self.model, "train"):
                self.model.train(was_training)
            for m, saved_buffers in zip(batch_stats, buffers, strict=True):
                for live, old in zip(m.buffers(recurse=False), saved_buffers, strict=True):
                    live[...] = old  # the probe must not move the running statistics
            for p, g in zip(params, saved, strict=True):
                p.grad = g
        return output if isinstance(output, Tensor) else None, loss, grads

    def record(self, step: int | None = None) -> dict[str, Any]:
        """Run the probe and append one record to :attr:`history` (also returned).

        A record is a JSON-ready dict: ``step``, ``loss``, ``accuracy``, ``n_classes``,
        ``ln_classes``, ``logit_std`` (std of the model's output on the probe), ``gradient_flow``,
        ``weight_grad_ratio``, ``modules`` (one dict per observed module) and ``layers`` (one dict per
        layer, with ``out_grad_std``, and ``pre_std_theory``/``act_std_theory``: the mean-field
        prediction of the layer's output std and of its activation's std from the weights' measured
        variances, :func:`tinynet.diagnostics.prediction.mean_field_prediction`; None where the
        model is not a plain chain of layers and activations). Figures that cannot be computed are
        None.

        ``gradient_flow = std(dL/d out_first) / std(dL/d out_last)``, where ``out_l`` is the output
        (pre-activation) of weight layer l, ``out_first`` the first layer's and ``out_last`` the last
        hidden layer's (the one before the output layer), both over every probe element: below 1 the
        back-propagated signal shrinks toward the input (vanishing), above 1 it grows (exploding).
        None with fewer than two weight layers, without targets, or when a std is not finite or the
        last one is 0. ``weight_grad_ratio = ||dL/dW_first|| / ||dL/dW_last||`` (first and output
        layer) is the older figure, which cannot see vanishing: a weight gradient is the layer's
        input times the back-propagated signal, so forward and backward decay cancel in it.
        """
        step = self.step if step is None else int(step)
        output, loss, grads = self._probe_pass()
        hist: dict[str, Any] = {}
        modules = [self._module_stats(t, hist) for t in self.tracked]
        layers = [self._layer_stats(t, name, grads, hist) for t, name in self._weights]
        for row in layers:
            row["activation"] = next(
                (
                    m["kind"]
                    for m in reversed(modules)
                    if m["role"] == "activation" and m["layer"] == row["layer"]
                ),
                None,
            )
        pre = {m["layer"]: m for m in modules if m["role"] == "layer"}
        predicted = mean_field_prediction(self.model, self.probe)
        for i, row in enumerate(layers):
            row["out_grad_std"] = pre[row["layer"]]["grad_std"] if row["layer"] in pre else None
            theory = predicted[i] if predicted is not None and len(predicted) == len(layers) else {}
            row["pre_std_theory"] = theory.get("pre_std")
            row["act_std_theory"] = theory.get("act_std")
        n_classes = int(output.shape[-1]) if output is not None and output.ndim >= 1 else None
        accuracy = None
        if output is not None and self.targets is not None and output.ndim == 2 and self.targets.ndim == 1:
            accuracy = float(np.mean(output.data.argmax(axis=1) == self.targets))
        loss_value = None if loss is None else float(loss.data)
        flow = ratio = None
        if len(layers) > 1:
            flow = gradient_flow(layers[0]["out_grad_std"], layers[-2]["out_grad_std"])
            ratio = gradient_flow(layers[0]["weight_grad_norm"], layers[-1]["weight_grad_norm"])
        record = {
            "step": step,
            "loss": loss_value,
            "accuracy": accuracy,
            "n_classes": n_classes,
            "ln_classes": math.log(n_classes) if n_classes and n_classes > 1 else None,
            "logit_std": None if output is None else std_of(output.data),
            "gradient_flow": flow,
            "weight_grad_ratio": ratio,
            "modules": modules,
            "layers": layers,
        }
        self._outputs = {}
        self._inputs = {}
        self.history.append(record)
        self.histograms[step] = hist
        return record

    def _module_stats(self, t: Tracked, hist: dict[str, Any]) -> dict[str, Any]:
        out = self._outputs.get(t.name)
        row: dict[str, Any] = {
            "name": t.name,
            "type": type(t.module).__name__,
            "role": t.role,
            "kind": t.kind,
            "layer": t.layer,
            "shape": None,
            "mean": None,
            "std": None,
            "saturated": None,
            "dead": None,
            "grad_std": None,
        }
        if out is None:
            return row
        a = out.data
        row.update(shape=list(a.shape), mean=mean_of(a), std=std_of(a))
        value_range = None
        if t.role == "activation":
            h = self._inputs.get(t.name)
            if h is not None and t.module.saturates:
                row["saturated"] = saturation_fraction(h, t.module)
            if h is not None and t.module.can_die:
                row["dead"] = dead_fraction(h, t.module)
            value_range = t.module.output_range
        entry = {"values": histogram(a, self.bins, value_range), "grads": None}
        if out.grad is not None:
            row["grad_std"] = std_of(out.grad)
            entry["grads"] = histogram(out.grad, self.bins)
        hist[t.name] = entry
        return row

    def _layer_stats(
        self,
        t: Tracked,
        weight_name: str,
        grads: dict[int, np.ndarray | None],
        hist: dict[str, Any],
    ) -> dict[str, Any]:
        weight = t.module.weight
        w = weight.data
        g = grads.get(id(weight))
        w_std = std_of(w)
        fans = t.module.fans()
        row: dict[str, Any] = {
            "layer": t.layer,
            "name": t.name,
            "weight": weight_name,
            "type": type(t.module).__name__,
            "fan_in": int(fans[0]),
            "fan_out": int(fans[1]),
            "weight_shape": [int(n) for n in w.shape],
            "weight_std": w_std,
            "weight_grad_norm": None,
            "weight_grad_std": None,
            "grad_data": None,
            "bias_grad_norm": None,
            "update_data": self._latest_update(weight_name),
            "units": int(w.shape[-1]) if w.ndim >= 2 else None,
            "distinct_units": None,
            "max_cosine": None,
            "rank": None,
        }
        if g is not None:
            g_std = std_of(g)
            row.update(weight_grad_norm=norm_of(g), weight_grad_std=g_std)
            if w_std > 0:
                row["grad_data"] = g_std / w_std
            hist.setdefault("weight_grads", {})[t.name] = histogram(g, self.bins)
        bias = getattr(t.module, "bias", None)
        bias_grad = None if bias is None else grads.get(id(bias))
        if bias_grad is not None:
            row["bias_grad_norm"] = norm_of(bias_grad)
        if w.ndim >= 2 and np.isfinite(w).all():
            row.update(
                distinct_units=distinct_units(w, self.tol),
                max_cosine=max_cosine(w, self.tol),
                rank=numerical_rank(w),
            )
        return row

    def _latest_update(self, weight_name: str) -> float | None:
        series = self.updates.get(weight_name)
        return series[-1][1] if series else None

    # ------------------------------------------------------------------ reading
    def select(self, record: dict[str, Any] | int | str | None) -> dict[str, Any]:
        """One record: ``None`` or ``"last"`` (the latest), ``"first"``, a step number, or a record
        dict itself (returned as is).

        Raises
        ------
        ValueError
            If nothing is recorded yet, or no record has that step.
        """
        if not self.history:
            raise ValueError("Monitor: nothing recorded yet; call record() first")
        if record is None or record == "last":
            return self.history[-1]
        if record == "first":
            return self.history[0]
        if isinstance(record, dict):
            return record
        for r in self.history:
            if r["step"] == record:
                return r
        steps = [r["step"] for r in self.history]
        raise ValueError(f"Monitor: no record at step {record!r}; recorded steps: {steps}")

    def table(self, record: dict[str, Any] | int | str | None = None, wide: bool = False) -> str:
        """Aligned text table of one record (default: the latest), one row per layer: the columns
        that fit 100 characters, or with ``wide=True`` every column; see
        :func:`tinynet.diagnostics.report.record_table`."""
        return record_table(self.select(record), self.activations, wide=wide)

    def findings(self, record: dict[str, Any] | int | str | None = None) -> list[str]:
        """Plain-words observations about one record (default: the latest); see
        :func:`tinynet.diagnostics.findings.find_problems`."""
        return [f.message for f in find_problems(self.select(record), self.activations)]

    def report(self, wide: bool = False) -> str:
        """The latest record's table (every column with ``wide=True``), then the findings at
        initialization and at the latest step."""
        return report_text(self.select("first"), self.select("last"), self.activations, wide=wide)

    def to_dict(self, histograms: bool = False, updates: bool = True) -> dict[str, Any]:
        """Everything recorded, JSON-ready (non-finite numbers become None).

        Keys: ``history`` (the records), ``updates`` (per weight, ``[step, log10 ratio]`` pairs, one
        per optimizer step; omitted if ``updates`` is False), ``findings`` (``{"first": [...],
        "last": [...]}``) and, if asked, ``histograms`` keyed by step.
        """
        out: dict[str, Any] = {"history": self.history}
        if updates:
            out["updates"] = {k: [list(p) for p in v] for k, v in self.updates.items()}
        out["findings"] = {
            "first": self.findings("first") if self.history else [],
            "last": self.findings("last") if self.history else [],
        }
        if histograms:
            out["histograms"] = {str(k): v for k, v in self.histograms.items()}
        return json_ready(out)

    def to_json(
        self,
        path: str | os.PathLike[str] | None = None,
        histograms: bool = False,
        updates: bool = True,
    ) -> str:
        """:meth:`to_dict` as a JSON string; with ``path``, also written there through
        :func:`tinynet._files.write_text` (atomically, with ordinary file permissions)."""
        text = json.dumps(self.to_dict(histograms, updates), indent=1)
        if path is not None:
            write_text(path, text)
        return text
