"""Activation modules: forward values and gains (table values, computed values, user subclasses), the
derivatives and declarations the diagnostics read, and the name -> class table."""

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import init, nn
from tinynet.nn.activation import DERIVATIVE_GRID, SATURATION_FACTOR

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


# -------------------------------------------------------------------------------------- derivatives
DERIVATIVE_CASES = [
    nn.ReLU(), nn.LeakyReLU(), nn.LeakyReLU(0.2), nn.LeakyReLU(3.0), nn.ELU(), nn.ELU(alpha=0.5),
    nn.SELU(), nn.GELU(), nn.GELU(approximate="tanh"), nn.Tanh(), nn.Sigmoid(), nn.Softplus(),
    nn.Identity(),
]  # fmt: skip


@pytest.mark.parametrize("act", DERIVATIVE_CASES, ids=repr)
def test_closed_form_derivative_equals_the_autograd_default(act):
    """Every built-in's closed form is the base class's autograd of its forward, on a grid with a node
    at 0 (where relu-composed forms pass 0) and at float32 inputs, shape kept, in float64."""
    h = np.concatenate([np.linspace(-9.0, 9.0, 1801), [-40.0, -1e-8, 0.0, 1e-8, 40.0]]).reshape(-1, 6)
    own = act.derivative(h)
    default = nn.Activation.derivative(act, h)
    assert own.dtype == np.float64 and own.shape == h.shape
    np.testing.assert_allclose(own, default, rtol=1e-12, atol=1e-15)
    h32 = h.astype(np.float32)
    default32 = nn.Activation.derivative(act, h32)
    np.testing.assert_allclose(act.derivative(h32), default32, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", list(REFERENCE))
def test_derivative_matches_central_differences_of_the_reference(cls):
    """Independent of the engine: (f(h + e) - f(h - e)) / 2e of the numpy reference, off the kink."""
    h = np.concatenate([np.linspace(-6.0, -0.05, 60), np.linspace(0.05, 6.0, 60)])
    e = 1e-6
    numeric = (REFERENCE[cls](h + e) - REFERENCE[cls](h - e)) / (2 * e)
    np.testing.assert_allclose(cls().derivative(h), numeric, rtol=1e-6, atol=1e-8)


def test_relu_derivative_at_zero_is_what_the_relu_op_passes():
    x = tn.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(nn.ReLU().derivative(np.array([-1.0, 0.0, 2.0])), x.grad)
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


@pytest.mark.parametrize(
    ("act", "expected"),
    [
        (nn.ReLU(), 1.0), (nn.LeakyReLU(), 1.0), (nn.LeakyReLU(3.0), 3.0), (nn.ELU(), 1.0),
        (nn.ELU(alpha=2.5), 2.5), (nn.SELU(), SELU_SCALE * SELU_ALPHA), (nn.GELU(), 1.1289),
        (nn.Tanh(), 1.0), (nn.Sigmoid(), 0.25), (nn.Softplus(), 1.0), (nn.Identity(), 1.0),
    ],
)  # fmt: skip
def test_max_derivative_is_the_largest_slope(act, expected):
    assert act.max_derivative == pytest.approx(expected, abs=1e-4)
    # it bounds |φ'| on a fine grid and is reached on it up to the grid's resolution (0.001)
    slopes = np.abs(act.derivative(np.linspace(-20.0, 20.0, 40_001)))
    assert slopes.max() <= act.max_derivative * (1 + 1e-9)
    assert act.max_derivative - slopes.max() < 0.01 * act.max_derivative


def test_saturation_factor_makes_the_tanh_and_sigmoid_rules_exact():
    """phi' < (1 - 0.97**2) max phi' is |tanh(h)| > 0.97 for tanh, and sigma(h) < 0.015 or > 0.985
    for sigmoid (the roots of s (1 - s) = (1 - 0.97**2) / 4 are (1 ± 0.97) / 2)."""
    assert SATURATION_FACTOR == 1 - 0.97**2 and round(SATURATION_FACTOR, 4) == 0.0591
    h = np.linspace(-10.0, 10.0, 200_001)
    t, s = np.tanh(h), 1 / (1 + np.exp(-h))
    away = (np.abs(np.abs(t) - 0.97) > 1e-9) & (np.abs(np.abs(s - 0.5) - 0.485) > 1e-9)
    tanh_rule = nn.Tanh().derivative(h) < SATURATION_FACTOR * nn.Tanh.max_derivative
    np.testing.assert_array_equal(tanh_rule[away], (np.abs(t) > 0.97)[away])
    sigmoid_rule = nn.Sigmoid().derivative(h) < SATURATION_FACTOR * nn.Sigmoid.max_derivative
    np.testing.assert_array_equal(sigmoid_rule[away], ((s < 0.015) | (s > 0.985))[away])
    assert np.abs(h[tanh_rule]).min() == pytest.approx(math.atanh(0.97), abs=1e-4)  # |h| > 2.092


# ------------------------------------------------------------------------------------- declarations
BUILT_INS = [
    # class, name, display_name, saturates, can_die, output_range, saturation_rule
    (nn.ReLU, "relu", "ReLU", False, True, None, None),
    (nn.LeakyReLU, "leaky_relu", "LeakyReLU", False, False, None, None),
    (nn.ELU, "elu", "ELU", False, False, None, None),
    (nn.SELU, "selu", "SELU", False, False, None, None),
    (nn.GELU, "gelu", "GELU", False, False, None, None),
    (nn.Tanh, "tanh", "tanh", True, False, (-1.0, 1.0), "|a| > 0.97"),
    (nn.Sigmoid, "sigmoid", "sigmoid", True, False, (0.0, 1.0), "a < 0.015 or a > 0.985"),
    (nn.Softplus, "softplus", "softplus", False, False, None, None),
    (nn.Identity, "identity", "identity", False, False, None, None),
]


@pytest.mark.parametrize(
    ("cls", "name", "display", "saturates", "can_die", "output_range", "rule"), BUILT_INS
)
def test_built_in_declarations(cls, name, display, saturates, can_die, output_range, rule):
    act = cls()
    assert (act.name, act.display_name) == (name, display)
    # declared explicitly on the class, not derived from the derivative
    assert cls.__dict__["saturates"] is saturates and cls.__dict__["can_die"] is can_die
    assert act.saturates is saturates and act.can_die is can_die
    assert act.output_range == output_range
    if rule is not None:
        assert act.saturation_rule == rule


def test_elu_selu_gelu_units_with_negative_inputs_still_pass_gradient():
    h = np.array([-30.0, -5.0, -1.0, -0.1])
    for act in (nn.ELU(), nn.SELU(), nn.GELU(), nn.LeakyReLU(), nn.Softplus()):
        assert np.all(np.abs(act.derivative(h)) > 0), act
    assert np.all(nn.ReLU().derivative(h) == 0)
    # with a zero slope they are ReLU, and say so on the instance
    assert nn.LeakyReLU(0.0).can_die is True and nn.ELU(alpha=0.0).can_die is True
    assert nn.LeakyReLU.can_die is False and nn.ELU.can_die is False


def test_user_activation_declares_nothing_by_default():
    class MyAct(nn.Activation):
        def forward(self, x):
            return x * 0.5

    act = MyAct()
    assert act.name == "myact" and act.display_name == "MyAct"
    # derived from its derivative (0.5 everywhere): nothing saturates, nothing dies
    assert act.saturates is False and act.can_die is False and act.output_range is None
    assert act.max_derivative == 0.5
    assert act.saturation_rule == "φ' < 6% of its maximum"
    np.testing.assert_array_equal(act.derivative(np.zeros((3, 4))), np.full((3, 4), 0.5))


def test_undeclared_saturates_and_can_die_come_from_the_derivative_on_a_grid():
    class Softsign(nn.Activation):  # phi' = 1 / (1 + |h|)^2: 1/81 at |h| = 8, below 6% of 1
        def forward(self, x):
            return x / (1.0 + x.abs())

    class Floor(nn.Activation):  # phi' = 0 for every h <= 0: units can die
        def forward(self, x):
            return (x - 1.0).relu() + x.relu() * 0.0

    class Bent(nn.Activation):  # slopes 1 and 0.5: neither
        def forward(self, x):
            return x.relu() * 0.5 + x * 0.5

    softsign, floor, bent = Softsign(), Floor(), Bent()
    assert (softsign.saturates, softsign.can_die, softsign.max_derivative) == (True, False, 1.0)
    assert (floor.saturates, floor.can_die, floor.max_derivative) == (False, True, 1.0)
    assert (bent.saturates, bent.can_die, bent.max_derivative) == (False, False, 1.0)
    h = np.linspace(-3.0, 3.0, 13)
    np.testing.assert_allclose(softsign.derivative(h), 1 / (1 + np.abs(h)) ** 2, rtol=1e-12)
    # an isolated zero of phi' (x**2 at 0) is not an interval: such units cannot die
    class Square(nn.Activation):
        def forward(self, x):
            return x * x

    assert Square().can_die is False
    assert DERIVATIVE_GRID[0] == -8.0 and DERIVATIVE_GRID[-1] == 8.0 and 0.0 in DERIVATIVE_GRID


def test_max_derivative_can_be_set_per_instance_and_is_validated():
    class Soft(nn.Activation):
        def forward(self, x):
            return x.tanh() * 3.0

    act = Soft()
    assert act.max_derivative == pytest.approx(3.0)
    act.max_derivative = 2.0
    assert act.max_derivative == 2.0 and Soft().max_derivative == pytest.approx(3.0)
    with pytest.raises(ValueError, match=r"Soft: max_derivative must be a finite number > 0\.0, got -1\.0"):
        act.max_derivative = -1.0
    with pytest.raises(TypeError, match=r"Soft: max_derivative must be a finite number > 0\.0, got 'big'"):
        act.max_derivative = "big"


def test_derivative_needs_an_elementwise_forward():
    class Total(nn.Activation):
        def forward(self, x):
            return x.sum()

    with pytest.raises(ValueError, match=r"Total.derivative: forward must be elementwise .*got shape \(\)"):
        Total().derivative(np.ones((2, 3)))

    class Constant(nn.Activation):  # an output that does not depend on the input: phi' = 0
        def forward(self, x):
            return tn.tensor(np.ones(x.shape))

    np.testing.assert_array_equal(Constant().derivative(np.ones(4)), np.zeros(4))


def test_user_activation_declarations_are_kept_and_names_not_inherited():
    class Clipped(nn.Activation):
        name = "clipped"
        display_name = "Clip"
        saturates = True
        output_range = (-2.0, 2.0)

        def forward(self, x):
            return (x + 2.0).relu() - (x - 2.0).relu() - 2.0

    class MyReLU(nn.ReLU):
        pass

    assert (Clipped.name, Clipped.display_name, Clipped.output_range) == ("clipped", "Clip", (-2.0, 2.0))
    clipped = Clipped()
    assert clipped.saturates is True  # declared, although its derivation says can_die
    assert clipped.can_die is True  # not declared: phi' = 0 for |h| > 2
    np.testing.assert_array_equal(clipped.derivative(np.array([-3.0, 1.9, 2.5])), [0.0, 1.0, 0.0])
    # a subclass of a built-in gets its own name but keeps what it inherits from the built-in
    assert (MyReLU.name, MyReLU.display_name, MyReLU.can_die) == ("myrelu", "MyReLU", True)
    assert nn.ReLU.name == "relu"


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
