"""max_pool2d and avg_pool2d: forward against a direct loop over windows, gradients against finite
differences (float64, hypothesis-generated shapes, kernels and strides), the tie and overlap rules of
max pooling's gradient, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import distinct_arrays, float_arrays

import tinynet as tn
import tinynet.nn.functional as F

MAX_ELEMENTS = 64


def naive_pool(x, kernel, stride, reduce):
    """The definition, one window at a time (reference only)."""
    (kh, kw), (sh, sw) = kernel, stride
    ho, wo = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], ho, wo, x.shape[3]))
    for p in range(ho):
        for q in range(wo):
            out[:, p, q] = reduce(x[:, p * sh : p * sh + kh, q * sw : q * sw + kw], axis=(1, 2))
    return out


@st.composite
def pool_cases(draw):
    """(input shape, kernel_size, stride): kernels of 1..3 (an int or a pair) that fit the input,
    stride None (= kernel), an int or a pair, below, at or above the kernel size."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(kh, 6)), draw(st.integers(kw, 6)),
             draw(st.integers(1, 3)))
    kernel = kh if kh == kw and draw(st.booleans()) else (kh, kw)
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    return shape, kernel, stride


def pairs(kernel, stride):
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    s = k if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    return k, s


@given(data=st.data(), case=pool_cases())
def test_max_pool_forward_and_gradient(data, case):
    shape, kernel, stride = case
    x = data.draw(distinct_arrays(shape))  # distinct values: the maximum of a window is unique
    y = F.max_pool2d(tn.tensor(x), kernel, stride)
    np.testing.assert_array_equal(y.data, naive_pool(x, *pairs(kernel, stride), np.max))
    xt = tn.tensor(x, requires_grad=True)
    assert tn.gradcheck(lambda t: F.max_pool2d(t, kernel, stride), xt, max_elements=MAX_ELEMENTS)


@given(data=st.data(), case=pool_cases())
def test_avg_pool_forward_and_gradient(data, case):
    shape, kernel, stride = case
    x = data.draw(float_arrays(shape))
    y = F.avg_pool2d(tn.tensor(x), kernel, stride)
    np.testing.assert_allclose(y.data, naive_pool(x, *pairs(kernel, stride), np.mean), rtol=1e-12, atol=1e-15)
    xt = tn.tensor(x, requires_grad=True)
    assert tn.gradcheck(lambda t: F.avg_pool2d(t, kernel, stride), xt, max_elements=MAX_ELEMENTS)


def test_max_pool_tie_goes_to_the_first_maximum_in_row_major_order():
    x = tn.tensor(np.array([[1.0, 5.0], [5.0, 5.0]]).reshape(1, 2, 2, 1), requires_grad=True)
    y = F.max_pool2d(x, 2)
    assert y.item() == 5.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.reshape(2, 2), [[0.0, 1.0], [0.0, 0.0]])


def test_max_pool_gradient_accumulates_where_windows_overlap():
    x = np.zeros((1, 3, 3, 2))
    x[0, 1, 1] = [9.0, -1.0]  # channel 0: the centre is the maximum of all four 2x2 windows
    xt = tn.tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, 2, stride=1)
    np.testing.assert_array_equal(y.data[..., 0], np.full((1, 2, 2), 9.0))
    y.backward(np.ones(y.shape))
    assert xt.grad[0, 1, 1, 0] == 4.0 and xt.grad[..., 0].sum() == 4.0
    # channel 1 (-1 at the centre, 0 elsewhere): each window's first 0 in row-major order
    np.testing.assert_array_equal(xt.grad[0, :, :, 1], [[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])


def test_avg_pool_gradient_is_shared_over_each_window_and_stride_defaults_to_kernel():
    x = tn.tensor(np.arange(1 * 4 * 5 * 1, dtype=np.float32).reshape(1, 4, 5, 1), requires_grad=True)
    y = F.avg_pool2d(x, 2)
    assert y.shape == (1, 2, 2, 1) and y.dtype == np.float32
    assert y.data[0, 0, 0, 0] == pytest.approx((0 + 1 + 5 + 6) / 4)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad[0, :, 4, 0], np.zeros(4))  # the last column fills no window
    np.testing.assert_array_equal(x.grad[0, :, :4, 0], np.full((4, 4), 0.25))


def test_max_pool_propagates_nan():
    x = np.zeros((1, 2, 2, 1))
    x[0, 1, 0, 0] = np.nan
    assert np.isnan(F.max_pool2d(x, 2).item())


@pytest.mark.parametrize("op", [F.max_pool2d, F.avg_pool2d], ids=["max_pool2d", "avg_pool2d"])
def test_pool_errors_name_the_op_and_what_is_valid(op):
    name = op.__name__
    with pytest.raises(ValueError, match=rf"{name}: input must be 4-D NHWC .* got shape \(3, 3\)"):
        op(np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match=rf"{name}: kernel 3x3 is larger than the input's height and .* 2x4"):
        op(np.ones((1, 2, 4, 1)), 3)
    with pytest.raises(ValueError, match=rf"{name}: kernel_size must be >= 1, got 0"):
        op(np.ones((1, 2, 2, 1)), 0)
    with pytest.raises(TypeError, match=rf"{name}: stride must be an int or a pair of ints, got 'x'"):
        op(np.ones((1, 2, 2, 1)), 2, "x")
