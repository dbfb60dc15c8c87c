"""Checkpoints without pickle: ``save(obj, path)`` / ``load(path)``.

A checkpoint is an ordinary ``.npz`` archive. Every array of ``obj`` is one member (``a0``, ``a1``,
...); the member ``__tinynet__`` holds a UTF-8 JSON manifest: the format name and version and the
structure of ``obj`` (dicts with str or int keys, lists, tuples, numbers, strings, bools, None),
with each array replaced by a reference to its member. Reading uses ``allow_pickle=False``
throughout, so loading a file can never run code.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import is_int, is_real
from ._files import atomic_write
from ._version import __version__
from .tensor import Tensor

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save"]

FORMAT = "tinynet-checkpoint"
FORMAT_VERSION = 1
MANIFEST = "__tinynet__"
_ARRAY_KINDS = "biufcU"  # bool, ints, floats, complex, unicode: never object or void
_MAX_MANIFEST_BYTES = 64 * 2**20
# what a manifest's scalar entries may hold, by their "t" (JSON gives only Python types)
_MANIFEST_VALUE: dict[str, Callable[[Any], bool]] = {
    "bool": lambda v: isinstance(v, bool),
    "int": is_int,
    "float": is_real,
    "str": lambda v: isinstance(v, str),
}


def _check_array(array: np.ndarray, where: str) -> None:
    if array.dtype.kind not in _ARRAY_KINDS:
        raise TypeError(
            f"save: {where} is an array of dtype {array.dtype}; only numeric, bool and str arrays "
            "can be stored (object arrays would need pickle)"
        )


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str, active: set[int]) -> Any:
    if isinstance(obj, Tensor):
        obj = obj.data
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, np.ndarray):
        _check_array(obj, where)
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"t": "array", "k": key}
    if isinstance(obj, np.generic):
        array = np.asarray(obj)
        _check_array(array, where)
        key = f"a{len(arrays)}"
        arrays[key] = array
        return {"t": "scalar", "k": key}
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": int(obj)}
    if isinstance(obj, float):
        return {"t": "float", "v": float(obj)}
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in active:
            raise ValueError(f"save: {where} contains itself; a checkpoint must be a tree")
        active.add(id(obj))
        try:
            if isinstance(obj, dict):
                keys = []
                for key in obj:
                    if not (isinstance(key, str) or is_int(key)):
                        raise TypeError(
                            f"save: {where} has a key {key!r} of type {type(key).__name__}; dict "
                            "keys must be str or int"
                        )
                    keys.append(key if isinstance(key, str) else int(key))
                values = [_encode(obj[key], arrays, f"{where}[{key!r}]", active) for key in obj]
                return {"t": "dict", "k": keys, "v": values}
            kind = "list" if isinstance(obj, list) else "tuple"
            items = [_encode(item, arrays, f"{where}[{i}]", active) for i, item in enumerate(obj)]
            return {"t": kind, "v": items}
        finally:
            active.discard(id(obj))
    raise TypeError(
        f"save: {where} is a {type(obj).__name__}; a checkpoint holds only dicts, lists, tuples, "
        "numpy arrays (or Tensors, stored as arrays), numbers, strings, bools and None"
    )


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (e.g. a dict of a model's and an optimizer's state dicts, the epoch and the RNG
    state) to ``path`` as a tinynet checkpoint (an ``.npz`` archive, no pickle).

    ``obj`` is a tree of dicts (str or int keys, order kept), lists, tuples, numpy arrays and
    scalars, Tensors (stored as their arrays), Python ints (any size), floats, strings, bools and
    None. The file is written through :func:`tinynet._files.atomic_write` (a temporary file in the
    same folder, renamed over ``path``), so an interrupted save never leaves a partial checkpoint.
    ``path`` is used as given (no ``.npz`` suffix is added).

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist.
    TypeError
        Naming the position in ``obj`` of a value that cannot be stored (e.g. an object array).
    ValueError
        If ``obj`` contains itself.
    """
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj", set())
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "tinynet": __version__, "tree": tree}
    text = json.dumps(manifest, separators=(",", ":")).encode("utf-8")
    arrays[MANIFEST] = np.frombuffer(text, dtype=np.uint8)
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise FileNotFoundError(f"save: the folder of {path!r} does not exist")
    with atomic_write(path) as handle:
        np.savez(handle, **arrays)


def _not_checkpoint(path: str, why: str) -> ValueError:
    return ValueError(f"tinynet.load: {path!r} is not a tinynet checkpoint: {why}")


def _corrupt(path: str, why: str) -> ValueError:
    return ValueError(
        f"tinynet.load: {path!r} is corrupt or truncated ({why}); re-create it with tn.save"
    )


def _sniff(path: str) -> None:
    size = os.path.getsize(path)
    if size == 0:
        raise _corrupt(path, "the file is empty")
    with open(path, "rb") as handle:
        head = handle.read(6)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return
    if head.startswith(b"\x93NUMPY"):
        raise _not_checkpoint(path, "it is a single-array .npy file")
    if head[:1] == b"\x80":
        raise _not_checkpoint(
            path,
            "it looks like a pickle (e.g. from torch.save or pickle.dump); tinynet never unpickles",
        )
    raise _not_checkpoint(path, "it is not an .npz (zip) archive")


def _decode(node: Any, archive: Any, path: str) -> Any:
    if not isinstance(node, dict) or "t" not in node:
        raise _corrupt(path, "malformed manifest")
    kind = node["t"]
    if kind in ("array", "scalar"):
        key = node.get("k")
        if key not in archive.files or key == MANIFEST:
            raise _corrupt(path, f"the manifest refers to a missing member {key!r}")
        try:
            array = archive[key]
        except ValueError as error:
            if "pickle" in str(
                error
            ):  # numpy: "Object arrays cannot be loaded when allow_pickle=False"
                raise ValueError(
                    f"tinynet.load: {path!r}: member {key!r} holds pickled Python objects; "
                    "refusing to load it (tinynet never unpickles)"
                ) from None
            raise _corrupt(path, f"member {key!r}: {error}") from None
        if array.dtype.kind not in _ARRAY_KINDS:
            raise ValueError(
                f"tinynet.load: {path!r}: member {key!r} has unsupported dtype {array.dtype}"
            )
        return array[()] if kind == "scalar" else array
    if kind == "none":
        return None
    if kind in _MANIFEST_VALUE:
        value = node.get("v")
        if not _MANIFEST_VALUE[kind](value):
            raise _corrupt(path, f"a {kind} entry holds {value!r}")
        return float(value) if kind == "float" else value
    if kind == "dict":
        keys, values = node.get("k"), node.get("v")
        if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
            raise _corrupt(path, "malformed dict entry")
        return {key: _decode(value, archive, path) for key, value in zip(keys, values, strict=True)}
    if kind in ("list", "tuple"):
        items = node.get("v")
        if not isinstance(items, list):
            raise _corrupt(path, f"malformed {kind} entry")
        decoded = [_decode(item, archive, path) for item in items]
        return decoded if kind == "list" else tuple(decoded)
    raise _corrupt(path, f"unknown entry type {kind!r}")


def load(path: str | os.PathLike[str]) -> Any:
    """Read a checkpoint written by :func:`save`; returns the same tree (arrays as numpy arrays,
    tuples as tuples, int dict keys as ints).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (naming it).
    ValueError
        Naming the file: if it is not a tinynet checkpoint (another ``.npz``, an ``.npy``, a pickle,
        any other file), was written by a newer format version, is corrupt or truncated, or contains
        pickled objects (never unpickled).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"tinynet.load: no such file {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"tinynet.load: {path!r} is a directory, not a checkpoint file")
    _sniff(path)
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
            if MANIFEST not in archive.files:
                raise _not_checkpoint(
                    path, f"an .npz archive without the {MANIFEST!r} manifest entry"
                )
            raw = archive[MANIFEST]
            if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > _MAX_MANIFEST_BYTES:
                raise _corrupt(path, "the manifest entry is not a UTF-8 byte string")
            try:
                manifest = json.loads(raw.tobytes().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise _corrupt(path, f"unreadable manifest: {error}") from None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise _not_checkpoint(
                    path, "its manifest does not name the tinynet checkpoint format"
                )
            version = manifest.get("version")
            if not is_int(version) or version < 1:
                raise _corrupt(path, f"format version {version!r}")
            if version > FORMAT_VERSION:
                raise ValueError(
                    f"tinynet.load: {path!r} uses checkpoint format version {version}, written "
                    f"by a newer tinynet ({manifest.get('tinynet')}); this one reads up to "
                    f"version {FORMAT_VERSION}"
                )
            return _decode(manifest.get("tree"), archive, path)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _corrupt(path, f"{type(error).__name__}: {error}") from None
