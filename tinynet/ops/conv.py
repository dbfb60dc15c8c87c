"""2-D convolution on NHWC images as one GEMM over strided windows (im2col), and its col2im backward.

Images are ``(N, H, W, C)`` and kernels channels-last ``(kh, kw, C_in, C_out)``. The forward pads the
input, views every ``kh x kw x C_in`` window at once through
:func:`numpy.lib.stride_tricks.sliding_window_view` (no loop over pixels), copies that view once into a
``(N·Ho·Wo, kh·kw·C_in)`` matrix and multiplies it by the kernel seen as ``(kh·kw·C_in, C_out)``. The
backward is two matrix products and a scatter-add that loops over the ``kh·kw`` kernel taps only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import check_choice, is_int
from ..function import Context, Function
from ..tensor import Tensor, as_tensor
from .common import operands

__all__ = ["PADDING_MODES", "Conv2d", "conv2d", "pair", "windows"]

#: the valid ``padding_mode`` values of :func:`conv2d`
PADDING_MODES = ("zeros", "circular")


def pair(value: Any, owner: str, name: str, minimum: int) -> tuple[int, int]:
    """``value`` (an int or a pair of ints, each ``>= minimum``) as a pair of Python ints.

    Raises
    ------
    TypeError
        If ``value`` is not an int or a pair of ints.
    ValueError
        If an entry is below ``minimum``.
    """
    items = (value, value) if is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != 2 or not all(is_int(v) for v in items):
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Every ``kh x kw`` window of NHWC ``x`` taken every ``stride`` pixels, as a read-only view of
    shape ``(N, Ho, Wo, C, kh, kw)`` with ``Ho = (H - kh) // sh + 1`` (and the same for W)."""
    view = sliding_window_view(x, kernel, axis=(1, 2))
    sh, sw = stride
    return view if sh == sw == 1 else view[:, ::sh, ::sw]


def _side(axis: int, part: slice) -> tuple[slice, ...]:
    """An index selecting ``part`` along ``axis`` (everything along the axes before it)."""
    return (slice(None),) * axis + (part,)


def _pad(x: np.ndarray, ph: int, pw: int, mode: str) -> np.ndarray:
    """``x`` with ``ph`` rows above and below and ``pw`` columns left and right: zeros, or the rows and
    columns of the opposite side (``circular``, for ``ph <= H`` and ``pw <= W``)."""
    if ph == pw == 0:
        return x
    n, h, w, c = x.shape
    out = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    out[:, ph : ph + h, pw : pw + w] = x
    if mode == "circular":
        # Rows first, then columns over every row, so that the corners wrap in both directions.
        for axis, p, size in ((1, ph, h), (2, pw, w)):
            if p:
                out[_side(axis, slice(0, p))] = out[_side(axis, slice(size, size + p))]
                out[_side(axis, slice(p + size, None))] = out[_side(axis, slice(p, 2 * p))]
    return out


def _unpad(grad: np.ndarray, ph: int, pw: int, shape: tuple[int, ...], mode: str) -> np.ndarray:
    """The adjoint of :func:`_pad`: crop the border (zeros) or add it back onto the side it was copied
    from (circular: columns first, then rows, the reverse of the forward order)."""
    if ph == pw == 0:
        return grad
    h, w = shape[1], shape[2]
    if mode == "circular":
        for axis, p, size in ((2, pw, w), (1, ph, h)):
            if p:
                grad[_side(axis, slice(size, size + p))] += grad[_side(axis, slice(0, p))]
                grad[_side(axis, slice(p, 2 * p))] += grad[_side(axis, slice(p + size, None))]
    return grad[:, ph : ph + h, pw : pw + w]


class Conv2d(Function):
    """y = conv(x, W) + b for NHWC ``x`` (N, H, W, C_in), ``W`` (kh, kw, C_in, C_out), ``b`` (C_out,).

    With ``xp`` the padded input and ``(sh, sw)`` the stride, for output pixel (p, q)::

        y[n, p, q, o] = Σ_{i, j, c} xp[n, p·sh + i, q·sw + j, c] · W[i, j, c, o] + b[o]

    Written as one GEMM ``Y = X_col @ W_mat`` with ``X_col`` (N·Ho·Wo, kh·kw·C_in) the windows of
    ``xp`` and ``W_mat`` (kh·kw·C_in, C_out) the kernel. Local derivatives, with ``G`` = dL/dY:

    - dL/dW = X_colᵀ @ G (one GEMM, reshaped to the kernel's shape);
    - dL/db = Σ G over n, p, q;
    - dL/dX_col = G @ W_matᵀ (one matmul, laid out tap by tap: (kh·kw, N·Ho·Wo, C_in)), scattered
      back onto ``xp``: every window position adds its row (col2im, one strided slice per kernel tap),
      so an input pixel collects Σ over every window and tap that read it; then dL/dx is that gradient
      with the padding removed (zeros: cropped; circular: the border added back onto the rows and
      columns it was copied from).

    ``forward`` takes ``stride=(sh, sw)``, ``padding=(ph, pw)`` (ints, already resolved) and
    ``padding_mode``; :func:`conv2d` checks and normalises the Python-level arguments.
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        weight: np.ndarray,
        *bias: np.ndarray,
        stride: tuple[int, int],
        padding: tuple[int, int],
        padding_mode: str,
    ) -> np.ndarray:
        kh, kw, c_in, c_out = weight.shape
        ph, pw = padding
        xp = _pad(x, ph, pw, padding_mode)
        view = windows(xp, (kh, kw), stride)
        n, ho, wo = view.shape[:3]
        # The one copy: windows laid out as rows of (kh, kw, C_in), matching the kernel's layout.
        cols = np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3)).reshape(n * ho * wo, kh * kw * c_in)
        w_mat = weight.reshape(kh * kw * c_in, c_out)
        out = cols @ w_mat
        if bias:
            out += bias[0]
        need_x, need_w = ctx.needs_input_grad[:2]
        if True in ctx.needs_input_grad:
            ctx.save_for_backward(cols if need_w else None, w_mat if need_x else None)
            ctx.geometry = (x.shape, xp.shape, (kh, kw), stride, padding, padding_mode, (ho, wo))
        return out.reshape(n, ho, wo, c_out)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        cols, w_mat = ctx.saved_tensors
        need_x, need_w, *need_b = ctx.needs_input_grad
        x_shape, xp_shape, (kh, kw), (sh, sw), (ph, pw), mode, (ho, wo) = ctx.geometry
        g = grad.reshape(-1, grad.shape[-1])
        grad_w = (cols.T @ g).reshape(kh, kw, -1, g.shape[1]) if need_w else None
        grad_x = None
        if need_x:
            n, c_in = x_shape[0], x_shape[3]
            # dL/dX_col = G @ W_matᵀ as one matmul over the kernel taps, laid out tap-major
            # (kh·kw, N·Ho·Wo, C_in) so that each tap's block is contiguous for the scatter below.
            taps = w_mat.reshape(kh * kw, c_in, -1).transpose(0, 2, 1)
            dcols = np.matmul(g, taps)
            gxp = np.zeros(xp_shape, dtype=dcols.dtype)
            rows, width = sh * (ho - 1) + 1, sw * (wo - 1) + 1
            for t in range(kh * kw):  # col2im: one strided add per kernel tap, never a loop over pixels
                i, j = divmod(t, kw)
                gxp[:, i : i + rows : sh, j : j + width : sw] += dcols[t].reshape(n, ho, wo, c_in)
            grad_x = _unpad(gxp, ph, pw, x_shape, mode)
        if not need_b:
            return grad_x, grad_w
        return grad_x, grad_w, (np.add.reduce(g, axis=0) if need_b[0] else None)


def _padding(padding: Any, kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    """``padding`` (an int, a pair, or ``"same"``) resolved to ``(ph, pw)``."""
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(
                f"conv2d: padding must be an int >= 0, a pair of them, or 'same', got {padding!r}"
            )
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ValueError(
                f"conv2d: padding='same' needs an odd kernel size, got kernel {kernel[0]}x{kernel[1]}; "
                "pad explicitly (e.g. padding=(1, 1)) for an even kernel"
            )
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        return kernel[0] // 2, kernel[1] // 2
    return pair(padding, "conv2d", "padding", minimum=0)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    padding_mode: str = "zeros",
) -> Tensor:
    """2-D convolution (cross-correlation, as in every framework) of NHWC ``x`` with ``weight``.

    Parameters
    ----------
    x
        Input of shape ``(N, H, W, C_in)``.
    weight
        Kernel of shape ``(kh, kw, C_in, C_out)`` (channels-last; PyTorch's is ``(C_out, C_in, kh, kw)``).
    bias
        ``(C_out,)`` or None.
    stride
        An int or a pair ``(sh, sw)``, each >= 1.
    padding
        An int or a pair ``(ph, pw)`` of rows/columns added on each side, or ``"same"`` (odd kernels,
        stride 1: the output keeps H and W).
    padding_mode
        ``"zeros"`` or ``"circular"`` (the image wraps around; padding at most the input's size).

    Returns
    -------
    Tensor
        ``(N, Ho, Wo, C_out)`` with ``Ho = (H + 2 ph - kh) // sh + 1`` and ``Wo`` alike; the dtype of
        ``x`` and ``weight`` (which must agree, as for every binary op).

    Raises
    ------
    ValueError
        If ``x`` or ``weight`` is not 4-D, the channels differ, the bias is not ``(C_out,)``, the kernel
        is larger than the padded input, circular padding exceeds the input, or an option is invalid
        (``"same"`` with an even kernel or a stride, an unknown padding string or ``padding_mode``).
    TypeError
        For a stride or padding that is not an int or a pair of ints, or float dtypes that differ.
    """
    if not isinstance(x, Tensor) and not isinstance(weight, Tensor):
        x = as_tensor(x)  # two arrays: the input's dtype decides, as a Tensor input's would
    x, w = operands(x, weight, "conv2d")
    if x.ndim != 4:
        raise ValueError(
            f"conv2d: input must be 4-D NHWC (batch, height, width, channels), got shape {x.shape}"
        )
    if w.ndim != 4:
        raise ValueError(
            f"conv2d: weight must be 4-D (kh, kw, in_channels, out_channels), got shape {w.shape}"
        )
    if x.shape[3] != w.shape[2]:
        raise ValueError(
            f"conv2d: input has {x.shape[3]} channels (shape {x.shape}) but the weight expects "
            f"{w.shape[2]} (weight shape {w.shape}, layout (kh, kw, in, out))"
        )
    check_choice("conv2d", "padding_mode", padding_mode, PADDING_MODES)
    strides = pair(stride, "conv2d", "stride", minimum=1)
    kernel = (int(w.shape[0]), int(w.shape[1]))
    ph, pw = _padding(padding, kernel, strides)
    h, wd = x.shape[1], x.shape[2]
    if padding_mode == "circular" and (ph > h or pw > wd):
        raise ValueError(
            f"conv2d: circular padding {(ph, pw)} must not exceed the input's height and width "
            f"{(h, wd)} (input shape {x.shape})"
        )
    if kernel[0] > h + 2 * ph or kernel[1] > wd + 2 * pw:
        raise ValueError(
            f"conv2d: kernel {kernel[0]}x{kernel[1]} is larger than the padded input "
            f"{h + 2 * ph}x{wd + 2 * pw} (input shape {x.shape}, padding {(ph, pw)})"
        )
    options = {"stride": strides, "padding": (ph, pw), "padding_mode": padding_mode}
    if bias is None:
        return Conv2d.apply(x, w, **options)
    _, b = operands(w, bias, "conv2d")
    if b.shape != (w.shape[3],):
        raise ValueError(f"conv2d: bias has shape {b.shape}, expected ({w.shape[3]},) (out channels)")
    return Conv2d.apply(x, w, b, **options)
