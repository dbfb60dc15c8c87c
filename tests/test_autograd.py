"""The backward walk: known answers, accumulation, retained grads and graphs, grad mode, the
engine's checks and broadcasting reduction, deep graphs, freeing the graph (no leaks), and how an op is
applied (the operand hook, error explanations, one-line bindings)."""

from __future__ import annotations

import gc
import re
import sys
import time
import types
import weakref

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.function import Function, Node
from tinynet.ops.common import Binary


def scalar(value: float = 1.0) -> tn.Tensor:
    return tn.tensor(value, requires_grad=True, dtype=np.float64)


# ---------------------------------------------------------------- known answers
def test_diamond_graph() -> None:
    a = scalar(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_shared_intermediate() -> None:
    x = scalar(2.0)
    y = x * 3
    (y * 2 + y * 5).backward()
    assert x.grad == 21.0


def test_known_answer_through_nonlinear_ops() -> None:
    x = scalar(0.5)
    z = (x * x).exp() + x.sigmoid() * 3
    z.backward()
    s = 1 / (1 + np.exp(-0.5))
    assert x.grad == pytest.approx(2 * 0.5 * np.exp(0.25) + 3 * s * (1 - s), rel=1e-12)


def test_leaf_reached_by_several_paths_of_different_depth() -> None:
    """A leaf whose gradient arrives directly and through intermediates (pass-through grads)."""
    x = tn.tensor(np.ones(3), requires_grad=True)
    y = x * 3
    r = (x + y) + x  # = 5x
    r.backward(np.ones(3, dtype=np.float32))
    np.testing.assert_array_equal(x.grad, [5.0, 5.0, 5.0])


def test_pass_through_gradient_is_not_shared_between_leaves() -> None:
    a = tn.tensor(np.zeros(2), requires_grad=True)
    b = tn.tensor(np.zeros(2), requires_grad=True)
    (a + b).sum().backward()
    a.grad += 10.0  # mutating one leaf's grad in place must not touch the other's
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_backward_does_not_mutate_the_callers_grad_array() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    seed = np.ones(2, dtype=np.float32)
    (x + 1).backward(seed)
    (x + 1).backward(seed)
    x.backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


class _SameArrayTwice(Function):
    """z = 2a + 2b; backward returns ONE array object for both inputs (legal for a custom op)."""

    @staticmethod
    def forward(ctx, a, b):
        return 2 * a + 2 * b

    @staticmethod
    def backward(ctx, grad):
        g = 2 * grad
        return g, g


@pytest.mark.parametrize("order", ["op first", "op second"])
def test_custom_op_returning_one_array_for_two_inputs(order: str) -> None:
    """One fresh array returned for a leaf and for an intermediate: accumulating into the leaf's
    .grad must not change the gradient still pending for the intermediate."""
    x = tn.tensor(np.ones(3), requires_grad=True, dtype=np.float64)
    y = x * 3
    both = _SameArrayTwice.apply(x, y)  # = 2x + 6x
    w = y * 1 + x  # = 4x, gives x a second contribution
    r = both + w if order == "op first" else w + both
    r.backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [12.0, 12.0, 12.0])


# ---------------------------------------------------------------- accumulation
def test_gradients_accumulate_across_backward_calls() -> None:
    x = tn.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    first = x.grad.copy()
    np.testing.assert_array_equal(first, [2.0, -4.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * first)


def test_zeroing_restarts_accumulation() -> None:
    x = tn.tensor([1.0, -2.0], requires_grad=True)
    (x * 5).sum().backward()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    x.grad[...] = 0.0
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_leaf_gradient_has_leaf_shape_and_dtype() -> None:
    w = tn.tensor(np.ones((3, 1), dtype=np.float32), requires_grad=True)
    (w * np.ones((2, 3, 4), dtype=np.float32)).sum().backward()
    assert w.grad.shape == (3, 1) and w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.full((3, 1), 8.0))


# ---------------------------------------------------------------- retain_grad
def test_intermediates_keep_no_grad_unless_retained() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = y * y
    y.retain_grad()
    w = z.sum()
    w.backward()
    np.testing.assert_array_equal(y.grad, 2 * y.data)
    assert z.grad is None
    assert w.grad is None
    np.testing.assert_array_equal(x.grad, 3 * 2 * y.data)


def test_retained_grad_accumulates_with_retain_graph() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    out = y.sum()
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(y.grad, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


def test_retain_grad_on_a_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        tn.tensor([1.0]).retain_grad()


# ---------------------------------------------------------------- retain_graph / freeing
def test_retain_graph_allows_a_second_backward() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    out = (x.exp() * x).sum()
    out.backward(retain_graph=True)
    first = x.grad.copy()
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_second_backward_through_a_freed_graph_raises() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    out = (x * x).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        out.backward()


def test_backward_through_a_freed_intermediate_raises() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (y * 2).sum().backward()


def test_contributions_to_one_tensor_are_summed_newest_consumer_first() -> None:
    """PyTorch's order: nodes are visited by decreasing sequence number, so the gradients reaching a
    leaf used three times arrive from the op applied last to the one applied first. float32 sums that
    are not associative tell the order apart."""
    w = tn.tensor(np.float32(1.0), requires_grad=True)
    g1, g2, g3 = np.float32(1e8), np.float32(-1e8), np.float32(1.0)
    (w * g1 + w * g2 + w * g3).backward()
    newest_first = (g3 + g2) + g1
    oldest_first = (g1 + g2) + g3
    assert newest_first != oldest_first  # the check can tell the orders apart
    assert w.grad == newest_first


def test_graph_is_freed_after_backward() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    out = (y * x).sum()
    nodes = [out._node, y._node]
    out.backward()
    for node in nodes:
        assert node.inputs == ()
        assert node.ctx is None


def test_graph_is_kept_with_retain_graph() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    out = (y * x).sum()
    out.backward(retain_graph=True)
    assert out._node.inputs != ()
    assert y._node.inputs == (x,)
    assert y._node.ctx is not None


def _count_nodes() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Node))


def _build(x: tn.Tensor) -> tuple[tn.Tensor, list[weakref.ref]]:
    h1 = x * 2
    h2 = h1.tanh()
    h3 = h2 @ np.ones((3, 2))
    out = (h3.sum(axis=0) + h1.sum()).sum()
    return out, [weakref.ref(t) for t in (h1, h2, h3)]


@pytest.mark.parametrize("retain_graph", [False, True])
def test_no_node_survives_backward_and_del(retain_graph: bool) -> None:
    x = tn.tensor(np.ones((4, 3)), requires_grad=True)
    before = _count_nodes()
    out, refs = _build(x)
    assert _count_nodes() > before
    assert all(r() is not None for r in refs)  # alive while the output holds the graph
    out.backward(retain_graph=retain_graph)
    if not retain_graph:
        # freed by backward itself, before the output is deleted
        assert all(r() is None for r in refs)
    del out
    # plain reference counting frees everything: no cycles, no collector needed
    assert all(r() is None for r in refs)
    assert _count_nodes() == before
    assert x.grad is not None


def test_graph_without_backward_is_freed_by_del() -> None:
    x = tn.tensor(np.ones((4, 3)), requires_grad=True)
    before = _count_nodes()
    out, refs = _build(x)
    del out
    assert all(r() is None for r in refs)
    assert _count_nodes() == before


# ---------------------------------------------------------------- deep graphs
def test_ten_thousand_deep_chain() -> None:
    x = tn.tensor(np.full(3, 0.5), requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    start = time.perf_counter()
    y.sum().backward()
    elapsed = time.perf_counter() - start
    assert 10_000 > sys.getrecursionlimit()  # a recursive walk could not do this
    np.testing.assert_allclose(x.grad, np.full(3, 1.0001**10_000), rtol=1e-10)
    # about 20 ms on a laptop; the bound only catches a quadratic walk
    assert elapsed < 1.0, f"backward through 10,000 ops took {elapsed:.2f} s"


def test_ten_thousand_deep_chain_with_branches() -> None:
    x = scalar(0.0)
    y = x
    for _ in range(10_000):
        y = y + x * 1.0  # every step also reaches the leaf directly
    y.backward()
    assert x.grad == 10_001.0


# ---------------------------------------------------------------- backward errors
def test_backward_on_non_scalar_without_grad_raises() -> None:
    x = tn.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        (x * 2).backward()


def test_backward_with_explicit_grad() -> None:
    x = tn.tensor(np.ones((2, 3)), requires_grad=True)
    g = np.arange(6.0).reshape(2, 3)
    (x * 2).backward(g)
    np.testing.assert_array_equal(x.grad, 2 * g)
    x.grad = None
    (x * 2).backward(tn.tensor(g))
    np.testing.assert_array_equal(x.grad, 2 * g)


def test_backward_with_wrong_grad_shape_raises() -> None:
    x = tn.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(3, 2\).*\(2, 3\)"):
        (x * 2).backward(np.ones((3, 2)))


def test_backward_on_a_tensor_that_does_not_require_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        tn.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([3.0, 4.0], dtype=np.float32))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# ---------------------------------------------------------------- grad mode
def test_no_grad_context_records_nothing() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    with tn.no_grad():
        assert not tn.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert tn.is_grad_enabled()
    assert y.requires_grad is False
    assert y._node is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_decorator_records_nothing() -> None:
    @tn.no_grad()
    def f(t: tn.Tensor) -> tn.Tensor:
        assert not tn.is_grad_enabled()
        return t * 3

    x = tn.tensor([1.0], requires_grad=True)
    y = f(x)
    assert y.requires_grad is False and y._node is None
    assert tn.is_grad_enabled()
    assert f.__name__ == "f"


def test_no_grad_restores_state_when_nested_and_on_exceptions() -> None:
    with tn.no_grad():
        with tn.no_grad():
            assert not tn.is_grad_enabled()
        assert not tn.is_grad_enabled()
    assert tn.is_grad_enabled()
    with pytest.raises(ValueError, match="boom"), tn.no_grad():
        raise ValueError("boom")
    assert tn.is_grad_enabled()


def test_grad_mode_is_per_thread() -> None:
    """no_grad in one thread leaves recording on in another (PyTorch's semantics), and a new thread
    starts with recording on even while the thread that started it is inside no_grad."""
    import threading

    inside, done = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def holds_no_grad() -> None:
        with tn.no_grad():
            inside.set()
            done.wait(timeout=10)
            seen["no_grad thread"] = tn.is_grad_enabled()

    def records() -> None:
        inside.wait(timeout=10)
        x = tn.tensor([1.0], requires_grad=True)
        seen["other thread"] = (x * 2).requires_grad
        done.set()

    threads = [threading.Thread(target=holds_no_grad), threading.Thread(target=records)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert seen == {"no_grad thread": False, "other thread": True}
    with tn.no_grad():
        child: list[bool] = []
        t = threading.Thread(target=lambda: child.append(tn.is_grad_enabled()))
        t.start()
        t.join(timeout=10)
    assert child == [True]


def test_enable_grad_inside_no_grad() -> None:
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    with tn.no_grad():
        with tn.enable_grad():
            assert tn.is_grad_enabled()
            y = x * 2
        z = x * 2
        assert not tn.is_grad_enabled()
    assert y.requires_grad and y._node is not None
    assert not z.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])

    @tn.enable_grad()
    def g(t: tn.Tensor) -> tn.Tensor:
        return t * 3

    with tn.no_grad():
        assert g(x).requires_grad


def test_no_grad_instance_reused() -> None:
    guard = tn.no_grad()
    with guard:
        with guard:
            assert not tn.is_grad_enabled()
        assert not tn.is_grad_enabled()
    assert tn.is_grad_enabled()


# ---------------------------------------------------------------- the engine's checks
class _WrongShape(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, grad):
        return np.ones((7,), dtype=grad.dtype)


class _WrongDtype(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, grad):
        return (grad * 2).astype(np.float64)


def test_engine_rejects_a_gradient_of_the_wrong_shape() -> None:
    x = tn.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_WrongShape.*\(7,\).*\(2, 3\)"):
        _WrongShape.apply(x).sum().backward()


def test_engine_rejects_a_gradient_of_the_wrong_dtype() -> None:
    x = tn.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_WrongDtype.*float64.*float32"):
        _WrongDtype.apply(x).sum().backward()


class _UnreducedMul(Function):
    """z = a * b; backward returns the full broadcast-shaped gradients, never reducing them."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


def test_engine_sums_broadcast_gradients_back() -> None:
    a = tn.tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)  # stretched axis
    b = tn.tensor(np.arange(4.0), requires_grad=True)  # missing leading axis
    _UnreducedMul.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((3, 1), np.arange(4.0).sum()))
    np.testing.assert_array_equal(b.grad, np.full(4, np.arange(3.0).sum()))
    assert tn.gradcheck(lambda p, q: _UnreducedMul.apply(p, q), a, b)


class _Square(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True,)
        return 2 * a * grad


def test_custom_function_and_needs_input_grad() -> None:
    x = tn.tensor([3.0], requires_grad=True)
    y = _Square.apply(x)
    assert y.requires_grad
    y.backward()
    np.testing.assert_array_equal(x.grad, [6.0])
    assert _Square.apply(tn.tensor([3.0])).requires_grad is False


def test_none_gradient_for_an_input_is_skipped() -> None:
    class _FirstOnly(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    a = tn.tensor([1.0], requires_grad=True)
    b = tn.tensor([1.0], requires_grad=True)
    _FirstOnly.apply(a, b).backward()
    np.testing.assert_array_equal(a.grad, [1.0])
    assert b.grad is None


# ---------------------------------------------------------------- applying an op: hook, explain, bindings
def test_apply_is_a_plain_function_so_an_op_is_bound_in_one_line() -> None:
    assert isinstance(_Square.apply, types.FunctionType)
    assert _Square.apply.__qualname__.endswith("_Square.apply")
    # The functional form, the Tensor method and the F alias are one object: the op's apply.
    assert tn.Tensor.tanh is tn.ops.tanh is F.tanh
    assert tn.Tensor.__add__ is tn.ops.add
    assert "dz/da = z" in tn.ops.exp.__doc__  # the op's docstring, with its local derivative


def test_default_hook_makes_non_tensor_operands_constants() -> None:
    a = tn.tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)
    out = _UnreducedMul.apply(a, np.arange(4.0))  # an ndarray operand becomes a constant tensor
    assert out.shape == (3, 4) and out.dtype == np.float64
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 6.0))
    assert _Square.apply([2.0]).dtype == tn.get_default_dtype()  # a list takes the default dtype


class _Hypot(Binary):
    """z = sqrt(a² + b²);  dz/da = a / z, dz/db = b / z."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        return grad * a / out, grad * b / out


def test_a_binary_op_inherits_the_dtype_rules_and_the_broadcast_message() -> None:
    x = tn.tensor(np.array([3.0, 6.0], dtype=np.float32), requires_grad=True)
    assert _Hypot.apply(x, 4.0).dtype == np.float32  # a number takes the tensor's dtype
    np.testing.assert_allclose(_Hypot.apply(4.0, x).data, [5.0, np.hypot(4.0, 6.0)], rtol=1e-6)
    with pytest.raises(TypeError, match="_hypot: dtype mismatch float32 and float64"):
        _Hypot.apply(x, tn.tensor(np.ones(2)))
    with pytest.raises(ValueError, match=re.escape("_hypot: shapes (2,) and (3,) cannot be broadcast")):
        _Hypot.apply(x, np.ones(3))
    assert tn.gradcheck(_Hypot.apply, tn.tensor([3.0, -1.0], requires_grad=True), tn.tensor([4.0, 2.0]))


def test_an_overridden_hook_sees_every_call_and_explain_rewrites_a_forward_error() -> None:
    seen = []

    class _Positive(Function):
        @classmethod
        def _operands(cls, *args):
            seen.append(len(args))
            return super()._operands(*args)

        @classmethod
        def _explain(cls, error, inputs, options):
            if isinstance(error, FloatingPointError):
                return ValueError(f"positive: input of shape {inputs[0].shape} has a value <= 0")
            return None

        @staticmethod
        def forward(ctx, a):
            if np.any(a <= 0):
                raise FloatingPointError("log of a non-positive number")
            return np.log(a)

        @staticmethod
        def backward(ctx, grad):
            raise NotImplementedError

    assert _Positive.apply(tn.tensor([1.0])).item() == 0.0  # a Tensor operand still goes through the hook
    with pytest.raises(ValueError, match=re.escape("positive: input of shape (2,) has a value <= 0")) as info:
        _Positive.apply(np.array([1.0, -1.0]))
    assert isinstance(info.value.__cause__, FloatingPointError)
    assert seen == [1, 1]


# ---------------------------------------------------------------- ops that declare fresh gradients
def _all_ops(cls: type[Function] = Function) -> set[type[Function]]:
    found: set[type[Function]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_ops(sub)
    return found


def _linear_inputs(rng: np.random.Generator, dtype: type, batch: tuple[int, ...], bias: bool):
    x = rng.standard_normal((*batch, 5)).astype(dtype)
    w = rng.standard_normal((5, 3)).astype(dtype)
    return [x, w] + ([rng.standard_normal(3).astype(dtype)] if bias else []), {}


def _cross_entropy_inputs(rng: np.random.Generator, dtype: type, reduction: str):
    logits = rng.standard_normal((4, 6)).astype(dtype)
    return [logits], {"target": rng.integers(0, 6, 4), "reduction": reduction}


def _fresh_cases():
    from tinynet.ops.cross_entropy import CrossEntropy
    from tinynet.ops.linear import Linear, LinearRelu

    for dtype in (np.float32, np.float64):
        for op in (Linear, LinearRelu):
            for batch, bias in (((4,), True), ((2, 3), True), ((4,), False)):
                yield op, dtype, lambda rng, d=dtype, b=batch, s=bias: _linear_inputs(rng, d, b, s)
        for reduction in ("mean", "sum", "none"):
            yield CrossEntropy, dtype, lambda rng, d=dtype, r=reduction: _cross_entropy_inputs(rng, d, r)


def test_only_the_listed_ops_declare_fresh_gradients() -> None:
    """A new op that sets ``fresh_grads`` must join the contract test below."""
    declared = {op.__name__ for op in _all_ops() if op.fresh_grads}
    assert declared == {op.__name__ for op, _, _ in _fresh_cases()}


@pytest.mark.parametrize(("op", "dtype", "make"), list(_fresh_cases()))
def test_an_op_that_declares_fresh_gradients_returns_new_arrays_of_each_inputs_shape(
    op: type[Function], dtype: type, make
) -> None:
    """The contract the backward walk relies on when it skips its checks for such an op: one new,
    writeable array per input, of exactly the input's shape and dtype, shared with nothing."""
    rng = np.random.default_rng(7)
    arrays, options = make(rng)
    inputs = [tn.tensor(a, requires_grad=True) for a in arrays]
    out = op.apply(*inputs, **options)
    node = out._node
    incoming = rng.standard_normal(out.shape).astype(dtype)
    grads = op.backward(node, incoming)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert len(grads) == len(inputs)
    for g, a in zip(grads, arrays):
        assert type(g) is np.ndarray and g.shape == a.shape and g.dtype == a.dtype
        assert g.flags.owndata and g.flags.writeable
        assert not any(np.shares_memory(g, other) for other in (*arrays, incoming))
    for i, g in enumerate(grads):
        assert not any(np.shares_memory(g, h) for h in grads[i + 1 :])


def test_a_leaf_reached_twice_through_a_fresh_op_sums_both_contributions() -> None:
    """``linear(w, w)``: both of the op's gradients go to one leaf; the first is adopted, the second
    added out of place, and the result is the sum (the engine's usual rule)."""
    from tinynet.ops.linear import linear

    w0 = np.random.default_rng(3).standard_normal((3, 3))
    w = tn.tensor(w0, requires_grad=True)
    linear(w, w).sum().backward()
    ones = np.ones((3, 3))
    np.testing.assert_allclose(w.grad, ones @ w0.T + w0.T @ ones, rtol=1e-12)
