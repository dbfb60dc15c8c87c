"""``Tensor``: a numpy array, its gradient, and the op that made it.

Arithmetic follows numpy broadcasting; ``backward()`` fills ``.grad`` of every leaf that requires grad.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from .function import Node

    # How type checkers see the ops bound to Tensor at the end of this module.
    _Unary = Callable[["Tensor"], "Tensor"]
    _Binary = Callable[["Tensor", Any], "Tensor"]
    _Shaped = Callable[..., "Tensor"]  # reductions (axis, keepdims), reshape, transpose, indexing

_default_dtype: np.dtype = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype given to Python numbers and lists, and used for new parameters.

    Raises
    ------
    TypeError
        If ``dtype`` is not a floating-point dtype (float16, float32 or float64).
    """
    global _default_dtype
    resolved = np.dtype(dtype)
    if resolved.kind != "f":
        raise TypeError(
            f"set_default_dtype: expected a float dtype such as np.float32, got {resolved}"
        )
    _default_dtype = resolved


def get_default_dtype() -> np.dtype:
    """Return the current default float dtype (float32 unless changed)."""
    return _default_dtype


def _require_float(dtype: np.dtype) -> None:
    if dtype.kind != "f":
        raise TypeError(
            f"only floating-point tensors can require gradients, got dtype {dtype}; "
            "convert first, e.g. tn.tensor(x, dtype=np.float32)"
        )


class Tensor:
    """An n-dimensional array that records the ops applied to it, for reverse-mode differentiation.

    Attributes
    ----------
    data : np.ndarray
        The values. May be reassigned with a new array (as initializers and optimizers do).
    grad : np.ndarray or None
        d(loss)/d(self), same shape and dtype as ``data``; accumulates across ``backward()`` calls.
    requires_grad : bool
        Whether gradients flow to this tensor. Only float tensors may require grad.

    The operators (``+ - * / ** @``, unary ``-``, the reflected forms, indexing) and the methods ``sum``,
    ``mean``, ``max``, ``min``, ``exp``, ``log``, ``sqrt``, ``abs``, ``tanh``, ``sigmoid``, ``relu``,
    ``reshape``, ``transpose`` and ``.T`` are the ops of :mod:`tinynet.ops` themselves, bound at the end
    of this module.
    """

    __slots__ = ("__weakref__", "_node", "_requires_grad", "data", "grad")
    # Make ``ndarray * Tensor`` call Tensor.__rmul__ instead of numpy broadcasting over the object.
    __array_priority__ = 1000

    # Declarations only (nothing is created here): the ops bound at the end of this module, typed.
    __add__: ClassVar[_Binary]
    __radd__: ClassVar[_Binary]
    __sub__: ClassVar[_Binary]
    __rsub__: ClassVar[_Binary]
    __mul__: ClassVar[_Binary]
    __rmul__: ClassVar[_Binary]
    __truediv__: ClassVar[_Binary]
    __rtruediv__: ClassVar[_Binary]
    __pow__: ClassVar[_Binary]
    __rpow__: ClassVar[_Binary]
    __matmul__: ClassVar[_Binary]
    __rmatmul__: ClassVar[_Binary]
    __neg__: ClassVar[_Unary]
    __getitem__: ClassVar[_Shaped]
    sum: ClassVar[_Shaped]
    mean: ClassVar[_Shaped]
    max: ClassVar[_Shaped]
    min: ClassVar[_Shaped]
    exp: ClassVar[_Unary]
    log: ClassVar[_Unary]
    sqrt: ClassVar[_Unary]
    abs: ClassVar[_Unary]
    tanh: ClassVar[_Unary]
    sigmoid: ClassVar[_Unary]
    relu: ClassVar[_Unary]
    reshape: ClassVar[_Shaped]
    transpose: ClassVar[_Shaped]

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data: np.ndarray = data if isinstance(data, np.ndarray) else np.asarray(data)
        self.grad: np.ndarray | None = None
        self._node: Node | None = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, node: Node | None) -> Tensor:
        """Fast path for op results: no validation (the op guarantees a float array)."""
        out = object.__new__(Tensor)
        out.data = data
        out.grad = None
        out._node = node
        out._requires_grad = requires_grad
        return out

    # ----------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value:
            _require_float(self.data.dtype)
        elif self._node is not None:
            raise RuntimeError(
                "requires_grad can only be turned off on a leaf tensor; use .detach() for a non-leaf"
            )
        self._requires_grad = bool(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements (numpy's ``size``)."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op that records a graph."""
        return self._node is None

    def numel(self) -> int:
        """Number of elements."""
        return self.data.size

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != _default_dtype:
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number.

        Raises
        ------
        ValueError
            If the tensor has more than one element.
        """
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors convert to a number, got shape {self.shape}"
            )
        return self.data.item()

    def detach(self) -> Tensor:
        """A new tensor sharing ``data``, cut from the graph (``requires_grad=False``)."""
        return Tensor(self.data)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if self._node is not None:
            self._node.retained = weakref.ref(self)

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``grad`` may be omitted only for a one-element tensor. The graph is freed afterwards unless
        ``retain_graph=True``. See :func:`tinynet.function.backward` for what raises.
        """
        _graph_backward(self, grad, retain_graph)

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (``transpose()``)."""
        return _ops.transpose(self)

    def argmax(self, axis: int | None = None) -> np.ndarray:
        """Indices of the maxima along ``axis`` (not differentiable; returns a numpy array)."""
        return self.data.argmax(axis=axis)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Create a leaf tensor holding a copy of ``data``.

    A numpy array keeps its dtype; Python numbers and (nested) lists take the default float dtype
    (:func:`get_default_dtype`); ``dtype=`` overrides both.

    Raises
    ------
    TypeError
        If ``requires_grad`` is set on a non-float tensor, or the data is not numeric.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        array = np.array(data, dtype=dtype)
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data)
    else:
        array = np.array(data)
        if array.dtype.kind in "iuf":
            array = array.astype(_default_dtype)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tensor: data must be numeric, got dtype {array.dtype}")
    return Tensor(array, requires_grad=requires_grad)


def constant(value: Any, dtype: np.dtype | None) -> Tensor:
    """Wrap a number or array as a tensor that does not require grad.

    With a float ``dtype`` (that of the tensor it meets) the value is converted to it; otherwise numpy
    arrays keep their dtype and Python numbers and lists take the default float dtype.

    Raises
    ------
    TypeError
        If ``value`` is not numeric.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected a number, array or Tensor, got {type(value).__name__}")
    if dtype is not None and dtype.kind == "f":
        target = dtype
    elif isinstance(value, (np.ndarray, np.generic)) or (
        dtype is not None and array.dtype.kind != "f"
    ):
        target = array.dtype
    else:
        target = _default_dtype
    if array.dtype != target:
        array = array.astype(target)
    return Tensor._make(array, False, None)


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant tensor (:func:`constant`: arrays keep their dtype)."""
    if isinstance(x, Tensor):
        return x
    return constant(x, None)


def _reflected(op: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    """The reflected operator method (``2 * x``, ``1 - x``, ``a @ x``): ``op(other, self)``."""

    def reflected(self: Tensor, other: Any) -> Tensor:
        return op(other, self)

    reflected.__doc__ = f"{op.__qualname__} with the operands swapped: ``op(other, self)``."
    return reflected


# ----------------------------------------------------------------- operators and methods
# Each is the op itself, bound here rather than in the class body because ops/ imports Tensor from this
# module (the engine's one import cycle). The ops' docstrings state what each computes and its derivative.
from . import ops as _ops  # noqa: E402
from .function import backward as _graph_backward  # noqa: E402  (loaded by ops above)

Tensor.__add__ = _ops.add
Tensor.__radd__ = _reflected(_ops.add)
Tensor.__sub__ = _ops.sub
Tensor.__rsub__ = _reflected(_ops.sub)
Tensor.__mul__ = _ops.mul
Tensor.__rmul__ = _reflected(_ops.mul)
Tensor.__truediv__ = _ops.div
Tensor.__rtruediv__ = _reflected(_ops.div)
Tensor.__pow__ = _ops.pow
Tensor.__rpow__ = _reflected(_ops.pow)
Tensor.__matmul__ = _ops.matmul
Tensor.__rmatmul__ = _reflected(_ops.matmul)
Tensor.__neg__ = _ops.neg
Tensor.__getitem__ = _ops.getitem
Tensor.sum = _ops.sum
Tensor.mean = _ops.mean
Tensor.max = _ops.max
Tensor.min = _ops.min
Tensor.exp = _ops.exp
Tensor.log = _ops.log
Tensor.sqrt = _ops.sqrt
Tensor.abs = _ops.abs
Tensor.tanh = _ops.tanh
Tensor.sigmoid = _ops.sigmoid
Tensor.relu = _ops.relu
Tensor.reshape = _ops.reshape
Tensor.transpose = _ops.transpose
