"""Differentiable ops, grouped by kind. ``Tensor`` methods and ``nn.functional`` call these."""

from .elementwise import (
    abs,
    add,
    div,
    exp,
    gelu,
    log,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    softplus,
    sqrt,
    sub,
    tanh,
)
from .matmul import linear, matmul
from .reduce import max, mean, min, sum
from .shape import getitem, reshape, transpose
from .softmax import cross_entropy, log_softmax, softmax

__all__ = [
    "abs",
    "add",
    "cross_entropy",
    "div",
    "exp",
    "gelu",
    "getitem",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "mean",
    "min",
    "mul",
    "neg",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "softplus",
    "sqrt",
    "sub",
    "sum",
    "tanh",
    "transpose",
]
