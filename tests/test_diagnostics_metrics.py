"""The array figures of tinynet.diagnostics.metrics, on arrays whose answers can be worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinynet import nn
from tinynet.diagnostics import (
    dead_fraction,
    distinct_units,
    gradient_flow,
    histogram,
    max_cosine,
    numerical_rank,
    saturation_fraction,
    update_ratio,
)


def test_distinct_units_counts_duplicated_columns():
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((3, 5))
    w = np.stack([a, a, b, c, b, a], axis=1)  # (in=5, out=6): columns are the units
    assert distinct_units(w) == 3
    assert distinct_units(w + 1e-9 * rng.standard_normal(w.shape)) == 3  # within tolerance
    assert distinct_units(w + 1e-2 * rng.standard_normal(w.shape)) == 6  # beyond it
    assert distinct_units(np.zeros((7, 4))) == 1
    assert distinct_units(np.ones((3, 9))) == 1


def test_distinct_units_rejects_vectors_and_negative_tolerance():
    with pytest.raises(ValueError, match="distinct_units: weight must have at least 2"):
        distinct_units(np.ones(3))
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        distinct_units(np.ones((2, 2)), tol=-1)
    with pytest.raises(TypeError, match=r"distinct_units: tol must be a finite number >= 0, got '0\.1'"):
        distinct_units(np.ones((2, 2)), tol="0.1")


def test_max_cosine_known_values():
    assert max_cosine(np.eye(4)) == pytest.approx(0.0)
    w = np.array([[1.0, 1.0], [0.0, 1.0]])  # units (1, 0) and (1, 1)
    assert max_cosine(w) == pytest.approx(1 / math.sqrt(2))
    assert max_cosine(np.zeros((3, 3))) == 1.0  # identical (zero) units
    assert max_cosine(np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 0.0]])) == pytest.approx(1.0)
    assert math.isnan(max_cosine(np.ones((3, 1))))
    with pytest.raises(ValueError, match="max_cosine: tol must be a finite number >= 0"):
        max_cosine(np.eye(2), tol=-0.5)


def test_numerical_rank_known_values():
    rng = np.random.default_rng(2)
    u, v = rng.standard_normal((2, 8)), rng.standard_normal((2, 5))
    assert numerical_rank(u.T @ v) == 2  # sum of two outer products, (8, 5)
    assert numerical_rank(np.zeros((4, 6))) == 0
    assert numerical_rank(np.eye(6, dtype=np.float32)) == 6
    assert numerical_rank(np.ones((5, 5))) == 1


def test_saturation_fraction_thresholds():
    """Read at the inputs h: tanh is saturated where |tanh(h)| > 0.97 (|h| > 2.092), sigmoid where
    sigma(h) < 0.015 or > 0.985 (|h| > 4.185)."""
    h = np.arctanh(np.array([0.99, -0.98, 0.5, 0.0, 0.9699, -0.96]))
    assert saturation_fraction(h, "tanh") == 2 / 6
    s = np.array([0.01, 0.99, 0.5, 0.2, 0.016, 0.984])
    assert saturation_fraction(np.log(s / (1 - s)), "sigmoid") == 2 / 6
    assert saturation_fraction(np.array([2.0, 2.1, -2.1, 4.0]), "tanh") == 0.75
    with pytest.raises(ValueError, match="activation must be one of 'tanh', 'sigmoid'"):
        saturation_fraction(np.zeros(3), "relu")


def test_saturation_fraction_takes_an_activation_by_its_declaration():
    class Clipped(nn.Activation):  # clip to [-2, 2]: phi' = 0 outside, 1 inside
        saturates = True

        def forward(self, x):
            return (x + 2.0).relu() - (x - 2.0).relu() - 2.0

    h = np.array([[-3.0, 0.0, 2.5, 1.9]])
    assert saturation_fraction(h, Clipped()) == 0.5
    assert saturation_fraction(h, nn.Tanh()) == saturation_fraction(h, "tanh") == 0.5
    assert saturation_fraction(np.zeros((0, 4)), "tanh") == 0.0
    with pytest.raises(ValueError, match="saturation_fraction: activation must declare saturates = True"):
        saturation_fraction(h, nn.ReLU())
    with pytest.raises(ValueError, match="closest match: 'tanh'"):
        saturation_fraction(h, "tahn")
    with pytest.raises(TypeError, match="saturation_fraction: activation must be one of 'tanh', 'sigmoid'"):
        saturation_fraction(h, 3)


def test_dead_fraction_counts_units_whose_slope_is_zero_on_every_example():
    h = np.array(
        [
            [-1.0, -1.0, 0.0, 0.9],
            [-2.0, 3.0, 0.0, 1.0],
            [-0.5, -1.0, 0.0, 0.5],
        ]
    )  # ReLU: units 0 and 2 never pass gradient (h <= 0); unit 1 does once
    assert dead_fraction(h) == dead_fraction(h, "relu") == dead_fraction(h, nn.ReLU()) == 0.5
    assert dead_fraction(np.zeros((0, 3))) == 0.0
    with pytest.raises(ValueError, match="dead_fraction: activation must declare can_die = True, got ELU"):
        dead_fraction(h, nn.ELU())  # negative ELU units pass gradient: ELU declares can_die = False
    with pytest.raises(ValueError, match="activation must be one of 'relu'"):
        dead_fraction(h, "elu")

    class Shifted(nn.Activation):  # a user's activation, dead below 1: by its own derivative
        can_die = True

        def forward(self, x):
            return (x - 1.0).relu()

    assert dead_fraction(h, Shifted()) == 0.75  # unit 3 passes ReLU's gradient, never h > 1


def test_update_ratio_is_log10_of_std_ratio():
    rng = np.random.default_rng(3)
    before = rng.standard_normal((50, 40))
    delta = 1e-3 * rng.standard_normal((50, 40))
    after = before + delta
    expected = math.log10(delta.std() / after.std())
    assert update_ratio(before, after) == pytest.approx(expected, rel=1e-9)
    assert update_ratio(before, before) is None  # no update
    assert update_ratio(np.zeros(4), np.zeros(4)) is None  # no spread


def test_gradient_flow():
    assert gradient_flow(1e-6, 1.0) == 1e-6
    assert gradient_flow(0.0, 2.0) == 0.0  # nothing reaches the first layer
    assert gradient_flow(1.0, 0.0) is None
    assert gradient_flow(float("nan"), 1.0) is None
    assert gradient_flow(None, 1.0) is None and gradient_flow(1.0, None) is None


def test_histogram_ranges():
    a = np.array([-0.5, 0.0, 0.25, 0.5, np.nan])
    fixed = histogram(a, 4, (-1.0, 1.0))  # a declared output range, as tanh's
    assert fixed["edges"] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert fixed["counts"] == [0, 1, 2, 1]  # nan left out; bins [lo, hi), the last [0.5, 1]
    own = histogram(a, 2)
    assert own["edges"] == [-0.5, 0.0, 0.5] and own["counts"] == [1, 3]
    spike = histogram(np.full(3, 2.0), 2)  # a constant array: a unit range centred on it
    assert spike["edges"] == [1.5, 2.0, 2.5] and spike["counts"] == [0, 3]
    assert histogram(np.array([np.inf, np.nan]), 3) is None
