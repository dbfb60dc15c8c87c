"""Regressions found while building the engine, each pinned by a test."""

from __future__ import annotations

import numpy as np

import tinynet as tn
import tinynet.nn.functional as F


def test_one_gradient_array_reaching_a_leaf_twice_is_not_aliased():
    # add passes its incoming gradient to both inputs; accumulating the second in place into the first
    # once doubled the shared array (a.grad came out 8 instead of 4).
    a = tn.tensor(3.0, requires_grad=True)
    ((a + a) + (a + a)).backward()
    assert a.grad == 4.0


def test_in_place_change_of_one_leaf_grad_leaves_the_other_alone():
    a = tn.tensor(3.0, requires_grad=True)
    b = tn.tensor(1.0, requires_grad=True)
    (a + b).backward()
    a.grad += 1
    assert (a.grad, b.grad) == (2.0, 1.0)


def test_reshape_view_gradient_is_copied_before_accumulation():
    x = tn.tensor(np.arange(6.0), requires_grad=True)
    y = tn.tensor(np.ones((2, 3)), requires_grad=True)
    (x.reshape(2, 3) * y).sum().backward()
    x.grad *= 0
    np.testing.assert_array_equal(y.grad, np.arange(6.0).reshape(2, 3))


def test_fused_linear_matches_matmul_plus_bias_in_value_and_gradient():
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s) for s in [(5, 4), (4, 3), (3,)]]
    fused = [tn.tensor(a, requires_grad=True) for a in args]
    plain = [tn.tensor(a, requires_grad=True) for a in args]
    out_f = F.linear(*fused)
    out_p = plain[0] @ plain[1] + plain[2]
    np.testing.assert_allclose(out_f.data, out_p.data, rtol=1e-12)
    (out_f * out_f).sum().backward()
    (out_p * out_p).sum().backward()
    for f, p in zip(fused, plain):
        np.testing.assert_allclose(f.grad, p.grad, rtol=1e-12)


def test_fused_linear_gradcheck_with_batch_axes_and_without_bias():
    rng = np.random.default_rng(1)
    x = tn.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = tn.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    b = tn.tensor(rng.standard_normal(5), requires_grad=True)
    assert tn.gradcheck(F.linear, x, w, b)
    assert tn.gradcheck(lambda x, w: F.linear(x, w), x, w)


def test_fused_linear_names_both_shapes_on_mismatch():
    x = tn.tensor(np.ones((3, 4)))
    w = tn.tensor(np.ones((5, 2)))
    try:
        F.linear(x, w)
    except ValueError as error:
        assert "(3, 4)" in str(error) and "(5, 2)" in str(error)
    else:
        raise AssertionError("no error")


def test_integer_tensor_meeting_a_float_number_takes_the_default_dtype():
    ints = tn.tensor(np.arange(3))
    assert (ints * 0.5).dtype == np.float32
    assert (0.5 * ints).dtype == np.float32
    assert (ints * 2).dtype == np.int64


def test_bare_no_grad_decorator_works_like_the_called_form():
    x = tn.tensor(1.0, requires_grad=True)

    @tn.no_grad
    def double(t):
        return t * 2

    assert double.__name__ == "double"
    assert not double(x).requires_grad
    assert tn.is_grad_enabled()
