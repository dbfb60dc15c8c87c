"""Elementwise ops. Each docstring states the local derivative; the engine handles broadcasting."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import check_choice, is_real
from ..function import Context, Function
from ..tensor import Tensor
from .common import Binary


class Add(Binary):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return grad, grad


class Sub(Binary):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Binary):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Binary):
    """z = a / b;  dz/da = 1 / b, dz/db = -a / b**2 = -z / b."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = a / b
        ctx.save_for_backward(b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad / b
        return (grad_a if need_a else None), (-grad_a * out if need_b else None)


class Neg(Function):
    """z = -a;  dz/da = -1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        return -a

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return -grad


class PowConst(Function):
    """z = a ** p for a constant number p;  dz/da = p * a ** (p - 1)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, exponent: float) -> np.ndarray:
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return a**exponent

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 2:
            return grad * (2 * a)
        return grad * (p * a ** (p - 1))


class Pow(Binary):
    """z = a ** b;  dz/da = b * a ** (b - 1), dz/db = z * log(a)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * b * a ** (b - 1) if need_a else None
        grad_b = grad * out * np.log(a) if need_b else None
        return grad_a, grad_b


class Exp(Function):
    """z = e**a;  dz/da = z."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad * ctx.saved_tensors[0]


class Log(Function):
    """z = ln(a);  dz/da = 1 / a."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad / ctx.saved_tensors[0]


class Sqrt(Function):
    """z = sqrt(a);  dz/da = 1 / (2 z)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad / (2 * ctx.saved_tensors[0])


class Abs(Function):
    """z = |a|;  dz/da = sign(a) (0 at a = 0)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad * np.sign(ctx.saved_tensors[0])


class Tanh(Function):
    """z = tanh(a);  dz/da = 1 - z**2.

    A primitive rather than (e**2a - 1) / (e**2a + 1): the composed form overflows for large |a| and costs
    six ops where this costs one, and tanh is the activation whose saturation the diagnostics measure.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        out = ctx.saved_tensors[0]
        return grad * (1 - out * out)


def _stable_sigmoid(a: np.ndarray) -> np.ndarray:
    # e**-|a| never overflows; the two branches are the same function rearranged for each sign.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """z = 1 / (1 + e**-a);  dz/da = z (1 - z).

    A primitive so that it is stable for any |a|: computed from e**-|a|, which never overflows.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = _stable_sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        out = ctx.saved_tensors[0]
        return grad * out * (1 - out)


class Relu(Function):
    """z = max(a, 0);  dz/da = 1 where a > 0, else 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad * (ctx.saved_tensors[0] > 0)


class Softplus(Function):
    """z = ln(1 + e**a) = max(a, 0) + ln(1 + e**-|a|);  dz/da = sigmoid(a).

    A primitive so that it is finite for any |a| (the naive form overflows at a ≈ 89 in float32).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a)
        return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        return grad * _stable_sigmoid(ctx.saved_tensors[0])


_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class Gelu(Function):
    """z = a Φ(a), Φ the standard normal CDF;  dz/da = Φ(a) + a φ(a).

    ``approximate="tanh"`` uses Φ(a) ≈ (1 + tanh(√(2/π)(a + 0.044715 a³))) / 2 and its exact derivative.
    A primitive because numpy has no erf ufunc; the exact form calls ``math.erf`` per element, so it is
    slower than the other activations (but exact to the last bit of float64).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, approximate: str = "none") -> np.ndarray:
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (a + 0.044715 * a**3)
            t = np.tanh(inner)
            ctx.tanh = t
            return 0.5 * a * (1 + t)
        cdf = np.asarray(0.5 * (1.0 + _erf(a / math.sqrt(2.0))), dtype=a.dtype)
        ctx.cdf = cdf
        return a * cdf

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        (a,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ctx.tanh
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
            return grad * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * d_inner)
        pdf = np.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)
        return grad * (ctx.cdf + a * pdf)


# ----------------------------------------------------------------------------- functional forms
add = Add.apply
sub = Sub.apply
mul = Mul.apply
div = Div.apply
neg = Neg.apply
exp = Exp.apply
log = Log.apply
sqrt = Sqrt.apply
abs = Abs.apply
tanh = Tanh.apply
sigmoid = Sigmoid.apply
relu = Relu.apply
softplus = Softplus.apply

GELU_APPROXIMATIONS = ("none", "tanh")


def pow(a: Any, b: Any) -> Tensor:
    """a ** b. A number exponent is a constant (``PowConst``); a tensor exponent gets the gradient z ln(a)."""
    if isinstance(a, Tensor) and isinstance(b, (int, float)) and is_real(b):  # np.float64 is a float
        return PowConst.apply(a, exponent=b)
    return Pow.apply(a, b)


def gelu(a: Any, approximate: str = "none") -> Tensor:
    """a Φ(a) elementwise; ``approximate`` is ``"none"`` (exact, erf) or ``"tanh"``.

    Raises
    ------
    TypeError
        If ``approximate`` is not a string.
    ValueError
        For another ``approximate``.
    """
    if approximate not in GELU_APPROXIMATIONS:
        check_choice("gelu", "approximate", approximate, GELU_APPROXIMATIONS)
    return Gelu.apply(a, approximate=approximate)
