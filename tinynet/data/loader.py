"""Mini-batches of numpy arrays, and the small preprocessing steps that precede them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._checks import check_int, check_real
from ..random import as_generator


def as_array(x: Any, name: str = "x") -> np.ndarray:
    """Return ``x`` as an ndarray: a Tensor (anything with an ndarray ``.data``) gives its data.

    Raises
    ------
    TypeError
        If ``x`` is None or of object dtype.
    """
    if x is None:
        raise TypeError(f"{name} must be an array or a Tensor, got None")
    data = getattr(x, "data", None)
    arr = data if isinstance(data, np.ndarray) else np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{name} must hold numbers, got an array of Python objects")
    return arr


class DataLoader:
    """Iterate over ``(x_batch, y_batch)`` mini-batches of two aligned arrays.

    Parameters
    ----------
    x, y : numpy.ndarray or Tensor
        Samples along the first axis; ``len(x) == len(y)``. Tensors are read through ``.data``.
        Batches are numpy arrays (copies when shuffling, views otherwise).
    batch_size : int
        Samples per batch (>= 1). The last batch is smaller when ``len(x)`` is not a multiple,
        unless ``drop_last``.
    shuffle : bool
        Visit samples in a new random order every epoch (every ``iter()``).
    drop_last : bool
        Skip the final incomplete batch.
    rng : numpy.random.Generator, int or None
        Source of the orders. An int seeds a private Generator, so the sequence of epoch orders is
        the same on every run; a Generator is used (and advanced) as given; None uses the default
        Generator (:func:`tinynet.manual_seed`) at the start of each epoch.

    ``len(loader)`` is the number of batches per epoch: ``ceil(n / batch_size)``, or
    ``n // batch_size`` with ``drop_last``.

    Raises
    ------
    TypeError
        If ``batch_size`` is not an int, or ``x``/``y`` are not arrays.
    ValueError
        If ``batch_size < 1``, ``x``/``y`` are 0-D, or their lengths differ.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        batch_size = check_int("DataLoader", "batch_size", batch_size, minimum=1)
        self.x = as_array(x, "DataLoader: x")
        self.y = as_array(y, "DataLoader: y")
        for name, arr in (("x", self.x), ("y", self.y)):
            if arr.ndim == 0:
                raise ValueError(f"DataLoader: {name} must have a sample axis, got a 0-D array")
        if len(self.x) != len(self.y):
            raise ValueError(
                f"DataLoader: x and y must have the same length, got {len(self.x)} and {len(self.y)}"
            )
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        # None stays None: the default Generator is looked up each epoch, so that a later
        # tinynet.manual_seed() call still governs this loader.
        self.rng = None if rng is None else as_generator(rng)

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.x)
        stop = len(self) * self.batch_size
        if self.shuffle:
            order = as_generator(self.rng).permutation(n)
            for start in range(0, min(stop, n), self.batch_size):
                idx = order[start : start + self.batch_size]
                yield self.x[idx], self.y[idx]
        else:
            for start in range(0, min(stop, n), self.batch_size):
                end = start + self.batch_size
                yield self.x[start:end], self.y[start:end]

    def __repr__(self) -> str:
        return (
            f"DataLoader(n={len(self.x)}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last})"
        )


def flatten(x: Any) -> np.ndarray:
    """Reshape ``(n, d1, d2, ...)`` to ``(n, d1 * d2 * ...)`` (a view when possible).

    Raises
    ------
    ValueError
        If ``x`` is 0-D.
    """
    arr = as_array(x, "flatten: x")
    if arr.ndim == 0:
        raise ValueError("flatten: x must have a sample axis, got a 0-D array")
    return arr.reshape(arr.shape[0], -1)


def scale(x: Any, max_value: float = 255.0, dtype: Any = np.float32) -> np.ndarray:
    """Map pixel values to [0, 1]: ``x / max_value`` as ``dtype`` (float32 by default).

    Raises
    ------
    TypeError
        If ``max_value`` is not a real number.
    ValueError
        If ``max_value`` is not positive and finite.
    """
    check_real("scale", "max_value", max_value, minimum=0, strict_min=True)
    arr = as_array(x, "scale: x")
    out = arr.astype(dtype, copy=True)
    out /= np.asarray(max_value, dtype=out.dtype)
    return out


class Standardizer:
    """``(x - mean) / std`` with statistics fitted on one split (the training set) only.

    Parameters
    ----------
    per_feature : bool
        False (default): one mean and std over all values, like the classic MNIST normalisation
        (0.1307, 0.3081). True: a mean and std per feature (over axis 0). A std of 0 (a feature,
        or data, that never varies) is replaced by 1, so constant values map to 0.
    eps : float
        Added to the std.

    Attributes
    ----------
    mean_, std_ : numpy.ndarray
        Fitted statistics (0-D, or the feature shape with ``per_feature``); float64.
    """

    def __init__(self, per_feature: bool = False, eps: float = 1e-8) -> None:
        self.per_feature = bool(per_feature)
        self.eps = float(eps)
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, x: Any) -> Standardizer:
        """Compute mean and std of ``x`` (float64 accumulation) and return ``self``."""
        arr = as_array(x, "Standardizer.fit: x")
        if arr.size == 0:
            raise ValueError("Standardizer.fit: x is empty")
        axis = 0 if self.per_feature else None
        self.mean_ = np.mean(arr, axis=axis, dtype=np.float64)
        std = np.std(arr, axis=axis, dtype=np.float64)
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, x: Any, dtype: Any = np.float32) -> np.ndarray:
        """Return ``((x - mean_) / (std_ + eps))`` as ``dtype``.

        Raises
        ------
        RuntimeError
            If called before :meth:`fit`.
        ValueError
            If ``per_feature`` and ``x``'s feature shape differs from the fitted one.
        """
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("Standardizer.transform: call fit(x_train) first")
        arr = as_array(x, "Standardizer.transform: x")
        if self.per_feature and arr.shape[1:] != self.mean_.shape:
            raise ValueError(
                f"Standardizer.transform: x has feature shape {arr.shape[1:]}, fitted on {self.mean_.shape}"
            )
        return ((arr - self.mean_) / (self.std_ + self.eps)).astype(dtype)

    def fit_transform(self, x: Any, dtype: Any = np.float32) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x, dtype=dtype)

    def __repr__(self) -> str:
        return f"Standardizer(per_feature={self.per_feature}, eps={self.eps})"


def standardize(
    x_train: Any, *others: Any, per_feature: bool = False, dtype: Any = np.float32
) -> tuple[np.ndarray, ...]:
    """Standardize ``x_train`` and every array in ``others`` with statistics of ``x_train`` only.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x_train_std, *others_std)``, in the order given.
    """
    st = Standardizer(per_feature=per_feature).fit(x_train)
    return tuple(st.transform(a, dtype=dtype) for a in (x_train, *others))
