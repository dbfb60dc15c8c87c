"""The tinynet cache folder and cached arrays (written atomically, see :mod:`tinynet._files`).

The folder is ``$TINYNET_CACHE`` when that variable is set, otherwise the platform's per-user cache
folder: ``$XDG_CACHE_HOME/tinynet`` or ``~/.cache/tinynet`` on Linux, ``~/Library/Caches/tinynet`` on
macOS, ``%LOCALAPPDATA%\\tinynet\\Cache`` on Windows.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._files import NpzReader, atomic_write

ENV_VAR = "TINYNET_CACHE"


def cache_dir() -> Path:
    """Return the tinynet cache folder (not created here).

    Returns
    -------
    pathlib.Path
        ``$TINYNET_CACHE`` if set and non-empty, else the user's cache folder joined with ``tinynet``.
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "tinynet" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "tinynet"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "tinynet"


def save_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` to a compressed ``.npz`` file atomically and return its path.

    (Compressed: the 70,000 synthetic digits take 14 MB instead of 55 MB and load in about 0.2 s.)
    """
    with atomic_write(path) as handle:
        np.savez_compressed(handle, **arrays)
    return Path(path)


_HEADER_ROOM = 4096  # a member's .npy header, beside its data, in the bound of load_npz


def load_npz(
    path: str | os.PathLike[str], expected: Mapping[str, tuple[np.dtype, tuple[int, ...]]]
) -> dict[str, np.ndarray] | None:
    """Load an ``.npz`` written by :func:`save_npz` if it is intact, else return ``None``.

    Intact means: readable by the bounded reader :class:`tinynet._files.NpzReader` (no pickle,
    only ``.npy`` members of plain dtypes, zip checksums correct) and holding exactly the keys of
    ``expected`` with the given dtype and shape. Sizes are bounded by ``expected`` before anything
    is decompressed, so a damaged or crafted file costs no more memory than an intact one. A
    missing or unreadable file, or any such failure, gives ``None`` (the caller re-creates it).

    Parameters
    ----------
    path : str or os.PathLike
        The cache file.
    expected : mapping of str to (dtype, shape)
        Every key the file must hold, with its array's dtype and shape.

    Returns
    -------
    dict of str to numpy.ndarray, or None
    """
    sizes = {key: math.prod(shape) * np.dtype(dtype).itemsize for key, (dtype, shape) in expected.items()}
    try:
        with NpzReader(
            path,
            owner="load_npz",
            max_member_bytes=max(sizes.values(), default=0) + _HEADER_ROOM,
            max_total_bytes=sum(sizes.values()) + _HEADER_ROOM * len(sizes),
        ) as archive:
            if set(archive.names) != set(expected):
                return None
            out = {}
            for key, (dtype, shape) in expected.items():
                arr = archive.read(key, max_bytes=sizes[key] + _HEADER_ROOM)
                if arr.dtype != dtype or arr.shape != tuple(shape):
                    return None
                out[key] = arr
            return out
    except (OSError, ValueError):  # the reader's every content failure is a ValueError
        return None
