"""The networks a run can train, by name (``Config.arch``, ``--arch``): an MLP, a small plain CNN,
a deep plain CNN without pooling, a residual MLP and a small residual CNN. Every builder returns an
*uninitialized* model; :func:`build_model` then initializes it with ``tinynet.init.apply``, so every
init scheme, preset, gain and LSUV works on every architecture (layers are found by their declared
fans).

``depth`` and ``width`` mean, per architecture:

============  ==============================================  ======================================
name          ``depth``                                       ``width``
============  ==============================================  ======================================
``mlp``       hidden layers ``Linear(·, width), act``         units per hidden layer
``cnn``       3×3 "same" conv layers (2×2 max-pool after the  channels of every conv layer
              first two), then ``Flatten, Linear(·, C)``
``plaincnn``  3×3 conv layers with circular padding, no       channels (after a 3×3 stride-2 stem
              pooling (Xiao et al. 2018), between the stem    conv to 14×14 on 28×28 digits, ``act``)
              and global average pooling, then ``Linear``
``resmlp``    residual blocks ``x + Linear(act(Linear(x)))``  units (after ``Linear(in, width), act``)
              between an input layer and ``Linear(width, C)``
``resnet``    residual blocks ``x + Conv(act(Conv(x)))``      channels (after a 3×3 stride-2 stem
              (3×3 "same") between the stem and global        conv to 14×14 on 28×28 digits, ``act``)
              average pooling, then ``Linear(width, C)``
============  ==============================================  ======================================

The convolutional networks take NHWC images (``Dataset.as_images``); the MLPs take flat vectors.
``norm`` (``Config.norm``, ``--norm``) puts a normalization layer between every hidden ``Linear``
of an ``mlp`` and its activation: ``nn.BatchNorm1d(width)`` (batch statistics in training, running
ones in evaluation) or ``nn.LayerNorm(width)`` (per example); neither is a layer in the sense of
``tinynet.init`` (they start at weight 1, bias 0 whatever the scheme).
A residual branch's output is added to its input unactivated and the sum goes on as it is (no
activation after the addition), so a block is exactly ``nn.Residual(branch)`` and ``init.fixup``
applies unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import init as tinit
from .. import nn
from .._checks import check_int, unknown_choice
from ..nn.activation import make_activation

__all__ = [
    "ARCHITECTURES", "CONV_ARCHITECTURES", "DEFAULT_SIZES", "NORMS", "NORM_ARCHITECTURES", "RESIDUAL_INITS",
    "build_model", "needs_images",
]  # fmt: skip

#: the architectures of :func:`build_model`, and those that take NHWC images
ARCHITECTURES = ("mlp", "cnn", "plaincnn", "resmlp", "resnet")
CONV_ARCHITECTURES = ("cnn", "plaincnn", "resnet")
#: ``(depth, width)`` the examples use for an architecture when ``--depth``/``--width`` are not
#: given (an MLP takes the example's own defaults): small enough to train in seconds per epoch
DEFAULT_SIZES: dict[str, tuple[int, int]] = {
    "cnn": (2, 16), "plaincnn": (8, 8), "resmlp": (4, 128), "resnet": (3, 16),
}  # fmt: skip
#: how the residual architectures may start their blocks (``Config.residual``): ``"fixup"`` runs
#: :func:`tinynet.init.fixup` after the init scheme; ``"rezero"`` builds every block as
#: ``nn.Residual(branch, scale=0.0)`` (ReZero; SkipInit's zero-initialized scalar is the same)
RESIDUAL_INITS = ("fixup", "rezero")
#: the normalization layers ``norm`` may insert before every hidden activation, and where
NORMS = ("batchnorm", "layernorm")
NORM_ARCHITECTURES = ("mlp",)


def needs_images(arch: str) -> bool:
    """True for an architecture whose input is NHWC images rather than flat vectors."""
    return arch in CONV_ARCHITECTURES


def _norm(norm: str | None, width: int) -> list[Any]:
    """The normalization layer ``norm`` names, as a list of zero or one module."""
    if norm is None:
        return []
    return [nn.BatchNorm1d(width) if norm == "batchnorm" else nn.LayerNorm(width)]


def _mlp(
    in_shape: Sequence[int], n_classes: int, depth: int, width: int, activation: str, norm: str | None = None
) -> Any:
    modules: list[Any] = []
    fan_in = math.prod(in_shape)
    for _ in range(depth):
        modules += [nn.Linear(fan_in, width), *_norm(norm, width), make_activation(activation)]
        fan_in = width
    modules.append(nn.Linear(fan_in, n_classes))
    return nn.Sequential(*modules)


def _cnn(in_shape: Sequence[int], n_classes: int, depth: int, width: int, activation: str) -> Any:
    height, across, channels = in_shape
    modules: list[Any] = []
    for i in range(depth):
        modules += [nn.Conv2d(channels, width, 3, padding="same"), make_activation(activation)]
        channels = width
        if i < 2 and min(height, across) >= 2:  # LeNet's two poolings: 28 -> 14 -> 7
            modules.append(nn.MaxPool2d(2))
            height, across = height // 2, across // 2
    modules += [nn.Flatten(), nn.Linear(height * across * channels, n_classes)]
    return nn.Sequential(*modules)


def _plaincnn(in_shape: Sequence[int], n_classes: int, depth: int, width: int, activation: str) -> Any:
    channels = in_shape[-1]
    modules: list[Any] = [nn.Conv2d(channels, width, 3, stride=2, padding=1), make_activation(activation)]
    for _ in range(depth):
        conv = nn.Conv2d(width, width, 3, padding=1, padding_mode="circular")
        modules += [conv, make_activation(activation)]
    modules += [nn.GlobalAvgPool2d(), nn.Linear(width, n_classes)]
    return nn.Sequential(*modules)


def _resmlp(
    in_shape: Sequence[int], n_classes: int, depth: int, width: int, activation: str, scale: float | None
) -> Any:
    modules: list[Any] = [nn.Linear(math.prod(in_shape), width), make_activation(activation)]
    for _ in range(depth):
        branch = nn.Sequential(nn.Linear(width, width), make_activation(activation), nn.Linear(width, width))
        modules.append(nn.Residual(branch, scale=scale))
    modules.append(nn.Linear(width, n_classes))
    return nn.Sequential(*modules)


def _resnet(
    in_shape: Sequence[int], n_classes: int, depth: int, width: int, activation: str, scale: float | None
) -> Any:
    channels = in_shape[-1]
    modules: list[Any] = [nn.Conv2d(channels, width, 3, stride=2, padding=1), make_activation(activation)]
    for _ in range(depth):
        branch = nn.Sequential(
            nn.Conv2d(width, width, 3, padding="same"),
            make_activation(activation),
            nn.Conv2d(width, width, 3, padding="same"),
        )
        modules.append(nn.Residual(branch, scale=scale))
    modules += [nn.GlobalAvgPool2d(), nn.Linear(width, n_classes)]
    return nn.Sequential(*modules)


_BUILDERS = {"mlp": _mlp, "cnn": _cnn, "plaincnn": _plaincnn, "resmlp": _resmlp, "resnet": _resnet}


def build_model(
    arch: str,
    in_shape: Sequence[int],
    n_classes: int,
    depth: int = 2,
    width: int = 256,
    activation: str = "relu",
    init: Any = "xavier",
    bias_init: Any = "zeros",
    rng: np.random.Generator | int | None = None,
    data: Any = None,
    residual: str | None = None,
    norm: str | None = None,
) -> Any:
    """The network ``arch`` (see the module docstring), initialized by ``tinynet.init.apply(model,
    weight=init, bias=bias_init, rng=rng, data=data)``: one random stream per parameter, from the
    seed and the parameter's dotted name; then, for a residual architecture, ``residual``.

    Parameters
    ----------
    in_shape
        The shape of one example: ``(features,)`` for the MLPs (an image shape is flattened),
        ``(height, width, channels)`` for ``cnn`` and ``resnet``.
    data
        A batch of inputs of that shape, for data-dependent schemes such as ``"lsuv"``.
    residual
        None (plain blocks ``x + f(x)``), ``"fixup"`` (:func:`tinynet.init.fixup` after ``init``,
        with the same seed) or ``"rezero"`` (blocks ``x + a·f(x)``, ``a`` a learnable scalar
        starting at 0); only for ``resmlp`` and ``resnet``.
    norm
        None, ``"batchnorm"`` or ``"layernorm"``: that layer between every hidden ``Linear`` and
        its activation; only for ``mlp``.

    Raises
    ------
    ValueError
        For an unknown architecture (listing them), an input shape the architecture cannot take, a
        negative depth, sizes below 1, an unknown activation or init spec, a data-dependent init
        without ``data``, a ``residual`` that is unknown or given to a plain architecture, or a
        ``norm`` that is unknown or given to an architecture other than ``mlp``.
    """
    op = "build_model"
    if arch not in _BUILDERS:
        raise unknown_choice("arch", arch, ARCHITECTURES)
    if residual is not None:
        if residual not in RESIDUAL_INITS:
            raise unknown_choice("residual", residual, RESIDUAL_INITS)
        if not arch.startswith("res"):
            raise ValueError(
                f"{op}: residual={residual!r} needs a residual arch (resmlp, resnet), got {arch!r}"
            )
    if norm is not None:
        if norm not in NORMS:
            raise unknown_choice("norm", norm, NORMS)
        if arch not in NORM_ARCHITECTURES:
            archs = ", ".join(NORM_ARCHITECTURES)
            raise ValueError(f"{op}: norm={norm!r} is only for arch {archs}, got {arch!r}")
    shape = tuple(int(n) for n in in_shape)
    if needs_images(arch) and len(shape) != 3:
        raise ValueError(
            f"{op}: arch {arch!r} takes NHWC images, so in_shape must be (height, width, channels); "
            f"got {shape} (use Dataset.as_images)"
        )
    for name, value, low in (("n_classes", n_classes, 1), ("depth", depth, 0), ("width", width, 1)):
        check_int(op, name, value, minimum=low)
    for n in shape:
        check_int(op, "in_shape[]", n, minimum=1)
    weight_spec, bias_spec = tinit.get(init), tinit.get(bias_init)
    make_activation(activation)  # an unknown name fails before any layer is built
    if getattr(weight_spec, "data_dependent", False) and data is None:
        raise ValueError(f"{op}: init {weight_spec!r} is data-dependent; pass data=x_batch")
    if arch.startswith("res"):
        scale = 0.0 if residual == "rezero" else None
        model = _BUILDERS[arch](shape, n_classes, depth, width, activation, scale)
    elif arch == "mlp":
        model = _mlp(shape, n_classes, depth, width, activation, norm)
    else:
        model = _BUILDERS[arch](shape, n_classes, depth, width, activation)
    tinit.apply(model, weight=weight_spec, bias=bias_spec, rng=rng, data=data)
    if residual == "fixup" and depth > 0:
        tinit.fixup(model, rng=rng)
    return model
