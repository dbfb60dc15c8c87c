"""The IDX file format of MNIST and its relatives, raw or gzip-compressed.

Layout (all integers big-endian)::

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d (1-255)
    4 * d       size of each dimension, unsigned 32-bit
    payload     prod(sizes) elements, big-endian, C order

:func:`read_idx` reads only regular files (a FIFO or device is refused without blocking), and checks
the whole header, the declared payload against ``max_bytes`` and against what the file can hold,
*before* it allocates the array or inflates anything, so a damaged or hostile file raises
:class:`ValueError` instead of exhausting memory or hanging. The payload is read in place into the
result: memory follows the bytes actually present, once.
"""

from __future__ import annotations

import gzip
import math
import os
import stat
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._checks import check_int
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
#: Default ``max_bytes`` of :func:`read_idx`: the largest declared payload it reads (1 GiB).
MAX_BYTES = 1 << 30
# O_NONBLOCK: opening a FIFO swapped in after the mode check returns at once instead of blocking
_OPEN_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


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


def read_idx(path: str | bytes | os.PathLike[str], max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read an IDX file (raw, or gzip-compressed: detected from its first bytes).

    Parameters
    ----------
    path : str or os.PathLike
        The file: a regular file (or a link to one). Gzip files are recognised by their magic bytes,
        whatever their name.
    max_bytes : int
        The largest payload (``prod(shape) * itemsize`` bytes, as the header declares it) that is
        read; default :data:`MAX_BYTES` (1 GiB; MNIST's largest file holds 47 MB). A header
        declaring more is rejected before anything is inflated or allocated.

    Returns
    -------
    numpy.ndarray
        A new, writable array with the shape of the header and the IDX element type in native byte
        order (``uint8``, ``int8``, ``int16``, ``int32``, ``float32`` or ``float64``).

    Raises
    ------
    TypeError
        If ``path`` is not a str or path, or ``max_bytes`` not an int.
    ValueError
        Naming the file and the problem: if it is not a regular file (a folder, a FIFO, a device:
        refused without blocking), if the magic number, type code or dimension count is invalid, if
        the declared payload exceeds ``max_bytes`` or what the file can hold, if the payload is
        shorter or longer than the header implies, or if the gzip stream is damaged. Validation
        happens before allocation, and the payload is read into the result in place, so memory
        stays within the payload's size plus one block.
    FileNotFoundError, PermissionError
        If the file does not exist or cannot be opened.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"read_idx: path must be a str or os.PathLike, got {type(path).__name__}")
    max_bytes = check_int("read_idx", "max_bytes", max_bytes, minimum=0)
    where = os.fsdecode(path)
    with _open_regular(path, where) as raw:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_stream(raw, where, size, max_bytes, exact_size=size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, where, size * _MAX_GZIP_RATIO, max_bytes, exact_size=None)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"read_idx: {where}: damaged gzip stream ({exc})") from None


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _require_regular(mode: int, where: str) -> None:
    """Raise ``ValueError`` unless ``mode`` (an ``st_mode``) is that of a regular file."""
    if not stat.S_ISREG(mode):
        raise ValueError(
            f"read_idx: {where}: is {_file_kind(mode)}; an IDX file must be a regular file"
        )


def _open_regular(path: str | bytes | os.PathLike[str], where: str) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file, without ever blocking.

    The mode is checked before opening (a FIFO with no writer would block ``open``), the file is
    opened with ``O_NONBLOCK`` where it exists (so one swapped in after the check cannot block
    either), and the opened descriptor is checked again.
    """
    _require_regular(os.stat(path).st_mode, where)
    fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    try:
        _require_regular(os.fstat(fd).st_mode, where)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_stream(
    stream: BinaryIO, where: str, limit: int, max_bytes: int, exact_size: int | None
) -> np.ndarray:
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
    declared = f"header {shape} of {dtype.name} implies a payload of {expected} bytes"
    if expected > max_bytes:
        raise ValueError(
            f"read_idx: {where}: {declared}, more than max_bytes={max_bytes}; pass a larger "
            "max_bytes to read it"
        )
    available = limit - header_len
    if exact_size is not None and expected != available:
        raise ValueError(
            f"read_idx: {where}: {declared}, but the file holds {available} bytes after the header"
        )
    if expected > available:
        raise ValueError(
            f"read_idx: {where}: {declared}, more than a {limit // _MAX_GZIP_RATIO}-byte gzip file can hold"
        )
    try:
        # pages are touched only as data arrives: memory follows the bytes present, not the claim
        buf = np.empty(expected, dtype=np.uint8)
    except MemoryError:
        raise ValueError(f"read_idx: {where}: {declared}, which cannot be allocated") from None
    view = memoryview(buf)
    filled = 0
    while filled < expected:
        got = stream.readinto(view[filled : filled + _READ_BLOCK])
        if not got:
            break
        filled += got
    if filled != expected:
        raise ValueError(
            f"read_idx: {where}: payload is {filled} bytes, header {shape} of {dtype.name} "
            f"implies {expected} (truncated file)"
        )
    if stream.read(1):
        raise ValueError(
            f"read_idx: {where}: data continues after the {expected}-byte payload the header implies"
        )
    arr = buf.view(dtype).reshape(shape)
    if not dtype.isnative:
        arr = arr.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return arr


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
