"""Max and average pooling on NHWC images (no padding): every op loops over the kernel taps only,
each tap a strided view of the input holding that tap of every window, never over pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Context, Function
from ..tensor import Tensor, as_tensor
from .conv import pair

__all__ = ["AvgPool2d", "MaxPool2d", "avg_pool2d", "max_pool2d"]


def _taps(shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int]) -> list[tuple]:
    """For each kernel tap (i, j), in row-major order, the index of the pixels it reads in every
    window: a strided slice of an NHWC array of ``shape``, of the output's shape (N, Ho, Wo, C)."""
    (kh, kw), (sh, sw) = kernel, stride
    ho, wo = (shape[1] - kh) // sh + 1, (shape[2] - kw) // sw + 1
    rows, cols = sh * (ho - 1) + 1, sw * (wo - 1) + 1
    return [
        (slice(None), slice(i, i + rows, sh), slice(j, j + cols, sw))
        for i in range(kh)
        for j in range(kw)
    ]


def _scatter(
    shape: tuple[int, ...],
    dtype: np.dtype,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    tap_grad: Any,
) -> np.ndarray:
    """A zero array of ``shape`` to which every kernel tap ``t`` adds ``tap_grad(t)`` (N, Ho, Wo, C)
    at the pixels that tap read: one strided add per tap, accumulating where windows overlap."""
    out = np.zeros(shape, dtype=dtype)
    for t, tap in enumerate(_taps(shape, kernel, stride)):
        out[tap] += tap_grad(t)
    return out


class MaxPool2d(Function):
    """y[n, p, q, c] = max_{i < kh, j < kw} x[n, p·sh + i, q·sw + j, c].

    Local derivative: dy/dx is 1 at the window's maximum and 0 elsewhere, so the gradient of each
    output goes to the argmax of its window; where windows overlap (stride < kernel) an input pixel
    that is the maximum of several windows collects the sum of their gradients. At a tie the *first*
    maximum in row-major order of the window (smallest i, then smallest j) receives all of it, as
    numpy's argmax would choose (a subgradient). A NaN in a window makes its output NaN.
    """

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]
    ) -> np.ndarray:
        # One pass per kernel tap over the output, branch-free (masks of random data make branchy
        # selects and argmax along a short axis several times slower): a later tap t takes over where
        # it is strictly larger, so ties keep the first, and since t grows, max(index, t·larger) is
        # the index of the maximum so far. np.maximum propagates NaN into the output.
        taps = _taps(x.shape, kernel, stride)
        best = x[taps[0]].copy()
        index = np.zeros(best.shape, dtype=np.min_scalar_type(len(taps) - 1))
        larger = np.empty(best.shape, dtype=bool)
        for t in range(1, len(taps)):
            tap = x[taps[t]]
            np.greater(tap, best, out=larger)
            np.maximum(best, tap, out=best)
            np.maximum(index, np.multiply(larger, index.dtype.type(t)), out=index)
        if ctx.needs_input_grad[0]:
            ctx.index, ctx.shape, ctx.dtype = index, x.shape, x.dtype
            ctx.kernel, ctx.stride = kernel, stride
        return best

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        index = ctx.index
        return _scatter(ctx.shape, ctx.dtype, ctx.kernel, ctx.stride, lambda t: grad * (index == t))


class AvgPool2d(Function):
    """y[n, p, q, c] = (1 / (kh·kw)) Σ_{i < kh, j < kw} x[n, p·sh + i, q·sw + j, c].

    Local derivative: dy/dx = 1 / (kh·kw) for every pixel of the window, so each pixel receives the
    sum over the windows that contain it of their gradient divided by kh·kw.
    """

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]
    ) -> np.ndarray:
        ctx.shape, ctx.dtype, ctx.kernel, ctx.stride = x.shape, x.dtype, kernel, stride
        taps = _taps(x.shape, kernel, stride)
        total = x[taps[0]].astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=True)
        for tap in taps[1:]:
            total += x[tap]
        total *= total.dtype.type(1.0 / len(taps))
        return total

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        share = grad * grad.dtype.type(1.0 / (ctx.kernel[0] * ctx.kernel[1]))
        return _scatter(ctx.shape, ctx.dtype, ctx.kernel, ctx.stride, lambda t: share)


def _arguments(x: Any, kernel_size: Any, stride: Any, op: str) -> tuple[Tensor, dict[str, Any]]:
    x = as_tensor(x)
    kernel = pair(kernel_size, op, "kernel_size", minimum=1)
    strides = kernel if stride is None else pair(stride, op, "stride", minimum=1)
    if x.ndim != 4:
        raise ValueError(
            f"{op}: input must be 4-D NHWC (batch, height, width, channels), got shape {x.shape}"
        )
    if kernel[0] > x.shape[1] or kernel[1] > x.shape[2]:
        raise ValueError(
            f"{op}: kernel {kernel[0]}x{kernel[1]} is larger than the input's height and width "
            f"{x.shape[1]}x{x.shape[2]} (input shape {x.shape}; pooling does not pad)"
        )
    return x, {"kernel": kernel, "stride": strides}


def max_pool2d(
    x: Any, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
) -> Tensor:
    """Max pooling of NHWC ``x`` (N, H, W, C) over ``kernel_size`` windows every ``stride`` pixels.

    ``stride`` defaults to ``kernel_size``; there is no padding, and rows or columns that do not fill
    a window are dropped: ``Ho = (H - kh) // sh + 1``. The output ``(N, Ho, Wo, C)`` has ``x``'s dtype.
    The gradient goes to each window's first maximum (see :class:`MaxPool2d`).

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, the kernel is larger than the input, or a size is below 1.
    TypeError
        If ``kernel_size`` or ``stride`` is not an int or a pair of ints.
    """
    x, options = _arguments(x, kernel_size, stride, "max_pool2d")
    return MaxPool2d.apply(x, **options)


def avg_pool2d(
    x: Any, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
) -> Tensor:
    """Average pooling of NHWC ``x`` (N, H, W, C) over ``kernel_size`` windows every ``stride`` pixels.

    ``stride`` defaults to ``kernel_size``; no padding (``Ho = (H - kh) // sh + 1``). The output
    ``(N, Ho, Wo, C)`` has ``x``'s dtype.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, the kernel is larger than the input, or a size is below 1.
    TypeError
        If ``kernel_size`` or ``stride`` is not an int or a pair of ints.
    """
    x, options = _arguments(x, kernel_size, stride, "avg_pool2d")
    return AvgPool2d.apply(x, **options)
