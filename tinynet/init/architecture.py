"""Initialization that depends on the architecture: Fixup for residual networks.

Fixup (Zhang, Dauphin & Ma, *Fixup Initialization: Residual Learning Without Normalization*, ICLR
2019) trains deep residual networks without normalization by making every residual branch start
small: the last layer of each branch starts at zero and the others are scaled down with depth, so
that the update of the whole network per SGD step is independent of the number of blocks.

A residual block is found by declaration, as a layer is: a module whose ``is_residual`` is true and
whose ``branch`` is the module that computes ``f(x)`` in ``y = x + f(x)`` (``nn.Residual`` is one).
init never imports ``tinynet.nn``.

ReZero (Bachlechner et al. 2020, ``y = x + a f(x)`` with a learnable scalar ``a = 0``) and SkipInit
(De & Smith 2020, the same with a small or zero ``a``) need nothing here: they are
``nn.Residual(branch, scale=0.0)``, whose branches may keep any initialization.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .model import Choice, draw_layers, named_layers
from .schemes import HeNormal, Zeros

__all__ = ["fixup", "fixup_scale", "residual_blocks"]

#: He's gain for ReLU, which Fixup's scaled layers use (``he_normal``'s default)
HE_GAIN = math.sqrt(2.0)


def residual_blocks(model: Any, op: str = "init") -> list[tuple[str, Any]]:
    """``(dotted_name, block)`` for every residual block of ``model`` in ``modules()`` order.

    A residual block is a module that declares ``is_residual`` true and has a ``branch`` module.

    Raises
    ------
    TypeError
        If ``model`` has no ``modules()``, or a module declares ``is_residual`` without a
        ``branch`` that has ``modules()``.
    """
    if not callable(getattr(model, "modules", None)):
        raise TypeError(f"{op}: model must be a module with modules(), got {type(model).__name__}")
    names: dict[int, str] = {}
    if callable(getattr(model, "named_modules", None)):
        for name, module in model.named_modules():
            names.setdefault(id(module), name)
    blocks: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for module in model.modules():
        if id(module) in seen or not getattr(module, "is_residual", False):
            continue
        seen.add(id(module))
        name = names.get(id(module), "")
        if not callable(getattr(getattr(module, "branch", None), "modules", None)):
            raise TypeError(
                f"{op}: residual block {name or type(module).__name__!r} declares is_residual but "
                "has no branch module (its f in y = x + f(x))"
            )
        blocks.append((name, module))
    return blocks


def fixup_scale(n_blocks: int, n_layers: int) -> float:
    """Fixup's multiplier ``L ** (-1 / (2m - 2))`` of He-normal weights, for ``L = n_blocks``
    residual blocks of ``m = n_layers`` weight layers each (``m >= 2``).

    The std of a scaled weight is ``sqrt(2 / fan_in) * L ** (-1 / (2m - 2))``, its variance
    ``(2 / fan_in) * L ** (-1 / (m - 1))``. With ``m = 1`` there is no layer to scale (the only one
    is zeroed) and this raises.

    Raises
    ------
    ValueError
        If ``n_blocks < 1`` or ``n_layers < 2``.
    """
    if n_blocks < 1 or n_layers < 2:
        raise ValueError(
            f"fixup_scale: needs L >= 1 residual blocks and m >= 2 layers per branch, got "
            f"L={n_blocks}, m={n_layers}"
        )
    return float(n_blocks) ** (-1.0 / (2 * n_layers - 2))


def fixup(model: Any, rng: np.random.Generator | int | None = None) -> Any:
    """Fixup initialization (Zhang et al. 2019) of every residual block of ``model``, in place.

    With ``L`` the number of residual blocks and ``m`` the number of weight layers in a block's
    branch (counted per branch):

    - the last weight layer of every branch, and the model's final weight layer (the last layer in
      ``modules()`` order, e.g. the classifier), get weight 0 and bias 0;
    - every other weight layer inside a branch gets He-normal weights times ``L ** (-1 / (2m - 2))``,
      i.e. std ``sqrt(2 / fan_in) * L ** (-1 / (2m - 2))`` (variance
      ``(2 / fan_in) * L ** (-1 / (m - 1))``), and bias 0. With ``m = 1`` a branch only has its
      zeroed layer;
    - layers outside every branch (a stem, a projection) keep their weights.

    So at initialization every block is the identity map and the network's output is 0. A nested
    block's own rule wins over its enclosing branch's for the layers in it. The full method also
    adds scalar biases before each layer and activation and a scalar multiplier per branch: those
    are parameters of the architecture, not of the initialization (``nn.Residual(branch,
    scale=1.0)`` gives the multiplier). For ReZero and SkipInit use ``nn.Residual(branch,
    scale=0.0)`` instead (module docstring).

    Every parameter draws from its own stream, as in :func:`tinynet.init.apply` (from ``rng``
    and its full dotted name); afterwards each drawn layer's ``weight_init``/``bias_init`` are the
    initializers used (``zeros``, or ``he_normal(gain=sqrt(2) * scale)``).

    Parameters
    ----------
    model
        A module with ``modules()``; residual blocks are the modules that declare ``is_residual``
        and have a ``branch`` (``nn.Residual``).
    rng
        Int seed, Generator or None (the default Generator), as in :func:`tinynet.init.apply`.

    Returns
    -------
    The model.

    Raises
    ------
    ValueError
        If the model has no residual block, or a block's branch has no weight layer.
    TypeError
        If ``model`` has no ``modules()`` or a residual block has no ``branch``.
    """
    op = "init.fixup"
    blocks = residual_blocks(model, op)
    if not blocks:
        raise ValueError(
            f"{op}: found no residual block in {type(model).__name__} (a module that declares "
            "is_residual = True and has a branch, such as nn.Residual); Fixup initializes the "
            "branches of residual networks"
        )
    layers = named_layers(model, op)
    position = {id(layer): i for i, (_, layer) in enumerate(layers)}
    plan: dict[int, Any] = {}  # id(layer) -> initializer of its weight; outer blocks first
    zeros = Zeros()
    for name, block in blocks:
        branch = [layer for _, layer in named_layers(block.branch, op) if id(layer) in position]
        if not branch:
            raise ValueError(
                f"{op}: the branch of residual block {name or type(block).__name__!r} has no weight "
                "layer (a module with fans() and a weight) to initialize"
            )
        branch.sort(key=lambda layer: position[id(layer)])
        if len(branch) > 1:
            he = HeNormal(gain=HE_GAIN * fixup_scale(len(blocks), len(branch)))
            plan.update({id(layer): he for layer in branch[:-1]})
        plan[id(branch[-1])] = zeros
    plan[id(layers[-1][1])] = zeros
    chosen: list[Choice] = [
        (name, layer, plan[id(layer)], zeros if getattr(layer, "bias", None) is not None else None)
        for name, layer in layers
        if id(layer) in plan
    ]
    draw_layers(model, chosen, rng, op)
    return model
