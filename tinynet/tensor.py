"""``Tensor``: a numpy array, its gradient, and the op that made it.

Arithmetic follows numpy broadcasting; ``backward()`` fills ``.grad`` of every leaf that requires grad.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .function import Node

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
    """

    __slots__ = ("__weakref__", "_node", "_requires_grad", "_retains_grad", "data", "grad")
    # Make ``ndarray * Tensor`` call Tensor.__rmul__ instead of numpy broadcasting over the object.
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data: np.ndarray = data if isinstance(data, np.ndarray) else np.asarray(data)
        self.grad: np.ndarray | None = None
        self._node: Node | None = None
        self._retains_grad = False
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
        out._retains_grad = False
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
            self._retains_grad = True

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``grad`` may be omitted only for a one-element tensor. The graph is freed afterwards unless
        ``retain_graph=True``. See :func:`tinynet.function.backward` for what raises.
        """
        _graph_backward(self, grad, retain_graph)

    def argmax(self, axis: int | None = None) -> np.ndarray:
        """Indices of the maxima along ``axis`` (not differentiable; returns a numpy array)."""
        return self.data.argmax(axis=axis)

    # ----------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # ----------------------------------------------------------------- methods
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; the gradient is shared equally among tied maxima."""
        return _ops.max(self, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; the gradient is shared equally among tied minima."""
        return _ops.min(self, axis, keepdims)

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return _ops.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise |x| (gradient sign(x), 0 at 0)."""
        return _ops.abs(self)

    def tanh(self) -> Tensor:
        """Elementwise tanh."""
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        """Elementwise logistic sigmoid 1 / (1 + e**-x), computed stably."""
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        return _ops.relu(self)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same elements in a new shape (one dimension may be -1)."""
        target = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _ops.reshape(self, tuple(target))  # type: ignore[arg-type]

    def transpose(self, *axes: int | tuple[int, ...]) -> Tensor:
        """Permute the axes (reversed when none are given), as ``numpy.transpose``."""
        order = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return _ops.transpose(self, tuple(order) if order else None)  # type: ignore[arg-type]

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return _ops.transpose(self, None)


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


from . import ops as _ops  # noqa: E402  (ops import Tensor from this module)
from .function import backward as _graph_backward  # noqa: E402  (loaded by ops above)
