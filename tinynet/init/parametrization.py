r"""Parametrizations: how initialization *and* learning rates scale with width (SP, NTK, µP).

A parametrization is a **table**: for each role of a parameter (input weights, hidden weights,
output weights, biases) three exponents, read against the ratio ``r = base_width / width``:

.. math::

    \operatorname{Var}(W) = \frac{1}{\text{fan\_in}} \, r^{a}, \qquad
    \text{lr\_mult}_{\text{SGD}} = r^{c_{\text{sgd}}}, \qquad
    \text{lr\_mult}_{\text{Adam}} = r^{c_{\text{adam}}}.

At ``width == base_width`` every ratio is 1, so every table gives SP there: the same weights for the
same seed and every multiplier 1 (the normalization of Tensor Programs V, Yang et al. 2022, §4, so
that a learning rate tuned at ``base_width`` keeps its meaning).

**What "width" is, per role.** The roles come from the position of a layer among the model's weight
layers (:func:`tinynet.init.model.named_layers` order): the first is the *input* layer, the last the
*output* layer, the rest *hidden*.

- input weights: ``width = fan_out`` (the layer's output width; its fan_in is the data dimension,
  which does not grow);
- hidden and output weights: ``width = fan_in``;
- biases of the input and hidden layers: ``width = fan_out`` (the bias's length); the output
  layer's bias has no width-like dimension (its length is the number of classes), so its ratio is
  1 in every table (as ``mup`` treats it: a scalar-like parameter).

**Biases have variance 1/fan_in** (the layer's fan_in), as DESIGN's table and PyTorch's ``Linear``
default do: ``b ~ N(0, r^{a_bias} / fan_in)`` with the bias's own ratio (``base / fan_out`` for the
input and hidden layers, 1 for the output layer), ``a_bias = 0`` in every built-in table. In Tensor
Programs V a bias is a weight on the constant input 1, so its variance may be anything Θ(1)
independent of width; ``1/fan_in`` shrinks as the hidden width grows, so a hidden bias's share of a
pre-activation shrinks too, harmlessly (its updates, not its init, make it matter). At
``width == base_width`` every table draws the same biases.

**The built-in tables** (exponents ``a / c_sgd / c_adam``; ``n`` the width of the entry):

=========  =====================  =====================  =====================  =================
name       input weights          hidden weights         output weights         biases
=========  =====================  =====================  =====================  =================
``sp``     0 / 0 / 0              0 / 0 / 0              0 / 0 / 0              0 / 0 / 0
``ntk``    0 / 0 / 0              0 / 1 / ½              0 / 1 / ½              0 / 0 / 0
``mup``    0 / −1 / 0             0 / 0 / 1              1 / 1 / 1              0 / −1 / 0
=========  =====================  =====================  =====================  =================

Reasons, entry by entry:

- **SP** (standard parametrization, Table 3's grey entries): variance ``1/fan_in`` everywhere and
  one global learning rate. It is what ``He``/``LeCun``-style init with a plain optimizer does.
  With width, the output layer's update ``ΔW·x`` sums ``n`` correlated terms, so logits move by
  Θ(n·lr) after a step: the best learning rate shrinks with width.
- **NTK** (the neural-tangent parametrization, ``W = w/√fan_in`` with ``w ~ N(0, 1)`` trained at
  rate η) rewritten without multipliers: the forward pass is SP's (variance ``1/fan_in``), and the
  gradient with respect to ``w`` is ``1/√n`` that of ``W``, so an SGD step on ``w`` moves ``W`` by
  ``η/n · ∂L/∂W``: hidden and output SGD rates ``1/n`` (exponent 1). Adam normalizes the gradient
  away, so a step moves ``w`` by Θ(η) and ``W`` by ``η/√n``: exponent ½. The input layer's
  multiplier ``1/√d`` and the biases' do not depend on width: exponent 0. Features barely move at
  large width (the kernel regime).
- **µP** (maximal update, Table 3 of Tensor Programs V): hidden weights keep ``1/fan_in``; output
  weights ``(1/fan_in)·(base/fan_in)``, i.e. ``1/fan_in²`` up to the base, so the logits start near
  zero and are moved by the updates, not by the init. SGD: the input layer (and every bias, a
  vector of the width's length) gets ``fan_out/base`` because its gradient per entry shrinks as
  ``1/n``; hidden weights 1; output ``base/fan_in``. Adam: the update is Θ(lr) per entry whatever
  the gradient's size, so input weights and biases keep 1 and hidden and output weights get
  ``base/fan_in``, which makes ``ΔW·x`` (a sum of ``n`` aligned terms) Θ(1).

**A table of one's own**: :func:`register_parametrization` ``("name", {"input": Rule(...),
"hidden": Rule(...), "output": Rule(...), "bias": Rule(...)})``; :func:`parametrize` then accepts
``"name"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_choice, check_int, check_real, unknown_choice
from .model import Choice, draw_layers, named_layers
from .schemes import Normal

__all__ = [
    "OPTIMIZERS",
    "ROLES",
    "Rule",
    "parametrization",
    "parametrization_names",
    "parametrize",
    "register_parametrization",
]

#: the roles of a parametrization table, and the optimizers it gives rates for
ROLES = ("input", "hidden", "output", "bias")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Rule:
    r"""One entry of a parametrization table: exponents of ``r = base_width / width``.

    ``variance`` is ``a`` in ``Var = r^a / fan_in`` (for biases: the layer's fan_in and the bias's
    ratio);
    ``sgd`` and ``adam`` are the exponents of that optimizer's ``lr_mult = r^c``.
    """

    variance: float = 0.0
    sgd: float = 0.0
    adam: float = 0.0

    def lr_exponent(self, optimizer: str) -> float:
        """The exponent ``c`` of ``lr_mult = r^c`` for ``optimizer`` ("sgd" or "adam")."""
        return self.sgd if optimizer == "sgd" else self.adam


_TABLES: dict[str, dict[str, Rule]] = {}


def _checked_table(name: str, table: Mapping[str, Rule]) -> dict[str, Rule]:
    op = "init.register_parametrization"
    if not isinstance(table, Mapping):
        raise TypeError(f"{op}: table must be a dict role -> Rule, got {type(table).__name__}")
    if set(table) != set(ROLES):
        raise ValueError(
            f"{op}: table {name!r} must have exactly the roles {', '.join(ROLES)}; got "
            f"{', '.join(map(str, table))}"
        )
    out = {}
    for role in ROLES:
        rule = table[role]
        if not isinstance(rule, Rule):
            raise TypeError(f"{op}: table[{role!r}] must be a Rule, got {type(rule).__name__}")
        for field in ("variance", "sgd", "adam"):
            check_real(op, f"table[{role!r}].{field}", getattr(rule, field))
        out[role] = rule
    return out


def register_parametrization(name: str, table: Mapping[str, Rule]) -> None:
    """Add (or replace) a parametrization table under ``name``.

    Parameters
    ----------
    name
        The name :func:`parametrize` will accept.
    table
        ``{"input": Rule, "hidden": Rule, "output": Rule, "bias": Rule}``; each :class:`Rule` holds
        the exponents ``a``, ``c_sgd``, ``c_adam`` of ``r = base_width / width`` (see the module
        docstring for what "width" is per role).

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string, the table not a mapping of Rules.
    ValueError
        If the table lacks a role or has another, or an exponent is not finite.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"init.register_parametrization: name must be a non-empty string, got {name!r}")
    _TABLES[name] = _checked_table(name, table)


def parametrization_names() -> list[str]:
    """The registered parametrizations, in registration order (``sp``, ``ntk``, ``mup`` first)."""
    return list(_TABLES)


def parametrization(name: str) -> dict[str, Rule]:
    """A copy of the table registered under ``name``.

    Raises
    ------
    ValueError
        For an unknown name (listing the valid ones and the closest match).
    """
    if not isinstance(name, str):
        raise TypeError(f"init.parametrize: name must be a string, got {name!r}")
    if name not in _TABLES:
        raise unknown_choice("parametrization", name, _TABLES)
    return dict(_TABLES[name])


register_parametrization("sp", {role: Rule() for role in ROLES})
register_parametrization(
    "ntk",
    {
        "input": Rule(),
        "hidden": Rule(sgd=1.0, adam=0.5),
        "output": Rule(sgd=1.0, adam=0.5),
        "bias": Rule(),
    },
)
register_parametrization(
    "mup",
    {
        "input": Rule(sgd=-1.0),
        "hidden": Rule(adam=1.0),
        "output": Rule(variance=1.0, sgd=1.0, adam=1.0),
        "bias": Rule(sgd=-1.0),
    },
)


def roles(model: Any, op: str = "init.parametrize") -> list[tuple[str, Any, str]]:
    """``(layer name, layer, role)`` for every weight layer of ``model``: the first is ``"input"``,
    the last ``"output"``, the rest ``"hidden"``.

    Raises
    ------
    ValueError
        If the model has fewer than 2 weight layers (input and output must differ).
    """
    layers = named_layers(model, op)
    if len(layers) < 2:
        raise ValueError(
            f"{op}: a parametrization needs at least 2 weight layers (input and output), found "
            f"{len(layers)} in {type(model).__name__}"
        )
    last = len(layers) - 1
    return [
        (name, layer, "input" if i == 0 else "output" if i == last else "hidden")
        for i, (name, layer) in enumerate(layers)
    ]


def _width(role: str, fan_in: float, fan_out: float) -> float:
    return fan_out if role == "input" else fan_in


def parametrize(
    model: Any,
    name: str,
    base_width: int,
    optimizer: str = "sgd",
    rng: np.random.Generator | int | None = None,
) -> list[dict[str, Any]]:
    r"""Re-initialize the weight layers of ``model`` by a parametrization table and return the
    parameter groups (with ``"lr_mult"``) for ``optimizer``.

    For a weight of role ρ with fans ``(fan_in, fan_out)`` and ``r = base_width / width``
    (``width = fan_out`` for the input layer, ``fan_in`` otherwise; see the module docstring)::

        W ~ N(0, r^{a_ρ} / fan_in),        lr_mult(W) = r^{c_ρ}   (c of the chosen optimizer)
        b ~ N(0, r_b^{a_bias} / fan_in),   lr_mult(b) = r_b^{c_bias}
        r_b = base_width / fan_out         (1 for the output layer's bias)

    Each parameter draws from its own stream (as :func:`tinynet.init.apply`), so at
    ``width == base_width`` every table gives the same weights for the same seed.

    Parameters
    ----------
    model
        A model with ``modules()``; at least 2 weight layers (see :func:`roles`).
    name
        ``"sp"``, ``"ntk"``, ``"mup"`` or a name given to :func:`register_parametrization`.
    base_width
        The width at which the table equals SP (an int >= 1), e.g. the width a learning rate was
        tuned at.
    optimizer
        ``"sgd"`` or ``"adam"`` (Adam-like optimizers: AdamW, RMSprop, Adagrad normalize the
        gradient too and take Adam's column).
    rng
        Int seed, Generator or None (the default Generator).

    Returns
    -------
    list of dict
        One group per parameter, in the model's layer order: ``{"params": [p], "lr_mult": m,
        "name": dotted name, "role": "input" | "hidden" | "output" | "bias"}``, ready for
        ``optim.Adam(groups, lr=...)``; the optimizer applies ``lr * lr_mult``.

    Raises
    ------
    ValueError
        For an unknown name or optimizer, ``base_width < 1``, or a model with fewer than 2 weight
        layers.
    TypeError
        For arguments of the wrong type.
    """
    op = "init.parametrize"
    table = parametrization(name)
    base = check_int(op, "base_width", base_width, minimum=1)
    check_choice(op, "optimizer", optimizer, OPTIMIZERS)
    layers = roles(model, op)
    chosen: list[Choice] = []
    groups: list[dict[str, Any]] = []
    for layer_name, layer, role in layers:
        fan_in, fan_out = layer.fans()
        rule = table[role]
        ratio = base / _width(role, fan_in, fan_out)
        std = float(np.sqrt(ratio**rule.variance / fan_in))
        has_bias = getattr(layer, "bias", None) is not None
        bias_ratio = 1.0 if role == "output" else base / fan_out
        bias_std = float(np.sqrt(bias_ratio ** table["bias"].variance / fan_in))
        chosen.append((layer_name, layer, Normal(std=std), Normal(std=bias_std) if has_bias else None))
        prefix = f"{layer_name}." if layer_name else ""
        groups.append(
            {
                "params": [layer.weight],
                "lr_mult": float(ratio ** rule.lr_exponent(optimizer)),
                "name": f"{prefix}weight",
                "role": role,
            }
        )
        if has_bias:
            groups.append(
                {
                    "params": [layer.bias],
                    "lr_mult": float(bias_ratio ** table["bias"].lr_exponent(optimizer)),
                    "name": f"{prefix}bias",
                    "role": "bias",
                }
            )
    draw_layers(model, chosen, rng, op)
    return groups
