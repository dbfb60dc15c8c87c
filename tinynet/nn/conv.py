"""``Conv2d``: the 2-D convolution layer on NHWC images, kernel of shape (kh, kw, in_channels,
out_channels)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_choice, check_int
from ..ops.conv import PADDING_MODES, conv2d, pair
from ..tensor import Tensor
from .layer import WeightLayer

__all__ = ["Conv2d"]


class Conv2d(WeightLayer):
    """2-D convolution layer: ``y = conv2d(x, W, b, stride, padding, padding_mode)``.

    ``x`` is NHWC ``(N, H, W, in_channels)``; ``W`` (``weight``) has the channels-last shape
    ``(kh, kw, in_channels, out_channels)`` (PyTorch: ``(out, in, kh, kw)``) and ``b`` (``bias``)
    shape ``(out_channels,)``; ``y`` is ``(N, Ho, Wo, out_channels)`` with
    ``Ho = (H + 2 ph - kh) // sh + 1``. See :func:`tinynet.nn.functional.conv2d`.

    A *layer* in the sense of :mod:`tinynet.init`: it declares its fans, ``(kh·kw·in_channels,
    kh·kw·out_channels)``, with :meth:`fans` and keeps the initializers it used in ``weight_init``
    and ``bias_init``, exactly as :class:`tinynet.nn.Linear` does.

    Parameters
    ----------
    in_channels, out_channels
        Channels of the input and output (positive ints).
    kernel_size
        An int or a pair ``(kh, kw)``.
    stride
        An int or a pair, each >= 1.
    padding
        An int or a pair ``(ph, pw)`` >= 0, or ``"same"`` (odd kernels and stride 1 only).
    padding_mode
        ``"zeros"`` or ``"circular"``.
    bias
        Whether to learn an additive bias (``bias`` is None otherwise).
    weight_init, bias_init
        Any spec :func:`tinynet.init.get` accepts; both are called with the layer's fans.
    dtype
        Parameter dtype; None means :func:`tinynet.get_default_dtype` at construction.
    rng
        Generator, int seed, or None for the default Generator: the weight is drawn first, then the
        bias.

    Raises
    ------
    TypeError, ValueError
        For non-positive or non-integer sizes, an invalid stride, padding or padding_mode (including
        ``"same"`` with an even kernel or a stride), or an unknown initializer spec.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        padding_mode: str = "zeros",
        bias: bool = True,
        weight_init: Any = "xavier_uniform",
        bias_init: Any = "zeros",
        *,
        dtype: Any = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_int("Conv2d", "in_channels", in_channels, minimum=1)
        self.out_channels = check_int("Conv2d", "out_channels", out_channels, minimum=1)
        self.kernel_size = pair(kernel_size, "Conv2d", "kernel_size", minimum=1)
        self.stride = pair(stride, "Conv2d", "stride", minimum=1)
        self.padding = self._check_padding(padding)
        self.padding_mode = check_choice("Conv2d", "padding_mode", padding_mode, PADDING_MODES)
        shape = (*self.kernel_size, self.in_channels, self.out_channels)
        self._make_parameters(shape, bias, weight_init, bias_init, dtype, rng)

    def _check_padding(self, padding: Any) -> tuple[int, int] | str:
        if not isinstance(padding, str):
            return pair(padding, "Conv2d", "padding", minimum=0)
        kh, kw = self.kernel_size
        if padding != "same":
            raise ValueError(
                f"Conv2d: padding must be an int >= 0, a pair of them, or 'same', got {padding!r}"
            )
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(
                f"Conv2d: padding='same' needs an odd kernel size, got kernel_size {self.kernel_size}"
            )
        if self.stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride {self.stride}")
        return padding

    def fans(self) -> tuple[int, int]:
        """``(fan_in, fan_out) = (kh·kw·in_channels, kh·kw·out_channels)``."""
        field = self.kernel_size[0] * self.kernel_size[1]
        return field * self.in_channels, field * self.out_channels

    def _name(self) -> str:
        return f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size})"

    def forward(self, x: Any) -> Tensor:
        """The convolution of NHWC ``x`` (a Tensor, or an array converted to the layer's dtype).

        Raises
        ------
        ValueError
            If ``x`` is not 4-D with ``in_channels`` in its last dimension, naming both, or the
            kernel does not fit the padded input.
        TypeError
            If ``x`` is a Tensor of the other float dtype.
        """
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x, dtype=self.weight.data.dtype))
        shape = x.data.shape
        if len(shape) != 4 or shape[3] != self.in_channels:
            raise ValueError(
                f"{self._name()}: input must be NHWC (batch, height, width, {self.in_channels}), "
                f"got shape {shape}"
            )
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.padding_mode)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            text += f", stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        text += f", bias={self.bias is not None}, weight_init={self.weight_init!r}"
        if self.bias is not None:
            text += f", bias_init={self.bias_init!r}"
        return text
