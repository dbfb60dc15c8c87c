"""What defines one run: :class:`Config` (the command-line flags of ``examples/train.py``), its
validation, the named optimizers and datasets, and the one-line description of a run."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .. import init
from .._checks import closest, is_int, unknown_choice
from .._text import format_bytes, plural
from ..nn.activation import ACTIVATIONS
from .architectures import ARCHITECTURES, NORM_ARCHITECTURES, NORMS, RESIDUAL_INITS

if TYPE_CHECKING:
    from .build import Dataset

__all__ = [
    "DATASETS",
    "DEFAULT_LR",
    "LAYER_OVERHEAD",
    "MEMORY_LIMIT_ENV",
    "OPTIMIZERS",
    "SYNTHETIC_TEST",
    "SYNTHETIC_TRAIN",
    "Config",
    "ConfigError",
    "architecture",
    "check_memory",
    "describe",
    "memory_limit",
    "mlp_memory",
    "validate",
]

#: ``--optimizer`` names → ``tinynet.optim`` class names
OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
}
#: default learning rate per optimizer (SGD's assumes momentum 0.9)
DEFAULT_LR: dict[str, float] = {
    "sgd": 0.02,
    "adam": 1e-3,
    "adamw": 1e-3,
    "rmsprop": 1e-3,
    "adagrad": 1e-2,
}
#: named datasets; anything else is a path (a folder of IDX files or an .npz)
DATASETS = ("synthetic", "mnist", "fashion", "kmnist")
#: size of the built-in synthetic set used by default (MNIST's split)
SYNTHETIC_TRAIN, SYNTHETIC_TEST = 60_000, 10_000
#: environment variable capping the memory a run may plan to hold: bytes, or a number with a K, M, G
#: or T suffix (binary units); ``none`` turns the check off. Default: half the physical memory
MEMORY_LIMIT_ENV = "TINYNET_MEMORY_LIMIT"
#: bytes of Python objects per hidden layer (two modules, their Parameters, the graph nodes of a
#: step): about 4.7 KB measured on CPython 3.11, doubled for the Monitor's hooks and records
LAYER_OVERHEAD = 8192
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass
class Config:
    """Everything that defines one run of ``examples/train.py`` (the command-line flags)."""

    init: str = "xavier"
    bias_init: str = "zeros"
    activation: str = "relu"
    depth: int = 2
    width: int = 256
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float | None = None
    batch_size: int = 64
    epochs: int = 3
    seed: int = 0
    data: str = "synthetic"
    download: bool = False
    limit: int | None = None
    probe_size: int = 512
    #: None, or a parametrization of :func:`tinynet.init.parametrize` ("sp", "ntk", "mup", ...):
    #: it then re-initializes the weights (``init`` is ignored) and sets each layer's ``lr_mult``
    parametrization: str | None = None
    #: the width at which the parametrization equals SP (None: ``width``)
    base_width: int | None = None
    #: the network: "mlp", "cnn", "resmlp" or "resnet" (:mod:`tinynet.experiments.architectures`;
    #: ``depth`` and ``width`` mean layers and units, conv layers or blocks and channels)
    arch: str = "mlp"
    #: None, or how a residual arch starts its blocks: "fixup" (``init.fixup`` after ``init``) or
    #: "rezero" (``nn.Residual(scale=0.0)``)
    residual: str | None = None
    #: None, or a normalization layer before every hidden activation of an ``mlp``: "batchnorm"
    #: (``nn.BatchNorm1d``) or "layernorm" (``nn.LayerNorm``)
    norm: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


class ConfigError(ValueError):
    """A bad :class:`Config` field; ``field`` names it (``"init"``, ``"batch_size"``, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


def validate(config: Config) -> Config:
    """Check every field of ``config`` before anything is loaded or built; returns it unchanged.

    Init specs go through ``tinynet.init.get`` (whose message lists the valid names and the closest
    match); activation, optimizer and data names are checked against ``tinynet.nn.ACTIVATIONS``,
    :data:`OPTIMIZERS` and :data:`DATASETS` (or an existing path); sizes must be in range.

    Raises
    ------
    ConfigError
        For the first bad field, naming it.
    """
    for name in ("init", "bias_init"):
        try:
            init.get(getattr(config, name))
        except (ValueError, TypeError) as error:
            raise ConfigError(name, str(error)) from None
    checks = (
        ("arch", config.arch, ARCHITECTURES),
        ("activation", config.activation, tuple(ACTIVATIONS)),
        ("optimizer", config.optimizer, tuple(OPTIMIZERS)),
    )
    for name, value, valid in checks:
        if value not in valid:
            raise ConfigError(name, str(unknown_choice(name, value, valid)))
    if config.residual is not None:
        if config.residual not in RESIDUAL_INITS:
            raise ConfigError("residual", str(unknown_choice("residual", config.residual, RESIDUAL_INITS)))
        if not config.arch.startswith("res"):
            raise ConfigError("residual", f"needs a residual arch (resmlp, resnet), got arch {config.arch!r}")
    if config.norm is not None:
        if config.norm not in NORMS:
            raise ConfigError("norm", str(unknown_choice("norm", config.norm, NORMS)))
        if config.arch not in NORM_ARCHITECTURES:
            archs = ", ".join(NORM_ARCHITECTURES)
            raise ConfigError("norm", f"is only for arch {archs}, got arch {config.arch!r}")
    if config.data not in DATASETS and not os.path.exists(config.data):
        hint = closest(config.data, DATASETS)
        text = f"{config.data!r} is neither one of {', '.join(DATASETS)} nor an existing path"
        raise ConfigError("data", text + (f" (closest match: {hint!r})" if hint else ""))
    for name, low in (("depth", 0), ("width", 1), ("batch_size", 1), ("epochs", 0),
                      ("probe_size", 1), ("limit", 1), ("seed", 0)):  # fmt: skip
        value = getattr(config, name)
        if value is None and name == "limit":
            continue
        if not is_int(value) or value < low:
            raise ConfigError(name, f"must be an int >= {low}, got {value!r}")
    check_memory(config)
    if config.parametrization is not None and config.parametrization not in init.parametrization_names():
        raise ConfigError(
            "parametrization",
            str(unknown_choice("parametrization", config.parametrization, init.parametrization_names())),
        )
    if config.base_width is not None:
        if config.parametrization is None:
            raise ConfigError("base_width", "needs a parametrization (sp, ntk, mup, ...)")
        if not is_int(config.base_width) or config.base_width < 1:
            raise ConfigError("base_width", f"must be an int >= 1, got {config.base_width!r}")
    if config.lr is not None and not (math.isfinite(config.lr) and config.lr > 0):
        raise ConfigError("lr", f"must be a positive number, got {config.lr!r}")
    if config.momentum is not None:
        if not 0 <= config.momentum < 1:
            raise ConfigError("momentum", f"must be in [0, 1), got {config.momentum!r}")
        if config.momentum and config.optimizer not in ("sgd", "rmsprop"):
            text = f"{config.optimizer} takes no momentum; use sgd or rmsprop"
            raise ConfigError("momentum", text)
    return config


def architecture(in_features: Any, width: int, depth: int, n_classes: Any) -> str:
    """The layer sizes of an MLP as text: ``"784-256-256-10"``; past six hidden layers the middle
    is elided and the depth named, ``"784-128-128-…-128-10 (30 hidden layers)"``, so that a deep
    net's description stays one short line."""
    if depth <= 6:
        return "-".join(str(n) for n in (in_features, *[width] * depth, n_classes))
    return f"{in_features}-{width}-{width}-…-{width}-{n_classes} ({depth} hidden layers)"


def describe(config: Config, dataset: Dataset | None = None) -> str:
    """One line naming the network, init, optimizer and schedule of a run."""
    sizes = architecture(
        dataset.in_features if dataset else "in", config.width, config.depth,
        dataset.n_classes if dataset else "C",
    )  # fmt: skip
    lr = DEFAULT_LR.get(config.optimizer) if config.lr is None else config.lr
    opt = f"{config.optimizer} lr {lr:g}"
    if config.optimizer in ("sgd", "rmsprop"):
        default = 0.9 if config.optimizer == "sgd" else 0.0
        opt += f" momentum {default if config.momentum is None else config.momentum:g}"
    weights = f"init {config.init}" + (f" + {config.residual}" if config.residual else "")
    if config.parametrization is not None:
        weights = f"parametrization {config.parametrization} (base width {config.base_width or config.width})"
    if config.arch != "mlp":
        unit = "channels" if config.arch in ("cnn", "plaincnn", "resnet") else "units"
        layer = "conv layer" if config.arch in ("cnn", "plaincnn") else "residual block"
        sizes = f"{plural(config.depth, layer)} of {config.width} {unit}"
    if config.norm is not None:
        sizes += f" with {config.norm}"
    name = {"mlp": "MLP", "cnn": "CNN", "plaincnn": "plain CNN (circular padding, no pooling)",
            "resmlp": "residual MLP", "resnet": "residual CNN"}[config.arch]  # fmt: skip
    return (
        f"{name} {sizes} ({config.activation}), {weights} "
        f"(bias {config.bias_init}), {opt}, batch {config.batch_size}, {plural(config.epochs, 'epoch')}, "
        f"seed {config.seed}"
    )


def mlp_memory(
    in_features: int, width: int, depth: int, n_classes: int, batch_size: int, probe_size: int = 512,
    itemsize: int = 4,
) -> int:
    """Bytes a training run of this MLP holds at its peak, estimated before anything is built:
    ``itemsize · (5·P + 4·batch·width·depth + 2·probe·width·depth) + LAYER_OVERHEAD · depth``.

    ``P`` is the parameter count; the five copies are the weights, their gradients, two optimizer
    buffers (Adam's moments) and the Monitor's copy at initialization; a batch saves each hidden
    layer's pre-activation and output and their gradients; the Monitor's probe pass keeps two
    arrays per layer. An estimate for refusing sizes that cannot fit, not an exact account.
    """
    if depth == 0:
        params = in_features * n_classes + n_classes
    else:
        params = (in_features + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * n_classes
    arrays = 5 * params + (4 * batch_size + 2 * probe_size) * width * depth
    return itemsize * arrays + LAYER_OVERHEAD * depth


def memory_limit() -> int | None:
    """The most a run may plan to hold (bytes): ``$TINYNET_MEMORY_LIMIT`` if set (``"none"``: no
    limit), else half the physical memory (``os.sysconf``), else None where that is unknown.

    Raises
    ------
    ValueError
        If the environment variable is neither ``none`` nor a positive size like ``512M``.
    """
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if text.lower() == "none":
        return None
    if text:
        number, unit = (text[:-1], text[-1].upper()) if text[-1].upper() in _UNITS else (text, "")
        try:
            value = float(number) * _UNITS[unit]
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise ValueError(
                f"${MEMORY_LIMIT_ENV}: expected a size in bytes like 8000000000, 512M or 4G, or none; "
                f"got {text!r}"
            )
        return int(value)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, OSError, ValueError):  # not a POSIX system
        return None


def check_memory(config: Config, in_features: int = 784, n_classes: int = 10) -> None:
    """Refuse a network that cannot fit: :func:`mlp_memory` of ``config`` against
    :func:`memory_limit`. The data is not loaded yet, so the MNIST shape (784 inputs, 10 classes)
    stands in for it. A residual MLP counts as an MLP of two layers per block; the convolutional
    architectures are not estimated.

    Raises
    ------
    ConfigError
        Naming ``depth`` when it exceeds the width, else ``width``, with both sizes in the message.
    ValueError
        If ``$TINYNET_MEMORY_LIMIT`` is malformed.
    """
    limit = memory_limit()
    c = config
    if c.arch in ("cnn", "plaincnn", "resnet"):  # their size is set by the images, which are not loaded yet
        return
    depth = 2 * c.depth if c.arch == "resmlp" else c.depth  # a residual block holds two layers
    need = mlp_memory(in_features, c.width, depth, n_classes, c.batch_size, c.probe_size)
    if limit is None or need <= limit:
        return
    field = "depth" if config.depth > config.width else "width"
    raise ConfigError(
        field,
        f"{config.depth} hidden layers of {config.width} units need about {format_bytes(need)} "
        f"(weights, gradients, optimizer state, a batch's activations), over the limit of "
        f"{format_bytes(limit)} (half the physical memory, or ${MEMORY_LIMIT_ENV})",
    )
