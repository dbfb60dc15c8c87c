"""Pooling layers on NHWC images: ``MaxPool2d``, ``AvgPool2d`` and ``GlobalAvgPool2d``."""

from __future__ import annotations

from typing import Any

from ..ops.conv import pair
from ..ops.pool import avg_pool2d, max_pool2d
from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = ["AvgPool2d", "GlobalAvgPool2d", "MaxPool2d"]


class _Pool2d(Module):
    """What the two windowed pools share: ``kernel_size`` and ``stride`` (default: the kernel size),
    checked at construction and kept as pairs."""

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = pair(kernel_size, owner, "kernel_size", minimum=1)
        self.stride = self.kernel_size if stride is None else pair(stride, owner, "stride", minimum=1)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """Max pooling of NHWC ``x`` over ``kernel_size`` windows every ``stride`` pixels (no padding):
    ``(N, H, W, C) -> (N, (H - kh) // sh + 1, (W - kw) // sw + 1, C)``. The gradient goes to each
    window's first maximum (see :func:`tinynet.nn.functional.max_pool2d`).

    Raises
    ------
    TypeError, ValueError
        For a kernel size or stride that is not a positive int or pair of them; in forward, for an
        input that is not 4-D or smaller than the kernel.
    """

    def forward(self, x: Any) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride)


class AvgPool2d(_Pool2d):
    """Average pooling of NHWC ``x`` over ``kernel_size`` windows every ``stride`` pixels (no
    padding): ``(N, H, W, C) -> (N, (H - kh) // sh + 1, (W - kw) // sw + 1, C)``.

    Raises
    ------
    TypeError, ValueError
        As :class:`MaxPool2d`.
    """

    def forward(self, x: Any) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride)


class GlobalAvgPool2d(Module):
    """The mean of NHWC ``x`` over height and width: ``(N, H, W, C) -> (N, C)``,
    ``y[n, c] = (1 / (H·W)) Σ_{h, w} x[n, h, w, c]``.

    Raises
    ------
    ValueError
        If the input is not 4-D.
    """

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 4:
            raise ValueError(
                f"GlobalAvgPool2d: input must be 4-D NHWC (batch, height, width, channels), got shape "
                f"{x.shape}"
            )
        return x.mean(axis=(1, 2))
