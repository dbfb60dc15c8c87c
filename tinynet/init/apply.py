"""(Re)initializing a whole model: name patterns, framework presets, auto gains.

The drawing itself (one random stream per parameter) is :func:`.model.draw_layers`; data-dependent
specs (``"lsuv"``) are then rescaled by :func:`.lsuv.scale_layers`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._checks import check_choice
from .lsuv import scale_layers
from .model import (
    Choice,
    draw,
    draw_layers,
    following_gains,
    named_layers,
    required_layers,
    with_gain,
)
from .registry import get
from .strategy import Initializer

#: each framework's defaults for a dense layer as ``(weight, bias)`` specs
PRESETS: dict[str, tuple[str, str]] = {
    # nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) == U(+-1/sqrt(fan_in));
    # the bias uses the same bound
    "pytorch": ("default", "default_bias"),
    # keras.layers.Dense: kernel_initializer="glorot_uniform", bias_initializer="zeros"
    "keras": ("glorot_uniform", "zeros"),
    # flax.linen.Dense: lecun_normal() == variance_scaling(1.0, "fan_in", "truncated_normal"), zeros
    "flax": (
        "variance_scaling(scale=1.0, mode='fan_in', distribution='truncated_normal')",
        "zeros",
    ),
}


def _is_pattern_map(spec: Any) -> bool:
    # a dict with a "name" key is a config dict, any other dict maps layer-name patterns to specs
    return isinstance(spec, Mapping) and "name" not in spec


def _plan(spec: Any, layers: list[tuple[str, Any]], attr: str) -> dict[str, Initializer | None]:
    """``layer name -> Initializer`` (None: the layer's own ``<attr>_init``)."""
    if spec is None:
        return {name: None for name, _ in layers}
    if not _is_pattern_map(spec):
        initializer = get(spec)
        return {name: initializer for name, _ in layers}
    plan: dict[str, Initializer | None] = {name: None for name, _ in layers}
    for pattern, item in spec.items():
        if not isinstance(pattern, str):
            raise TypeError(f"init.apply: {attr} patterns must be strings, got {pattern!r}")
        initializer = get(item)
        hits = [name for name, _ in layers if fnmatch.fnmatchcase(name, pattern)]
        if not hits:
            raise ValueError(
                f"init.apply: {attr} pattern {pattern!r} matches no layer; layers: "
                f"{', '.join(repr(n) for n, _ in layers)}"
            )
        for name in hits:  # later patterns win
            plan[name] = initializer
    return plan


def _own(layer: Any, name: str, attr: str) -> Initializer:
    own = getattr(layer, f"{attr}_init", None)
    if own is None:
        raise TypeError(
            f"init.apply: layer {name!r} has no {attr}_init to re-draw from; pass {attr}=spec"
        )
    return get(own)


def apply(
    model: Any,
    weight: Any = None,
    bias: Any = None,
    rng: np.random.Generator | int | None = None,
    preset: str | None = None,
    data: Any = None,
) -> Any:
    """Re-initialize every layer of ``model`` in place and return ``model``.

    Parameters
    ----------
    model
        Any module with ``modules()``; its layers are the modules with ``fans()`` and a ``weight``.
    weight, bias
        A spec for every layer (anything :func:`tinynet.init.get` takes), or a dict mapping
        layer-name patterns (``fnmatch`` globs on dotted module names such as ``"0"``, ``"head.*"``)
        to specs; the last matching pattern wins and a pattern that matches nothing raises. ``None``
        (or a layer no pattern matches) re-draws the layer's own ``weight_init``/``bias_init``.
        ``gain="auto"`` takes the gain of the activation after each layer.
    rng
        Int seed, Generator (a base seed is drawn from it) or None (drawn from the default
        Generator). Every parameter draws from its *own* stream, derived from the base seed and the
        parameter's full dotted name: the same seed gives the same model, and changing one layer's
        spec leaves every other parameter bit-identical.
    preset
        ``"pytorch"`` (weights and biases U(+-1/sqrt(fan_in))), ``"keras"`` (glorot_uniform, zeros)
        or ``"flax"`` (lecun_normal truncated as in Flax, zeros): those frameworks' dense-layer
        defaults. An explicit ``weight``/``bias`` overrides the preset's.
    data
        A batch of inputs (numpy array or Tensor), required when a weight spec is data-dependent
        (``"lsuv"``): the layers are drawn, then LSUV-scaled on this batch.

    Afterwards each layer's ``weight_init``/``bias_init`` hold the initializers used.

    Raises
    ------
    ValueError
        Unknown preset, a pattern matching no layer, a model without layers, or ``"lsuv"`` without
        ``data``.
    TypeError
        A model without ``modules()``, a preset that is not a string, or ``None`` for a layer that
        has no ``weight_init``/``bias_init``.
    """
    op = "init.apply"
    if preset is not None:
        preset_weight, preset_bias = PRESETS[check_choice(op, "preset", preset, PRESETS)]
        weight = preset_weight if weight is None else weight
        bias = preset_bias if bias is None else bias
    layers = required_layers(model, op)
    weights = _plan(weight, layers, "weight")
    biases = _plan(bias, layers, "bias")
    chosen: list[Choice] = []
    for name, layer in layers:
        w_init = weights[name] or _own(layer, name, "weight")
        b_init = None
        if getattr(layer, "bias", None) is not None:
            b_init = biases[name] or _own(layer, name, "bias")
        chosen.append((name, layer, w_init, b_init))
    data_dependent = [(name, layer, w_init) for name, layer, w_init, _ in chosen if w_init.data_dependent]
    if data_dependent and data is None:
        raise ValueError(
            f"{op}: {data_dependent[0][2]!r} is data-dependent; pass data=x_batch (a batch of inputs)"
        )
    draw_layers(model, chosen, rng, op)
    if data_dependent:
        scale_layers(model, data, data_dependent, op)
    return model


def resolve_auto_gain(model: Any) -> dict[str, float]:
    """Re-draw, with a concrete gain, every layer whose ``weight_init`` has ``gain="auto"``.

    Walks ``model.modules()`` in order; for each such layer the gain is that of the next module
    with a numeric ``gain`` attribute that is not a layer, searching no further than the next
    layer (none found: 1.0). The weight is re-drawn from the default Generator (as a freshly built
    layer is) with the layer's fans and dtype; a bias whose ``bias_init`` has ``gain="auto"`` too.
    ``weight_init`` keeps ``"auto"``. ``nn.Sequential`` calls this when it is built.

    Returns
    -------
    dict
        ``{layer_name: gain}`` for the layers re-drawn.
    """
    layers = named_layers(model, "init.resolve_auto_gain")
    if not any(
        getattr(getattr(layer, f"{attr}_init", None), "gain", None) == "auto"
        for _, layer in layers
        for attr in ("weight", "bias")
    ):
        return {}  # nothing to resolve: do not ask any activation for its (possibly estimated) gain
    gains = following_gains(model, "init.resolve_auto_gain")
    resolved: dict[str, float] = {}
    for name, layer in layers:
        gain = gains[id(layer)]
        for attr in ("weight", "bias"):
            initializer = getattr(layer, f"{attr}_init", None)
            if getattr(layer, attr, None) is None or getattr(initializer, "gain", None) != "auto":
                continue
            draw(layer, attr, initializer, None, gain)
            resolved[name] = gain
    return resolved


__all__ = ["PRESETS", "apply", "resolve_auto_gain", "with_gain"]
