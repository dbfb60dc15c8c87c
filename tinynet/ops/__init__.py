"""Differentiable ops, grouped by kind: one small class each, offered as a one-line alias of its ``apply``
(``exp = Exp.apply``) or, where Python-level arguments need normalising, a small function. ``Tensor``'s
operators and methods and ``nn.functional`` bind these same objects."""

from .conv import conv2d
from .cross_entropy import cross_entropy
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
from .linear import linear
from .matmul import matmul
from .pool import avg_pool2d, max_pool2d
from .reduce import max, mean, min, sum
from .shape import getitem, reshape, transpose
from .softmax import log_softmax, softmax

__all__ = [
    "abs",
    "add",
    "avg_pool2d",
    "conv2d",
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
    "max_pool2d",
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
