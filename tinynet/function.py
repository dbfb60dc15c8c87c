"""The graph: ``Function`` (one differentiable op), its saved context, grad mode, and the backward walk.

An op is a subclass of :class:`Function` with two static methods on numpy arrays::

    forward(ctx, *arrays, **options) -> np.ndarray
    backward(ctx, grad) -> one gradient (or None) per array input

``Op.apply(*operands, **options)`` makes the operands tensors through one hook (``Op._operands``), runs
``forward`` and, when gradients are being recorded and some input requires grad, links the result to a
:class:`Node` holding the context and the inputs. ``apply`` is a plain function made for each subclass, so
binding an op is one line: ``exp = Exp.apply``, and on the Tensor ``Tensor.exp = ops.exp``.

:func:`backward` visits nodes from the output back to the leaves in decreasing order of their sequence
numbers, from a heap of the nodes that have received a gradient (no recursion and no separate sort, so a
chain of any depth works), freeing each node as it goes. It is the *only* place where a gradient is
summed back over broadcast dimensions to its input's shape, and it checks every gradient's shape and dtype.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import operator
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np

from .tensor import Tensor, as_tensor

F = TypeVar("F", bound=Callable[..., Any])

_requires_grad = operator.attrgetter("_requires_grad")
_data = operator.attrgetter("data")
_new_object = object.__new__
#: Sequence numbers of nodes, counting down (see :class:`Context`); ``next()`` is atomic under the GIL.
_sequence = itertools.count(-1, -1)
_next = next


class _GradState(threading.local):
    """Grad mode per thread (as in PyTorch): ``no_grad`` in one thread never turns off recording in
    another. Every new thread starts with recording on."""

    enabled = True


_grad_state = _GradState()


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backward (in this thread)."""
    return _grad_state.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring the previous mode on exit."""

    _mode: bool

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        # Bare ``@tn.no_grad`` (no parentheses) decorates at once, as PyTorch allows.
        instance = super().__new__(cls)
        if fn is not None:
            instance.__init__()
            return instance(fn)
        return instance

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_grad_state.enabled)
        _grad_state.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        _grad_state.enabled = self._previous.pop()

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Record nothing for backward inside ``with tn.no_grad():`` or in a function decorated ``@tn.no_grad()``.

    Results computed under it have ``requires_grad=False`` and hold no graph.
    """

    _mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` region (context manager or decorator)."""

    _mode = True


class Context:
    """What ``forward`` leaves for ``backward`` (saved arrays, options, which inputs need a gradient), and
    the graph's record of the op application: the op, its input tensors and its sequence number.

    One object per op on the hot path, so it has slots for what every op has and an instance dict (made
    only when an op sets an attribute of its own, such as ``ctx.reduction``) for the rest.

    ``seq`` counts op applications in this process *downwards* (-1, -2, ...). An op's inputs exist before
    it runs, so every node's inputs have larger numbers than the node: visiting nodes from the smallest
    number up is a topological order from the output back, and backward needs no separate sort. Backward
    frees a node by dropping its saved values and inputs (``ctx`` is None then, meaning "freed").
    """

    __slots__ = ("__dict__", "fn", "inputs", "needs_input_grad", "retained", "saved_tensors", "seq")

    fn: type[Function]
    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    retained: Callable[[], Tensor | None] | None  # weakref to the output, if it called retain_grad()
    saved_tensors: tuple[np.ndarray, ...]
    seq: int

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep ``arrays`` for ``backward`` (read back as ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays

    @property
    def ctx(self) -> Context | None:
        """This context while the node holds its saved values; None once backward has freed it."""
        return self if self.inputs else None


#: The graph's node is the op's context (see :class:`Context`).
Node = Context


class Function:
    """Base class of differentiable ops: static ``forward`` and ``backward`` on numpy arrays.

    Every subclass gets its own ``apply`` (a plain function, see :func:`_make_apply`), so an op is bound with
    one line wherever it is offered: ``exp = Exp.apply`` in ``ops``, ``Tensor.exp = ops.exp`` on the Tensor.
    ``apply(*operands, **options)`` turns the operands into tensors with :meth:`_operands`, runs ``forward``
    on their arrays (``options`` go to ``forward`` as they are), and links the result to a :class:`Node`
    when gradients are being recorded and some operand requires grad. An op changes how its operands are
    coerced by overriding :meth:`_operands`, and how a numpy failure is reported by :meth:`_explain`; it
    does not override ``apply``.
    """

    apply: ClassVar[Callable[..., Tensor]]
    #: True for an op whose ``backward`` always returns, for each input, a new array of exactly that
    #: input's shape and dtype that nothing else holds (no pass-through, view or broadcast). The
    #: backward walk then skips its shape and dtype check and adopts such an array as a leaf's
    #: ``.grad`` without looking at its flags. Off by default: only ops on the hot path declare it,
    #: for operands of one dtype (which ``linear`` and ``cross_entropy`` enforce before ``apply``),
    #: and a contract test in tests/test_autograd.py holds each of them to it.
    fresh_grads: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "apply" not in cls.__dict__:
            cls.apply = staticmethod(_make_apply(cls))

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, **options: Any) -> np.ndarray:
        """Compute the output array from the input arrays; save in ``ctx`` what backward needs."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> Any:
        """Return d(loss)/d(input) for each input, given ``grad`` = d(loss)/d(output)."""
        raise NotImplementedError

    @classmethod
    def _operands(cls, *args: Any) -> tuple[Tensor, ...]:
        """The operands as tensors: a Tensor as it is, anything else a constant (:func:`as_tensor`).

        The one coercion hook of ``apply``; binary ops override it with their dtype rules.
        """
        for arg in args:
            if not isinstance(arg, Tensor):
                return tuple([as_tensor(a) for a in args])
        return args

    @classmethod
    def _explain(
        cls, error: Exception, inputs: tuple[Tensor, ...], options: dict[str, Any]
    ) -> Exception | None:
        """The error to raise instead of ``error`` (raised by ``forward``), or None to let it through.

        Ops override it to name themselves and their operands' shapes rather than surface numpy's message.
        """
        return None


def _make_apply(op: type[Function]) -> Callable[..., Tensor]:
    """``op.apply``: run ``op`` on its operands and, if any requires grad (and grad mode is on), record it.

    A closure over ``op`` rather than a classmethod: a plain function binds as a method, so
    ``Tensor.exp = Exp.apply`` works, and the hot path creates no bound-method object per call. The hook
    is looked up once, when the op is defined; an op that keeps the default hook has its fast path inlined,
    so an operand that is already a Tensor costs one ``isinstance``.
    """

    operands = op._operands
    default = getattr(operands, "__func__", None) is Function._operands.__func__

    def apply(*args: Any, **options: Any) -> Tensor:
        inputs = args
        if not default:
            inputs = operands(*args)
        else:  # the default hook's fast path, inlined: Tensors go through as they are
            for arg in args:
                if not isinstance(arg, Tensor):
                    inputs = operands(*args)
                    break
        ctx = _new_object(Context)
        # map() with an attrgetter runs in C: a list comprehension is a Python frame of its own.
        if _grad_state.enabled:
            needs = tuple(map(_requires_grad, inputs))
            track = True in needs
        else:
            needs = (False,) * len(inputs)
            track = False
        ctx.needs_input_grad = needs
        try:
            out = op.forward(ctx, *map(_data, inputs), **options)
        except Exception as error:
            explained = op._explain(error, inputs, options)
            if explained is None:
                raise
            raise explained from error
        if type(out) is not np.ndarray:  # numpy turns 0-d results into scalars; keep arrays everywhere
            out = np.asarray(out)
        # Tensor._make written out: one Python call fewer per op on the hot path.
        result = _new_object(Tensor)
        result.data = out
        result.grad = None
        if track:  # the context becomes the graph's node
            ctx.fn = op
            ctx.inputs = inputs
            ctx.seq = _next(_sequence)
            ctx.retained = None
            result._node = ctx
        else:
            result._node = None
        result._requires_grad = track
        return result

    apply.__qualname__ = f"{op.__qualname__}.apply"
    apply.__doc__ = op.__doc__
    return apply


def reduce_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the dimensions that broadcasting added or stretched, so it has ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _checked(grad: Any, inp: Tensor, fn: type[Function]) -> np.ndarray:
    grad = np.asarray(grad)
    try:
        reduced = reduce_to_shape(grad, inp.shape)
    except (ValueError, IndexError):
        reduced = grad
    if reduced.shape != inp.shape:
        raise RuntimeError(
            f"{fn.__name__}.backward returned a gradient of shape {grad.shape} for an input of shape "
            f"{inp.shape}; it must be that shape or broadcast to it"
        )
    if reduced.dtype != inp.dtype:
        raise RuntimeError(
            f"{fn.__name__}.backward returned a {reduced.dtype} gradient for a {inp.dtype} input"
        )
    return reduced


def _accumulate_leaf(
    leaf: Tensor, grad: np.ndarray, adopted: set[int], incoming: np.ndarray
) -> None:
    """Add ``grad`` into ``leaf.grad`` without ever writing into an array that something else still uses.

    An op may pass its incoming gradient through (add), return a view (reshape), a read-only broadcast
    (sum), or one array for two inputs; such arrays are copied. A fresh array is adopted without a copy,
    but during this backward it may still be pending for another tensor, so a second contribution in the
    same call is added out of place. Only a ``.grad`` that existed before this call is updated in place.
    """
    if leaf.grad is None:
        flags = grad.flags  # built anew on every attribute access, so read once
        if grad is incoming or not (flags.owndata and flags.writeable) or id(grad) in adopted:
            grad = grad.copy()
        adopted.add(id(grad))
        leaf.grad = grad
    elif id(leaf.grad) in adopted:
        leaf.grad = leaf.grad + grad
        adopted.add(id(leaf.grad))
    else:
        leaf.grad += grad


def backward(root: Tensor, grad: np.ndarray | None = None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Parameters
    ----------
    root
        The tensor to differentiate; must require grad.
    grad
        d(loss)/d(root), same shape as ``root``. Optional only when ``root`` has one element.
    retain_graph
        Keep the graph so backward can run through it again; by default it is freed.

    Raises
    ------
    RuntimeError
        If ``root`` does not require grad, if ``grad`` is missing for a non-scalar, if its shape differs,
        or if the graph was already freed by an earlier backward.
    """
    if not root._requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph; create the inputs with "
            "requires_grad=True (and not under no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implied only for a tensor with one element, got shape "
                f"{root.shape}; pass grad= of that shape or reduce first (e.g. .sum())"
            )
        seed = np.empty(root.data.shape, root.data.dtype)  # empty + fill: np.ones is a Python wrapper
        seed.fill(1)
    else:
        seed = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=root.dtype)
        if seed.shape != root.shape:
            raise RuntimeError(
                f"backward: grad has shape {seed.shape} but the tensor has shape {root.shape}"
            )
    adopted: set[int] = set()
    if root._node is None:
        _accumulate_leaf(root, seed, adopted, seed)
        return
    root_node = root._node
    pending: dict[Node, np.ndarray] = {root_node: seed}
    # Nodes waiting for their gradient, smallest (newest) sequence number first (see Context): a node
    # is visited only after every node that consumes it, so its gradient is complete when it is popped.
    heap: list[tuple[int, Node]] = [(root_node.seq, root_node)]
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        node = pop(heap)[1]
        g = pending.pop(node)
        if not node.inputs:
            raise RuntimeError(
                "backward: trying to go through the graph a second time, but its saved values were freed "
                "by the first backward; pass retain_graph=True to the first call to keep them"
            )
        if node.retained is not None:
            retained = node.retained()
            if retained is not None:
                _accumulate_leaf(retained, g, adopted, g)
        fn = node.fn
        grads = fn.backward(node, g)
        if type(grads) is not tuple:
            grads = (grads,)
        fresh = fn.fresh_grads
        for inp, ig, need in zip(node.inputs, grads, node.needs_input_grad):
            if ig is None or not need:
                continue
            if not fresh:
                data = inp.data
                # Fast path: most gradients already have the input's shape and dtype (``is`` first:
                # numpy shares one dtype object per builtin type, so the full comparison is rarely needed).
                if not (
                    type(ig) is np.ndarray
                    and ig.shape == data.shape
                    and (ig.dtype is data.dtype or ig.dtype == data.dtype)
                ):
                    ig = _checked(ig, inp, fn)
            input_node = inp._node
            if input_node is None:
                # _accumulate_leaf's most common case, inlined (same rule): a fresh array of its own
                # becomes the leaf's .grad without a copy — every parameter, every step.
                if inp.grad is None and (
                    fresh
                    or (
                        ig is not g
                        and id(ig) not in adopted
                        and (flags := ig.flags).owndata
                        and flags.writeable
                    )
                ):
                    adopted.add(id(ig))
                    inp.grad = ig
                    continue
                _accumulate_leaf(inp, ig, adopted, g)
            else:
                previous = pending.get(input_node)
                if previous is None:
                    pending[input_node] = ig
                    push(heap, (input_node.seq, input_node))
                else:
                    pending[input_node] = previous + ig
        if not retain_graph:  # free the node: its saved arrays, its options, its inputs
            node.inputs = node.saved_tensors = ()
            node.__dict__.clear()
