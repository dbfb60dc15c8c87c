"""Gains: PyTorch's table, and gains estimated by quadrature for any activation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import init

PYTORCH_TABLE = [
    ("linear", None, 1.0),
    ("conv1d", None, 1.0),
    ("conv2d", None, 1.0),
    ("conv3d", None, 1.0),
    ("conv_transpose1d", None, 1.0),
    ("conv_transpose2d", None, 1.0),
    ("conv_transpose3d", None, 1.0),
    ("sigmoid", None, 1.0),
    ("tanh", None, 5.0 / 3),
    ("relu", None, math.sqrt(2.0)),
    ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
    ("leaky_relu", 0, math.sqrt(2.0)),
    ("leaky_relu", 1, 1.0),
    ("selu", None, 3.0 / 4),
]


@pytest.mark.parametrize(("nonlinearity", "param", "gain"), PYTORCH_TABLE)
def test_calculate_gain_is_pytorchs_table(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == gain


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="swish") as err:
        init.calculate_gain("swish")
    assert "relu" in str(err.value)  # lists the valid names
    with pytest.raises(TypeError, match="True"):  # a wrong type: TypeError (was ValueError)
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(TypeError, match=r"'0\.1'"):  # a wrong type: TypeError (was ValueError)
        init.calculate_gain("leaky_relu", "0.1")
    with pytest.raises(TypeError, match="nonlinearity"):
        init.calculate_gain(None)


def _reference_gain(fn, half_width=12.0, points=400_001):
    """Independent check: trapezoidal rule on a fine uniform grid (error O(h^2) for smooth fn)."""
    z = np.linspace(-half_width, half_width, points)
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return 1 / math.sqrt(np.trapezoid(fn(z) ** 2 * density, z))


def test_estimate_gain_relu_and_tanh():
    assert init.estimate_gain(lambda z: np.maximum(z, 0)) == pytest.approx(math.sqrt(2), abs=1e-6)
    tanh_gain = init.estimate_gain(np.tanh)
    # the issue quotes 1.5927; the exact value is 1.59254 (1 / sqrt(E[tanh(z)^2]))
    assert tanh_gain == pytest.approx(1.5927, abs=5e-4)
    assert tanh_gain == pytest.approx(_reference_gain(np.tanh), abs=1e-8)


def test_estimate_gain_agrees_with_closed_forms():
    assert init.estimate_gain(lambda z: z) == pytest.approx(1.0, abs=1e-12)
    for slope in (0.01, 0.2, 0.5):
        leaky = init.estimate_gain(lambda z, s=slope: np.where(z > 0, z, s * z))
        assert leaky == pytest.approx(init.calculate_gain("leaky_relu", slope), abs=1e-12)
    # hardtanh: E[clip(z, -1, 1)^2] = 1 - 2 phi(1)
    phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
    hardtanh = init.estimate_gain(lambda z: np.clip(z, -1, 1))
    assert hardtanh == pytest.approx(1 / math.sqrt(1 - 2 * phi1), abs=1e-10)
    # a kink off the panel grid: E[relu(z - c)^2] = (1 + c^2)(1 - Phi(c)) - c phi(c)
    c = 0.3
    tail = 0.5 * math.erfc(c / math.sqrt(2))
    phic = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    shifted = init.estimate_gain(lambda z: np.maximum(z - c, 0))
    assert shifted == pytest.approx(1 / math.sqrt((1 + c * c) * tail - c * phic), abs=1e-6)
    # SELU's constants make N(0, 1) -> mean 0, variance 1, so its second moment is 1
    lam, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
    selu = init.estimate_gain(lambda z: lam * np.where(z > 0, z, alpha * np.expm1(z)))
    assert selu == pytest.approx(1.0, abs=1e-6)
    # sigmoid: E[sigmoid(z)^2] > 1/4 so its gain is below 2 (it is not the table's 1)
    sigmoid = init.estimate_gain(lambda z: 1 / (1 + np.exp(-z)))
    assert sigmoid == pytest.approx(_reference_gain(lambda z: 1 / (1 + np.exp(-z))), abs=1e-8)


def test_estimate_gain_takes_tensor_functions():
    assert init.estimate_gain(lambda t: t.relu()) == pytest.approx(math.sqrt(2), abs=1e-6)
    assert init.estimate_gain(lambda t: t.tanh()) == pytest.approx(
        init.estimate_gain(np.tanh), abs=1e-12
    )
    assert tn.is_grad_enabled()  # the no_grad region used for Tensor functions was left


def test_estimate_gain_errors():
    with pytest.raises(TypeError, match="callable"):
        init.estimate_gain(2.0)
    with pytest.raises(ValueError, match="0"):
        init.estimate_gain(lambda z: 0 * z)
    with pytest.raises(ValueError, match="non-finite"):
        init.estimate_gain(np.log)  # NaN for z < 0
    with pytest.raises(ValueError, match="not finite"):
        init.estimate_gain(lambda z: 1e150 * z**4)  # finite values, overflowing squares
    with pytest.raises(ValueError, match="elementwise"):
        init.estimate_gain(lambda z: z.sum())


def test_gain_auto_and_names_inside_schemes():
    assert init.get("he_normal(gain='auto')").std(100, 100) == pytest.approx(0.1)
    tanh_std = init.get("xavier_normal(gain='tanh')").std(50, 50)
    assert tanh_std == pytest.approx(5 / 3 / math.sqrt(50))
    assert init.get("orthogonal(gain='relu')")((4, 4), rng=0, dtype=np.float64) == pytest.approx(
        math.sqrt(2) * init.get("orthogonal")((4, 4), rng=0, dtype=np.float64)
    )
