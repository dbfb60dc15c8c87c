"""What defines one run: :class:`Config` (the command-line flags of ``examples/train.py``), its
validation, the named optimizers and datasets, and the one-line description of a run."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .. import init
from .._checks import closest, is_int, unknown_choice
from .._text import plural
from ..nn.activation import ACTIVATIONS

if TYPE_CHECKING:
    from .build import Dataset

__all__ = [
    "DATASETS",
    "DEFAULT_LR",
    "OPTIMIZERS",
    "SYNTHETIC_TEST",
    "SYNTHETIC_TRAIN",
    "Config",
    "ConfigError",
    "describe",
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
        ("activation", config.activation, tuple(ACTIVATIONS)),
        ("optimizer", config.optimizer, tuple(OPTIMIZERS)),
    )
    for name, value, valid in checks:
        if value not in valid:
            raise ConfigError(name, str(unknown_choice(name, value, valid)))
    if config.data not in DATASETS and not os.path.exists(config.data):
        hint = closest(config.data, DATASETS)
        text = f"{config.data!r} is neither one of {', '.join(DATASETS)} nor an existing path"
        raise ConfigError("data", text + (f" (closest match: {hint!r})" if hint else ""))
    for name, low in (("depth", 0), ("width", 1), ("batch_size", 1), ("epochs", 0),
                      ("probe_size", 1), ("limit", 1)):  # fmt: skip
        value = getattr(config, name)
        if value is None and name == "limit":
            continue
        if not is_int(value) or value < low:
            raise ConfigError(name, f"must be an int >= {low}, got {value!r}")
    if config.lr is not None and not (math.isfinite(config.lr) and config.lr > 0):
        raise ConfigError("lr", f"must be a positive number, got {config.lr!r}")
    if config.momentum is not None:
        if not 0 <= config.momentum < 1:
            raise ConfigError("momentum", f"must be in [0, 1), got {config.momentum!r}")
        if config.momentum and config.optimizer not in ("sgd", "rmsprop"):
            text = f"{config.optimizer} takes no momentum; use sgd or rmsprop"
            raise ConfigError("momentum", text)
    return config


def describe(config: Config, dataset: Dataset | None = None) -> str:
    """One line naming the network, init, optimizer and schedule of a run."""
    sizes = [str(dataset.in_features) if dataset else "in"]
    sizes += [str(config.width)] * config.depth
    sizes.append(str(dataset.n_classes) if dataset else "C")
    lr = DEFAULT_LR.get(config.optimizer) if config.lr is None else config.lr
    opt = f"{config.optimizer} lr {lr:g}"
    if config.optimizer in ("sgd", "rmsprop"):
        default = 0.9 if config.optimizer == "sgd" else 0.0
        opt += f" momentum {default if config.momentum is None else config.momentum:g}"
    return (
        f"MLP {'-'.join(sizes)} ({config.activation}), init {config.init} "
        f"(bias {config.bias_init}), {opt}, batch {config.batch_size}, {plural(config.epochs, 'epoch')}, "
        f"seed {config.seed}"
    )
