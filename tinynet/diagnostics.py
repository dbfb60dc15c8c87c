"""What an initialization does to a network, measured layer by layer.

:class:`Monitor` watches a model through forward hooks only (nothing in the layers changes). On
a fixed *probe* batch it records, at initialization and every ``every`` optimizer steps:

- per module: mean and std of each layer's output (pre-activation) and each activation's output, the
  saturated fraction (tanh ``|a| > 0.97``; sigmoid ``a < 0.03`` or ``a > 0.97``), the dead fraction
  (ReLU family: units ``<= 0`` on every probe example) and the std of ``dL/d(output)``;
- per layer: weight-gradient norm and std, the grad:data ratio ``std(g) / std(W)``, symmetry
  (distinct units, maximum pairwise cosine similarity of units, numerical rank);
- per model: gradient flow ``||dL/dW_first|| / ||dL/dW_last||`` and the probe loss against ``ln C``.

After every optimizer step (:meth:`Monitor.on_step`) it also records the update:data ratio
``log10(std(ΔW) / std(W))`` of each weight. :meth:`Monitor.table` renders a text table,
:meth:`Monitor.findings` names what it sees in plain words, :meth:`Monitor.to_json` exports
everything. See ``docs/diagnostics.md`` for each figure and how to read it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .function import enable_grad
from .tensor import Tensor

__all__ = [
    "DEAD_KINDS",
    "SATURATING_KINDS",
    "Monitor",
    "activation_kind",
    "dead_fraction",
    "distinct_units",
    "format_ratio",
    "gradient_flow",
    "json_ready",
    "max_cosine",
    "numerical_rank",
    "saturation_fraction",
    "update_ratio",
]

#: activation kinds whose saturation is measured, with the thresholds in the docstrings below
SATURATING_KINDS = ("tanh", "sigmoid")
#: activation kinds of the ReLU family, whose dead units are counted
DEAD_KINDS = ("relu", "leaky_relu", "elu", "selu", "gelu")
TANH_SATURATION = 0.97
SIGMOID_SATURATION = 0.03

# Findings thresholds (documented in docs/diagnostics.md).
_SATURATION_WARN = 0.2
_DEAD_WARN = 0.1
_FLOW_WARN = 100.0
_STD_RATIO_WARN = 10.0
_PARTIAL_SYMMETRY = 0.5

# (nn class name, kind); subclasses first, so a LeakyReLU deriving from ReLU is named right
_KIND_BY_CLASS = (
    ("LeakyReLU", "leaky_relu"),
    ("SELU", "selu"),
    ("ELU", "elu"),
    ("GELU", "gelu"),
    ("ReLU", "relu"),
    ("Tanh", "tanh"),
    ("Sigmoid", "sigmoid"),
    ("Softplus", "softplus"),
    ("Identity", "identity"),
)
_DISPLAY = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "selu": "SELU",
    "gelu": "GELU",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "identity": "identity",
}
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


# ---------------------------------------------------------------------------------------- figures
def _array(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _units(weight: Any, name: str) -> np.ndarray:
    """The units of a weight of shape ``(in, out)`` as rows of an ``(out, in)`` float64 matrix."""
    w = _array(weight)
    if w.ndim < 2:
        raise ValueError(
            f"{name}: weight must have at least 2 dimensions (..., in, out), got shape {w.shape}"
        )
    return w.reshape(-1, w.shape[-1]).T.astype(np.float64)


def distinct_units(weight: Any, tol: float = 1e-3) -> int:
    """Number of distinct units (columns) of a weight of shape ``(in, out)``.

    Columns ``i`` and ``j`` are the same unit when ``||w_i - w_j|| <= tol * max_k ||w_k||``; units
    are grouped greedily (each unit joins the first earlier group it is that close to). An all-zero
    weight has 1 distinct unit. N-D kernels ``(..., in, out)`` are flattened to ``(prod(shape[:-1]),
    out)``.

    Raises
    ------
    ValueError
        If the weight has fewer than 2 dimensions or ``tol`` is negative.
    """
    if tol < 0:
        raise ValueError(f"distinct_units: tol must be >= 0, got {tol}")
    units = _units(weight, "distinct_units")
    if units.shape[0] == 0:
        return 0
    close = _close_pairs(units, tol)
    assigned = np.zeros(units.shape[0], dtype=bool)
    count = 0
    for i in range(units.shape[0]):
        if not assigned[i]:
            count += 1
            assigned |= close[i]
    return count


def _close_pairs(units: np.ndarray, tol: float) -> np.ndarray:
    """Boolean matrix: pairwise distance of units within ``tol`` times the largest unit norm."""
    sq = np.einsum("ij,ij->i", units, units)
    gram = units @ units.T
    dist2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * gram, 0.0)
    scale = float(np.sqrt(sq.max()))
    # The Gram form loses ~1e-8 relative precision in float64; never compare below that.
    threshold = max(tol, 1e-7) * scale
    return dist2 <= threshold * threshold


def max_cosine(weight: Any, tol: float = 1e-3) -> float:
    """Largest cosine similarity ``w_i·w_j / (||w_i|| ||w_j||)`` over pairs of columns ``i != j``.

    Identical units (see :func:`distinct_units`, including two all-zero units) count as cosine 1; a
    zero unit next to a non-zero one counts as 0. A layer with one unit gives ``nan``.
    """
    units = _units(weight, "max_cosine")
    n = units.shape[0]
    if n < 2:
        return float("nan")
    norms = np.sqrt(np.einsum("ij,ij->i", units, units))
    safe = np.where(norms > 0, norms, 1.0)
    cos = (units @ units.T) / safe[:, None] / safe[None, :]
    close = _close_pairs(units, tol)
    cos = np.where(close, 1.0, cos)
    np.fill_diagonal(cos, -np.inf)
    return float(min(cos.max(), 1.0))


def numerical_rank(weight: Any) -> int:
    """Numerical rank: singular values above ``s_max * max(in, out) * eps(dtype)``.

    This is numpy's ``matrix_rank`` rule, with ``eps`` of the weight's own float dtype. A zero
    matrix has rank 0.
    """
    w = _array(weight)
    if w.ndim < 2:
        raise ValueError(
            f"numerical_rank: weight must have at least 2 dimensions, got shape {w.shape}"
        )
    w = w.reshape(-1, w.shape[-1])
    if w.size == 0:
        return 0
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    s = np.linalg.svd(w.astype(dtype), compute_uv=False)
    threshold = s.max() * max(w.shape) * np.finfo(dtype).eps
    return int((s > threshold).sum())


def saturation_fraction(activations: Any, kind: str) -> float:
    """Fraction of saturated outputs of a saturating activation.

    ``tanh``: ``|a| > 0.97`` (where ``1 - a² < 0.06``); ``sigmoid``: ``a < 0.03`` or ``a > 0.97``
    (where ``a (1 - a) < 0.03``). The local gradient there is nearly zero, so little signal flows
    back.

    Raises
    ------
    ValueError
        If ``kind`` is not one of ``SATURATING_KINDS``.
    """
    a = _array(activations)
    if kind == "tanh":
        return float(np.mean(np.abs(a) > TANH_SATURATION)) if a.size else 0.0
    if kind == "sigmoid":
        hit = (a < SIGMOID_SATURATION) | (a > 1.0 - SIGMOID_SATURATION)
        return float(np.mean(hit)) if a.size else 0.0
    raise ValueError(f"saturation_fraction: kind must be one of {SATURATING_KINDS}, got {kind!r}")


def dead_fraction(activations: Any) -> float:
    """Fraction of units that are ``<= 0`` on every example of the batch.

    ``activations`` has shape ``(N, ...)``; a unit is one position of the trailing dimensions. A
    dead ReLU unit passes no gradient to its weights for any of these examples.
    """
    a = _array(activations)
    if a.ndim == 0 or a.shape[0] == 0:
        return 0.0
    flat = a.reshape(a.shape[0], -1)
    if flat.shape[1] == 0:
        return 0.0
    return float(np.mean(np.all(flat <= 0, axis=0)))


def update_ratio(before: Any, after: Any) -> float | None:
    """``log10(std(after - before) / std(after))``: one optimizer update relative to the weight.

    About -3 is healthy for SGD-like training (Karpathy's rule of thumb). Returns None when the
    weight has zero spread or the update is exactly zero (the logarithm is undefined).
    """
    new = _array(after).astype(np.float64)
    delta = new - _array(before).astype(np.float64)
    spread = float(new.std())
    change = float(delta.std())
    if not (spread > 0 and change > 0) or not (math.isfinite(spread) and math.isfinite(change)):
        return None
    return math.log10(change / spread)


def gradient_flow(first_norm: float, last_norm: float) -> float | None:
    """``first_norm / last_norm``: below 1, gradients shrink on their way back to the first layer.

    None when the last layer's gradient norm is zero or either norm is not finite.
    """
    if not (math.isfinite(first_norm) and math.isfinite(last_norm)) or last_norm <= 0:
        return None
    return first_norm / last_norm


def format_ratio(ratio: float) -> str:
    """``1234567`` → ``"10⁶×"``; ratios under 1000 are printed plainly (``"42×"``)."""
    if not math.isfinite(ratio):
        return "∞×"
    if ratio < 1000:
        return f"{ratio:.3g}×"
    return "10" + str(round(math.log10(ratio))).translate(_SUPERSCRIPT) + "×"


def activation_kind(module: Any) -> str | None:
    """The kind of an activation module (``"tanh"``, ``"relu"``, ...) by its class, or None.

    Subclasses of ``nn.Tanh``, ``nn.Sigmoid``, ``nn.ReLU``, ``nn.LeakyReLU``, ``nn.ELU``,
    ``nn.SELU``, ``nn.GELU``, ``nn.Softplus`` and ``nn.Identity`` get that kind; any other
    ``nn.Activation`` gets its lower-cased class name; anything else None.
    """
    from . import nn

    for class_name, kind in _KIND_BY_CLASS:
        cls = getattr(nn, class_name, None)
        if isinstance(cls, type) and isinstance(module, cls):
            if kind == "identity" and _is_layer(module):
                continue
            return kind
    activation = getattr(nn, "Activation", None)
    if isinstance(activation, type) and isinstance(module, activation):
        return type(module).__name__.lower()
    return None


def _is_layer(module: Any) -> bool:
    return callable(getattr(module, "fans", None)) and getattr(module, "weight", None) is not None


def _std(a: np.ndarray) -> float:
    return float(a.std(dtype=np.float64)) if a.size else float("nan")


def _mean(a: np.ndarray) -> float:
    return float(a.mean(dtype=np.float64)) if a.size else float("nan")


def _norm(a: np.ndarray) -> float:
    flat = a.ravel().astype(np.float64, copy=False)
    return float(math.sqrt(flat @ flat))


def _histogram(a: np.ndarray, bins: int, kind: str | None) -> dict[str, list[float]] | None:
    # float64: numpy cannot cut the range of a near-constant float32 layer into `bins` finite bins.
    values = a.ravel().astype(np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    if kind == "tanh":
        lo, hi = -1.0, 1.0
    elif kind == "sigmoid":
        lo, hi = 0.0, 1.0
    else:
        lo, hi = float(values.min()), float(values.max())
        # Too narrow to split even in float64 (or constant): one spike in the middle of a unit range.
        if hi - lo < 64 * bins * np.spacing(max(abs(lo), abs(hi), 1.0)):
            middle = (lo + hi) / 2
            lo, hi = middle - 0.5, middle + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def json_ready(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become None, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


_clean = json_ready  # the former private name, still used by callers


# ---------------------------------------------------------------------------------------- monitor
@dataclass
class Tracked:
    """One observed module: its place in the model and the layer it belongs to.

    ``layer`` numbers the layers (modules with weights) from 1 in forward order; an activation
    belongs to the layer before it (0 if it comes before any layer).
    """

    name: str
    module: Any
    role: str  # "layer" or "activation"
    kind: str  # layers: lower-cased class name ("linear"); activations: their kind ("tanh")
    layer: int


@dataclass
class Finding:
    """One plain-words observation; ``kind`` is a short tag such as ``"symmetry"``."""

    kind: str
    message: str
    layer: int | None = None

    def __str__(self) -> str:
        return self.message


def _default_loss(output: Tensor, target: Any) -> Tensor:
    from .nn import functional as F

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
        Relative tolerance of :func:`distinct_units`.
    bins
        Number of histogram bins kept per module and record (for :mod:`tinynet.plotting`).

    Notes
    -----
    The probe pass runs in eval mode (so BatchNorm statistics and dropout are not disturbed) with
    grad mode on, and leaves every parameter's ``.grad`` as it found it. Each record costs one
    forward and backward pass on the probe and one SVD per layer.

    Raises
    ------
    ValueError
        If ``every`` is negative, the probe is empty, or the model has neither a layer nor an
        activation.
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
        if not isinstance(every, (int, np.integer)) or isinstance(every, bool) or every < 0:
            raise ValueError(f"Monitor: every must be an int >= 0, got {every!r}")
        probe_array = _array(probe)
        if probe_array.ndim == 0 or probe_array.shape[0] == 0:
            raise ValueError(
                f"Monitor: probe must be a non-empty batch (N, ...), got shape {probe_array.shape}"
            )
        if targets is not None and len(_array(targets)) != probe_array.shape[0]:
            raise ValueError(
                f"Monitor: targets must have one entry per probe example ({probe_array.shape[0]}), "
                f"got {len(_array(targets))}"
            )
        self.model = model
        dtype = next((p.data.dtype for p in model.parameters()), probe_array.dtype)
        # the probe takes the model's float dtype, as the training batches do
        self.probe = probe_array.astype(dtype) if dtype.kind == "f" else probe_array
        self.targets = None if targets is None else _array(targets)
        self.every = int(every)
        self.loss = loss if loss is not None else _default_loss
        self.tol = float(tol)
        self.bins = int(bins)
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
        names = {id(p): n for n, p in model.named_parameters()}
        self._weights = [
            (t, names.get(id(t.module.weight), f"{t.name}.weight"))
            for t in self.tracked
            if t.role == "layer"
        ]
        self._capturing = False
        self._outputs: dict[str, Tensor] = {}
        self._handles = [
            t.module.register_forward_hook(self._hook_for(t.name)) for t in self.tracked
        ]
        self._previous = self._snapshot()
        if record_init:
            self.record(0)

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _discover(model: Any) -> list[Tracked]:
        tracked: list[Tracked] = []
        layer = 0
        for name, module in model.named_modules():
            if _is_layer(module):
                layer += 1
                tracked.append(
                    Tracked(
                        name or "(model)", module, "layer", type(module).__name__.lower(), layer
                    )
                )
                continue
            kind = activation_kind(module)
            if kind is not None:
                tracked.append(Tracked(name or "(model)", module, "activation", kind, layer))
        return tracked

    def _hook_for(self, name: str) -> Callable[[Any, Any, Any], None]:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if self._capturing and isinstance(output, Tensor):
                self._outputs[name] = output

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
            value = (
                None
                if before is None or before.shape != after.shape
                else update_ratio(before, after)
            )
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
        self._capturing = True
        try:
            if hasattr(self.model, "eval"):
                self.model.eval()
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
            for p, g in zip(params, saved, strict=True):
                p.grad = g
        return output if isinstance(output, Tensor) else None, loss, grads

    def record(self, step: int | None = None) -> dict[str, Any]:
        """Run the probe and append one record to :attr:`history` (also returned).

        A record is a JSON-ready dict: ``step``, ``loss``, ``accuracy``, ``n_classes``,
        ``ln_classes``, ``modules`` (one dict per observed module), ``layers`` (one dict per layer)
        and ``gradient_flow``. Figures that cannot be computed are None.
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
        n_classes = int(output.shape[-1]) if output is not None and output.ndim >= 1 else None
        accuracy = None
        if (
            output is not None
            and self.targets is not None
            and output.ndim == 2
            and self.targets.ndim == 1
        ):
            accuracy = float(np.mean(output.data.argmax(axis=1) == self.targets))
        loss_value = None if loss is None else float(loss.data)
        first = layers[0]["weight_grad_norm"] if layers else None
        last = layers[-1]["weight_grad_norm"] if layers else None
        flow = None
        if first is not None and last is not None and len(layers) > 1:
            flow = gradient_flow(first, last)
        record = {
            "step": step,
            "loss": loss_value,
            "accuracy": accuracy,
            "n_classes": n_classes,
            "ln_classes": math.log(n_classes) if n_classes and n_classes > 1 else None,
            "gradient_flow": flow,
            "modules": modules,
            "layers": layers,
        }
        self._outputs = {}
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
        row.update(shape=list(a.shape), mean=_mean(a), std=_std(a))
        if t.kind in SATURATING_KINDS:
            row["saturated"] = saturation_fraction(a, t.kind)
        if t.kind in DEAD_KINDS:
            row["dead"] = dead_fraction(a)
        entry = {"values": _histogram(a, self.bins, t.kind), "grads": None}
        if out.grad is not None:
            row["grad_std"] = _std(out.grad)
            entry["grads"] = _histogram(out.grad, self.bins, None)
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
        w_std = _std(w)
        fans = t.module.fans()
        row: dict[str, Any] = {
            "layer": t.layer,
            "name": t.name,
            "weight": weight_name,
            "type": type(t.module).__name__,
            "fan_in": int(fans[0]),
            "fan_out": int(fans[1]),
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
            g_std = _std(g)
            row.update(weight_grad_norm=_norm(g), weight_grad_std=g_std)
            if w_std > 0:
                row["grad_data"] = g_std / w_std
            hist.setdefault("weight_grads", {})[t.name] = _histogram(g, self.bins, None)
        bias = getattr(t.module, "bias", None)
        if bias is not None and grads.get(id(bias)) is not None:
            row["bias_grad_norm"] = _norm(grads[id(bias)])
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

    def table(self, record: dict[str, Any] | int | str | None = None) -> str:
        """Aligned text table of one record (default: the latest), one row per layer.

        Columns: layer, module, fans, pre-activation std, activation, its mean and std, % saturated,
        % dead, std of dL/d(activation), weight-gradient norm, grad:data, latest update:data
        (log10), distinct units / units, max cosine, rank.
        """
        r = self.select(record)
        mods = {(m["layer"], m["role"]): m for m in r["modules"] if m["role"] == "layer"}
        acts: dict[int, dict[str, Any]] = {}
        for m in r["modules"]:
            if m["role"] == "activation":
                acts[m["layer"]] = m  # the last activation of each layer's group
        header = [
            "layer", "module", "in→out", "pre std", "act", "act mean", "act std", "sat %", "dead %",
            "grad std", "|∇W|", "grad:data", "upd:data", "distinct", "max cos", "rank",
        ]  # fmt: skip
        rows = [header]
        for row in r["layers"]:
            pre = mods.get((row["layer"], "layer"), {})
            act = acts.get(row["layer"], {})
            out = act if act else pre
            rows.append(
                [
                    str(row["layer"]),
                    f"{row['name']} {row['type']}",
                    f"{row['fan_in']}→{row['fan_out']}",
                    _fmt(pre.get("std")),
                    _DISPLAY.get(act.get("kind", ""), act.get("kind", "-")) if act else "-",
                    _fmt(act.get("mean")) if act else "-",
                    _fmt(act.get("std")) if act else "-",
                    _pct(act.get("saturated")),
                    _pct(act.get("dead")),
                    _fmt(out.get("grad_std")),
                    _fmt(row["weight_grad_norm"]),
                    _fmt(row["grad_data"]),
                    "-" if row["update_data"] is None else f"{row['update_data']:.2f}",
                    "-"
                    if row["distinct_units"] is None
                    else f"{row['distinct_units']}/{row['units']}",
                    _fmt(row["max_cosine"]),
                    "-" if row["rank"] is None else str(row["rank"]),
                ]
            )
        widths = [max(len(line[i]) for line in rows) for i in range(len(header))]
        lines = []
        for k, line in enumerate(rows):
            cells = [
                c.ljust(w) if i in (1, 4) else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        summary = [f"step {r['step']}"]
        if r["loss"] is not None:
            summary.append(f"probe loss {r['loss']:.4g}")
            if r["ln_classes"] is not None:
                summary.append(f"(ln {r['n_classes']} = {r['ln_classes']:.4g})")
        if r["accuracy"] is not None:
            summary.append(f"probe accuracy {100 * r['accuracy']:.1f}%")
        if r["gradient_flow"] is not None:
            summary.append(f"gradient flow first/last {r['gradient_flow']:.3g}")
        return "\n".join([*lines, "  ".join(summary)])

    def findings(self, record: dict[str, Any] | int | str | None = None) -> list[str]:
        """Plain-words observations about one record (default: the latest); see
        :func:`find_problems`."""
        return [f.message for f in find_problems(self.select(record))]

    def report(self) -> str:
        """The latest record's table, then the findings at initialization and at the latest step."""
        first, last = self.history[0], self.history[-1]
        parts = [self.table(last), ""]
        sections = [
            (first, "at initialization" if first["step"] == 0 else f"at step {first['step']}")
        ]
        if last is not first:
            sections.append((last, f"at step {last['step']}"))
        for r, title in sections:
            parts.append(f"Findings {title}:")
            parts.extend(f"  - {message}" for message in self.findings(r))
        return "\n".join(parts)

    def to_dict(self, histograms: bool = False, updates: bool = True) -> dict[str, Any]:
        """Everything recorded, JSON-ready (non-finite numbers become None).

        Keys: ``history`` (the records), ``updates`` (per weight, ``[step, log10 ratio]`` pairs, one
        per optimizer step; omitted if ``updates`` is False), ``findings`` (``{"first": [...],
        "last": [...]}``) and, if asked, ``histograms`` keyed by step.
        """
        out: dict[str, Any] = {"history": self.history}
        if updates:
            out["updates"] = {k: [list(p) for p in v] for k, v in self.updates.items()}
        out.update(
            {
                "findings": {
                    "first": self.findings("first") if self.history else [],
                    "last": self.findings("last") if self.history else [],
                },
            }
        )
        if histograms:
            out["histograms"] = {str(k): v for k, v in self.histograms.items()}
        return json_ready(out)

    def to_json(
        self,
        path: str | os.PathLike[str] | None = None,
        histograms: bool = False,
        updates: bool = True,
    ) -> str:
        """:meth:`to_dict` as a JSON string; with ``path``, also written there atomically."""
        text = json.dumps(self.to_dict(histograms, updates), indent=1)
        if path is not None:
            write_text_atomic(path, text)
        return text


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then ``os.replace`` it onto ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.2e}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}"


def _layer_list(numbers: Iterable[int]) -> str:
    numbers = sorted(set(numbers))
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"layers {numbers[0]}–{numbers[-1]}"
    if len(numbers) == 1:
        return f"layer {numbers[0]}"
    return "layers " + ", ".join(map(str, numbers))


# ---------------------------------------------------------------------------------------- findings
def find_problems(record: dict[str, Any]) -> list[Finding]:
    """Name what one Monitor record shows, in plain words, most severe first.

    Looks for: symmetry (layers with 1 distinct unit, or fewer than half their units distinct);
    weight gradients that are exactly zero; vanishing or exploding gradient flow (first/last ratio
    below 1/100 or above 100); saturated tanh/sigmoid units (over 20% of a layer); dead ReLU-family
    units (over 10% of a layer); activation std shrinking or growing over 10× from the first to the
    last hidden layer; at step 0, the initial loss against ``ln C``; update:data ratios above 10⁻¹
    or below 10⁻⁵. Says so when it finds none of these.
    """
    found: list[Finding] = []
    for check in (_symmetry, _gradients, _saturation, _dead, _activation_std, _initial_loss,
                  _updates):  # fmt: skip
        found.extend(check(record))
    if all(f.kind == "initial-loss-ok" for f in found):
        found.append(
            Finding(
                "healthy",
                "no symmetry, saturation, dead units or vanishing/exploding gradients detected",
            )
        )
    return found


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
        elif distinct < _PARTIAL_SYMMETRY * units:
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
    flow = record["gradient_flow"]
    if flow is not None and 0 < flow < 1.0 / _FLOW_WARN:
        falls = format_ratio(1.0 / flow)
        text = f"gradient norm falls {falls} from last to first layer (vanishing)"
        found.append(Finding("vanishing", text))
    elif flow is not None and flow > _FLOW_WARN:
        text = f"gradient norm grows {format_ratio(flow)} from last to first layer (exploding)"
        found.append(Finding("exploding", text))
    elif flow == 0 and len(zero) < len(layers):
        found.append(Finding("vanishing", "no gradient reaches the first layer (vanishing)"))
    return found


def _activations(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in record["modules"] if m["role"] == "activation" and m["std"] is not None]


def _weighted(rows: list[dict[str, Any]], key: str, per_example: bool) -> float:
    """Mean of ``key`` over modules, weighted by their number of elements (or units)."""
    sizes = [float(np.prod(m["shape"][1:] if per_example else m["shape"])) for m in rows]
    return float(np.dot(sizes, [m[key] for m in rows]) / max(sum(sizes), 1.0))


def _saturation(record: dict[str, Any]) -> list[Finding]:
    found = []
    for kind in SATURATING_KINDS:
        rows = [m for m in _activations(record) if m["kind"] == kind]
        hot = [m for m in rows if m["saturated"] > _SATURATION_WARN]
        if not hot:
            continue
        worst = max(hot, key=lambda m: m["saturated"])
        rule = "|a| > 0.97" if kind == "tanh" else "a < 0.03 or a > 0.97"
        text = (
            f"{100 * _weighted(rows, 'saturated', False):.0f}% of {kind} units saturated ({rule}) "
            "— "
            f"{_layer_list(m['layer'] for m in hot)} over 20%, worst layer {worst['layer']} at "
            f"{100 * worst['saturated']:.0f}%; their local gradient is nearly 0 (weights too large "
            "for this activation?)"
        )
        found.append(Finding("saturation", text))
    return found


def _dead(record: dict[str, Any]) -> list[Finding]:
    rows = [m for m in _activations(record) if m["dead"] is not None]
    dead = [m for m in rows if m["dead"] > _DEAD_WARN]
    if not dead:
        return []
    worst = max(dead, key=lambda m: m["dead"])
    names = "/".join(sorted({_DISPLAY.get(m["kind"], m["kind"]) for m in dead}))
    where = "every layer" if len(dead) == len(rows) > 1 else _layer_list(m["layer"] for m in dead)
    text = (
        f"{100 * _weighted(rows, 'dead', True):.0f}% of {names} units are dead (≤ 0 on every probe "
        f"example) — {where} over 10%, worst layer {worst['layer']} at {100 * worst['dead']:.0f}%; "
        "they pass no gradient"
    )
    return [Finding("dead", text)]


def _activation_std(record: dict[str, Any]) -> list[Finding]:
    stds = _hidden_activation_std(record)
    if len(stds) < 2:
        return []
    (l0, s0), (l1, s1) = stds[0], stds[-1]
    if not s0 > 0:
        return []
    span = f"from layer {l0} to layer {l1} ({_fmt(s0)} → {_fmt(s1)})"
    if s1 < s0 / _STD_RATIO_WARN:
        how = format_ratio(s0 / s1) if s1 > 0 else "to 0"
        text = f"activation std shrinks {how} {span}: the signal fades with depth"
        return [Finding("activation-std", text)]
    if s1 > s0 * _STD_RATIO_WARN:
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
    if loss > 1.5 * ln_c + 0.5:
        text = (
            f"initial loss {loss:.3g} vs ln({c}) = {ln_c:.3g} for uniform guessing: the network "
            "starts confidently wrong (output weights too large)"
        )
        return [Finding("initial-loss", text)]
    text = f"initial loss {loss:.3g} ≈ ln({c}) = {ln_c:.3g}, as for uniform guessing"
    return [Finding("initial-loss-ok", text)]


def _updates(record: dict[str, Any]) -> list[Finding]:
    ratios = [row["update_data"] for row in record["layers"] if row["update_data"] is not None]
    if not ratios:
        return []
    median = float(np.median(ratios))
    if median > -1.0:
        text = (
            f"update:data ratio 10^{median:.1f} ≫ 10⁻³: each step rewrites the weights (learning "
            "rate too high?)"
        )
        return [Finding("update-ratio", text)]
    if median < -5.0:
        text = (
            f"update:data ratio 10^{median:.1f} ≪ 10⁻³: the weights barely move (learning rate "
            "too low, or vanishing gradients?)"
        )
        return [Finding("update-ratio", text)]
    return []


def _hidden_activation_std(record: dict[str, Any]) -> list[tuple[int, float]]:
    """(layer, std) of the last activation of each hidden layer (all but the output layer)."""
    n = len(record["layers"])
    by_layer: dict[int, float] = {}
    for m in record["modules"]:
        if m["role"] == "activation" and m["std"] is not None and 1 <= m["layer"] < n:
            by_layer[m["layer"]] = m["std"]
    return sorted(by_layer.items())
