r"""The coordinate check (Yang et al. 2022, Tensor Programs V; Microsoft's ``mup`` package): how the
size of every layer's output moves with width during the first steps of training.

For each width, an MLP ``784-w-w-10`` with ReLU is parametrized (:func:`tinynet.init.parametrize`)
and trained for a few steps on one fixed batch; after each step the mean ``|x|`` of every weight
layer's output (its pre-activation, the logits for the last) is measured on that batch and averaged
over seeds. A log₂–log₂ least-squares slope of mean ``|x|`` against width, per layer and step, says
how the coordinates scale: 0 is width-independent (µP), +½ grows as √width (SP's hidden layers
after one Adam step), +1 as width (SP's logits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ... import init as tinit
from ..._checks import check_choice, check_int, check_real
from ..._files import json_ready
from ...function import no_grad
from ...init.model import named_layers
from ..build import Dataset
from ..config import Config, validate
from ..run import run
from .common import study_data

__all__ = [
    "COORD_PARAMETRIZATIONS",
    "COORD_VARIANTS",
    "COORD_WIDTHS",
    "coord_check",
    "coord_records",
    "log2_slope",
    "variant_table",
]

#: the default widths, and the parametrizations checked by default
COORD_WIDTHS = (64, 128, 256, 512, 1024)
COORD_PARAMETRIZATIONS = ("sp", "mup")
#: deliberately broken µP, each a lesson: what goes wrong when one piece is missing
#:
#: - ``"sp_rates"``: µP's init with SP's rates (every multiplier 1);
#: - ``"output_mult_1"``: µP with the output layer's multiplier left at 1;
#: - ``"sgd_table"``: SGD's µP multipliers used with Adam.
COORD_VARIANTS = ("none", "sp_rates", "output_mult_1", "sgd_table")


def log2_slope(widths: Sequence[float], values: Sequence[float]) -> float:
    r"""The least-squares slope of ``log₂ value`` against ``log₂ width``.

    .. math:: s = \frac{\sum_i (u_i - \bar u)(v_i - \bar v)}{\sum_i (u_i - \bar u)^2},
              \quad u = \log_2 w,\ v = \log_2 y.
    """
    u = np.log2(np.asarray(widths, dtype=np.float64))
    v = np.log2(np.asarray(values, dtype=np.float64))
    u = u - u.mean()
    return float(np.sum(u * (v - v.mean())) / np.sum(u * u))


def variant_table(parametrization: str, variant: str) -> str:
    """The name of ``parametrization`` broken as ``variant`` says, registered as a table of its own.

    ``"none"`` is the table itself. The others are derived from its exponents (so they apply to any
    table) and registered with :func:`tinynet.init.register_parametrization` under
    ``"<name>+<variant>"``, so a broken variant trains through the one :func:`~..run.run` exactly
    like a user's own table:

    - ``"sp_rates"``: every learning-rate exponent 0 (the table's init, SP's rates);
    - ``"output_mult_1"``: the output weights' exponents 0 (their multiplier left at 1);
    - ``"sgd_table"``: the Adam column replaced by the SGD column.
    """
    if variant == "none":
        return parametrization
    table = tinit.parametrization(parametrization)
    if variant == "sp_rates":
        broken = {role: replace(rule, sgd=0.0, adam=0.0) for role, rule in table.items()}
    elif variant == "output_mult_1":
        broken = {**table, "output": replace(table["output"], sgd=0.0, adam=0.0)}
    else:
        broken = {role: replace(rule, adam=rule.sgd) for role, rule in table.items()}
    name = f"{parametrization}+{variant}"
    tinit.register_parametrization(name, broken)
    return name


def coord_records(
    x: np.ndarray,
    y: np.ndarray,
    width: int,
    parametrization: str,
    *,
    base_width: int,
    optimizer: str,
    lr: float,
    steps: int,
    seed: int,
    variant: str = "none",
) -> list[list[float]]:
    """Mean ``|x|`` of every weight layer's output on ``(x, y)``, after each of ``steps`` steps.

    The run is :func:`tinynet.experiments.run` of a ``784-width-width-10`` ReLU MLP (He-normal
    weights, then re-drawn by the parametrization, or its broken ``variant``: :func:`variant_table`)
    trained on the one batch ``(x, y)`` (one step per epoch, ``steps`` epochs, no momentum), the
    Monitor recording only at initialization. After each step the batch goes forward once more,
    without recording a graph, and the mean ``|x|`` of each weight layer's output is read by forward
    hooks. Returns ``rows[step - 1][layer]`` for steps 1..``steps``.
    """
    config = Config(
        init="he_normal", bias_init="zeros", activation="relu", depth=2, width=width,
        optimizer=optimizer, lr=lr, momentum=0.0, batch_size=len(x), epochs=steps, seed=seed,
        probe_size=len(x), parametrization=variant_table(parametrization, variant),
        base_width=base_width,
    )  # fmt: skip
    batch = Dataset("coordinate-check batch", x, y, x, y)
    rows: list[list[float]] = []

    def measure(step: int, model: Any) -> None:
        layers = [m for _, m in named_layers(model)]
        outputs: dict[int, float] = {}
        handles = [
            layer.register_forward_hook(
                lambda module, inputs, out, i=i: outputs.__setitem__(i, float(np.mean(np.abs(out.data))))
            )
            for i, layer in enumerate(layers)
        ]
        with no_grad():
            model(x)
        for handle in handles:
            handle.remove()
        rows.append([outputs[i] for i in range(len(layers))])

    run(validate(config), dataset=batch, quiet=True, record_every=0, bins=1, on_step=measure)
    return rows


def coord_check(
    parametrizations: Sequence[str] = COORD_PARAMETRIZATIONS,
    *,
    widths: Sequence[int] = COORD_WIDTHS,
    seeds: int = 3,
    optimizer: str = "adam",
    lr: float = 1e-2,
    steps: int = 4,
    batch_size: int = 64,
    base_width: int | None = None,
    variant: str = "none",
    dataset: Dataset | None = None,
) -> dict[str, Any]:
    """The coordinate check: mean ``|x|`` per layer, step and width, and its log₂ slope.

    Parameters
    ----------
    parametrizations
        Names known to :func:`tinynet.init.parametrize`.
    widths
        At least 2 hidden widths (ints >= 1).
    seeds
        Seeds 0..seeds-1; the curves are the mean over seeds.
    optimizer, lr, steps, batch_size
        ``"adam"`` or ``"sgd"``, its rate, the number of steps, the size of the one fixed batch of
        built-in synthetic digits (or the first ``batch_size`` training rows of ``dataset``).
    base_width
        Where every table equals SP (default: the smallest width).
    variant
        One of :data:`COORD_VARIANTS` (``"none"`` checks the tables as they are).

    Returns
    -------
    dict
        ``config`` (the arguments), ``layers`` (names: ``"input"``, ``"hidden"``, ``"logits"``) and
        ``results``: one record per parametrization with ``mean_abs[step][layer][width]`` (mean over
        seeds) and ``slopes[step][layer]`` (log₂ slope against width); steps count from 1.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments, before any work.
    """
    op = "coord_check"
    names = list(parametrizations)
    if not names:
        raise ValueError(f"{op}: parametrizations must name at least one parametrization")
    for name in names:
        tinit.parametrization(name)
    widths = [check_int(op, "widths[]", w, minimum=1) for w in widths]
    if len(set(widths)) < 2:
        raise ValueError(f"{op}: widths must hold at least 2 different widths, got {widths}")
    seeds = check_int(op, "seeds", seeds, minimum=1)
    check_choice(op, "optimizer", optimizer, ("adam", "sgd"))
    lr = check_real(op, "lr", lr, minimum=0, strict_min=True)
    steps = check_int(op, "steps", steps, minimum=1)
    batch_size = check_int(op, "batch_size", batch_size, minimum=1)
    base = min(widths) if base_width is None else check_int(op, "base_width", base_width, minimum=1)
    check_choice(op, "variant", variant, COORD_VARIANTS)
    data = study_data(dataset, batch_size)
    x, y = data.x_train[:batch_size], data.y_train[:batch_size]
    results = []
    for name in names:
        per_width = []
        for width in widths:
            runs = [
                coord_records(
                    x,
                    y,
                    width,
                    name,
                    base_width=base,
                    optimizer=optimizer,
                    lr=lr,
                    steps=steps,
                    seed=seed,
                    variant=variant,
                )
                for seed in range(seeds)
            ]
            per_width.append(np.mean(np.array(runs), axis=0))  # (steps, layers)
        curves = np.stack(per_width, axis=-1)  # (steps, layers, widths)
        slopes = [[log2_slope(widths, curves[s, k]) for k in range(curves.shape[1])] for s in range(steps)]
        results.append({"parametrization": name, "mean_abs": curves.tolist(), "slopes": slopes})
    n_layers = len(results[0]["slopes"][0])
    layers = ["input"] + ["hidden"] * (n_layers - 2) + ["logits"]
    return json_ready(
        {
            "config": {
                "widths": widths,
                "seeds": seeds,
                "optimizer": optimizer,
                "lr": lr,
                "steps": steps,
                "batch_size": batch_size,
                "base_width": base,
                "variant": variant,
                "parametrizations": names,
            },
            "layers": layers,
            "results": results,
        }
    )
