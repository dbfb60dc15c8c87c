"""conv2d: forward against a direct loop over output pixels, gradients against finite differences
(float64, hypothesis-generated geometry: shapes, strides, paddings in both modes, "same"), errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import float_arrays

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.ops.conv import Conv2d

MAX_ELEMENTS = 48


def naive_conv2d(x, w, b, stride, padding, mode):
    """The definition, one output pixel at a time (reference only: slow by design)."""
    (sh, sw), (ph, pw) = stride, padding
    widths = ((0, 0), (ph, ph), (pw, pw), (0, 0))
    xp = np.pad(x, widths, mode="wrap" if mode == "circular" else "constant")
    kh, kw, _, c_out = w.shape
    ho, wo = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], ho, wo, c_out))
    for n in range(x.shape[0]):
        for p in range(ho):
            for q in range(wo):
                patch = xp[n, p * sh : p * sh + kh, q * sw : q * sw + kw, :]
                out[n, p, q] = np.tensordot(patch, w, axes=3)
    return out if b is None else out + b


@st.composite
def geometries(draw):
    """A valid conv2d case: kernel, stride, padding (a pair, or "same" for odd kernels at stride 1),
    padding mode and bias; then an input at least as large as the kernel needs once padded (and, for
    circular padding, at least as large as the padding)."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    mode = draw(st.sampled_from(["zeros", "circular"]))
    same = kh % 2 == 1 and kw % 2 == 1 and stride == (1, 1) and draw(st.booleans())
    ph, pw = (kh // 2, kw // 2) if same else (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    wrap = mode == "circular"
    h = draw(st.integers(max(1, kh - 2 * ph, ph if wrap else 1), 5))
    w = draw(st.integers(max(1, kw - 2 * pw, pw if wrap else 1), 5))
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return {
        "x": (n, h, w, c_in),
        "w": (kh, kw, c_in, c_out),
        "stride": stride,
        "padding": "same" if same else (ph, pw),
        "pads": (ph, pw),
        "mode": mode,
        "bias": draw(st.booleans()),
    }


def draw_inputs(data, case):
    x = data.draw(float_arrays(case["x"]))
    w = data.draw(float_arrays(case["w"]))
    b = data.draw(float_arrays((case["w"][3],))) if case["bias"] else None
    return x, w, b


def run(case, x, w, b=None):
    return F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"], padding_mode=case["mode"])


@given(data=st.data(), case=geometries())
def test_forward_matches_the_direct_loop(data, case):
    x, w, b = draw_inputs(data, case)
    y = run(case, tn.tensor(x), tn.tensor(w), None if b is None else tn.tensor(b))
    expected = naive_conv2d(x, w, b, case["stride"], case["pads"], case["mode"])
    assert y.shape == expected.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


@given(data=st.data(), case=geometries(), needs=st.sampled_from([(1, 1), (1, 0), (0, 1)]))
def test_gradients_match_finite_differences(data, case, needs):
    x, w, b = draw_inputs(data, case)
    xt, wt = tn.tensor(x, requires_grad=bool(needs[0])), tn.tensor(w, requires_grad=bool(needs[1]))
    if b is None:
        assert tn.gradcheck(lambda x, w: run(case, x, w), xt, wt, max_elements=MAX_ELEMENTS)
    else:
        bt = tn.tensor(b, requires_grad=True)
        assert tn.gradcheck(lambda x, w, b: run(case, x, w, b), xt, wt, bt, max_elements=MAX_ELEMENTS)


@pytest.mark.parametrize("mode", ["zeros", "circular"])
def test_same_padding_keeps_height_and_width_and_circular_wraps(mode):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 5, 3)), rng.standard_normal((3, 5, 3, 2))
    y = F.conv2d(x, tn.tensor(w), padding="same", padding_mode=mode)
    assert y.shape == (2, 4, 5, 2)
    np.testing.assert_allclose(y.data, naive_conv2d(x, w, None, (1, 1), (1, 2), mode), rtol=1e-12)
    if mode == "circular":  # a circular shift of the image shifts the output the same way
        shifted = F.conv2d(np.roll(x, 1, axis=2), tn.tensor(w), padding="same", padding_mode=mode)
        np.testing.assert_allclose(shifted.data, np.roll(y.data, 1, axis=2), rtol=1e-12)


def test_circular_gradient_wraps_around_a_padding_as_large_as_the_input():
    x = tn.tensor(np.random.default_rng(1).standard_normal((1, 2, 3, 1)), requires_grad=True)
    w = tn.tensor(np.random.default_rng(2).standard_normal((3, 3, 1, 2)), requires_grad=True)
    assert tn.gradcheck(lambda x, w: F.conv2d(x, w, padding=(2, 3), padding_mode="circular"), x, w)


def test_float32_stays_float32_and_strides_skip_trailing_pixels():
    x = tn.tensor(np.ones((2, 7, 6, 3), dtype=np.float32), requires_grad=True)
    w = tn.tensor(np.ones((3, 2, 3, 4), dtype=np.float32), requires_grad=True)
    b = tn.tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    y = F.conv2d(x, w, b, stride=(2, 3))
    assert y.shape == (2, 3, 2, 4) and y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.full((2, 3, 2, 4), 18.0))  # 3·2·3 ones per window
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    np.testing.assert_array_equal(b.grad, np.full(4, 12.0))
    # stride 2 over 7 rows with a 3-row kernel reads rows 0..6; stride 3 over 6 columns with a
    # 2-column kernel reads columns 0, 1, 3, 4 only: columns 2 and 5 get no gradient
    np.testing.assert_array_equal(x.grad[0, :, 2], np.zeros((7, 3)))
    np.testing.assert_array_equal(x.grad[0, :, 5], np.zeros((7, 3)))
    assert np.all(x.grad[0, :, [0, 1, 3, 4]] > 0)


def test_bias_alone_may_require_grad_and_an_empty_batch_works():
    b = tn.tensor(np.zeros(2), requires_grad=True)
    y = F.conv2d(np.ones((3, 4, 4, 1)), tn.tensor(np.ones((3, 3, 1, 2))), b)
    y.sum().backward()
    np.testing.assert_array_equal(b.grad, np.full(2, 3 * 2 * 2.0))
    empty = tn.tensor(np.ones((0, 4, 4, 1)), requires_grad=True)
    out = F.conv2d(empty, np.ones((3, 3, 1, 2)), padding=1)
    assert out.shape == (0, 4, 4, 2)
    out.sum().backward()
    assert empty.grad.shape == (0, 4, 4, 1)


def test_no_grad_records_nothing_and_inputs_are_not_modified():
    x = tn.tensor(np.arange(2 * 4 * 4 * 2, dtype=np.float64).reshape(2, 4, 4, 2), requires_grad=True)
    before = x.data.copy()
    with tn.no_grad():
        y = F.conv2d(x, np.ones((3, 3, 2, 1)), padding=1, padding_mode="circular")
    assert not y.requires_grad
    np.testing.assert_array_equal(x.data, before)
    assert F.conv2d is tn.ops.conv2d and isinstance(Conv2d.__doc__, str) and "dL/dW" in Conv2d.__doc__


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: F.conv2d(np.ones((4, 4, 3)), np.ones((3, 3, 3, 2))), ValueError,
         r"conv2d: input must be 4-D NHWC .* got shape \(4, 4, 3\)"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 3)), np.ones((3, 3, 3))), ValueError,
         r"conv2d: weight must be 4-D \(kh, kw, in_channels, out_channels\), got shape \(3, 3, 3\)"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 3)), np.ones((3, 3, 2, 5))), ValueError,
         r"conv2d: input has 3 channels \(shape \(1, 4, 4, 3\)\) but the weight expects 2 "
         r"\(weight shape \(3, 3, 2, 5\)"),
        (lambda: F.conv2d(np.ones((1, 2, 4, 1)), np.ones((3, 3, 1, 1))), ValueError,
         r"conv2d: kernel 3x3 is larger than the padded input 2x4 \(input shape \(1, 2, 4, 1\), "
         r"padding \(0, 0\)\)"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), padding="same"), ValueError,
         "conv2d: padding='same' needs an odd kernel size, got kernel 2x2"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), stride=2, padding="same"),
         ValueError, r"padding='same' needs stride 1, got stride \(2, 2\)"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), padding="valid"), ValueError,
         "conv2d: padding must be an int >= 0, a pair of them, or 'same', got 'valid'"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), padding_mode="reflect"),
         ValueError, "conv2d: padding_mode must be one of 'zeros', 'circular', got 'reflect'"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), padding_mode="circulr"),
         ValueError, "closest match: 'circular'"),
        (lambda: F.conv2d(np.ones((1, 2, 4, 1)), np.ones((1, 1, 1, 1)), padding=3,
                          padding_mode="circular"), ValueError,
         r"conv2d: circular padding \(3, 3\) must not exceed the input's height and width \(2, 4\)"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 2)), np.ones(3)), ValueError,
         r"conv2d: bias has shape \(3,\), expected \(2,\)"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), stride=0), ValueError,
         "conv2d: stride must be >= 1, got 0"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), padding=-1), ValueError,
         "conv2d: padding must be >= 0, got -1"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), stride=1.5), TypeError,
         "conv2d: stride must be an int or a pair of ints, got 1.5"),
        (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), padding=(1, 2, 3)), TypeError,
         r"conv2d: padding must be an int or a pair of ints, got \(1, 2, 3\)"),
        (lambda: F.conv2d(tn.tensor(np.ones((1, 4, 4, 1), np.float32)),
                          tn.tensor(np.ones((3, 3, 1, 1), np.float64))), TypeError,
         "conv2d: dtype mismatch float32 and float64"),
    ],
)
def test_errors_name_the_op_the_shapes_and_what_is_valid(call, error, match):
    with pytest.raises(error, match=match):
        call()
