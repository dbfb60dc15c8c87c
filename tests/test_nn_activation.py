"""Activation modules: forward values and gains (table values, computed values, user subclasses), the
declarations the diagnostics read, and the name -> class table."""

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
    with pytest.raises(ValueError, match="finite number > 0"):
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


# ------------------------------------------------------------------------------------- declarations
BUILT_INS = [
    # class, name, display_name, saturates, can_die, output_range
    (nn.ReLU, "relu", "ReLU", False, True, None),
    (nn.LeakyReLU, "leaky_relu", "LeakyReLU", False, True, None),
    (nn.ELU, "elu", "ELU", False, True, None),
    (nn.SELU, "selu", "SELU", False, True, None),
    (nn.GELU, "gelu", "GELU", False, True, None),
    (nn.Tanh, "tanh", "tanh", True, False, (-1.0, 1.0)),
    (nn.Sigmoid, "sigmoid", "sigmoid", True, False, (0.0, 1.0)),
    (nn.Softplus, "softplus", "softplus", False, False, None),
    (nn.Identity, "identity", "identity", False, False, None),
]


@pytest.mark.parametrize(("cls", "name", "display", "saturates", "can_die", "output_range"), BUILT_INS)
def test_built_in_declarations(cls, name, display, saturates, can_die, output_range):
    act = cls()
    assert (act.name, act.display_name) == (name, display)
    assert act.saturates is saturates and act.can_die is can_die
    assert act.output_range == output_range
    if not saturates:
        out = np.array([[-5.0, -0.99, 0.0], [0.5, 0.99, 5.0]])
        mask = act.saturated(out)
        assert mask.dtype == bool and mask.shape == out.shape and not mask.any()


def test_user_activation_declares_nothing_by_default():
    class MyAct(nn.Activation):
        def forward(self, x):
            return x * 0.5

    act = MyAct()
    assert act.name == "myact" and act.display_name == "MyAct"
    assert act.saturates is False and act.can_die is False and act.output_range is None
    out = np.full((3, 4), 0.999)
    mask = act.saturated(out)
    assert mask.shape == (3, 4) and mask.dtype == bool and not mask.any()


def test_user_activation_declarations_are_kept_and_names_not_inherited():
    class Clipped(nn.Activation):
        name = "clipped"
        display_name = "Clip"
        saturates = True
        output_range = (-2.0, 2.0)

        def saturated(self, output):
            return np.abs(output) >= 2.0

        def forward(self, x):
            return x

    class MyReLU(nn.ReLU):
        pass

    assert (Clipped.name, Clipped.display_name, Clipped.output_range) == ("clipped", "Clip", (-2.0, 2.0))
    np.testing.assert_array_equal(Clipped().saturated(np.array([-2.0, 1.9, 2.0])), [True, False, True])
    # a subclass of a built-in gets its own name but keeps what it inherits from the built-in
    assert (MyReLU.name, MyReLU.display_name, MyReLU.can_die) == ("myrelu", "MyReLU", True)
    assert nn.ReLU.name == "relu"


def test_tanh_saturation_mask_is_abs_above_0_97():
    assert nn.Tanh.SATURATION == 0.97
    out = np.array([-1.0, -0.975, -0.97, -0.5, 0.0, 0.9699, 0.97, 0.9701, 1.0], dtype=np.float32)
    expected = [True, True, False, False, False, False, False, True, True]
    np.testing.assert_array_equal(nn.Tanh().saturated(out), expected)
    grid = np.tanh(np.linspace(-4, 4, 401)).reshape(1, 401)
    mask = nn.Tanh().saturated(grid)
    assert mask.shape == grid.shape
    # where the mask holds, the local derivative 1 - tanh^2 is below 0.06, and only there
    np.testing.assert_array_equal(mask, 1 - grid**2 < 1 - 0.97**2)
    assert np.all(1 - grid[mask] ** 2 < 0.06)


def test_sigmoid_saturation_mask_is_within_0_03_of_either_end():
    assert nn.Sigmoid.SATURATION == 0.03
    out = np.array([0.0, 0.0299, 0.03, 0.5, 0.97, 0.9701, 1.0])
    np.testing.assert_array_equal(nn.Sigmoid().saturated(out), [True, True, False, False, False, True, True])
    grid = 1 / (1 + np.exp(-np.linspace(-8, 8, 321)))
    mask = nn.Sigmoid().saturated(grid)
    assert np.all(grid[mask] * (1 - grid[mask]) < 0.03)
    assert mask.sum() > 0 and not mask.all()


def test_activation_table_and_make_activation():
    assert list(nn.ACTIVATIONS) == [
        "relu", "leaky_relu", "elu", "selu", "gelu", "tanh", "sigmoid", "softplus", "identity",
    ]
    for name, cls in nn.ACTIVATIONS.items():
        assert cls.name == name
        act = nn.make_activation(name)
        assert type(act) is cls
    assert nn.make_activation("relu") is not nn.make_activation("relu")
    with pytest.raises(ValueError, match=r"unknown activation 'tahn'; valid: relu, .*closest match: 'tanh'"):
        nn.make_activation("tahn")
    with pytest.raises(TypeError, match="make_activation: name must be one of"):
        nn.make_activation(nn.Tanh)
