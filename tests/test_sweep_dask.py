"""The tent grid on a real Dask cluster: ``distributed.Client(...).get_executor()`` runs the same
tasks as the default process pool and gives the same numbers, bit for bit.

``distributed`` is in the ``test`` extra, so a missing install fails this test instead of skipping it.
"""

from __future__ import annotations

import importlib
import logging

import pytest

from tinynet.experiments import studies

GRID = {"sigma_w2": (1.0, 2.0), "depths": (3, 6)}
SETTINGS = {"width": 12, "epochs": 2, "limit": 96, "batch_size": 32, "seeds": (0, 1)}


def _without_times(runs):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in runs]


def test_the_tent_on_a_dask_cluster_matches_the_local_run_bit_for_bit(tmp_path, monkeypatch):
    try:
        distributed = importlib.import_module("distributed")
    except ImportError as error:  # pragma: no cover - the test extra installs it
        pytest.fail(f"distributed is part of the test extra (pip install -e '.[test]'): {error}")
    # the workers inherit this environment: the same data cache and one BLAS thread each
    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path / "cache"))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")
    local = studies.trainability_tent(GRID["sigma_w2"], GRID["depths"], jobs=2, **SETTINGS)
    assert local["executor"] == "ProcessPoolExecutor" and local["errors"] == []
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        remote = studies.trainability_tent(
            GRID["sigma_w2"], GRID["depths"], executor=client.get_executor(), **SETTINGS
        )
        workers = len(client.scheduler_info()["workers"])
    assert workers == 2 and remote["jobs"] is None and remote["executor"] != local["executor"]
    assert remote["errors"] == [] and len(remote["runs"]) == 8
    assert _without_times(remote["runs"]) == _without_times(local["runs"])  # every float identical
    assert remote["accuracy"] == local["accuracy"] and remote["final_loss"] == local["final_loss"]
    assert remote["calibration"] == local["calibration"] and remote["peak"] == local["peak"]
    assert len({r["train_loss"] for r in local["runs"]}) == 8  # eight different runs, not one repeated
