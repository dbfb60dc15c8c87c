"""How init sees a model: the Layer and Model protocols, the one :func:`is_layer`, per-parameter
random streams, auto gains, and :func:`draw_layers`, the drawing step that :func:`tinynet.init.apply`
and :func:`tinynet.init.lsuv` share.

init never imports ``tinynet.nn``. A *model* is anything with ``modules()`` (and, for names,
``named_modules()``/``named_parameters()``); a *layer* is a module that declares its fans with a
``fans()`` method and owns a ``weight``. Everything in tinynet that needs to tell layers from other
modules (init, LSUV, the Monitor, the training loop) asks :func:`is_layer`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._checks import check_int, is_int, is_real
from ..random import as_generator
from .strategy import Initializer


@runtime_checkable
class Layer(Protocol):
    """A module with weights: ``fans() -> (fan_in, fan_out)`` and a ``weight`` parameter (and an
    optional ``bias``). ``nn.Linear`` is one; so is any user module that declares the same."""

    weight: Any

    def fans(self) -> tuple[float, float]: ...


@runtime_checkable
class Model(Protocol):
    """What init and the diagnostics need of a model: its modules and named parameters in forward
    order (``nn.Module`` provides both)."""

    def modules(self) -> Iterator[Any]: ...

    def named_parameters(self) -> Iterator[tuple[str, Any]]: ...


def is_layer(module: Any) -> bool:
    """True for a module that declares its fans (a callable ``fans``) and owns a ``weight`` that is
    not None: the :class:`Layer` protocol, checked by declaration rather than by class."""
    return callable(getattr(module, "fans", None)) and getattr(module, "weight", None) is not None


def _modules(model: Any, op: str) -> list[Any]:
    if not callable(getattr(model, "modules", None)):
        raise TypeError(f"{op}: model must be a module with modules(), got {type(model).__name__}")
    unique, seen = [], set()
    for module in model.modules():
        if id(module) not in seen:
            seen.add(id(module))
            unique.append(module)
    return unique


def named_layers(model: Any, op: str = "init") -> list[tuple[str, Any]]:
    """``(dotted_name, layer)`` for every layer of ``model`` in ``modules()`` (forward) order."""
    names: dict[int, str] = {}
    if callable(getattr(model, "named_modules", None)):
        for name, module in model.named_modules():
            names.setdefault(id(module), name)
    return [(names.get(id(m), ""), m) for m in _modules(model, op) if is_layer(m)]


def required_layers(model: Any, op: str) -> list[tuple[str, Any]]:
    """:func:`named_layers`, refusing a model without any layer."""
    layers = named_layers(model, op)
    if not layers:
        raise ValueError(
            f"{op}: found no layer in {type(model).__name__} (a layer is a module with a fans() "
            "method and a weight)"
        )
    return layers


def parameter_names(model: Any) -> dict[int, str]:
    """``id(parameter) -> full dotted name`` from ``model.named_parameters()`` (empty if absent)."""
    if not callable(getattr(model, "named_parameters", None)):
        return {}
    out: dict[int, str] = {}
    for name, param in model.named_parameters():
        out.setdefault(id(param), name)
    return out


def parameter_name(names: dict[int, str], layer_name: str, layer: Any, attr: str) -> str:
    param = getattr(layer, attr)
    if id(param) in names:
        return names[id(param)]
    return f"{layer_name}.{attr}" if layer_name else attr


def following_gains(model: Any, op: str = "init") -> dict[int, float]:
    """``id(layer) -> gain`` of the activation that follows each layer in ``modules()`` order.

    The search stops at the next layer; a layer with no activation before it (e.g. the output
    layer) gets 1.0. An activation is any non-layer module with a numeric ``gain`` attribute.
    """
    modules = _modules(model, op)
    gains: dict[int, float] = {}
    for i, module in enumerate(modules):
        if not is_layer(module):
            continue
        gain = 1.0
        for later in modules[i + 1 :]:
            if is_layer(later):
                break
            candidate = getattr(later, "gain", None)
            if is_real(candidate):
                gain = float(candidate)
                break
        gains[id(module)] = gain
    return gains


def base_seed(rng: np.random.Generator | int | None, op: str) -> int:
    """An int seed: ``rng`` itself if it is an int, else one drawn from the Generator."""
    if is_int(rng):
        return check_int(op, "rng seed", rng, minimum=0)
    return int(as_generator(rng).integers(0, 2**63))


def stream(seed: int, name: str) -> np.random.Generator:
    """The Generator of one parameter: ``SeedSequence(seed, spawn_key=sha256(name))``.

    Stable across runs, processes and platforms (Python's ``hash()`` is salted, so is not used).
    """
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def with_gain(initializer: Initializer, gain: float) -> Initializer:
    """``initializer`` with ``gain="auto"`` replaced by ``gain`` (unchanged otherwise)."""
    if getattr(initializer, "gain", None) == "auto":
        return initializer.replace(gain=gain)
    return initializer


def draw(
    layer: Any,
    attr: str,
    initializer: Initializer,
    rng: np.random.Generator | int | None,
    gain: float,
) -> None:
    """Re-initialize ``layer.<attr>`` in place of its data, with the layer's own fans and dtype."""
    param = getattr(layer, attr)
    fan_in, fan_out = layer.fans()
    current = np.asarray(param.data)
    param.data = with_gain(initializer, gain)(
        current.shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=current.dtype
    )


#: what :func:`draw_layers` draws: ``(layer name, layer, weight initializer, bias initializer or
#: None to leave the bias as it is)``
Choice = tuple[str, Any, Initializer, Initializer | None]


def draw_layers(
    model: Any, chosen: list[Choice], rng: np.random.Generator | int | None, op: str
) -> None:
    """Draw every chosen layer's weight (and bias) in place, each parameter from its own stream.

    The base seed comes from ``rng`` (:func:`base_seed`); the stream of a parameter is
    :func:`stream` of that seed and the parameter's full dotted name, so the numbers of one
    parameter depend only on the seed, its name and its initializer. ``gain="auto"`` takes the gain
    of the activation after the layer (:func:`following_gains`). Afterwards ``layer.weight_init``
    (and ``layer.bias_init`` where a bias was drawn) hold the initializers used.
    """
    seed = base_seed(rng, op)
    gains = following_gains(model, op)
    param_names = parameter_names(model)
    for name, layer, w_init, b_init in chosen:
        gain = gains[id(layer)]
        weight_stream = stream(seed, parameter_name(param_names, name, layer, "weight"))
        draw(layer, "weight", w_init, weight_stream, gain)
        layer.weight_init = w_init
        if b_init is not None:
            bias_stream = stream(seed, parameter_name(param_names, name, layer, "bias"))
            draw(layer, "bias", b_init, bias_stream, gain)
            layer.bias_init = b_init
