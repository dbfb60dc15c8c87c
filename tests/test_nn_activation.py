"""Activation modules: forward values and gains (table values, computed values, user subclasses)."""

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import init, nn

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
ERF = np.vectorize(math.erf)


def elu(x, a=1.0):
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))


REFERENCE = {
    nn.ReLU: lambda x: np.maximum(x, 0),
    nn.Tanh: np.tanh,
    nn.Sigmoid: lambda x: 1 / (1 + np.exp(-x)),
    nn.Softplus: lambda x: np.log1p(np.exp(x)),
    nn.ELU: elu,
    nn.SELU: lambda x: SELU_SCALE * elu(x, SELU_ALPHA),
    nn.GELU: lambda x: x * 0.5 * (1 + ERF(x / math.sqrt(2))),
    nn.LeakyReLU: lambda x: np.where(x >= 0, x, 0.01 * x),
    nn.Identity: lambda x: x,
}


def second_moment_gain(f):
    """1 / sqrt(E[f(z)^2]), z ~ N(0, 1), by the trapezoidal rule on a fine grid with a node at 0.

    Independent of init.estimate_gain (a different rule); the error of the trapezoidal rule here is
    below 1e-9 for these functions (h = 1e-3, kink at most at a node).
    """
    z = np.linspace(-12.0, 12.0, 24_001)
    density = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return 1 / math.sqrt(np.trapezoid(f(z) ** 2 * density, z))


@pytest.mark.parametrize("cls", list(REFERENCE))
def test_forward_matches_reference(cls):
    x = np.linspace(-4, 4, 41)
    act = cls()
    assert isinstance(act, nn.Activation) and list(act.parameters()) == []
    y = act(tn.tensor(x))
    np.testing.assert_allclose(y.data, REFERENCE[cls](x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("module", "gain"),
    [
        (nn.ReLU(), math.sqrt(2)),
        (nn.LeakyReLU(), math.sqrt(2 / (1 + 0.01**2))),
        (nn.LeakyReLU(0.2), math.sqrt(2 / 1.04)),
        (nn.Tanh(), 5 / 3),
        (nn.Sigmoid(), 1.0),
        (nn.Identity(), 1.0),
        (nn.SELU(), 1.0),
    ],
)
def test_table_gains(module, gain):
    assert module.gain == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize(
    ("module", "documented", "f"),
    [
        (nn.ELU(), 1.2451983, elu),
        (nn.ELU(alpha=0.5), None, lambda x: elu(x, 0.5)),
        (nn.GELU(), 1.5335304, REFERENCE[nn.GELU]),
        (
            nn.GELU(approximate="tanh"),
            1.5335805,
            lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        ),
        (nn.Softplus(), 1.0418668, REFERENCE[nn.Softplus]),
    ],
)
def test_computed_gains_preserve_second_moment(module, documented, f):
    expected = second_moment_gain(f)
    assert module.gain == pytest.approx(expected, rel=1e-8)
    if documented is not None:  # the value written in the docstrings
        assert module.gain == pytest.approx(documented, abs=1e-7)


def test_selu_gain_is_the_self_normalizing_value_not_pytorch_table():
    assert init.calculate_gain("selu") == 0.75
    assert second_moment_gain(REFERENCE[nn.SELU]) == pytest.approx(1.0, abs=1e-6)
    assert nn.SELU().gain == 1.0


def test_user_activation_inherits_estimated_gain():
    class Square(nn.Activation):
        def forward(self, x):
            return x * x

    assert Square().gain == pytest.approx(1 / math.sqrt(3), rel=1e-9)  # E[z^4] = 3

    class Fixed(nn.Activation):
        gain = 1.25

        def forward(self, x):
            return x

    assert Fixed().gain == 1.25

    class Lazy(nn.Activation):
        def __init__(self, k):
            super().__init__()
            self.k = k

        @property
        def gain(self):
            return 1.0 / self.k

        def forward(self, x):
            return x * self.k

    assert Lazy(4.0).gain == 0.25


def test_gain_can_be_set_per_instance_and_is_validated():
    act = nn.ReLU()
    act.gain = 1.0
    assert act.gain == 1.0 and nn.ReLU().gain == pytest.approx(math.sqrt(2))

    class Cube(nn.Activation):
        def forward(self, x):
            return x * x * x

    cube = Cube()
    cube.gain = 2.0
    assert cube.gain == 2.0
    with pytest.raises(ValueError, match="positive and finite"):
        cube.gain = -1.0
    with pytest.raises(TypeError, match="number"):
        cube.gain = "big"


def test_auto_gain_follows_the_activation_after_each_layer():
    tn.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(300, 200, weight_init="lecun_normal(gain='auto')"),
        nn.LeakyReLU(0.2),
        nn.Linear(200, 100, weight_init="lecun_normal(gain='auto')"),
    )
    for layer, gain in [(model[0], math.sqrt(2 / 1.04)), (model[2], 1.0)]:
        n_in, n_out = layer.fans()
        expected = gain / math.sqrt(n_in)
        tol = 6 * expected / math.sqrt(2 * n_in * n_out)  # 6 standard errors of a sample std
        assert abs(layer.weight.data.std() - expected) < tol


def test_bad_options():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="fast")
    with pytest.raises(TypeError, match="negative_slope"):
        nn.LeakyReLU("0.1")
    with pytest.raises(TypeError, match="alpha"):
        nn.ELU(None)
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
