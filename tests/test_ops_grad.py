"""Every op's gradient against central finite differences (tn.gradcheck, float64).

One generic test body per family runs over a table of ops (as minitorch does) on generated shapes;
each op's inputs are shifted into the region where it is smooth (see ``strategies``). The engine
reduces broadcast gradients, so the binary-op tables run over broadcastable shape pairs, with
either or both operands requiring grad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import hypothesis
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    MATMUL_KINDS,
    MAX_SIDE,
    Domain,
    away_from_zero,
    axis_and_keepdims,
    boolean_masks,
    broadcastable_pairs,
    class_targets,
    distinct_arrays,
    float_arrays,
    indices,
    matmul_shapes,
    positive,
    real,
    reshape_targets,
    shapes,
)

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.ops.linear import LinearRelu

# A cap on the elements checked per input keeps the largest generated shapes (5**4) fast; smaller
# inputs, the usual case, are checked in full.
MAX_ELEMENTS = 64


def leaf(array: np.ndarray, requires_grad: bool = True) -> tn.Tensor:
    return tn.tensor(array, requires_grad=requires_grad)


def check(fn: Callable[..., tn.Tensor], *inputs: object) -> None:
    assert tn.gradcheck(fn, *inputs, max_elements=MAX_ELEMENTS) is True


@dataclass(frozen=True)
class Unary:
    name: str
    fn: Callable[[tn.Tensor], tn.Tensor]
    domain: Domain = real

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Binary:
    name: str
    fn: Callable[[tn.Tensor, tn.Tensor], tn.Tensor]
    domain_a: Domain = real
    domain_b: Domain = real

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- elementwise, unary
UNARY = [
    Unary("neg", lambda x: -x),
    Unary("exp", lambda x: x.exp()),
    Unary("log", lambda x: x.log(), positive),
    Unary("sqrt", lambda x: x.sqrt(), positive),
    Unary("abs", lambda x: x.abs(), away_from_zero),
    Unary("tanh", lambda x: x.tanh()),
    Unary("sigmoid", lambda x: x.sigmoid()),
    Unary("relu", lambda x: x.relu(), away_from_zero),
    # a number on either side (reflected operators)
    Unary("x + 3", lambda x: x + 3),
    Unary("2.5 + x", lambda x: 2.5 + x),
    Unary("x - 1.5", lambda x: x - 1.5),
    Unary("1 - x", lambda x: 1 - x),
    Unary("x * 0.5", lambda x: x * 0.5),
    Unary("2 * x", lambda x: 2 * x),
    Unary("x / 4", lambda x: x / 4),
    Unary("2 / x", lambda x: 2 / x, away_from_zero),
    Unary("2 ** x", lambda x: 2**x),
    Unary("0.5 ** x", lambda x: 0.5**x),
    Unary("x ** 2", lambda x: x**2),
    Unary("x ** 3", lambda x: x**3),
    Unary("x ** -1", lambda x: x**-1, away_from_zero),
    Unary("x ** 0.5", lambda x: x**0.5, positive),
    Unary("x ** -1.5", lambda x: x**-1.5, positive),
    Unary("x ** np.float64(1.7)", lambda x: x ** np.float64(1.7), positive),
    # a composition: the chain rule through several ops
    Unary("tanh(x * x + 1).exp() / 3", lambda x: (x * x + 1).tanh().exp() / 3),
    # nn.functional
    Unary("F.relu", F.relu, away_from_zero),
    Unary("F.leaky_relu", F.leaky_relu, away_from_zero),
    Unary("F.leaky_relu(0.2)", lambda x: F.leaky_relu(x, negative_slope=0.2), away_from_zero),
    Unary("F.elu", F.elu, away_from_zero),
    Unary("F.elu(alpha=0.5)", lambda x: F.elu(x, alpha=0.5), away_from_zero),
    Unary("F.selu", F.selu, away_from_zero),
    Unary("F.gelu", F.gelu),
    Unary("F.gelu(tanh)", lambda x: F.gelu(x, approximate="tanh")),
    Unary("F.tanh", F.tanh),
    Unary("F.sigmoid", F.sigmoid),
    Unary("F.softplus", F.softplus),
]


@pytest.mark.parametrize("op", UNARY, ids=str)
@given(data=st.data())
def test_unary_gradient(op: Unary, data: st.DataObject) -> None:
    x = data.draw(float_arrays(data.draw(shapes()), domain=op.domain))
    check(op.fn, leaf(x))


@given(
    data=st.data(),
    exponent=st.sampled_from([0, 1, 2, 3, -2, 0.5, -0.5, 1.5, 2.7, np.float64(-1.25)]),
)
def test_pow_by_number_gradient(data: st.DataObject, exponent: float) -> None:
    integral = float(exponent).is_integer()
    domain = away_from_zero if integral else positive
    x = data.draw(float_arrays(data.draw(shapes()), domain=domain))
    check(lambda t: t**exponent, leaf(x))


# ---------------------------------------------------------------- elementwise, binary
BINARY = [
    Binary("add", lambda a, b: a + b),
    Binary("sub", lambda a, b: a - b),
    Binary("mul", lambda a, b: a * b),
    Binary("div", lambda a, b: a / b, real, away_from_zero),
    Binary("pow", lambda a, b: a**b, positive, real),
    Binary("ops.add", tn.ops.add),
    Binary("ops.mul", tn.ops.mul),
]


@pytest.mark.parametrize("op", BINARY, ids=str)
@given(
    data=st.data(),
    shape_pair=broadcastable_pairs(),
    needs=st.sampled_from([(True, True), (True, False), (False, True)]),
)
def test_binary_gradient_broadcasting(
    op: Binary, data: st.DataObject, shape_pair: tuple, needs: tuple[bool, bool]
) -> None:
    shape_a, shape_b = shape_pair
    a = data.draw(float_arrays(shape_a, domain=op.domain_a))
    b = data.draw(float_arrays(shape_b, domain=op.domain_b))
    check(op.fn, leaf(a, needs[0]), leaf(b, needs[1]))


@pytest.mark.parametrize("op", BINARY[:5], ids=str)
@given(data=st.data(), shape_pair=broadcastable_pairs(), tensor_first=st.booleans())
def test_binary_gradient_with_ndarray_operand(
    op: Binary, data: st.DataObject, shape_pair: tuple, tensor_first: bool
) -> None:
    """A plain ndarray on either side (``ndarray * Tensor`` goes through the reflected operator)."""
    shape_a, shape_b = shape_pair
    a = data.draw(float_arrays(shape_a, domain=op.domain_a))
    b = data.draw(float_arrays(shape_b, domain=op.domain_b))
    if tensor_first:
        check(lambda t: op.fn(t, b), leaf(a))
    else:
        check(lambda t: op.fn(a, t), leaf(b))


def test_same_tensor_on_both_sides() -> None:
    """x * x, x / x, x ** x: one leaf reached twice through one op."""
    x = leaf(np.array([[0.7, 1.3, 2.0], [0.6, 1.1, 2.9]]))
    check(lambda t: t * t + t / t + t**t - t, x)


# ---------------------------------------------------------------- matmul
@pytest.mark.parametrize("kind", MATMUL_KINDS)
@given(data=st.data(), needs=st.sampled_from([(True, True), (True, False), (False, True)]))
def test_matmul_gradient(kind: str, data: st.DataObject, needs: tuple[bool, bool]) -> None:
    shape_a, shape_b = data.draw(matmul_shapes(kind))
    a = data.draw(float_arrays(shape_a))
    b = data.draw(float_arrays(shape_b))
    check(lambda x, y: x @ y, leaf(a, needs[0]), leaf(b, needs[1]))


@given(data=st.data())
def test_matmul_gradient_with_ndarray_operand(data: st.DataObject) -> None:
    shape_a, shape_b = data.draw(matmul_shapes("batched"))
    a = data.draw(float_arrays(shape_a))
    b = data.draw(float_arrays(shape_b))
    check(lambda x: x @ b, leaf(a))
    check(lambda y: a @ y, leaf(b))


# ---------------------------------------------------------------- fused linear + relu
@given(
    data=st.data(),
    batch=st.lists(st.integers(1, 3), max_size=2).map(tuple),
    needs=st.sampled_from([(True, True, True), (False, True, True), (True, False, False)]),
    bias=st.booleans(),
)
def test_linear_relu_gradient(
    data: st.DataObject, batch: tuple[int, ...], needs: tuple[bool, bool, bool], bias: bool
) -> None:
    """The op nn.Sequential runs for Linear → ReLU, with batch axes, without a bias, and with only
    some inputs requiring grad. Pre-activations are kept 0.05 away from the kink."""
    n_in, n_out = data.draw(st.integers(1, MAX_SIDE)), data.draw(st.integers(1, MAX_SIDE))
    x = data.draw(float_arrays((*batch, n_in)))
    w = data.draw(float_arrays((n_in, n_out)))
    b = data.draw(float_arrays((n_out,)))
    pre = x @ w + (b if bias else 0)
    hypothesis.assume(np.min(np.abs(pre)) > 0.05)
    inputs = [leaf(x, needs[0]), leaf(w, needs[1])] + ([leaf(b, needs[2])] if bias else [])
    check(lambda *t: LinearRelu.apply(*t), *inputs)


# ---------------------------------------------------------------- reductions
REDUCTIONS = {
    "sum": lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
    "mean": lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
    "max": lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
    "min": lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(data=st.data())
def test_reduction_gradient(name: str, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    axis, keepdims = data.draw(axis_and_keepdims(shape))
    # max/min get pairwise-distinct values: at a tie the gradient is a subgradient, not a derivative
    x = data.draw(distinct_arrays(shape) if name in ("max", "min") else float_arrays(shape))
    reduce = REDUCTIONS[name]
    out = reduce(leaf(x), axis, keepdims)
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    check(lambda t: reduce(t, axis, keepdims), leaf(x))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_share_the_gradient(name: str) -> None:
    x = leaf(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]) * (1 if name == "max" else -1))
    getattr(x, name)(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


# ---------------------------------------------------------------- shape ops
@given(data=st.data())
def test_reshape_gradient(data: st.DataObject) -> None:
    shape = data.draw(shapes())
    target = data.draw(reshape_targets(shape))
    x = data.draw(float_arrays(shape))
    assert leaf(x).reshape(target).shape == x.reshape(target).shape
    check(lambda t: t.reshape(target) * np.arange(x.size).reshape(x.reshape(target).shape), leaf(x))
    check(lambda t: t.reshape(*target) if target else t.reshape(()), leaf(x))


@given(data=st.data(), negative=st.booleans())
def test_transpose_gradient(data: st.DataObject, negative: bool) -> None:
    shape = data.draw(shapes(min_dims=1))
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    axes = tuple(a - len(shape) for a in perm) if negative else perm
    x = data.draw(float_arrays(shape))
    assert leaf(x).transpose(axes).shape == np.transpose(x, perm).shape
    check(lambda t: t.transpose(axes), leaf(x))
    check(lambda t: t.transpose(*axes), leaf(x))


@given(data=st.data())
def test_T_and_default_transpose_gradient(data: st.DataObject) -> None:
    x = data.draw(float_arrays(data.draw(shapes())))
    np.testing.assert_array_equal(leaf(x).T.data, x.T)
    check(lambda t: t.T * np.arange(x.size).reshape(x.T.shape), leaf(x))
    check(lambda t: t.transpose(), leaf(x))


@given(data=st.data())
def test_getitem_gradient(data: st.DataObject) -> None:
    """Ints, slices (negative steps), None, Ellipsis and integer arrays (repeats accumulate)."""
    shape = data.draw(shapes(min_dims=1))
    index = data.draw(indices(shape))
    x = data.draw(float_arrays(shape))
    np.testing.assert_array_equal(leaf(x)[index].data, x[index])
    check(lambda t: t[index], leaf(x))


@given(data=st.data())
def test_getitem_boolean_mask_gradient(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    mask = data.draw(boolean_masks(shape))
    x = data.draw(float_arrays(shape))
    np.testing.assert_array_equal(leaf(x)[mask].data, x[mask])
    check(lambda t: t[mask], leaf(x))


def test_getitem_repeated_indices_accumulate() -> None:
    x = leaf(np.arange(4.0))
    (x[[0, 0, 3, 0]] * np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 0.0, 0.0, 3.0])
    y = leaf(np.arange(6.0).reshape(2, 3))
    y[np.array([[1, 1], [0, 1]]), -1].sum().backward()
    np.testing.assert_array_equal(y.grad, [[0, 0, 1], [0, 0, 3]])
    z = leaf(np.arange(6.0).reshape(2, 3))
    z[tn.tensor(np.array([1, 1]), dtype=np.int64)].sum().backward()
    np.testing.assert_array_equal(z.grad, [[0, 0, 0], [2, 2, 2]])


# ---------------------------------------------------------------- softmax family, losses
@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_family_gradient(fn: Callable, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(float_arrays(shape))
    check(lambda t: fn(t, axis=axis), leaf(x))


REDUCTION_NAMES = ["mean", "sum", "none"]


@st.composite
def logits_and_targets(draw) -> tuple[np.ndarray, np.ndarray]:
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return draw(float_arrays((n, c))), draw(class_targets(n, c))


@pytest.mark.parametrize("reduction", REDUCTION_NAMES)
@given(pair=logits_and_targets(), target_as_tensor=st.booleans())
def test_cross_entropy_gradient(reduction: str, pair: tuple, target_as_tensor: bool) -> None:
    logits, target = pair
    t = tn.tensor(target) if target_as_tensor else target
    check(lambda x, tt: F.cross_entropy(x, tt, reduction=reduction), leaf(logits), t)


@pytest.mark.parametrize("reduction", REDUCTION_NAMES)
@given(pair=logits_and_targets())
def test_nll_loss_gradient(reduction: str, pair: tuple) -> None:
    values, target = pair
    check(lambda x: F.nll_loss(x, target, reduction=reduction), leaf(values))
    check(lambda x: F.nll_loss(F.log_softmax(x, axis=1), target, reduction=reduction), leaf(values))


@pytest.mark.parametrize("reduction", REDUCTION_NAMES)
@given(data=st.data(), needs=st.sampled_from([(True, True), (True, False)]))
def test_mse_loss_gradient(reduction: str, data: st.DataObject, needs: tuple) -> None:
    shape = data.draw(shapes())
    x, y = data.draw(float_arrays(shape)), data.draw(float_arrays(shape))
    check(lambda a, b: F.mse_loss(a, b, reduction=reduction), leaf(x, needs[0]), leaf(y, needs[1]))
    check(lambda a: F.mse_loss(a, y, reduction=reduction), leaf(x))


@pytest.mark.parametrize("reduction", REDUCTION_NAMES)
@given(data=st.data(), needs=st.sampled_from([(True, True), (True, False)]))
def test_bce_with_logits_gradient(reduction: str, data: st.DataObject, needs: tuple) -> None:
    shape = data.draw(shapes())
    x = data.draw(float_arrays(shape, low=-6, high=6))
    y = data.draw(float_arrays(shape, low=0, high=1))
    bce = F.binary_cross_entropy_with_logits
    check(lambda a, b: bce(a, b, reduction=reduction), leaf(x, needs[0]), leaf(y, needs[1]))
    check(lambda a: bce(a, y, reduction=reduction), leaf(x))


@given(
    data=st.data(),
    p=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]),
    training=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_dropout_gradient_with_fixed_rng(
    data: st.DataObject, p: float, training: bool, seed: int
) -> None:
    x = data.draw(float_arrays(data.draw(shapes())))
    check(lambda t: F.dropout(t, p, training, rng=seed), leaf(x))
    # the gradient is the mask scaled by 1 / (1 - p): zero exactly where the output is zero
    t = leaf(x + 10.0)  # no element is zero before dropout
    out = F.dropout(t, p, training, rng=seed)
    out.sum().backward()
    kept = out.data != 0
    scale = 1.0 if not training else (0.0 if p == 1.0 else 1.0 / (1.0 - p))
    np.testing.assert_allclose(t.grad, np.where(kept, scale, 0.0))
