"""Neural-network building blocks: modules, layers, activations, normalization, losses.

``tinynet.nn.functional`` holds the stateless functions; ``tinynet.nn.utils`` gradient clipping.
"""

from . import functional, utils
from .activation import (
    ACTIVATIONS,
    ELU,
    GELU,
    SELU,
    Activation,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Tanh,
    make_activation,
)
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import LoadResult, Module, Parameter, RemovableHandle, Sequential
from .normalization import BatchNorm1d, LayerNorm

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "SELU",
    "Activation",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LoadResult",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "RemovableHandle",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "functional",
    "make_activation",
    "utils",
]
