"""Neural-network building blocks: modules, layers (dense and convolutional), pooling, residual
blocks, activations, normalization, losses.

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
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import LoadResult, Module, Parameter, RemovableHandle
from .normalization import BatchNorm1d, LayerNorm
from .pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from .residual import Residual
from .sequential import Sequential

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "SELU",
    "Activation",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2d",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LoadResult",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "RemovableHandle",
    "Residual",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "functional",
    "make_activation",
    "utils",
]
