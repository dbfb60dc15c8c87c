"""The tinynet cache folder and cached arrays (written atomically, see :mod:`tinynet._files`).

The folder is ``$TINYNET_CACHE`` when that variable is set, otherwise the platform's per-user cache
folder: ``$XDG_CACHE_HOME/tinynet`` or ``~/.cache/tinynet`` on Linux, ``~/Library/Caches/tinynet`` on
macOS, ``%LOCALAPPDATA%\\tinynet\\Cache`` on Windows.
"""

from __future__ import annotations

import os
import sys
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._files import atomic_write

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


def load_npz(
    path: str | os.PathLike[str], expected: Mapping[str, tuple[np.dtype, tuple[int, ...]]]
) -> dict[str, np.ndarray] | None:
    """Load an ``.npz`` written by :func:`save_npz` if it is intact, else return ``None``.

    Intact means: readable without pickle, zip checksums correct, and holding exactly the keys of
    ``expected`` with the given dtype and shape. A missing file also gives ``None``.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            if set(npz.files) != set(expected):
                return None
            out = {}
            for key, (dtype, shape) in expected.items():
                arr = npz[key]
                if arr.dtype != dtype or arr.shape != tuple(shape):
                    return None
                out[key] = arr
            return out
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error):
        return None
