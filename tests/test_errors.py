"""Every error message names the op or argument, the value received, and what is valid."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.function import Function


def ones(*shape: int) -> tn.Tensor:
    return tn.tensor(np.ones(shape), requires_grad=True)


# ---------------------------------------------------------------- shapes
def test_matmul_shape_mismatch_names_op_and_both_shapes() -> None:
    with pytest.raises(ValueError, match=re.escape("matmul: (3, 4) @ (5, 2)")):
        ones(3, 4) @ ones(5, 2)
    with pytest.raises(ValueError, match=re.escape("matmul: (3,) @ (4,)")):
        ones(3) @ ones(4)
    with pytest.raises(ValueError, match=re.escape("matmul: (2, 3, 4) @ (3, 4, 2)")):
        ones(2, 3, 4) @ ones(3, 4, 2)  # inner dims agree, batch dims do not broadcast
    with pytest.raises(ValueError, match=r"matmul: .*at least 1 dimension"):
        tn.tensor(2.0, dtype=np.float64) @ ones(2)


def test_matmul_with_an_ndarray_operand_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=re.escape("matmul: (3, 4) @ (5, 2)")):
        ones(3, 4) @ np.ones((5, 2))
    with pytest.raises(ValueError, match=re.escape("matmul: (5, 2) @ (3, 4)")):
        np.ones((5, 2)) @ ones(3, 4)


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("pow", lambda a, b: a**b),
    ],
)
def test_broadcasting_mismatch_names_op_and_both_shapes(name: str, op) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (3, 4) and (5, 2)")):
        op(ones(3, 4), ones(5, 2))
    with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (3,) and (2,)")):
        op(ones(3), np.ones(2))


def test_reshape_mismatch() -> None:
    with pytest.raises(ValueError, match=re.escape("reshape: cannot reshape (3, 4) into (5, 2)")):
        ones(3, 4).reshape(5, 2)


def test_transpose_bad_axes() -> None:
    with pytest.raises(ValueError, match=r"transpose: axes .* not a permutation of 2 axes"):
        ones(3, 4).transpose(0, 0)
    with pytest.raises(ValueError, match="transpose"):
        ones(3, 4).transpose(0, 1, 2)


def test_shape_and_axes_of_the_wrong_type_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"reshape: the shape must be ints, got \(2\.5, 2\)"):
        ones(5, 1).reshape(2.5, 2)  # int() would silently make it 2
    with pytest.raises(TypeError, match=r"reshape: the shape must be ints, got \('6',\)"):
        ones(6).reshape("6")
    with pytest.raises(TypeError, match=r"transpose: axes must be ints, got \(1\.0, 0\)"):
        ones(3, 4).transpose(1.0, 0)


def test_index_out_of_range_names_the_shape() -> None:
    with pytest.raises(IndexError, match=re.escape("(tensor of shape (3, 4))")):
        ones(3, 4)[5]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_bad_axis(name: str) -> None:
    x = ones(3, 4)
    with pytest.raises(ValueError, match=rf"{name}: axis 2 is out of range .* 2 dimensions"):
        getattr(x, name)(axis=2)
    with pytest.raises(ValueError, match=rf"{name}: axis -3 is out of range"):
        getattr(x, name)(axis=(0, -3))
    with pytest.raises(ValueError, match=rf"{name}: repeated axis"):
        getattr(x, name)(axis=(1, -1))
    with pytest.raises(TypeError, match=rf"{name}: axis must be an int.*got 1.5"):
        getattr(x, name)(axis=1.5)


def test_non_integer_axis_is_a_type_error() -> None:
    """Neither a string nor a float inside a tuple may slip through ``int()`` conversion."""
    x = ones(3, 4)
    with pytest.raises(TypeError, match=r"sum: axis must be an int.*got 'a'"):
        x.sum(axis="a")
    with pytest.raises(TypeError, match=r"mean: axis must be an int.*got \(0.5,\)"):
        x.mean(axis=(0.5,))  # int(0.5) would silently reduce axis 0
    with pytest.raises(TypeError, match=r"softmax: axis must be an int.*got '1'"):
        F.softmax(x, axis="1")


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_bad_axis(fn) -> None:
    with pytest.raises(ValueError, match=rf"{fn.__name__}: axis 2 is out of range"):
        fn(ones(3, 4), axis=2)


def test_max_of_empty_tensor() -> None:
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0, 3\)"):
        tn.tensor(np.ones((0, 3))).max()


# ---------------------------------------------------------------- losses and functional
LOSSES = {
    "cross_entropy": lambda r: F.cross_entropy(ones(3, 4), np.array([0, 1, 2]), reduction=r),
    "nll_loss": lambda r: F.nll_loss(ones(3, 4), np.array([0, 1, 2]), reduction=r),
    "mse_loss": lambda r: F.mse_loss(ones(3, 4), np.ones((3, 4)), reduction=r),
    "binary_cross_entropy_with_logits": lambda r: F.binary_cross_entropy_with_logits(
        ones(3, 4), np.ones((3, 4)), reduction=r
    ),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_bad_reduction_string(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of .*'mean'.*got 'avg'"):
        LOSSES[name]("avg")


@pytest.mark.parametrize("name", list(LOSSES))
def test_reduction_of_the_wrong_type(name: str) -> None:
    with pytest.raises(TypeError, match=rf"{name}: reduction must be one of .*'mean'.*got None"):
        LOSSES[name](None)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_bad_class_targets(name: str) -> None:
    fn = getattr(F, name)
    x = ones(3, 4)
    with pytest.raises(
        TypeError, match=rf"{name}: target must hold integer class indices, got dtype float64"
    ):
        fn(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=re.escape(f"{name}: target shape (2,)") + r".*\(3,\)"):
        fn(x, np.array([0, 1]))
    with pytest.raises(ValueError, match=re.escape(f"{name}: target shape (3, 1)")):
        fn(x, np.array([[0], [1], [2]]))
    with pytest.raises(
        ValueError, match=re.escape(f"{name}: target value 4 is not a class index in [0, 4)")
    ):
        fn(x, np.array([0, 4, 1]))
    with pytest.raises(
        ValueError, match=re.escape(f"{name}: target value -1 is not a class index")
    ):
        fn(x, tn.tensor(np.array([0, -1, 1])))
    with pytest.raises(ValueError, match=rf"{name}: .*shape \(N, C\), got \(12,\)"):
        fn(ones(12), np.arange(12))
    # every integer dtype, including the most negative int64 (the int64 check sees it as unsigned)
    for bad in (np.array([0, -1, 1], np.int8), np.array([0, -(2**31), 1], np.int32),
                np.array([0, -(2**63), 1], np.int64), np.array([0, 9, 1], np.uint8)):  # fmt: skip
        with pytest.raises(ValueError, match=f"{name}: target value {bad[1]} is not a class index"):
            fn(x, bad)


@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits"])
def test_target_shape_mismatch(name: str) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"{name}: input shape (3, 4) and target shape (4,) differ")
    ):
        getattr(F, name)(ones(3, 4), np.ones(4))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_p_out_of_range(p: float) -> None:
    with pytest.raises(ValueError, match=rf"dropout: p must be a finite number >= 0 and <= 1, got {p}"):
        F.dropout(ones(3), p)


def test_dropout_p_of_the_wrong_type() -> None:
    message = "dropout: p must be a finite number >= 0 and <= 1, got '0.5'"
    with pytest.raises(TypeError, match=re.escape(message)):
        F.dropout(ones(3), "0.5")
    with pytest.raises(TypeError, match=r"dropout: p must be .* got True"):
        F.dropout(ones(3), True)  # not p = 1


def test_dropout_bad_rng() -> None:
    with pytest.raises(
        TypeError, match="rng must be a numpy Generator, an int seed or None, got str"
    ):
        F.dropout(ones(3), 0.5, rng="seed")


def test_gelu_bad_approximate() -> None:
    with pytest.raises(ValueError, match=r"gelu: approximate must be one of 'none', 'tanh', got 'fast'"):
        F.gelu(ones(3), approximate="fast")
    with pytest.raises(TypeError, match=r"gelu: approximate must be one of 'none', 'tanh', got None"):
        F.gelu(ones(3), approximate=None)


def test_manual_seed_rejects_non_int() -> None:
    with pytest.raises(TypeError, match=r"manual_seed: seed must be an int.*, got 1\.5"):
        tn.manual_seed(1.5)


def test_operand_of_wrong_type() -> None:
    with pytest.raises(TypeError, match="expected a number, array or Tensor, got str"):
        ones(3) + "a"


# ---------------------------------------------------------------- gradcheck
class _WrongDerivative(Function):
    """z = a**2 with a deliberately wrong backward (3a instead of 2a)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * 3 * a


def test_gradcheck_reports_a_broken_op() -> None:
    x = tn.tensor(np.array([[0.5, -1.0], [2.0, 0.0]]), requires_grad=True)
    with pytest.raises(tn.GradcheckError) as info:
        tn.gradcheck(_WrongDerivative.apply, x)
    message = str(info.value)
    assert "input 0 (shape (2, 2))" in message
    # the worst element is where |3a - 2a| * |w| is largest: a = 2.0 at index (1, 0)
    assert "index (1, 0)" in message
    assert re.search(r"analytic -?[\d.]+, numeric -?[\d.]+, difference [\d.e+-]+", message)
    assert "3 of 4 checked elements fail" in message  # at a = 0 both gradients are 0


def test_gradcheck_error_is_an_assertion_error() -> None:
    assert issubclass(tn.GradcheckError, AssertionError)


def test_gradcheck_with_no_input_requiring_grad() -> None:
    with pytest.raises(ValueError, match="gradcheck: no input requires grad"):
        tn.gradcheck(lambda t: t * 2, tn.tensor([1.0]))
