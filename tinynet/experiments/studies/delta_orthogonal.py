r"""A deep vanilla tanh CNN at the edge of chaos: delta-orthogonal kernels against Gaussian ones of
the same variance (Xiao et al. 2018, *Dynamical Isometry and a Mean Field Theory of CNNs*).

Both schemes put every conv layer at :math:`\sigma_w^2 = 1.05`, :math:`\sigma_b^2 = 2\cdot10^{-5}`
(the setting of the paper's demo), which the mean-field theory places on tanh's critical line
(:func:`tinynet.theory.meanfield.critical_sigma_w2`), so the *mean* squared singular value of the
input-output Jacobian stays 1 with depth for both. What differs is the spread: a delta-orthogonal
kernel maps each pixel's channel vector by an orthogonal matrix times the gain, so the Jacobian is a
product of orthogonal matrices and tanh derivatives near 1 and its singular values stay bunched; a
Gaussian kernel's Jacobian is a product of random matrices whose spectrum widens with depth. The
study measures that spread at initialization on the conv stack itself (:mod:`tinynet.theory.isometry`,
float64) and trains both through :func:`tinynet.experiments.run` of ``Config(arch="plaincnn")``:
a stride-2 stem, ``depth`` 3×3 convs with circular padding and no pooling, global average pooling
and a Linear classifier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._checks import check_choice, check_int
from ..._files import json_ready
from ...tensor import Tensor
from ...theory import isometry
from ...theory import meanfield as mf
from ..architectures import build_model
from ..config import Config
from .common import run_configs, summarize_variants

__all__ = ["DELTA_SCHEMES", "conv_stack_spectrum", "delta_config", "delta_orthogonal_study", "delta_specs"]

#: the study's kernels: delta-orthogonal, and Gaussian of the same variance
DELTA_SCHEMES = ("delta_orthogonal", "gaussian")
#: σ_w² and σ_b² of Xiao et al.'s demo (on tanh's critical line: ``mf.critical_sigma_w2`` 1.0499)
SIGMA_W2, SIGMA_B2 = 1.05, 2e-5


def delta_specs(scheme: str, sigma_w2: float = SIGMA_W2, sigma_b2: float = SIGMA_B2) -> tuple[str, str]:
    r"""``(weight spec, bias spec)`` of a scheme at :math:`(\sigma_w^2, \sigma_b^2)`:
    ``delta_orthogonal(gain=√σ_w²)`` or ``variance_scaling(scale=σ_w², mode='fan_in',
    distribution='normal')`` (element variance :math:`\sigma_w^2 / (9\,C_{in})` on a 3×3 kernel;
    the delta kernel's variance over the whole kernel is the same for :math:`C_{in} = C_{out}`),
    biases ``normal(std=√σ_b²)``.

    Raises
    ------
    ValueError
        For an unknown scheme.
    """
    check_choice("delta_orthogonal_study", "scheme", scheme, DELTA_SCHEMES)
    weight = (
        f"delta_orthogonal(gain={math.sqrt(sigma_w2)!r})"
        if scheme == "delta_orthogonal"
        else f"variance_scaling(scale={float(sigma_w2)!r}, mode='fan_in', distribution='normal')"
    )
    return weight, f"normal(std={math.sqrt(sigma_b2)!r})"


def delta_config(
    scheme: str, *, depth: int = 32, width: int = 8, sigma_w2: float = SIGMA_W2, sigma_b2: float = SIGMA_B2,
    epochs: int = 4, limit: int = 256, lr: float = 0.05, momentum: float = 0.9, batch_size: int = 32,
    probe_size: int = 64, seed: int = 0,
) -> Config:
    """The :class:`~tinynet.experiments.Config` of one run: the tanh ``plaincnn`` of ``depth``
    conv layers of ``width`` channels with the kernels of :func:`delta_specs`, SGD at ``lr`` with
    ``momentum`` on the first ``limit`` synthetic digits."""
    weight, bias = delta_specs(scheme, sigma_w2, sigma_b2)
    return Config(
        arch="plaincnn", depth=depth, width=width, activation="tanh", init=weight, bias_init=bias,
        optimizer="sgd", lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs, limit=limit,
        probe_size=probe_size, seed=seed,
    )  # fmt: skip


def conv_stack_spectrum(config: Config, q: float, size: int = 6, n: int = 2) -> dict[str, Any]:
    r"""Singular values of the input-output Jacobian of the conv stack of ``config``'s network at
    initialization: the ``depth`` (conv, tanh) pairs between the stem and the pooling, with the
    weights :func:`~tinynet.experiments.run` starts from (same seed), in float64.

    The stack is translation-equivariant (circular padding, stride 1), so it is applied to ``n``
    Gaussian inputs of ``size × size × width`` with element variance ``q`` (the study passes the
    fixed point :math:`q^*` of the layers' length map); the Jacobian is
    :math:`(\text{size}^2 \cdot \text{width})^2`.

    Returns
    -------
    dict
        ``singular_values`` (all, pooled over the inputs), ``mean_sq`` (mean of :math:`s^2`),
        ``var_sq`` (variance of :math:`s^2`), ``s_max``, ``s_min``, ``condition``
        (:math:`s_{max}/s_{min}`), ``q``, ``size``.
    """
    check_int("conv_stack_spectrum", "size", size, minimum=1)
    check_int("conv_stack_spectrum", "n", n, minimum=1)
    model = build_model(
        config.arch, (28, 28, 1), 10, config.depth, config.width, config.activation, config.init,
        config.bias_init, rng=config.seed,
    )  # fmt: skip
    stack = model[2 : 2 + 2 * config.depth]
    for p in stack.parameters():
        p.data = p.data.astype(np.float64)
    shape = (size, size, config.width)

    def flat(x: Tensor) -> Tensor:
        return stack(x.reshape(x.shape[0], *shape)).reshape(x.shape[0], -1)

    x = np.random.default_rng(config.seed).standard_normal((n, math.prod(shape))) * math.sqrt(q)
    s = isometry.singular_values(flat, x).ravel()
    sq = s**2
    return json_ready(
        {
            "singular_values": s.tolist(),
            "mean_sq": float(sq.mean()),
            "var_sq": float(sq.var()),
            "s_max": float(s.max()),
            "s_min": float(s.min()),
            "condition": float(s.max() / s.min()) if s.min() > 0 else math.inf,
            "q": float(q),
            "size": size,
        }
    )


def delta_orthogonal_study(
    schemes: Sequence[str] = DELTA_SCHEMES,
    *,
    seeds: Sequence[int] = (0, 1),
    jobs: int | None = 1,
    executor: Any = None,
    jacobian_size: int = 6,
    **settings: Any,
) -> dict[str, Any]:
    """The mean-field check, the Jacobian spectrum at init and training, per scheme and seed.

    Parameters
    ----------
    schemes
        Names of :data:`DELTA_SCHEMES`.
    seeds
        One run (and one spectrum) per seed and scheme.
    jobs, executor
        As in :func:`tinynet.experiments.grid.run_tasks`.
    jacobian_size
        Spatial size of the inputs of :func:`conv_stack_spectrum`.
    settings
        Keyword arguments of :func:`delta_config` (``depth``, ``width``, ``sigma_w2``, ...).

    Returns
    -------
    dict
        ``settings``; ``theory``: ``sigma_w2``, ``sigma_b2``, ``critical_sigma_w2`` (tanh at that
        σ_b²), ``q_star``, ``chi1``, ``xi_q``, ``xi_c`` (None for infinite); ``runs``
        (:func:`~.common.train_task` results with ``variant``, ``seed`` and ``spectrum``:
        :func:`conv_stack_spectrum` without the raw singular values, which are in
        ``singular_values`` per variant); ``variants`` (:func:`~.common.summarize_variants`, each
        with ``var_sq`` and ``condition`` over the seeds and the pooled ``singular_values``).

    Raises
    ------
    ValueError
        For an unknown scheme or a bad setting, before anything trains.
    """
    configs = [(name, int(s), delta_config(name, seed=int(s), **settings)) for name in schemes for s in seeds]
    if not configs:
        raise ValueError("delta_orthogonal_study: needs at least one scheme and one seed")
    first = configs[0][2]
    sw2, sb2 = float(settings.get("sigma_w2", SIGMA_W2)), float(settings.get("sigma_b2", SIGMA_B2))
    xi_q, xi_c = mf.depth_scales("tanh", sw2, sb2)
    theory = {
        "sigma_w2": sw2, "sigma_b2": sb2, "critical_sigma_w2": mf.critical_sigma_w2("tanh", sb2),
        "q_star": mf.q_star("tanh", sw2, sb2), "chi1": mf.chi1("tanh", sw2, sb2),
        "xi_q": xi_q if math.isfinite(xi_q) else None, "xi_c": xi_c if math.isfinite(xi_c) else None,
    }  # fmt: skip
    results = run_configs("delta_orthogonal_study", [({"variant": n, "seed": s}, c) for n, s, c in configs],
                          jobs=jobs, executor=executor)  # fmt: skip
    pooled: dict[str, list[float]] = {n: [] for n in schemes}
    for (name, _, config), result in zip(configs, results, strict=True):
        spectrum = conv_stack_spectrum(config, theory["q_star"], size=jacobian_size)
        pooled[name] += spectrum.pop("singular_values")
        result["spectrum"] = spectrum
    summary = summarize_variants(results, list(schemes))
    for v in summary:
        mine = [r["spectrum"] for r in results if r["variant"] == v["variant"]]
        v["var_sq"] = float(np.mean([m["var_sq"] for m in mine]))
        v["mean_sq"] = float(np.mean([m["mean_sq"] for m in mine]))
        v["condition"] = float(np.mean([m["condition"] for m in mine]))
        v["singular_values"] = pooled[v["variant"]]
    return json_ready(
        {"settings": first.to_dict(), "theory": theory, "runs": results, "variants": summary}
    )
