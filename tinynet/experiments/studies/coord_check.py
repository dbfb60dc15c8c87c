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
from typing import Any

import numpy as np

from ... import init as tinit
from ..._checks import check_choice, check_int, check_real
from ..._files import json_ready
from ...init.model import named_layers
from ...nn.functional import cross_entropy
from ...optim import SGD, Adam
from ..build import Dataset, build_mlp
from .common import study_data

__all__ = [
    "COORD_PARAMETRIZATIONS",
    "COORD_VARIANTS",
    "COORD_WIDTHS",
    "coord_check",
    "coord_records",
    "log2_slope",
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


def _groups(
    model: Any, parametrization: str, base_width: int, optimizer: str, variant: str, seed: int
) -> list[dict[str, Any]]:
    table_optimizer = "sgd" if variant == "sgd_table" else optimizer
    groups = tinit.parametrize(model, parametrization, base_width, table_optimizer, rng=seed)
    for group in groups:
        if variant == "sp_rates" or (variant == "output_mult_1" and group["role"] == "output"):
            group["lr_mult"] = 1.0
    return groups


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

    Returns ``rows[step - 1][layer]`` for steps 1..``steps`` (each step: forward, cross-entropy,
    backward, update; then a forward pass measures the layer outputs).
    """
    model = build_mlp(x.shape[1], int(y.max()) + 1, 2, width, "relu", "he_normal", "zeros", rng=seed)
    groups = _groups(model, parametrization, base_width, optimizer, variant, seed)
    opt = Adam(groups, lr=lr) if optimizer == "adam" else SGD(groups, lr=lr)
    layers = [m for _, m in named_layers(model)]
    outputs: dict[int, float] = {}
    handles = [
        layer.register_forward_hook(
            lambda module, inputs, out, i=i: outputs.__setitem__(i, float(np.mean(np.abs(out.data))))
        )
        for i, layer in enumerate(layers)
    ]
    rows = []
    for _ in range(steps):
        opt.zero_grad()
        cross_entropy(model(x), y).backward()
        opt.step()
        model(x)
        rows.append([outputs[i] for i in range(len(layers))])
    for handle in handles:
        handle.remove()
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
