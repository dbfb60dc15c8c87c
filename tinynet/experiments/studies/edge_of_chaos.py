"""The edge of chaos, computed and measured: mean-field theory of signal propagation (Poole et al.
2016; Schoenholz et al. 2017) beside real tinynet networks.

- :func:`phase_diagram`: χ₁ over a (σ_w², σ_b²) grid, ordered (χ₁ < 1) against chaotic (χ₁ > 1),
  with the critical line χ₁ = 1 traced through its fixed points q*;
- :func:`depth_scale_curve`: the correlation depth scale ξ_c against σ_w² at one σ_b², diverging at
  the critical σ_w² (1.761 for tanh at σ_b² = 0.05);
- :func:`correlation_study`: the correlation c^l of two inputs measured layer by layer through wide
  random tanh networks, against the iterated c-map (:func:`tinynet.theory.meanfield.c_trajectory`).

The Jacobian spectra (Pennington et al. 2017) are in :mod:`~tinynet.experiments.studies.spectra`,
the trainability tent in :mod:`~tinynet.experiments.studies.tent`. Every function returns plain,
JSON-ready records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import init as tinit
from ... import nn
from ..._checks import check_int, check_real
from ..._files import json_ready
from ...function import no_grad
from ...tensor import Tensor
from ...theory import meanfield as mf

__all__ = [
    "CORRELATION_C0",
    "PHASE_ACTIVATIONS",
    "SIGMA_B2",
    "chi1_or_limit",
    "correlation_study",
    "depth_scale_curve",
    "phase_diagram",
    "phase_of",
    "random_tanh_network",
    "width_error",
]

#: the bias variance of the depth-scale curve, the correlation study and the tent (Schoenholz et al.)
SIGMA_B2 = 0.05
#: activations of the default phase diagram
PHASE_ACTIVATIONS = ("tanh", "erf")
#: initial correlations of the input pairs of the correlation study
CORRELATION_C0 = (0.1, 0.5, 0.9)
_CRITICAL_BAND = 1e-6  # |χ₁ - 1| below this reads "critical"


def chi1_or_limit(activation: str, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    """``(χ₁, q*)`` at one point; where the signal dies out (q* = 0: σ_b² = 0 and σ_w² at most
    1/φ'(0)²) χ₁ is its limit ``σ_w² φ'(0)²`` as q* → 0 and q* is 0."""
    q = mf.q_star(activation, sigma_w2, sigma_b2)
    if q == 0.0:
        return sigma_w2 * mf.slope_moment(activation, 1e-12), 0.0
    return mf.chi1(activation, sigma_w2, sigma_b2), q


def phase_of(chi1: float) -> str:
    """``"ordered"`` (χ₁ < 1), ``"chaotic"`` (χ₁ > 1) or ``"critical"`` (within 1e-6 of 1)."""
    if abs(chi1 - 1.0) < _CRITICAL_BAND:
        return "critical"
    return "ordered" if chi1 < 1.0 else "chaotic"


def phase_diagram(
    activations: Sequence[str] = PHASE_ACTIVATIONS,
    *,
    sigma_w2: Sequence[float] | None = None,
    sigma_b2: Sequence[float] | None = None,
    q_stars: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """χ₁ = σ_w² E[φ'(√q* z)²] over a grid of (σ_w², σ_b²), and the critical line χ₁ = 1.

    For each activation: χ₁ at every grid point (:func:`chi1_or_limit`), and the critical line
    traced by :func:`tinynet.theory.meanfield.critical_line` over the fixed points ``q_stars``
    (one (σ_w², σ_b²) point per q*, NaN entries dropped). As a check of the picture, every grid
    point's phase is compared with its side of the line: σ_w² below
    :func:`~tinynet.theory.meanfield.critical_sigma_w2` at that σ_b² should be ordered.

    Parameters
    ----------
    activations
        Names of :data:`tinynet.theory.meanfield.ACTIVATIONS` (default tanh and erf).
    sigma_w2, sigma_b2
        The grid axes (default 0.5 to 4.0 in steps of 0.1, and 0 to 0.3 in steps of 0.01).
    q_stars
        Fixed points along the critical line (default 61 values from 1e-4 to 10, log-spaced: the
        quadrature of tanh' loses accuracy beyond q* of about 10, and σ_b² is already 5.4 there).

    Returns
    -------
    list of dict
        One per activation: ``activation``, ``sigma_w2``, ``sigma_b2`` (the axes), ``chi1`` and
        ``q_star`` (grids, one row per σ_b², one column per σ_w²), ``critical_line``
        (``{"q_star", "sigma_w2", "sigma_b2"}`` lists, every q* with a critical point, also those
        beyond the grid),
        ``critical_sigma_w2`` (one per σ_b² row), ``ordered`` and ``chaotic`` (counts of grid
        points), ``agreement`` (share of grid points whose phase matches their side of the line).
    """
    sw_axis = [float(v) for v in (np.round(np.arange(5, 41) / 10, 10) if sigma_w2 is None else sigma_w2)]
    sb_axis = [float(v) for v in (np.round(np.arange(0, 31) / 100, 10) if sigma_b2 is None else sigma_b2)]
    qs = np.logspace(-4, 1, 61) if q_stars is None else np.asarray(q_stars, dtype=float)
    for v in sw_axis:
        check_real("phase_diagram", "sigma_w2", v, minimum=0.0, strict_min=True)
    for v in sb_axis:
        check_real("phase_diagram", "sigma_b2", v, minimum=0.0)
    out = []
    for activation in activations:
        chi, qgrid = [], []
        for sb in sb_axis:
            row = [chi1_or_limit(activation, sw, sb) for sw in sw_axis]
            chi.append([c for c, _ in row])
            qgrid.append([q for _, q in row])
        line_w, line_b = mf.critical_line(activation, qs)
        keep = np.isfinite(line_w) & np.isfinite(line_b)
        critical = [mf.critical_sigma_w2(activation, sb) for sb in sb_axis]
        judged = [
            (c < 1.0) == (sw < crit)
            for row, crit in zip(chi, critical)
            for c, sw in zip(row, sw_axis)
            if abs(sw - crit) > 1e-9  # a point on the line has no side
        ]
        out.append(
            json_ready(
                {
                    "activation": activation,
                    "sigma_w2": sw_axis,
                    "sigma_b2": sb_axis,
                    "chi1": chi,
                    "q_star": qgrid,
                    "critical_line": {
                        "q_star": qs[keep].tolist(),
                        "sigma_w2": line_w[keep].tolist(),
                        "sigma_b2": line_b[keep].tolist(),
                    },
                    "critical_sigma_w2": critical,
                    "ordered": sum(c < 1.0 for row in chi for c in row),
                    "chaotic": sum(c > 1.0 for row in chi for c in row),
                    "agreement": sum(judged) / len(judged) if judged else None,
                }
            )
        )
    return out


def depth_scale_curve(
    activation: str = "tanh",
    *,
    sigma_b2: float = SIGMA_B2,
    sigma_w2: Sequence[float] | None = None,
    references: Sequence[float] = (1.2, 1.5),
) -> dict[str, Any]:
    """The depth scales ξ_c and ξ_q (:func:`tinynet.theory.meanfield.depth_scales`) against σ_w² at
    one σ_b², beside χ₁, q* and c*.

    ξ_c diverges where χ₁ = 1: the grid's largest ξ_c sits next to the critical σ_w², which is
    computed exactly (:func:`~tinynet.theory.meanfield.critical_sigma_w2`; 1.761 for tanh at
    σ_b² = 0.05). ``references`` are σ_w² values at which ξ_c is reported exactly (Schoenholz et
    al. 2017 quote tanh's at 1.2 and 1.5).

    Parameters
    ----------
    sigma_w2
        The grid (default 1.0 to 4.0 in steps of 0.05).

    Returns
    -------
    dict
        ``activation``, ``sigma_b2``, ``sigma_w2``, ``xi_c``, ``xi_q``, ``chi1``, ``q_star``,
        ``c_star`` (lists over the grid; an infinite ξ is None, and every figure but q* is None
        where q* is 0 or infinite), ``critical_sigma_w2``,
        ``peak_sigma_w2`` and ``peak_xi_c`` (the grid point of the largest ξ_c), ``references``
        (a list of ``{"sigma_w2", "xi_c", "chi1"}``).
    """
    sb = check_real("depth_scale_curve", "sigma_b2", sigma_b2, minimum=0.0)
    grid = [float(v) for v in (np.round(np.arange(20, 81) / 20, 10) if sigma_w2 is None else sigma_w2)]
    rows = []
    for sw in grid:
        q = mf.q_star(activation, sw, sb)
        if not 0.0 < q < math.inf:  # no fixed point to expand around: nothing to report
            rows.append((math.nan, math.nan, math.nan, q, math.nan))
            continue
        xi_q, xi_c = mf.depth_scales(activation, sw, sb)
        rows.append((xi_c, xi_q, mf.chi1(activation, sw, sb), q, mf.c_star(activation, sw, sb)))
    xi_c = [r[0] for r in rows]
    peak = int(np.argmax([x if math.isfinite(x) else -1.0 for x in xi_c]))
    refs = []
    for s in references:
        q = mf.q_star(activation, s, sb)
        ok = 0.0 < q < math.inf
        refs.append({"sigma_w2": float(s), "xi_c": mf.depth_scales(activation, s, sb)[1] if ok else math.nan,
                     "chi1": mf.chi1(activation, s, sb) if ok else math.nan})  # fmt: skip
    return json_ready(
        {
            "activation": activation,
            "sigma_b2": sb,
            "sigma_w2": grid,
            "xi_c": xi_c,
            "xi_q": [r[1] for r in rows],
            "chi1": [r[2] for r in rows],
            "q_star": [r[3] for r in rows],
            "c_star": [r[4] for r in rows],
            "critical_sigma_w2": mf.critical_sigma_w2(activation, sb),
            "peak_sigma_w2": grid[peak],
            "peak_xi_c": xi_c[peak],
            "references": refs,
        }
    )


def random_tanh_network(depth: int, width: int, sigma_w2: float, sigma_b2: float, rng: int = 0) -> Any:
    """``nn.Sequential`` of ``depth`` blocks ``Linear(width, width), Tanh()`` with weights
    ``N(0, σ_w²/width)`` and biases ``N(0, σ_b²)``, drawn by :func:`tinynet.init.apply` from the
    seed ``rng`` (one stream per parameter)."""
    blocks: list[Any] = []
    for _ in range(depth):
        blocks += [nn.Linear(width, width, weight_init="zeros"), nn.Tanh()]
    model = nn.Sequential(*blocks)
    bias = "zeros" if sigma_b2 == 0 else f"normal(std={math.sqrt(sigma_b2)!r})"
    return tinit.apply(model, weight=f"normal(std={math.sqrt(sigma_w2 / width)!r})", bias=bias, rng=rng)


def _pair_inputs(width: int, c0: Sequence[float], q: float, sw: float, sb: float, rng: int
                 ) -> np.ndarray:
    """Rows ``x_0, x_1, ...``: the first layer's pre-activations ``h = x W + b`` have variance q
    (over the weights) and ``h(x_0)``, ``h(x_k)`` correlation ``c0[k-1]``."""
    gen = np.random.default_rng([rng, 7])
    u = gen.standard_normal(width)
    u *= math.sqrt(width) / np.linalg.norm(u)  # |u|²/n = 1 exactly
    scale = math.sqrt((q - sb) / sw)  # σ_w² scale² + σ_b² = q
    rows = [u]
    for c in c0:
        v = gen.standard_normal(width)
        v -= (v @ u) / width * u
        v *= math.sqrt(width) / np.linalg.norm(v)
        rho = (c * q - sb) / (q - sb)  # σ_w² scale² ρ + σ_b² = c q
        rows.append(rho * u + math.sqrt(max(0.0, 1.0 - rho * rho)) * v)
    return scale * np.array(rows)


def _measure(model: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per layer: the correlation of row 0's pre-activations with each other row's (shape
    ``(depth, rows - 1)``) and row 0's mean square (``(depth,)``)."""
    corr, sq = [], []
    h = Tensor(x.astype(np.float32))
    with no_grad():
        for module in model:
            h = module(h)
            if isinstance(module, nn.Linear):
                a = h.data.astype(np.float64)
                norms = np.sqrt(np.sum(a * a, axis=1))
                corr.append((a[1:] @ a[0]) / (norms[1:] * norms[0]))
                sq.append(float(np.mean(a[0] ** 2)))
    return np.array(corr), np.array(sq)


def width_error(activation: str, sigma_w2: float, sigma_b2: float, predicted: Sequence[float], width: int
                ) -> np.ndarray:
    """The standard deviation, over networks, of one network's measured c^l that a finite width
    explains: each layer measures a correlation over ``width`` units with a standard error of about
    ``(1 - c²)/√width``, and carries the error made so far on, multiplied by the c-map's slope
    ``dc'/dc`` at the predicted c (a central difference of :func:`tinynet.theory.meanfield.c_map`;
    above 1 in the chaotic phase near c = 1, where errors grow). Linearised:
    ``V_l = slope_l² V_{l-1} + (1 - c_l²)² / width``; returns ``√V_l`` per layer."""
    out, variance, h = [], 0.0, 1e-4
    for layer, c in enumerate(predicted):
        if layer:
            a = float(predicted[layer - 1])
            lo, hi = max(-1.0, a - h), min(1.0, a + h)
            slope = (mf.c_map(activation, sigma_w2, sigma_b2, hi)
                     - mf.c_map(activation, sigma_w2, sigma_b2, lo)) / (hi - lo)  # fmt: skip
            variance *= slope * slope
        variance += (1.0 - c * c) ** 2 / width
        out.append(math.sqrt(variance))
    return np.array(out)


def correlation_study(
    sigma_w2: Sequence[float] | None = None,
    *,
    sigma_b2: float = SIGMA_B2,
    c0: Sequence[float] = CORRELATION_C0,
    depth: int = 30,
    width: int = 1000,
    seeds: Sequence[int] = (0, 1, 2),
) -> list[dict[str, Any]]:
    """The correlation of two inputs layer by layer through random tanh networks, measured and
    predicted.

    For each σ_w² and seed a :func:`random_tanh_network` of ``depth`` layers of ``width`` units
    takes a batch: one input and one partner per ``c0``, scaled so that the first layer's
    pre-activations have variance q* (over the weights) and the pairs correlation ``c0``. Measured:
    ``c^l = h_a·h_b / (|h_a| |h_b|)`` of each pair's pre-activations at layer l (the width's units
    are the samples), averaged over the seeds. Predicted: ``c_trajectory(tanh, σ_w², σ_b², c0,
    depth - 1)``, the c-map iterated from c0. A width of N units measures a correlation with a
    standard error of about ``(1 - c²)/√N``, carried on from layer to layer (:func:`width_error`).

    Parameters
    ----------
    sigma_w2
        Weight variances; default one ordered (1.2), the critical one at ``sigma_b2`` (1.761 at
        0.05) and one chaotic (3.0).

    Returns
    -------
    list of dict
        One per (σ_w², c0), σ_w²-major: ``sigma_w2``, ``sigma_b2``, ``phase``, ``chi1``,
        ``q_star``, ``c_star``, ``xi_c`` (None if infinite), ``c0``, ``width``, ``depth``,
        ``seeds``, ``layers`` (1..depth), ``predicted``, ``measured`` (mean over the seeds),
        ``measured_std`` (sample std over the seeds, None for one seed), ``width_error`` (the std
        of one network's measurement that the width explains, :func:`width_error`; the mean over
        the seeds has ``width_error / √seeds``), ``q_measured`` (mean
        square of the first input's pre-activations per layer, mean over seeds), ``max_error``
        (max over layers of |measured - predicted|).
    """
    sb = check_real("correlation_study", "sigma_b2", sigma_b2, minimum=0.0)
    layers = check_int("correlation_study", "depth", depth, minimum=1)
    n = check_int("correlation_study", "width", width, minimum=2)
    seed_list = [check_int("correlation_study", "seeds", s, minimum=0) for s in seeds]
    if not seed_list:
        raise ValueError("correlation_study: seeds must not be empty")
    pairs = [check_real("correlation_study", "c0", c, minimum=0.0, maximum=1.0) for c in c0]
    settings = [1.2, mf.critical_sigma_w2("tanh", sb), 3.0] if sigma_w2 is None else list(sigma_w2)
    for sw in settings:  # every setting checked before any network is built
        check_real("correlation_study", "sigma_w2", sw, minimum=0.0, strict_min=True)
        q = mf.q_star("tanh", sw, sb)
        if not 0.0 < q < math.inf:
            raise ValueError(f"correlation_study: no finite q* > 0 at sigma_w2={sw!r}, sigma_b2={sb!r}")
    out = []
    for sw in settings:
        q = mf.q_star("tanh", sw, sb)
        measured, squares = [], []
        for seed in seed_list:
            model = random_tanh_network(layers, n, sw, sb, rng=seed)
            corr, sq = _measure(model, _pair_inputs(n, pairs, q, sw, sb, seed))
            measured.append(corr)
            squares.append(sq)
            del model
        stack = np.array(measured)  # (seeds, depth, pairs)
        mean = stack.mean(axis=0)
        std = stack.std(axis=0, ddof=1) if len(seed_list) > 1 else None
        chi = mf.chi1("tanh", sw, sb)
        for k, c in enumerate(pairs):
            predicted = mf.c_trajectory("tanh", sw, sb, c, layers - 1)
            out.append(
                json_ready(
                    {
                        "sigma_w2": float(sw),
                        "sigma_b2": sb,
                        "phase": phase_of(chi),
                        "chi1": chi,
                        "q_star": q,
                        "c_star": mf.c_star("tanh", sw, sb),
                        "xi_c": mf.depth_scales("tanh", sw, sb)[1],
                        "c0": c,
                        "width": n,
                        "depth": layers,
                        "seeds": seed_list,
                        "layers": list(range(1, layers + 1)),
                        "predicted": predicted.tolist(),
                        "measured": mean[:, k].tolist(),
                        "measured_std": None if std is None else std[:, k].tolist(),
                        "width_error": width_error("tanh", sw, sb, predicted, n).tolist(),
                        "q_measured": np.mean(squares, axis=0).tolist(),
                        "max_error": float(np.max(np.abs(mean[:, k] - predicted))),
                    }
                )
            )
    return out
