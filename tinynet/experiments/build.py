"""The pieces of a run, built from names: the prepared dataset (:func:`load_dataset`), the MLP
(:func:`build_mlp`) and the optimizer (:func:`make_optimizer`)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import data, optim
from .._checks import check_int, unknown_choice
from .architectures import build_model
from .config import DATASETS, DEFAULT_LR, OPTIMIZERS, SYNTHETIC_TEST, SYNTHETIC_TRAIN

__all__ = ["Dataset", "build_mlp", "build_model", "load_dataset", "make_optimizer"]


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

    :func:`~.architectures.build_model` of ``"mlp"``: every layer is then (re)initialized by
    ``tinynet.init.apply(model, weight=init, bias=bias_init, rng=rng, data=data)``, one random
    stream per parameter, derived from the seed and the parameter's name. ``data`` (a batch of
    inputs) is needed by data-dependent schemes such as ``"lsuv"``. ``depth=0`` gives a linear
    softmax classifier.

    Raises
    ------
    ValueError
        For a negative depth, a width or size below 1, an unknown activation or init spec, or a
        data-dependent init without ``data``.
    """
    check_int("build_mlp", "in_features", in_features, minimum=1)
    return build_model("mlp", (in_features,), n_classes, depth, width, activation, init, bias_init, rng, data)


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
    """Flattened, standardized float32 inputs and int64 labels, with where they came from, and the
    shape of one image ``(height, width, channels)`` when the inputs are images (None otherwise).
    :meth:`as_images` gives the same data as NHWC images."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    seconds: float = 0.0
    image_shape: tuple[int, int, int] | None = None

    @property
    def n_classes(self) -> int:
        """``max(label) + 1`` over both splits."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def in_features(self) -> int:
        """Number of input features per example (all of an image's pixels and channels)."""
        return int(np.prod(self.x_train.shape[1:]))

    @property
    def in_shape(self) -> tuple[int, ...]:
        """The shape of one example as the arrays hold it: ``(features,)`` or ``(H, W, C)``."""
        return tuple(int(n) for n in self.x_train.shape[1:])

    def as_images(self) -> Dataset:
        """The same examples as NHWC images ``(N, height, width, channels)`` (views, no copy).

        Raises
        ------
        ValueError
            If the inputs are not images (a dataset of plain feature vectors).
        """
        if self.x_train.ndim == 4:
            return self
        if self.image_shape is None:
            raise ValueError(
                f"Dataset {self.name!r}: its inputs are {self.in_features} plain features, not images, "
                "so a convolutional architecture cannot take them (use arch 'mlp' or 'resmlp')"
            )
        shape = self.image_shape
        return replace(
            self,
            x_train=self.x_train.reshape(len(self.x_train), *shape),
            x_test=self.x_test.reshape(len(self.x_test), *shape),
        )


def _image_shape(x: np.ndarray) -> tuple[int, int, int] | None:
    """``(H, W, 1)`` for grey images ``(N, H, W)``, ``(H, W, C)`` for ``(N, H, W, C)``, else None."""
    if x.ndim == 3:
        return (int(x.shape[1]), int(x.shape[2]), 1)
    if x.ndim == 4:
        return (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))
    return None


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
    image_shape = _image_shape(np.asarray(x_tr))
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
        image_shape=image_shape,
    )
