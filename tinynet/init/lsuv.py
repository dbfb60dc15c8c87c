"""Layer-sequential unit-variance init (Mishkin & Matas, "All you need is a good init", 2016).

The :class:`Lsuv` strategy (orthogonal pre-initialization), :func:`scale_layers` (the rescaling on a
batch, which :func:`tinynet.init.apply` calls for data-dependent specs) and :func:`lsuv` itself.
Both ``lsuv`` and ``apply`` draw through :func:`.model.draw_layers`; this module never imports
``apply``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._checks import check_int, check_real
from ..function import no_grad
from ..tensor import Tensor, tensor
from .fans import Fans, Shape
from .model import draw_layers, required_layers
from .registry import register
from .schemes import Orthogonal
from .strategy import Initializer


class _Captured(Exception):
    """Raised by the capture hook to stop the forward pass once the layer's output is known."""


@register("lsuv")
class Lsuv(Initializer):
    """The data-dependent LSUV strategy: orthogonal weights, then per-layer rescaling on data.

    Called on a shape alone it draws the orthogonal pre-initialization (gain 1). The rescaling
    needs a batch: ``init.apply(model, weight="lsuv", data=x_batch)`` or :func:`lsuv`.
    """

    data_dependent = True
    uses_fans = False

    def __init__(self, tol: float = 0.1, max_iter: int = 10) -> None:
        self.tol = check_real("lsuv", "tol", tol, minimum=0.0, strict_min=True)
        self.max_iter = check_int("lsuv", "max_iter", max_iter, minimum=0)

    def sample(self, shape: Shape, fans: Fans, rng: np.random.Generator) -> np.ndarray:
        return Orthogonal().sample(shape, fans, rng)


def _as_input(x_batch: Any, dtype: np.dtype) -> Tensor:
    if isinstance(x_batch, Tensor):
        return x_batch
    array = np.asarray(x_batch)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"init.lsuv: x_batch must hold numbers, got dtype {array.dtype}")
    return tensor(array, dtype=dtype)


def scale_layers(
    model: Any, x_batch: Any, entries: list[tuple[str, Any, Lsuv]], op: str = "init.lsuv"
) -> list[dict[str, Any]]:
    """LSUV's second phase: for each ``(name, layer, strategy)`` in forward order, divide the
    weight by ``sqrt(var)`` of the layer's output on ``x_batch`` until ``|var - 1| < strategy.tol``
    or ``strategy.max_iter`` rescalings were made.

    Variances are over every element of the output (as in the paper), computed under ``no_grad``
    with the model in eval mode (restored afterwards).
    """
    first_weight = np.asarray(entries[0][1].weight.data)
    x = _as_input(x_batch, first_weight.dtype)
    # eval mode: dropout must not add noise (nor consume the default generator) and batch norm must
    # not update its running statistics on every measuring pass; each module's flag is restored
    modes = [(m, m.training) for m in model.modules() if hasattr(m, "training")]
    if callable(getattr(model, "eval", None)):
        model.eval()
    try:
        return _scale(model, x, entries, op)
    finally:
        for module, training in modes:
            module.training = training


def _scale(model: Any, x: Tensor, entries: list[tuple[str, Any, Lsuv]], op: str) -> list[dict[str, Any]]:
    report = []
    for name, layer, strategy in entries:
        tol, max_iter = strategy.tol, strategy.max_iter
        captured: list[Any] = []

        def hook(module: Any, inputs: Any, output: Any, _box: list[Any] = captured) -> None:
            _box.append(output)
            raise _Captured

        def measure(layer_name: str = name, box: list[Any] = captured) -> float:
            box.clear()
            with no_grad():
                try:
                    model(x)
                except _Captured:
                    pass
            if not box:
                raise ValueError(
                    f"{op}: layer {layer_name!r} was not called by the model's forward"
                )
            out = box[0]
            values = np.asarray(getattr(out, "data", out), dtype=np.float64)
            return float(np.var(values))

        handle = layer.register_forward_hook(hook)
        try:
            variance = measure()
            iterations = 0
            while abs(variance - 1.0) >= tol and iterations < max_iter:
                if not (variance > 0 and math.isfinite(variance)):
                    warnings.warn(
                        f"{op}: output variance of layer {name!r} is {variance}; cannot rescale",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                    break
                weight = np.asarray(layer.weight.data)
                layer.weight.data = (weight / math.sqrt(variance)).astype(weight.dtype)
                iterations += 1
                variance = measure()
        finally:
            handle.remove()
        report.append(
            {
                "layer": name,
                "iterations": iterations,
                "variance": variance,
                "converged": abs(variance - 1.0) < tol,
            }
        )
    return report


def lsuv(
    model: Any,
    x_batch: Any,
    tol: float = 0.1,
    max_iter: int = 10,
    rng: np.random.Generator | int | None = None,
) -> list[dict[str, Any]]:
    """Mishkin & Matas' LSUV: orthogonal pre-init, then unit output variance layer by layer.

    1. Every layer's weight is redrawn orthogonal (gain 1) from its own stream (seeded by ``rng``
       as in :func:`tinynet.init.apply`); biases are left as they are.
    2. In forward order, the batch is run through the model and the variance ``v`` of the layer's
       output (pre-activation, over all its elements) is measured; while ``|v - 1| >= tol`` and
       fewer than ``max_iter`` rescalings were made, the weight is divided by ``sqrt(v)``. The
       passes run under ``no_grad`` in eval mode (no dropout noise, no batch-norm statistics
       updates); every module's training flag is restored afterwards.

    Parameters
    ----------
    model
        A module with ``modules()`` whose layers support ``register_forward_hook``.
    x_batch
        A batch of inputs, numpy array or Tensor.

    Returns
    -------
    list of dict
        One per layer: ``layer`` (dotted name), ``iterations`` (rescalings made), ``variance``
        (final output variance) and ``converged`` (``|variance - 1| < tol``). Each layer's
        ``weight_init`` becomes ``lsuv(tol=..., max_iter=...)``.
    """
    strategy = Lsuv(tol=tol, max_iter=max_iter)
    layers = required_layers(model, "init.lsuv")
    if x_batch is None:
        raise ValueError(f"init.lsuv: {strategy!r} is data-dependent; pass x_batch (a batch of inputs)")
    draw_layers(model, [(name, layer, strategy, None) for name, layer in layers], rng, "init.lsuv")
    return scale_layers(model, x_batch, [(name, layer, strategy) for name, layer in layers], "init.lsuv")
