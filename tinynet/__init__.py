"""tinynet: a small, exact reverse-mode autograd framework on numpy, where weight initialization is a
first-class, pluggable strategy.

>>> import numpy as np, tinynet as tn
>>> x = tn.tensor(np.ones((4, 3)), requires_grad=True)
>>> (x * 2 + 1).tanh().sum().backward()
"""

# tensor must come before function: tensor.py imports the ops, whose module imports function.
# isort: off
from ._version import __version__
from .tensor import Tensor, get_default_dtype, set_default_dtype, tensor
from .function import Function, enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .random import default_generator, manual_seed
from . import ops
from .serialization import load, save

# isort: on

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "__version__",
    "default_generator",
    "enable_grad",
    "get_default_dtype",
    "gradcheck",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "no_grad",
    "ops",
    "save",
    "set_default_dtype",
    "tensor",
]


def __getattr__(name: str) -> object:
    """Import the larger submodules on first use, so that ``import tinynet`` stays fast."""
    import importlib

    if name in {"nn", "optim", "init", "data", "diagnostics", "training", "plotting", "experiments"}:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tinynet' has no attribute {name!r}")
