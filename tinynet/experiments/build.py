"""The pieces of a run, built from names: the prepared dataset (:func:`load_dataset`), the MLP
(:func:`build_mlp`) and the optimizer (:func:`make_optimizer`)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import data, nn, optim
from .. import init as tinit
from .._checks import check_int, unknown_choice
from ..nn.activation import make_activation
from .config import DATASETS, DEFAULT_LR, OPTIMIZERS, SYNTHETIC_TEST, SYNTHETIC_TRAIN

__all__ = ["Dataset", "build_mlp", "load_dataset", "make_optimizer"]


# ------------------------------------------------------------------------------------------ model
def build_mlp(
    in_features: int,
    n_classes: int,
    depth: int = 2,
    width: int = 256,
    activation: str = "relu",
    init: Any = "xavier",
    bias_init: Any = "zeros",
    rng: np.random.Generator | int | None = None,
    data: Any = None,
) -> Any:
    """An MLP: ``depth`` hidden blocks ``Linear(·, width), activation``, then ``Linear(·, n_classes)``.

    Every layer is then (re)initialized by ``tinynet.init.apply(model, weight=init, bias=bias_init,
    rng=rng, data=data)``: one random stream per parameter, derived from the seed and the
    parameter's name. ``data`` (a batch of inputs) is needed by data-dependent schemes such as
    ``"lsuv"``. ``depth=0`` gives a linear softmax classifier.

    Raises
    ------
    ValueError
        For a negative depth, a width or size below 1, an unknown activation or init spec, or a
        data-dependent init without ``data``.
    """
    for name, value, low in (("in_features", in_features, 1), ("n_classes", n_classes, 1),
                             ("depth", depth, 0), ("width", width, 1)):  # fmt: skip
        check_int("build_mlp", name, value, minimum=low)
    weight_spec = tinit.get(init)
    bias_spec = tinit.get(bias_init)
    make_activation(activation)  # an unknown name fails before any layer is built
    modules: list[Any] = []
    fan_in = in_features
    for _ in range(depth):
        modules += [nn.Linear(fan_in, width), make_activation(activation)]
        fan_in = width
    modules.append(nn.Linear(fan_in, n_classes))
    model = nn.Sequential(*modules)
    if getattr(weight_spec, "data_dependent", False) and data is None:
        raise ValueError(f"build_mlp: init {weight_spec!r} is data-dependent; pass data=x_batch")
    tinit.apply(model, weight=weight_spec, bias=bias_spec, rng=rng, data=data)
    return model


def make_optimizer(
    name: str, params: Any, lr: float | None = None, momentum: float | None = None
) -> Any:
    """A ``tinynet.optim`` optimizer by name; ``lr=None`` takes :data:`DEFAULT_LR`.

    ``momentum`` applies to SGD (default 0.9) and RMSprop (default 0); for the others it must be
    None or 0.

    Raises
    ------
    ValueError
        For an unknown name, a non-positive learning rate, or momentum given to an optimizer without
        it.
    """
    if name not in OPTIMIZERS:
        raise unknown_choice("optimizer", name, tuple(OPTIMIZERS))
    lr = DEFAULT_LR[name] if lr is None else float(lr)
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"make_optimizer: lr must be a positive number, got {lr}")
    cls = getattr(optim, OPTIMIZERS[name])
    if name == "sgd":
        return cls(params, lr=lr, momentum=0.9 if momentum is None else float(momentum))
    if name == "rmsprop":
        return cls(params, lr=lr, momentum=0.0 if momentum is None else float(momentum))
    if momentum not in (None, 0, 0.0):
        raise ValueError(
            f"make_optimizer: {name} takes no momentum (got {momentum}); use sgd or rmsprop"
        )
    return cls(params, lr=lr)


# ------------------------------------------------------------------------------------------ data
@dataclass
class Dataset:
    """Flattened, standardized float32 inputs and int64 labels, with where they came from."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    seconds: float = 0.0

    @property
    def n_classes(self) -> int:
        """``max(label) + 1`` over both splits."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def in_features(self) -> int:
        """Number of input features per example."""
        return int(self.x_train.shape[1])


def _prepare(x: np.ndarray) -> np.ndarray:
    flat = data.flatten(x)
    return data.scale(flat) if flat.dtype == np.uint8 else flat.astype(np.float32)


def load_dataset(
    name: str = "synthetic",
    limit: int | None = None,
    download: bool = False,
    seed: int = 0,
    mirrors: Sequence[str] | None = None,
) -> Dataset:
    """Load and prepare ``"synthetic"``, ``"mnist"``, ``"fashion"``, ``"kmnist"`` or a path.

    Images are flattened to ``(N, H·W)``, scaled to [0, 1] (uint8 / 255), then standardized with the
    mean and std of the *training* split: ``x ← (x - μ_train) / σ_train`` (one scalar each), so
    every input feature has roughly unit variance as the variance-scaling schemes assume. The
    synthetic set is generated (and cached under ``$TINYNET_CACHE``) with
    :data:`SYNTHETIC_TRAIN`/:data:`SYNTHETIC_TEST` examples, or ``limit`` of each when smaller.
    ``limit`` keeps the first ``limit`` examples of each split. ``mirrors`` (URLs of folders
    holding the IDX files) replaces the default mirrors of a named MNIST-family download.

    Raises
    ------
    ValueError
        For ``limit < 1`` or data that cannot be loaded (the data module's message).
    """
    if limit is not None:
        check_int("load_dataset", "limit", limit, minimum=1)
    began = time.perf_counter()
    if name == "synthetic":
        n_train = SYNTHETIC_TRAIN if limit is None else min(SYNTHETIC_TRAIN, int(limit))
        n_test = SYNTHETIC_TEST if limit is None else min(SYNTHETIC_TEST, int(limit))
        (x_tr, y_tr), (x_te, y_te) = data.synthetic_digits(
            n_train=n_train, n_test=n_test, seed=seed
        )
    elif name in DATASETS:
        (x_tr, y_tr), (x_te, y_te) = data.load_mnist(kind=name, download=download, mirrors=mirrors)
    else:
        (x_tr, y_tr), (x_te, y_te) = data.load(os.fspath(name))
    if limit is not None:
        x_tr, y_tr, x_te, y_te = x_tr[:limit], y_tr[:limit], x_te[:limit], y_te[:limit]
    x_tr, x_te = _prepare(np.asarray(x_tr)), _prepare(np.asarray(x_te))
    # data.standardize would do the same through float64 temporaries (376 MB for 60,000 images)
    mean = np.float32(x_tr.mean(dtype=np.float64))
    std = np.float32(x_tr.std(dtype=np.float64)) or np.float32(1.0)
    x_tr = (x_tr - mean) / std
    x_te = (x_te - mean) / std
    return Dataset(
        name=str(name),
        x_train=x_tr,
        y_train=np.asarray(y_tr).astype(np.int64),
        x_test=x_te,
        y_test=np.asarray(y_te).astype(np.int64),
        seconds=time.perf_counter() - began,
    )
