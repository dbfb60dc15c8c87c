"""Shared pytest configuration: hypothesis profiles bounded for shared 2-core machines."""

import os

# Tests need no BLAS threads; on a shared 2-core machine they only make timings erratic.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _seed_default_generator():
    """Every test starts from the same default random stream."""
    import tinynet

    tinynet.manual_seed(0)
    yield
    tinynet.set_default_dtype(np.float32)


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory):
    """A fresh ``TINYNET_CACHE`` folder for a whole test module (the synthetic digits render into it),
    so that no test reads or writes the user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TINYNET_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
