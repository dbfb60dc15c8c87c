"""The IDX file format of MNIST and its relatives, raw or gzip-compressed.

Layout (all integers big-endian)::

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d (1-255)
    4 * d       size of each dimension, unsigned 32-bit
    payload     prod(sizes) elements, big-endian, C order

:func:`read_idx` checks the whole header and the payload length against the file *before* it
allocates the array, so a damaged or hostile file raises :class:`ValueError` instead of exhausting
memory: it never holds more than the bytes the file actually contains.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .._files import atomic_write

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
# deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes holds at most this
# many times n bytes of payload; a header claiming more is rejected before reading anything.
_MAX_GZIP_RATIO = 1100
_READ_BLOCK = 1 << 20


def _describe(code: int) -> str:
    names = ", ".join(f"0x{c:02X} ({dt.name})" for c, dt in IDX_DTYPES.items())
    return f"type code 0x{code:02X} is not an IDX type; valid: {names}"


def _parse_magic(head: bytes, where: str) -> tuple[np.dtype, int]:
    """Validate the 4-byte magic number; return (big-endian dtype, number of dimensions)."""
    if len(head) < 4:
        raise ValueError(f"read_idx: {where}: file too short for an IDX header ({len(head)} bytes)")
    if head[0] != 0 or head[1] != 0:
        raise ValueError(
            f"read_idx: {where}: bad magic number 0x{head[:4].hex()}; an IDX file starts with two zero bytes"
        )
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"read_idx: {where}: {_describe(code)}")
    if ndim == 0:
        raise ValueError(f"read_idx: {where}: header declares 0 dimensions; at least 1 is needed")
    return IDX_DTYPES[code], ndim


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw, or gzip-compressed: detected from its first bytes).

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip files are recognised by their magic bytes, whatever their name.

    Returns
    -------
    numpy.ndarray
        A new, writable array with the shape of the header and the IDX element type in native byte
        order (``uint8``, ``int8``, ``int16``, ``int32``, ``float32`` or ``float64``).

    Raises
    ------
    ValueError
        Naming the file and the problem, if the magic number, type code or dimension count is
        invalid, if the payload is shorter or longer than the header implies, or if the gzip
        stream is damaged. Validation happens before allocation; a header whose sizes the file
        cannot possibly hold is rejected without reading the payload.
    FileNotFoundError, PermissionError
        If the file cannot be opened.
    """
    where = str(path)
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_stream(raw, where, size, exact_size=size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, where, size * _MAX_GZIP_RATIO, exact_size=None)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"read_idx: {where}: damaged gzip stream ({exc})") from None


def _read_stream(stream, where: str, limit: int, exact_size: int | None) -> np.ndarray:
    """Parse header and payload from ``stream``; ``limit`` bounds the bytes it may contain."""
    dtype, ndim = _parse_magic(stream.read(4), where)
    header_len = 4 + 4 * ndim
    if header_len > limit:
        raise ValueError(
            f"read_idx: {where}: header declares {ndim} dimensions but the file ends before their "
            "sizes (truncated file)"
        )
    dims_raw = stream.read(4 * ndim)
    if len(dims_raw) != 4 * ndim:
        raise ValueError(
            f"read_idx: {where}: header declares {ndim} dimensions but only {len(dims_raw) // 4} "
            "sizes are present (truncated file)"
        )
    shape = struct.unpack(f">{ndim}I", dims_raw)
    expected = math.prod(shape) * dtype.itemsize  # Python int: no overflow
    available = limit - header_len
    if exact_size is not None and expected != available:
        raise ValueError(
            f"read_idx: {where}: header {shape} of {dtype.name} implies a payload of {expected} "
            f"bytes, but the file holds {available} bytes after the header"
        )
    if expected > available:
        raise ValueError(
            f"read_idx: {where}: header {shape} of {dtype.name} implies a payload of {expected} "
            f"bytes, more than a {limit // _MAX_GZIP_RATIO}-byte gzip file can hold"
        )
    # read in blocks: memory grows only with data actually present, never with the header's claim
    buf = bytearray()
    while len(buf) < expected:
        block = stream.read(min(_READ_BLOCK, expected - len(buf)))
        if not block:
            break
        buf += block
    if len(buf) != expected:
        raise ValueError(
            f"read_idx: {where}: payload is {len(buf)} bytes, header {shape} of {dtype.name} "
            f"implies {expected} (truncated file)"
        )
    if stream.read(1):
        raise ValueError(
            f"read_idx: {where}: data continues after the {expected}-byte payload the header implies"
        )
    arr = np.frombuffer(buf, dtype=dtype).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The file is written to a temporary name in the same folder, then renamed, so an existing file
    is replaced only by a complete one. The gzip header carries no timestamp: same array, same bytes.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    array : array_like
        At least 1-D, every dimension < 2**32, of dtype uint8, int8, int16, int32, float32 or
        float64 (any byte order).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If the dtype has no IDX type code (e.g. bool, int64, complex, object).
    ValueError
        If the array is 0-D or a dimension does not fit in 32 bits.
    """
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=") if arr.dtype.itemsize > 1 else arr.dtype
    if arr.dtype.kind not in "uif" or native not in _CODES:
        valid = ", ".join(dt.name for dt in _CODES)
        raise TypeError(f"write_idx: array dtype {arr.dtype} has no IDX type code; valid: {valid}")
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: array must have 1 to 255 dimensions, got shape {arr.shape}")
    if any(n >= 2**32 for n in arr.shape):
        raise ValueError(f"write_idx: every dimension must be < 2**32, got shape {arr.shape}")
    code = _CODES[native]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    target = Path(path)
    with atomic_write(target) as handle:
        if target.name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            handle.write(header)
            handle.write(payload)
    return target
