"""Numerical stability at ±1e4, and each fused op against its composed twin on benign inputs.

"No numpy warnings" is checked with every numpy floating-point error raised as an exception and
every warning turned into an error, except underflow: e**-1e4 is below the smallest float, so any
correct implementation rounds it to 0 (numpy ignores underflow by default; what matters is that
nothing overflows, divides by zero or produces NaN).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import class_targets, float_arrays, shapes

import tinynet as tn
import tinynet.nn.functional as F


@contextmanager
def strict_numpy() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


EXTREME = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4], [1e4, 1e4, -1e4, 3.0, -1e4], [-1e4] * 5])
TARGET = np.array([0, 2, 4])
Y = np.array([[1.0, 0.0, 0.5, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0, 1.0], [0.3, 0.0, 1.0, 1.0, 0.0]])

STABLE_OPS: dict[str, Callable[[tn.Tensor], tn.Tensor]] = {
    "sigmoid": F.sigmoid,
    "softplus": F.softplus,
    "tanh": F.tanh,
    "log_softmax": F.log_softmax,
    "log_softmax-axis0": lambda x: F.log_softmax(x, axis=0),
    "softmax": F.softmax,
    "softmax-axis0": lambda x: F.softmax(x, axis=0),
    "cross_entropy": lambda x: F.cross_entropy(x, TARGET),
    "cross_entropy-none": lambda x: F.cross_entropy(x, TARGET, reduction="none"),
    "nll_loss(log_softmax)": lambda x: F.nll_loss(F.log_softmax(x), TARGET, reduction="sum"),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, Y),
    "bce_with_logits-none": lambda x: F.binary_cross_entropy_with_logits(x, Y, reduction="none"),
}


@pytest.mark.parametrize("name", list(STABLE_OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_values_and_gradients_at_1e4_without_warnings(name: str, dtype: type) -> None:
    x = tn.tensor(EXTREME.astype(dtype), requires_grad=True)
    with strict_numpy():
        out = STABLE_OPS[name](x)
        out.backward(np.linspace(-1.0, 1.0, out.size).reshape(out.shape).astype(dtype))
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.all(np.isfinite(out.data)), out.data
    assert np.all(np.isfinite(x.grad)), x.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_known_values_at_1e4(dtype: type) -> None:
    big = tn.tensor(np.array([-1e4, 1e4], dtype=dtype), requires_grad=True)
    with strict_numpy():
        np.testing.assert_array_equal(F.sigmoid(big).data, [0.0, 1.0])
        np.testing.assert_array_equal(F.softplus(big).data, [0.0, 1e4])
        np.testing.assert_array_equal(F.log_softmax(big).data, [-2e4, 0.0])
        np.testing.assert_array_equal(F.softmax(big).data, [0.0, 1.0])
        ce = F.cross_entropy(big.reshape(1, 2), np.array([0]))
        assert ce.item() == 2e4
        ce.backward()
        np.testing.assert_array_equal(big.grad, [-1.0, 1.0])
        bce = F.binary_cross_entropy_with_logits(big, np.array([1.0, 0.0]), reduction="none")
        np.testing.assert_array_equal(bce.data, [1e4, 1e4])  # confidently wrong both times


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_gradients_at_1e4(dtype: type) -> None:
    x = tn.tensor(np.array([-1e4, 1e4], dtype=dtype), requires_grad=True)
    with strict_numpy():
        F.sigmoid(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    x.grad = None
    with strict_numpy():
        F.softplus(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


# ---------------------------------------------------------------- fused vs composed twins
TOL = 1e-10


def _value_and_grad(fn: Callable[[tn.Tensor], tn.Tensor], x: np.ndarray, w: np.ndarray):
    t = tn.tensor(x, requires_grad=True)
    out = fn(t)
    (out * w).sum().backward()
    return out.data, t.grad


def assert_twins(fused: Callable, composed: Callable, x: np.ndarray) -> None:
    w = np.random.default_rng(0).standard_normal(fused(tn.tensor(x)).shape)
    value_f, grad_f = _value_and_grad(fused, x, w)
    value_c, grad_c = _value_and_grad(composed, x, w)
    assert value_f.dtype == value_c.dtype == grad_f.dtype == np.float64
    np.testing.assert_allclose(value_f, value_c, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(grad_f, grad_c, rtol=TOL, atol=TOL)


def composed_log_softmax(x: tn.Tensor, axis: int) -> tn.Tensor:
    return x - x.exp().sum(axis=axis, keepdims=True).log()


def composed_softmax(x: tn.Tensor, axis: int) -> tn.Tensor:
    e = x.exp()
    return e / e.sum(axis=axis, keepdims=True)


@given(data=st.data())
def test_log_softmax_matches_composed_twin(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(float_arrays(shape))
    assert_twins(lambda t: F.log_softmax(t, axis=axis), lambda t: composed_log_softmax(t, axis), x)


@given(data=st.data())
def test_softmax_matches_composed_twin(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(float_arrays(shape))
    assert_twins(lambda t: F.softmax(t, axis=axis), lambda t: composed_softmax(t, axis), x)


@st.composite
def _logits_targets(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return draw(float_arrays((n, c))), draw(class_targets(n, c))


def _reduce(losses: tn.Tensor, reduction: str) -> tn.Tensor:
    return {"mean": losses.mean, "sum": losses.sum}.get(reduction, lambda: losses)()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(pair=_logits_targets())
def test_cross_entropy_matches_its_twins(reduction: str, pair: tuple) -> None:
    x, target = pair
    n = len(target)

    def fused(t: tn.Tensor) -> tn.Tensor:
        return F.cross_entropy(t, target, reduction=reduction)

    def via_nll(t: tn.Tensor) -> tn.Tensor:
        return F.nll_loss(F.log_softmax(t, axis=1), target, reduction=reduction)

    def via_softmax(t: tn.Tensor) -> tn.Tensor:
        return _reduce(-composed_softmax(t, axis=1)[np.arange(n), target].log(), reduction)

    assert_twins(fused, via_nll, x)
    assert_twins(fused, via_softmax, x)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(data=st.data())
def test_bce_with_logits_matches_composed_twin(reduction: str, data: st.DataObject) -> None:
    shape = data.draw(shapes())
    x = data.draw(float_arrays(shape))
    y = data.draw(float_arrays(shape, low=0.0, high=1.0))

    def composed(t: tn.Tensor) -> tn.Tensor:
        s = t.sigmoid()
        return _reduce(-(y * s.log() + (1 - y) * (1 - s).log()), reduction)

    assert_twins(
        lambda t: F.binary_cross_entropy_with_logits(t, y, reduction=reduction), composed, x
    )


def test_naive_composition_is_what_fails_at_1e4() -> None:
    """Why the fused ops exist: the composed log-softmax overflows where the fused one does not."""
    x = tn.tensor(np.array([0.0, 1e4]), requires_grad=True)
    with strict_numpy(), pytest.raises(FloatingPointError):
        composed_log_softmax(x, axis=0)
    with strict_numpy():
        assert np.all(np.isfinite(F.log_softmax(x).data))
