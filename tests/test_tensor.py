"""Tensor creation, dtype rules (default dtype, no silent promotion), attributes, repr, and
reflected operators."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F


# ---------------------------------------------------------------- tn.tensor dtype rules
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_numpy_float_array_keeps_its_dtype(dtype: type) -> None:
    assert tn.tensor(np.ones(3, dtype=dtype)).dtype == dtype
    assert tn.tensor(dtype(2.5)).dtype == dtype
    tn.set_default_dtype(np.float64)
    assert tn.tensor(np.ones(3, dtype=dtype)).dtype == dtype


@pytest.mark.parametrize("data", [1.5, 3, [1, 2, 3], [[1.0, 2.0], [3.0, 4.0]], (0.5, 1)])
@pytest.mark.parametrize("default", [np.float32, np.float64])
def test_python_numbers_and_lists_take_the_default_dtype(data: object, default: type) -> None:
    tn.set_default_dtype(default)
    t = tn.tensor(data)
    assert t.dtype == default
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


def test_dtype_argument_overrides() -> None:
    assert tn.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert tn.tensor(np.ones(2, dtype=np.float64), dtype=np.float32).dtype == np.float32
    assert tn.tensor(1.5, dtype=np.float16).dtype == np.float16
    assert tn.tensor([1, 2], dtype=np.int64).dtype == np.int64
    assert tn.tensor(np.arange(3)).dtype == np.arange(3).dtype  # a numpy int array keeps its dtype


def test_tensor_copies_its_data() -> None:
    a = np.ones(3)
    t = tn.tensor(a)
    a[0] = 5.0
    assert t.data[0] == 1.0
    assert tn.tensor(t).data is not t.data


@pytest.mark.parametrize("data", [np.arange(3), [1, 2], np.array([True, False])])
def test_integer_tensors_cannot_require_grad(data: object) -> None:
    dtype = None if isinstance(data, np.ndarray) else np.int32
    with pytest.raises(TypeError, match=r"floating-point.*got dtype (int|bool)"):
        tn.tensor(data, requires_grad=True, dtype=dtype)
    t = tn.tensor(data, dtype=dtype)
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True
    assert t.requires_grad is False


def test_non_numeric_data_raises() -> None:
    with pytest.raises(TypeError, match="numeric"):
        tn.tensor(["a", "b"])


def test_set_default_dtype_rejects_non_float() -> None:
    with pytest.raises(TypeError, match="float dtype"):
        tn.set_default_dtype(np.int32)
    assert tn.get_default_dtype() == np.float32


def test_default_dtype_is_float32_and_settable() -> None:
    assert tn.get_default_dtype() == np.float32
    tn.set_default_dtype(np.float64)
    assert tn.get_default_dtype() == np.float64
    assert tn.tensor(1.0).dtype == np.float64


# ---------------------------------------------------------------- dtype through every op
def _logits(x: tn.Tensor) -> tn.Tensor:
    return x.reshape(4, 3)


TARGET = np.array([0, 2, 1, 2])
# Each entry maps a (2, 6) input tensor to a tensor; together they cover every op of the contract.
DTYPE_OPS: dict[str, Callable[[tn.Tensor], tn.Tensor]] = {
    "add": lambda x: x + x,
    "sub": lambda x: x - 1.5,
    "rsub": lambda x: 1 - x,
    "mul": lambda x: x * np.full(6, 0.5),
    "rmul": lambda x: 2.5 * x,
    "div": lambda x: x / (x.abs() + 1),
    "rdiv": lambda x: 2 / (x.abs() + 1),
    "pow-number": lambda x: (x.abs() + 1) ** 1.5,
    "pow-square": lambda x: x**2,
    "pow-tensor": lambda x: (x.abs() + 1) ** (x * 0.5),
    "rpow": lambda x: 2**x,
    "neg": lambda x: -x,
    "matmul": lambda x: x @ x.T,
    "matmul-1d": lambda x: x[0] @ x.T,
    "matmul-ndarray": lambda x: x @ np.ones((6, 2)),
    "exp": lambda x: x.exp(),
    "log": lambda x: (x.abs() + 1).log(),
    "sqrt": lambda x: (x.abs() + 1).sqrt(),
    "abs": lambda x: x.abs(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "sum": lambda x: x.sum(),
    "sum-axis": lambda x: x.sum(axis=1, keepdims=True),
    "mean": lambda x: x.mean(),
    "mean-axis": lambda x: x.mean(axis=(0, 1)),
    "max": lambda x: x.max(),
    "max-axis": lambda x: x.max(axis=0),
    "min": lambda x: x.min(axis=-1, keepdims=True),
    "reshape": lambda x: x.reshape(3, 4),
    "transpose": lambda x: x.transpose(1, 0),
    "T": lambda x: x.T,
    "getitem-basic": lambda x: x[1, ::-2],
    "getitem-array": lambda x: x[[0, 0, 1]],
    "getitem-mask": lambda x: x[x.data > 0],
    "F.relu": F.relu,
    "F.leaky_relu": F.leaky_relu,
    "F.elu": F.elu,
    "F.selu": F.selu,
    "F.gelu": F.gelu,
    "F.gelu-tanh": lambda x: F.gelu(x, approximate="tanh"),
    "F.tanh": F.tanh,
    "F.sigmoid": F.sigmoid,
    "F.softplus": F.softplus,
    "F.softmax": lambda x: F.softmax(x, axis=0),
    "F.log_softmax": F.log_softmax,
    "F.cross_entropy-mean": lambda x: F.cross_entropy(_logits(x), TARGET),
    "F.cross_entropy-sum": lambda x: F.cross_entropy(_logits(x), TARGET, reduction="sum"),
    "F.cross_entropy-none": lambda x: F.cross_entropy(_logits(x), TARGET, reduction="none"),
    "F.nll_loss": lambda x: F.nll_loss(_logits(x), TARGET),
    "F.nll_loss-none": lambda x: F.nll_loss(_logits(x), TARGET, reduction="none"),
    "F.mse_loss": lambda x: F.mse_loss(x, np.zeros((2, 6))),
    "F.mse_loss-none": lambda x: F.mse_loss(x, np.zeros((2, 6)), reduction="none"),
    "F.bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, np.full((2, 6), 0.3)),
    "F.bce_with_logits-sum": lambda x: F.binary_cross_entropy_with_logits(
        x, np.full((2, 6), 0.3), reduction="sum"
    ),
    "F.dropout": lambda x: F.dropout(x, 0.5, True, rng=0),
    "F.dropout-eval": lambda x: F.dropout(x, 0.5, False),
}


@pytest.mark.parametrize("name", list(DTYPE_OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("default", [np.float32, np.float64])
def test_every_op_keeps_the_dtype_forward_and_backward(
    name: str, dtype: type, default: type
) -> None:
    """No silent promotion: output and gradient keep the input's dtype, whatever the default."""
    tn.set_default_dtype(default)
    x = tn.tensor(np.linspace(-2, 2, 12, dtype=dtype).reshape(2, 6), requires_grad=True)
    x.data[0, 0] = 0.3  # no tie for max/min
    out = DTYPE_OPS[name](x)
    assert out.dtype == dtype, f"{name}: {dtype.__name__} input gave a {out.dtype} output"
    out.backward(np.ones(out.shape, dtype=dtype))
    assert x.grad is not None
    assert x.grad.dtype == dtype, f"{name}: {dtype.__name__} input got a {x.grad.dtype} gradient"
    assert x.grad.shape == x.shape


def test_float64_end_to_end() -> None:
    tn.set_default_dtype(np.float64)
    w = tn.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    b = tn.tensor([0.1, 0.2], requires_grad=True)
    x = tn.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    loss = F.cross_entropy(F.gelu(x @ w + b), [0, 1, 1])
    assert loss.dtype == np.float64
    loss.backward()
    assert w.grad.dtype == np.float64 and b.grad.dtype == np.float64
    assert w.grad.shape == (2, 2) and b.grad.shape == (2,)


def test_float32_default_end_to_end() -> None:
    w = tn.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    x = tn.tensor([[1.0, 2.0], [3.0, 4.0]])
    loss = F.mse_loss(F.softplus(x @ w) * 0.5 + 1, [[1.0, 2.0], [3.0, 4.0]])
    assert w.dtype == x.dtype == loss.dtype == np.float32
    loss.backward()
    assert w.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("op", "name"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: a @ b, "matmul"),
    ],
)
@pytest.mark.parametrize("swap", [False, True])
def test_float32_with_float64_tensor_raises_naming_the_op(
    op: Callable, name: str, swap: bool
) -> None:
    a = tn.tensor(np.ones((2, 2), dtype=np.float32))
    b = tn.tensor(np.ones((2, 2), dtype=np.float64))
    if swap:
        a, b = b, a
    with pytest.raises(TypeError, match=rf"^{name}: dtype mismatch float(32|64) and float(32|64)"):
        op(a, b)


def test_mse_and_bce_with_a_float64_target_tensor_raise_for_float32_input() -> None:
    x = tn.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = tn.tensor(np.ones(3, dtype=np.float64))
    with pytest.raises(TypeError, match="dtype mismatch"):
        F.mse_loss(x, y)
    with pytest.raises(TypeError, match="dtype mismatch"):
        F.binary_cross_entropy_with_logits(x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("default", [np.float32, np.float64])
def test_numbers_and_arrays_take_the_tensor_dtype(dtype: type, default: type) -> None:
    tn.set_default_dtype(default)
    x = tn.tensor(np.ones(3, dtype=dtype), requires_grad=True)
    other_float = np.float64 if dtype == np.float32 else np.float32
    results = [
        x + 1,
        2.5 * x,
        x - np.ones(3, dtype=other_float),
        np.ones(3, dtype=other_float) * x,
        x / np.float64(3.0),
        np.float32(2.0) - x,
        x ** np.float32(2.0),
        x @ np.ones((3, 2), dtype=other_float),
        x * np.arange(3),  # an integer array
        x * tn.tensor(np.arange(3)),  # an integer tensor
        x + True,
    ]
    for r in results:
        assert r.dtype == dtype
    sum(r.sum() for r in results).backward()
    assert x.grad.dtype == dtype


def test_integer_tensor_arithmetic_stays_integer() -> None:
    i = tn.tensor(np.arange(4))
    assert (i + i).dtype == np.arange(4).dtype
    assert (i * 2).dtype == np.arange(4).dtype
    assert (i + i).requires_grad is False


# ---------------------------------------------------------------- attributes and conversion
def test_item() -> None:
    assert tn.tensor(2.5).item() == 2.5
    assert isinstance(tn.tensor([[3.0]]).item(), float)
    assert tn.tensor(np.array([7])).item() == 7
    with pytest.raises(ValueError, match=r"item: .*shape \(2,\)"):
        tn.tensor([1.0, 2.0]).item()


def test_numpy_shares_data() -> None:
    t = tn.tensor(np.arange(6.0).reshape(2, 3))
    a = t.numpy()
    assert isinstance(a, np.ndarray)
    assert a is t.data
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3))


def test_detach_shares_data_and_cuts_the_graph() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.requires_grad is False and d.is_leaf
    assert d.data is y.data
    z = d * 3 + x
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])  # nothing flowed through the detached branch


def test_shape_ndim_size_len() -> None:
    t = tn.tensor(np.zeros((2, 3, 4)))
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.size == t.numel() == 24
    assert len(t) == 2
    assert tn.tensor(1.0).shape == () and tn.tensor(1.0).ndim == 0
    with pytest.raises(TypeError, match="0-d"):
        len(tn.tensor(1.0))


def test_T_reverses_axes() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    t = tn.tensor(a)
    assert t.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(t.T.data, a.T)
    np.testing.assert_array_equal(tn.tensor(np.arange(3.0)).T.data, np.arange(3.0))


def test_reshape_and_transpose_accept_tuples_and_varargs() -> None:
    t = tn.tensor(np.arange(6.0))
    assert t.reshape(2, 3).shape == t.reshape((2, 3)).shape == t.reshape([2, -1]).shape == (2, 3)
    m = tn.tensor(np.zeros((2, 3, 4)))
    assert m.transpose(2, 0, 1).shape == m.transpose((2, 0, 1)).shape == (4, 2, 3)
    assert m.transpose().shape == (4, 3, 2)


ZERO_D_RESULTS: dict[str, Callable[[tn.Tensor], tn.Tensor]] = {
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(),
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "sum * 2": lambda x: x.sum() * 2,
    "sum + sum": lambda x: x.sum() + x.sum(),
    "1d @ 1d": lambda x: x @ x,
    "x[0]": lambda x: x[0],
    "mse_loss": lambda x: F.mse_loss(x, np.zeros(3)),
    "cross_entropy": lambda x: F.cross_entropy(x.reshape(1, 3), [1]),
}


@pytest.mark.parametrize("make", list(ZERO_D_RESULTS.values()), ids=list(ZERO_D_RESULTS))
def test_results_hold_an_ndarray_even_when_0d(make: Callable) -> None:
    """The contract says ``.data`` is an np.ndarray; numpy returns scalars from 0-d results."""
    x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = make(x)
    assert isinstance(out.data, np.ndarray), f"got {type(out.data).__name__}"
    assert out.shape == ()
    out.backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == (3,)


def test_leaf_and_result_flags() -> None:
    x = tn.tensor([1.0], requires_grad=True)
    c = tn.tensor([2.0])
    assert x.is_leaf and x.requires_grad and x.grad is None
    y = x * c
    assert not y.is_leaf and y.requires_grad
    assert not (c * 2).requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


# ---------------------------------------------------------------- repr
def test_repr() -> None:
    assert repr(tn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tn.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(tn.tensor(np.array([1.5]))) == "tensor([1.5], dtype=float64)"
    assert repr(tn.tensor(np.arange(2))) == f"tensor([0, 1], dtype={np.arange(2).dtype})"
    two_d = repr(tn.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert two_d == "tensor([[1., 2.],\n        [3., 4.]])"  # rows aligned under "tensor("
    tn.set_default_dtype(np.float64)
    assert repr(tn.tensor(np.array([1.5]))) == "tensor([1.5])"
    assert "dtype=float32" in repr(tn.tensor(np.array([1.5], dtype=np.float32)))


# ---------------------------------------------------------------- reflected operators
@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (lambda a, t: a * t, [2.0, 6.0]),
        (lambda a, t: a + t, [3.0, 5.0]),
        (lambda a, t: a - t, [-1.0, -1.0]),
        (lambda a, t: a / t, [0.5, 2 / 3]),
        (lambda a, t: a**t, [1.0, 8.0]),
    ],
)
def test_ndarray_on_the_left_uses_the_reflected_operator(op: Callable, expected: list) -> None:
    a = np.array([1.0, 2.0])
    t = tn.tensor([2.0, 3.0], requires_grad=True)
    out = op(a, t)
    assert isinstance(out, tn.Tensor)
    assert out.dtype == np.float32 and out.requires_grad
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    out.sum().backward()
    assert t.grad.shape == (2,)


def test_ndarray_matmul_tensor() -> None:
    out = np.eye(2) @ tn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert isinstance(out, tn.Tensor)
    np.testing.assert_array_equal(out.data, [[1.0, 2.0], [3.0, 4.0]])


def test_reflected_number_operators_give_known_values() -> None:
    t = tn.tensor([2.0, 4.0])
    np.testing.assert_allclose((1 - t).data, [-1.0, -3.0])
    np.testing.assert_allclose((2 / t).data, [1.0, 0.5])
    np.testing.assert_allclose((2**t).data, [4.0, 16.0])
    np.testing.assert_allclose((3 + t).data, [5.0, 7.0])
    np.testing.assert_allclose((-t).data, [-2.0, -4.0])


def test_every_op_bound_to_tensor_is_declared_for_type_checkers():
    """The ops are bound to Tensor after the class (``Tensor.exp = ops.exp``); a type checker sees them only
    through the class's ClassVar declarations, so a binding without one would be invisible to users' mypy."""
    import ast
    import importlib
    import inspect

    module = importlib.import_module("tinynet.tensor")  # the attribute tinynet.tensor is the function
    tree = ast.parse(inspect.getsource(module))
    bound = {
        target.attr
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "Tensor"
    }
    assert len(bound) > 20
    assert bound <= set(module.Tensor.__annotations__), bound - set(module.Tensor.__annotations__)
