"""Neural-network building blocks. ``tinynet.nn.functional`` holds the stateless functions."""

from . import functional

__all__ = ["functional"]
