"""``WeightLayer``: what :class:`~tinynet.nn.Linear` and :class:`~tinynet.nn.Conv2d` share, a weight
(and an optional bias) drawn by initializers with the layer's own declared fans."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import init
from .._checks import is_int
from ..tensor import get_default_dtype
from .module import Module, Parameter

__all__ = ["WeightLayer"]


class WeightLayer(Module):
    """Base of the layers that own a ``weight`` of some shape ``(..., out)`` and an optional
    ``bias`` of shape ``(out,)``, both drawn by initializer specs with the fans the subclass
    declares in :meth:`fans` (a *layer* in the sense of :mod:`tinynet.init`). The initializers
    used are kept in ``weight_init`` and ``bias_init``.
    """

    def _make_parameters(
        self, shape: tuple[int, ...], bias: bool, weight_init: Any, bias_init: Any, dtype: Any, rng: Any
    ) -> None:
        """Resolve the specs, create ``weight`` (``shape``) and ``bias`` (``shape[-1]``, or None)
        in ``dtype`` (None: the default dtype), then draw them (:meth:`reset_parameters`).

        Raises
        ------
        TypeError, ValueError
            For an unknown spec or a dtype that is not a float dtype.
        """
        self.weight_init = init.get(weight_init)
        self.bias_init = init.get(bias_init)
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: dtype must be a float dtype, got {dtype}")
        self.weight = Parameter(np.zeros(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.zeros((shape[-1],), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng)

    def fans(self) -> tuple[int, int]:
        """``(fan_in, fan_out)``; every subclass declares its own."""
        raise NotImplementedError(f"{type(self).__name__} does not declare its fans()")

    def _name(self) -> str:
        return type(self).__name__

    def _draw(self, initializer: Any, param: Parameter, rng: Any, what: str) -> None:
        dtype = param.data.dtype
        fan_in, fan_out = self.fans()
        values = np.asarray(initializer(param.shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=dtype))
        if values.shape != param.shape:
            raise ValueError(
                f"{self._name()}: {what}_init {initializer!r} returned shape {values.shape}, "
                f"expected {param.shape}"
            )
        param.data = values.astype(dtype, copy=False)

    def reset_parameters(self, rng: np.random.Generator | int | None = None) -> None:
        """Redraw ``weight`` (then ``bias``) from ``weight_init`` (then ``bias_init``) with this
        layer's fans, in place of their data: the Parameter objects stay the same, so an optimizer
        holding them keeps working. An int ``rng`` seeds one stream for both draws."""
        if is_int(rng):
            rng = np.random.default_rng(int(rng))  # one stream for both draws
        self._draw(self.weight_init, self.weight, rng, "weight")
        if self.bias is not None:
            self._draw(self.bias_init, self.bias, rng, "bias")
