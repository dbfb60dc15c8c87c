"""Checkpoints without pickle: ``save(obj, path)`` / ``load(path)``.

A checkpoint is an ordinary ``.npz`` archive. Every array of ``obj`` is one member (``a0``, ``a1``,
...); the member ``__tinynet__`` holds a UTF-8 JSON manifest: the format name and version and the
structure of ``obj`` (dicts with str or int keys, lists, tuples, numbers, strings, bools, None),
with each array replaced by a reference to its member. Reading goes through the one bounded
``.npz`` reader (:class:`tinynet._files.NpzReader`), which never unpickles, so loading a file can
never run code; sizes are checked before anything is decompressed or allocated.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import check_int, is_int
from ._files import ARRAY_KINDS, DEFAULT_MAX_NPZ_BYTES, NpzReader, atomic_write
from ._version import __version__
from .tensor import Tensor

__all__ = ["DEFAULT_MAX_BYTES", "FORMAT", "FORMAT_VERSION", "MAX_DEPTH", "MAX_MANIFEST_BYTES", "load", "save"]

FORMAT = "tinynet-checkpoint"
FORMAT_VERSION = 1
MANIFEST = "__tinynet__"
#: the default bound on a checkpoint's declared uncompressed size (``tn.load(max_bytes=...)``): 2 GiB
DEFAULT_MAX_BYTES = DEFAULT_MAX_NPZ_BYTES
#: the largest manifest member (its uncompressed size), written and read
MAX_MANIFEST_BYTES = 64 * 2**20
#: the deepest nesting of dicts, lists and tuples a checkpoint may hold, written and read
MAX_DEPTH = 64
_MAX_HEADER_ROOM = 1024  # room for the manifest member's .npy header within MAX_MANIFEST_BYTES
_JSON_DEPTH = 2 * MAX_DEPTH + 2  # a dict entry is a JSON object holding a list: two levels per level
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')


def _float_entry(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if not is_int(value):
        return False
    try:  # JSON may spell a float as a (huge) integer
        float(value)
    except OverflowError:
        return False
    return True


# what a manifest's scalar entries may hold, by their "t" (JSON gives only Python types)
_MANIFEST_VALUE: dict[str, Callable[[Any], bool]] = {
    "bool": lambda v: isinstance(v, bool),
    "int": is_int,
    "float": _float_entry,
    "str": lambda v: isinstance(v, str),
}


def _check_array(array: np.ndarray, where: str) -> None:
    if array.dtype.kind not in ARRAY_KINDS:
        raise TypeError(
            f"save: {where} is an array of dtype {array.dtype}; only numeric, bool and str arrays "
            "can be stored (object arrays would need pickle)"
        )


def _encode(
    obj: Any, arrays: dict[str, np.ndarray], where: str, active: set[int], depth: int = 0
) -> Any:
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
        if depth >= MAX_DEPTH:
            raise ValueError(
                f"save: {where} is nested deeper than {MAX_DEPTH} levels of dicts, lists and "
                "tuples; a checkpoint holds at most that many"
            )
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
                values = [
                    _encode(obj[key], arrays, f"{where}[{key!r}]", active, depth + 1) for key in obj
                ]
                return {"t": "dict", "k": keys, "v": values}
            kind = "list" if isinstance(obj, list) else "tuple"
            items = [
                _encode(item, arrays, f"{where}[{i}]", active, depth + 1)
                for i, item in enumerate(obj)
            ]
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
        If ``obj`` contains itself, is nested deeper than :data:`MAX_DEPTH` (64) levels, or its
        manifest would exceed :data:`MAX_MANIFEST_BYTES` (64 MiB).
    """
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj", set())
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "tinynet": __version__, "tree": tree}
    text = json.dumps(manifest, separators=(",", ":")).encode("utf-8")
    if len(text) + _MAX_HEADER_ROOM > MAX_MANIFEST_BYTES:
        raise ValueError(
            f"save: the structure of obj needs a manifest of {len(text)} bytes, over the limit of "
            f"{MAX_MANIFEST_BYTES} bytes; store many numbers as one array instead"
        )
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
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):  # a FIFO or a device: opening it could block
        raise ValueError(f"tinynet.load: {path!r} is not a regular file, so not a checkpoint")
    if os.path.getsize(path) == 0:
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


def _json_depth(text: bytes) -> int:
    """The deepest nesting of JSON arrays and objects in ``text``, counted without recursion (an
    upper bound when ``text`` is not valid JSON: brackets inside complete strings are skipped)."""
    bare = np.frombuffer(_JSON_STRING.sub(b'""', text), dtype=np.uint8)
    step = np.isin(bare, np.frombuffer(b"[{", np.uint8)).astype(np.int64)
    step -= np.isin(bare, np.frombuffer(b"]}", np.uint8))
    return int(np.cumsum(step).max(initial=0))


def _read_manifest(archive: NpzReader, path: str) -> dict[str, Any]:
    raw = archive.read(MANIFEST, max_bytes=MAX_MANIFEST_BYTES)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _corrupt(path, "the manifest entry is not a UTF-8 byte string")
    text = raw.tobytes()
    depth = _json_depth(text)
    if depth > _JSON_DEPTH:
        raise _corrupt(
            path,
            f"the manifest is nested {depth} levels deep; a checkpoint holds at most {MAX_DEPTH} "
            "levels of dicts, lists and tuples",
        )
    try:
        manifest = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # ValueError: JSON, int digits
        raise _corrupt(path, f"unreadable manifest: {type(error).__name__}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _not_checkpoint(path, "its manifest does not name the tinynet checkpoint format")
    version = manifest.get("version")
    if not is_int(version) or version < 1:
        raise _corrupt(path, f"format version {_short(version)}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"tinynet.load: {path!r} uses checkpoint format version {_short(version)}, written "
            f"by a newer tinynet ({_short(manifest.get('tinynet'))}); this one reads up to "
            f"version {FORMAT_VERSION}"
        )
    return manifest


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (an int of many digits included)."""
    if is_int(value) and abs(value) >= 10**limit:
        return f"an integer of more than {limit} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _decode(node: Any, archive: NpzReader, path: str) -> Any:
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise _corrupt(path, f"malformed manifest entry {_short(node)}")
    kind = node["t"]
    if kind in ("array", "scalar"):
        key = node.get("k")
        if not isinstance(key, str) or key == MANIFEST or key not in archive.names:
            raise _corrupt(path, f"the manifest refers to a missing member {_short(key)}")
        array = archive.read(key)
        if kind == "scalar":
            if array.ndim != 0:
                raise _corrupt(path, f"member {key!r} holds a scalar of shape {array.shape}")
            return array[()]
        return array
    if kind == "none":
        return None
    if kind in _MANIFEST_VALUE:
        value = node.get("v")
        if not _MANIFEST_VALUE[kind](value):
            raise _corrupt(path, f"a {kind} entry holds {_short(value)}")
        return float(value) if kind == "float" else value
    if kind == "dict":
        keys, values = node.get("k"), node.get("v")
        if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
            raise _corrupt(path, "malformed dict entry")
        for key in keys:
            if not (isinstance(key, str) or is_int(key)):
                raise _corrupt(path, f"a dict key is {_short(key)}; keys are str or int")
        return {key: _decode(value, archive, path) for key, value in zip(keys, values, strict=True)}
    if kind in ("list", "tuple"):
        items = node.get("v")
        if not isinstance(items, list):
            raise _corrupt(path, f"malformed {kind} entry")
        decoded = [_decode(item, archive, path) for item in items]
        return decoded if kind == "list" else tuple(decoded)
    raise _corrupt(path, f"unknown entry type {_short(kind)}")


def load(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Read a checkpoint written by :func:`save`; returns the same tree (arrays as numpy arrays,
    tuples as tuples, int dict keys as ints).

    The file is read by :class:`tinynet._files.NpzReader`: no pickle, and every size is checked
    before anything is decompressed or allocated. The manifest may take at most
    :data:`MAX_MANIFEST_BYTES` (64 MiB) and nest at most :data:`MAX_DEPTH` (64) levels.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint.
    max_bytes : int
        Largest declared uncompressed size of the whole archive (and so of any one array), default
        :data:`DEFAULT_MAX_BYTES` (2 GiB); raise it for a larger model.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (naming it).
    IsADirectoryError
        If ``path`` is a folder.
    ValueError
        Naming the file (and the member at fault): if it is not a tinynet checkpoint (another
        ``.npz``, an ``.npy``, a pickle, a FIFO, any other file), was written by a newer format
        version, is corrupt, truncated or crafted (a member that is not an ``.npy``, an object or
        void dtype, a size over ``max_bytes``, a manifest too large or too deep), or contains
        pickled objects (never unpickled).
    """
    path = os.fspath(path)
    max_bytes = check_int("tinynet.load", "max_bytes", max_bytes, minimum=0)
    if not os.path.exists(path):
        raise FileNotFoundError(f"tinynet.load: no such file {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"tinynet.load: {path!r} is a directory, not a checkpoint file")
    _sniff(path)
    with NpzReader(
        path,
        owner="tinynet.load",
        max_member_bytes=max_bytes,
        max_total_bytes=max_bytes,
        limit_name="max_bytes",
    ) as archive:
        if MANIFEST not in archive.names:
            raise _not_checkpoint(path, f"an .npz archive without the {MANIFEST!r} manifest entry")
        manifest = _read_manifest(archive, path)
        return _decode(manifest.get("tree"), archive, path)
