"""``Linear``: the fully connected layer ``y = x @ W + b``, with ``W`` of shape (in_features,
out_features)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_int
from ..ops.elementwise import relu
from ..ops.linear import Linear as LinearOp
from ..ops.linear import LinearRelu, linear
from ..tensor import Tensor
from .activation import ReLU
from .layer import WeightLayer
from .sequential import FUSED_PAIRS

__all__ = ["Linear"]


class Linear(WeightLayer):
    """Fully connected layer: ``y = x @ W + b``.

    ``W`` (``weight``) has shape ``(in_features, out_features)`` — the transpose of PyTorch's
    layout, as in the classic numpy formulation — and ``b`` (``bias``) shape ``(out_features,)``.
    ``x`` has shape ``(..., in_features)``; ``y`` has shape ``(..., out_features)``.

    A *layer* in the sense of :mod:`tinynet.init`: it declares its fans with :meth:`fans` and keeps
    the initializers it used in ``weight_init`` and ``bias_init``.

    Parameters
    ----------
    in_features, out_features
        Sizes of the input and output features (positive ints).
    bias
        Whether to learn an additive bias (``bias`` is None otherwise).
    weight_init, bias_init
        Any spec :func:`tinynet.init.get` accepts: a name (``"he_normal"``), a spec string
        (``"normal(std=0.1)"``), an Initializer or a callable ``(shape, *, fan_in, fan_out, rng,
        dtype)``. Both are called with fan_in = in_features and fan_out = out_features.
    dtype
        Parameter dtype; None means :func:`tinynet.get_default_dtype` at construction.
    rng
        Generator, int seed, or None for the default Generator (``tn.manual_seed``): the weight is
        drawn first, then the bias.

    Raises
    ------
    TypeError, ValueError
        For non-positive or non-integer sizes, or an unknown initializer spec.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        weight_init: Any = "xavier_uniform",
        bias_init: Any = "zeros",
        *,
        dtype: Any = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int("Linear", "in_features", in_features, minimum=1)
        self.out_features = check_int("Linear", "out_features", out_features, minimum=1)
        self._make_parameters((self.in_features, self.out_features), bias, weight_init, bias_init, dtype, rng)

    def fans(self) -> tuple[int, int]:
        """``(fan_in, fan_out) = (in_features, out_features)``."""
        return self.in_features, self.out_features

    def _name(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"

    def forward(self, x: Any) -> Tensor:
        """``x @ W + b`` for ``x`` of shape (..., in_features): a Tensor, or an array (converted to
        the layer's dtype).

        Raises
        ------
        ValueError
            If the last dimension of ``x`` is not ``in_features``, naming both.
        TypeError
            If ``x`` is a Tensor of the other float dtype (no silent float32/float64 promotion).
        """
        return self._forward(x, LinearOp)

    def _forward_relu(self, x: Any) -> Tensor:
        """``relu(self(x))`` as one :class:`~tinynet.ops.linear.LinearRelu` op (the same bits): how
        ``nn.Sequential`` runs a Linear directly followed by a ReLU. Raises as :meth:`forward`."""
        return self._forward(x, LinearRelu)

    def _forward(self, x: Any, op: type[LinearOp] | type[LinearRelu]) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x, dtype=self.weight.data.dtype))
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            got = (
                "is 0-d"
                if not shape
                else f"has {shape[-1]} features in its last dimension (shape {shape})"
            )
            raise ValueError(f"{self._name()}: input {got}, expected {self.in_features}")
        weight, bias = self.weight, self.bias
        # Fast path for the common case (a Tensor of the weight's dtype, parameters of the shapes this
        # layer made): skips linear()'s operand conversion, which costs as much as the op at small batch.
        dtype = weight.data.dtype
        if (
            x.data.dtype == dtype
            and weight.data.shape == (self.in_features, self.out_features)
            and (bias is None or (bias.data.shape == (self.out_features,) and bias.data.dtype == dtype))
        ):
            return op.apply(x, weight) if bias is None else op.apply(x, weight, bias)
        out = linear(x, weight, bias)
        return out if op is LinearOp else relu(out)

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.out_features}, "
        text += f"bias={self.bias is not None}, weight_init={self.weight_init!r}"
        if self.bias is not None:
            text += f", bias_init={self.bias_init!r}"
        return text


FUSED_PAIRS[Linear, ReLU] = Linear._forward_relu
