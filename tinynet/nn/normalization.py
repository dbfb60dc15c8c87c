"""Normalization layers, composed from engine ops so that gradients flow through the statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_int, check_real, is_int
from ..tensor import Tensor, as_tensor, get_default_dtype
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "LayerNorm", "batch_norm", "layer_norm"]


def _normalize(
    x: Tensor, axes: tuple[int, ...], eps: float
) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """(x - mean) / sqrt(var + eps) over ``axes`` with the biased variance; also mean and var
    arrays."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered / (var + eps).sqrt(), mean.data, var.data


def batch_norm(
    x: Any,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    num_batches_tracked: np.ndarray | None = None,
) -> Tensor:
    """Batch normalization of ``x`` of shape (N, C) or (N, C, L), per channel C.

    Training (or no running statistics): ``y = (x - mean_B) / sqrt(var_B + eps) * weight + bias``
    with the batch mean and *biased* batch variance over N (and L); the running statistics, if
    given, are updated in place: ``r = (1 - momentum) r + momentum s`` with the *unbiased* variance
    (n / (n - 1) var_B) for ``running_var`` (``momentum=None``: cumulative average, factor
    1 / num_batches_tracked). Evaluation: the same formula with ``running_mean`` and
    ``running_var`` as constants.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D/3-D, or a training batch has a single value per channel.
    """
    x = as_tensor(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: input must have shape (N, C) or (N, C, L), got {x.shape}")
    axes = (0,) if x.ndim == 2 else (0, 2)
    stat_shape = (1, x.shape[1]) if x.ndim == 2 else (1, x.shape[1], 1)
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        n = x.shape[0] * (x.shape[2] if x.ndim == 3 else 1)
        if n < 2:
            raise ValueError(
                "batch_norm: training needs more than one value per channel, got input shape "
                f"{x.shape}"
            )
        out, mean, var = _normalize(x, axes, eps)
        if training and running_mean is not None and running_var is not None:
            if num_batches_tracked is not None:
                num_batches_tracked += 1
            if momentum is None:
                factor = (
                    1.0 / float(num_batches_tracked) if num_batches_tracked is not None else 0.0
                )
            else:
                factor = momentum
            running_mean *= 1.0 - factor
            running_mean += factor * mean.reshape(running_mean.shape)
            running_var *= 1.0 - factor
            running_var += factor * (n / (n - 1)) * var.reshape(running_var.shape)
    else:
        scale = 1.0 / np.sqrt(running_var + eps)
        out = (x - running_mean.reshape(stat_shape)) * scale.reshape(stat_shape).astype(x.dtype)
    if weight is not None:
        out = out * (weight.reshape(stat_shape) if x.ndim == 3 else weight)
    if bias is not None:
        out = out + (bias.reshape(stat_shape) if x.ndim == 3 else bias)
    return out


def layer_norm(
    x: Any,
    normalized_shape: tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dimensions of each sample:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` (biased variance; weight/bias of shape
    ``normalized_shape``).

    Raises
    ------
    ValueError
        If the trailing dimensions of ``x`` are not ``normalized_shape``.
    """
    x = as_tensor(x)
    k = len(normalized_shape)
    if tuple(x.shape[x.ndim - k :]) != tuple(normalized_shape) or x.ndim < k:
        raise ValueError(
            f"layer_norm: input shape {x.shape} does not end with normalized_shape "
            f"{tuple(normalized_shape)}"
        )
    out, _, _ = _normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


class BatchNorm1d(Module):
    """Batch normalization over a (N, C) or (N, C, L) input, per channel (Ioffe & Szegedy, 2015).

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias``. In training mode the statistics are the
    batch's, with the biased variance, and ``running_mean``/``running_var`` move towards the batch
    mean and the *unbiased* batch variance with ``momentum`` (``r = (1 - m) r + m s``, PyTorch's
    convention; ``momentum=None`` is a cumulative average). In evaluation mode the running
    statistics are used. ``weight`` starts at ones and ``bias`` at zeros (not a layer in the sense
    of ``tinynet.init``).

    Buffers (in ``state_dict``): ``running_mean`` (zeros), ``running_var`` (ones),
    ``num_batches_tracked``; all None when ``track_running_stats=False``, in which case batch
    statistics are used in both modes.

    Raises
    ------
    TypeError
        If ``num_features`` is not an int or ``eps``/``momentum`` not a real number.
    ValueError
        For a non-positive ``num_features``/``eps``, a ``momentum`` outside [0, 1], or (in forward)
        an input whose channel dimension is not ``num_features``.
    """

    #: the Monitor's probe sees what a training step sees: batch statistics (its running buffers
    #: are restored afterwards), not the running ones, which at initialization are 0 and 1
    uses_batch_statistics = True

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_features = check_int("BatchNorm1d", "num_features", num_features, minimum=1)
        if momentum is not None:  # None: cumulative average
            check_real("BatchNorm1d", "momentum", momentum, minimum=0, maximum=1)
        self.eps = check_real("BatchNorm1d", "eps", eps, minimum=0, strict_min=True)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean to 0, running variance to 1, batch count to 0."""
        if self.track_running_stats:
            self.running_mean.fill(0)
            self.running_var.fill(1)
            self.num_batches_tracked.fill(0)

    def forward(self, x: Any) -> Tensor:
        """Normalize ``x`` of shape (N, num_features) or (N, num_features, L); see the class
        docstring."""
        if not isinstance(x, Tensor):
            if self.weight is not None:
                dtype = self.weight.dtype
            elif self.running_mean is not None:
                dtype = self.running_mean.dtype
            else:
                dtype = get_default_dtype()
            x = Tensor(np.asarray(x, dtype=dtype))
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}): input must have shape "
                f"(N, {self.num_features}) or (N, {self.num_features}, L), got {x.shape}"
            )
        return batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=self.momentum,
            eps=self.eps,
            num_batches_tracked=self.num_batches_tracked,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class LayerNorm(Module):
    """Layer normalization (Ba et al., 2016) over the trailing ``normalized_shape`` dimensions.

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias``, statistics per sample over those
    dimensions (biased variance), the same in training and evaluation. ``weight`` (ones) and
    ``bias`` (zeros) have shape ``normalized_shape`` when ``elementwise_affine``.

    Raises
    ------
    TypeError
        If ``normalized_shape`` is not an int or a tuple of ints, or ``eps`` not a real number.
    ValueError
        For a non-positive size or eps, or (in forward) an input not ending with
        ``normalized_shape``.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        try:
            sizes = (
                (normalized_shape,) if is_int(normalized_shape) else tuple(normalized_shape)
            )
        except TypeError:
            sizes = (None,)
        if not all(is_int(s) for s in sizes):
            raise TypeError(
                "LayerNorm: normalized_shape must be an int or a tuple of ints, got "
                f"{normalized_shape!r}"
            )
        shape = tuple(int(s) for s in sizes)
        if not shape or any(s < 1 for s in shape):
            raise ValueError(
                f"LayerNorm: normalized_shape must be positive sizes, got {normalized_shape!r}"
            )
        self.normalized_shape = shape
        self.eps = check_real("LayerNorm", "eps", eps, minimum=0, strict_min=True)
        self.elementwise_affine = bool(elementwise_affine)
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=dtype))
            self.bias = Parameter(np.zeros(shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        """Normalize each sample of ``x`` (shape ``(..., *normalized_shape)``)."""
        if not isinstance(x, Tensor):
            dtype = self.weight.dtype if self.weight is not None else get_default_dtype()
            x = Tensor(np.asarray(x, dtype=dtype))
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
