"""MNIST-like data: built-in synthetic digits, the MNIST family from IDX files, and batching.

>>> from tinynet import data
>>> (x_train, y_train), (x_test, y_test) = data.synthetic_digits(1000, 200, seed=0)
>>> x_train.shape, x_train.dtype, y_train.dtype
((1000, 28, 28), dtype('uint8'), dtype('int64'))
>>> loader = data.DataLoader(data.scale(data.flatten(x_train)), y_train, batch_size=100, rng=0)
>>> len(loader)
10
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_int
from .._files import DEFAULT_MAX_NPZ_BYTES, NpzReader
from .cache import cache_dir
from .idx import read_idx, write_idx
from .loader import DataLoader, Standardizer, flatten, scale, standardize
from .mnist import KINDS, DownloadError, load_mnist
from .synthetic import GENERATOR_VERSION, synthetic_digits

__all__ = [
    "GENERATOR_VERSION",
    "DataLoader",
    "DownloadError",
    "Standardizer",
    "cache_dir",
    "flatten",
    "load",
    "load_mnist",
    "read_idx",
    "scale",
    "standardize",
    "synthetic_digits",
    "write_idx",
]

Split = tuple[np.ndarray, np.ndarray]
NAMES = ("synthetic", *KINDS)
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load(name_or_path: str | os.PathLike[str], **kwargs: Any) -> tuple[Split, Split]:
    """Load a data set by name or path; every form returns ``(x_train, y_train), (x_test, y_test)``.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        - ``"synthetic"``: :func:`synthetic_digits` (``kwargs``: ``n_train``, ``n_test``, ``seed``,
          ``cache``);
        - ``"mnist"``, ``"fashion"``, ``"kmnist"``: :func:`load_mnist` with that ``kind``
          (``kwargs``: ``root``, ``download``, ...);
        - a folder: :func:`load_mnist` with ``root`` set to it (the four standard IDX files);
        - an ``.npz`` file holding ``x_train``, ``y_train``, ``x_test``, ``y_test``, read without
          pickle by the bounded reader :class:`tinynet._files.NpzReader` (``kwargs``: only
          ``max_bytes``, the largest declared uncompressed size of the archive, default 2 GiB,
          checked before anything is decompressed). Labels must be 1-D integers, and match their
          images in count.

        A name takes precedence over a folder of the same name; write ``./mnist`` for the folder.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        Labels are ``int64``.

    Raises
    ------
    ValueError
        For an unknown name or a path that is neither a folder nor an ``.npz`` file, or an
        ``.npz`` that is corrupt, truncated or crafted (naming the member: not an ``.npy``, object
        or void arrays, a size over ``max_bytes``), with missing keys, or inconsistent shapes.
    TypeError
        If ``name_or_path`` is not a str or path, or ``kwargs`` other than ``max_bytes`` are given
        for an ``.npz`` file.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"load: expected a name or a path, got {type(name_or_path).__name__}")
    if isinstance(name_or_path, str) and name_or_path in NAMES:
        if name_or_path == "synthetic":
            return synthetic_digits(**kwargs)
        return load_mnist(kind=name_or_path, **kwargs)
    path = Path(name_or_path)
    if path.is_dir():
        return load_mnist(root=path, **kwargs)
    if path.is_file() and path.suffix == ".npz":
        extra = sorted(set(kwargs) - {"max_bytes"})
        if extra:
            raise TypeError(f"load: an .npz file takes only the option max_bytes, got {extra}")
        max_bytes = check_int("load", "max_bytes", kwargs.get("max_bytes", DEFAULT_MAX_NPZ_BYTES), minimum=0)
        return _load_npz(path, max_bytes)
    raise ValueError(
        f"load: {str(name_or_path)!r} is not a data set name ({', '.join(NAMES)}), "
        "an existing folder of IDX files, or an existing .npz file"
    )


def _load_npz(path: Path, max_bytes: int) -> tuple[Split, Split]:
    with NpzReader(
        path, owner="load", max_member_bytes=max_bytes, max_total_bytes=max_bytes, limit_name="max_bytes"
    ) as npz:
        missing = [k for k in _NPZ_KEYS if k not in npz.names]
        if missing:
            raise ValueError(
                f"load: {path} lacks {', '.join(missing)}; an .npz data set holds {', '.join(_NPZ_KEYS)}"
            )
        arrays = {k: npz.read(k) for k in _NPZ_KEYS}
    out = []
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim < 2:
            raise ValueError(f"load: {path}: x_{split} must be at least 2-D, got shape {x.shape}")
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise ValueError(
                f"load: {path}: y_{split} must be 1-D integer labels, got {y.dtype} of shape {y.shape}"
            )
        if len(x) != len(y):
            raise ValueError(f"load: {path}: x_{split} has {len(x)} samples but y_{split} has {len(y)}")
        out.append((x, y.astype(np.int64)))
    return out[0], out[1]
