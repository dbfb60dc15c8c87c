"""Real results of tiny runs of the studies behind edge_of_chaos.py, coord_check.py, lr_transfer.py
and architectures.py, for the report's tests (Python and browser): each computed once per process."""

from __future__ import annotations

import functools
from typing import Any

from tinynet.experiments import studies

#: the study examples' report titles and what they embed, by example
EXAMPLES = ("edge_of_chaos", "coord_check", "lr_transfer", "architectures")


@functools.cache
def edge_of_chaos() -> dict[str, Any]:
    """Every edge-of-chaos study on small grids, under the names edge_of_chaos.py --report uses."""
    tent = studies.trainability_tent(
        [1.0, 1.75, 4.0], [2, 6], width=16, epochs=2, limit=200, lr=0.01, seeds=(0, 1), jobs=1
    )
    return {
        "phase": studies.phase_diagram(
            ["tanh"], sigma_w2=[0.5, 1.0, 1.5, 2.0, 3.0], sigma_b2=[0.0, 0.05, 0.1],
            q_stars=[1e-3, 1e-2, 0.1, 1.0],
        ),
        "depth_scale": studies.depth_scale_curve(sigma_w2=[1.0, 1.25, 1.5, 1.75, 2.0, 3.0]),
        "correlation": studies.correlation_study(depth=5, width=48, seeds=(0, 1)),
        "tent": tent,
        "spectra": studies.jacobian_spectra(depths=(2, 4), width=12, seeds=(0,)),
    }  # fmt: skip


@functools.cache
def coord_check() -> dict[str, Any]:
    """coord_check over widths 16 and 32, two Adam steps on 8 digits, one seed."""
    return studies.coord_check(["sp", "mup"], widths=[16, 32], seeds=1, steps=2, batch_size=8)


@functools.cache
def lr_transfer() -> dict[str, Any]:
    """lr_transfer over widths 16 and 32 and three rates, one epoch on 128 digits, one seed."""
    return studies.lr_transfer(
        ["sp", "mup"], [16, 32], [-8.0, -6.0, -4.0], base_width=16, epochs=1, limit=128, seeds=(0,),
        jobs=1,
    )  # fmt: skip


@functools.cache
def architectures() -> dict[str, Any]:
    """The four architecture studies at depth 3, width 4, one epoch on 32 digits, one seed."""
    tiny = {"seeds": (0,), "depth": 3, "width": 4, "epochs": 1, "limit": 32}
    return {
        "he_cnn": studies.conv_depth_study(**tiny),
        "delta_orthogonal": studies.delta_orthogonal_study(**tiny),
        "residual": studies.residual_study(**tiny),
        "normalization": studies.normalization_study(**tiny),
    }


def results(example: str) -> dict[str, Any]:
    """``{study name: results}`` as that example hands them to ``write_study_report``."""
    if example == "edge_of_chaos":
        return dict(edge_of_chaos())
    if example == "coord_check":
        return {"coord_check": coord_check()}
    if example == "architectures":
        return dict(architectures())
    return {"lr_transfer": lr_transfer()}
