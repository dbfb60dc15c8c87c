"""Writing files so that nobody ever sees half of one, reading ``.npz`` archives within stated
bounds, and turning records into JSON-safe values.

:func:`atomic_write` is the one place in tinynet that renames a file into place: checkpoints, caches,
IDX files, downloads, figures and JSON all go through it. :class:`NpzReader` (and :func:`read_npz`)
is the one place that reads an ``.npz`` archive: checkpoints (``tn.load``), the data cache and
``data.load`` of an ``.npz`` file all go through it.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

from ._checks import check_int

__all__ = [
    "ARRAY_KINDS",
    "DEFAULT_MAX_NPZ_BYTES",
    "TEMP_MARK",
    "NpzError",
    "NpzReader",
    "atomic_write",
    "is_temp_file",
    "json_ready",
    "read_npz",
    "write_text",
]

_UMASK = os.umask(0)  # os.umask can only be read by setting it; restored on the next line
os.umask(_UMASK)

# ------------------------------------------------------------------------------------ writing
#: the part of a temporary file's name that marks it as tinynet's: ``.{target}.tinynet-{pid}-{random}.tmp``
TEMP_MARK = ".tinynet-"
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.tinynet-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp$")


def is_temp_file(name: str) -> bool:
    """True if ``name`` (a file name, no folder) is one of :func:`atomic_write`'s temporary files."""
    return _TEMP_NAME.match(name) is not None


def _process_alive(pid: int) -> bool:
    """True unless ``pid`` is certainly not a running process (when unsure: alive)."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows: never remove there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # PermissionError: another user's live process
    return True


def _remove_stale_temp_files(folder: Path) -> None:
    """Remove the temporary files of :func:`atomic_write` in ``folder`` whose writer has died.

    A file is stale when the pid in its name is no running process: its writer was killed between
    creating it and renaming it. Files of this process (another thread may be writing) and of any
    live process are never touched.
    """
    own = os.getpid()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP_NAME.match(entry.name)
            if match is None:
                continue
            pid = int(match["pid"])
            if pid == own or _process_alive(pid):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable, where the OS can open a folder (not on Windows)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some filesystems refuse to fsync a folder
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path`` for binary writing; rename it onto ``path`` on success.

    Readers never see a half-written file: the rename (one ``replace`` call) is atomic on the same
    filesystem, and on any exception the temporary file is removed and ``path`` is left untouched.
    The parent folder is created if missing.

    The temporary file is named ``.{name}.tinynet-{pid}-{random}.tmp`` (``pid``: the writer's
    process id). After a successful rename the folder is fsynced (where the OS can open a folder)
    and the temporary files that killed writers left in it are removed: those whose pid is no
    running process. A file of a live process (another writer saving into the same folder at the
    same time) is never touched, so concurrent writers all succeed.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Yields
    ------
    IO[bytes]
        The temporary file, open for binary writing.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}{TEMP_MARK}{os.getpid()}-", suffix=".tmp"
    )
    try:
        # mkstemp creates files readable by the owner only; give the result ordinary permissions
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)
    _remove_stale_temp_files(target.parent)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` through :func:`atomic_write`."""
    with atomic_write(path) as handle:
        handle.write(text.encode("utf-8"))


def json_ready(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become None, numpy scalars become Python numbers, tuples
    become lists and dict keys strings."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


# ------------------------------------------------------------------------------------ reading
#: the default bound on an archive's declared uncompressed size (all members) and on one member's
DEFAULT_MAX_NPZ_BYTES = 2 * 2**30
#: the array kinds read: bool, signed and unsigned ints, floats, complex, unicode (never object or void)
ARRAY_KINDS = "biufcU"
_KIND_TEXT = "bool, integer, float, complex and str arrays"
_MAX_NPY_HEADER = 65536  # numpy writes headers of a few hundred bytes; its own reader allows 10,000
_MAX_NDIM = 64
_CHUNK = 2**20
_HEADER_READERS = {
    (1, 0): (2, npy_format.read_array_header_1_0),
    (2, 0): (4, npy_format.read_array_header_2_0),
}


class NpzError(ValueError):
    """An ``.npz`` archive that cannot be read as it is: corrupt, truncated, crafted, over a limit.

    A ``ValueError``; its message names the file and, where one is at fault, the member.
    """


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end of the stream), read in bounded chunks."""
    parts, left = [], size
    while left > 0:
        part = stream.read(min(left, _CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class NpzReader:
    """An ``.npz`` archive opened for bounded reading, without pickle.

    Opening checks the archive's directory before anything is decompressed: every member is named
    ``<key>.npy`` (once), no member's declared uncompressed size exceeds ``max_member_bytes`` and
    their sum does not exceed ``max_total_bytes``. :meth:`read` then parses the member's ``.npy``
    header with numpy's own header reader (``numpy.lib.format``), refuses object, void and
    structured dtypes, checks the size the header declares (``prod(shape) * itemsize``) against
    the member's size before allocating, and reads exactly that many bytes in bounded chunks (the
    zip checksum is verified at the end).

    Every failure of the file's content raises :class:`NpzError` (a ``ValueError``) naming the file
    and the member: a broken zip, a bad checksum, a truncated stream, an unparsable header, a
    size over a limit. Failures to open the file (missing, no permission) raise ``OSError``; a
    path that is not a regular file (a folder, a FIFO, a device) raises ``NpzError`` without
    blocking.

    Parameters
    ----------
    path : str or os.PathLike
        The archive.
    owner : str
        Who reads (``"tinynet.load"``, ``"load"``, ...): the start of every error message.
    max_member_bytes : int
        Largest declared uncompressed size of one member (its ``.npy`` header and data), default
        :data:`DEFAULT_MAX_NPZ_BYTES` (2 GiB).
    max_total_bytes : int
        Largest declared uncompressed size of all members together, default 2 GiB.
    limit_name : str, optional
        The caller's name for the limits in error messages (e.g. ``"max_bytes"`` of ``tn.load``);
        default ``"max_member_bytes"`` and ``"max_total_bytes"``.

    Attributes
    ----------
    names : tuple of str
        The members' keys (their names without ``.npy``), in archive order.

    Examples
    --------
    >>> with NpzReader("data.npz", owner="load") as archive:  # doctest: +SKIP
    ...     x = archive.read("x_train")
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        owner: str = "read_npz",
        max_member_bytes: int = DEFAULT_MAX_NPZ_BYTES,
        max_total_bytes: int = DEFAULT_MAX_NPZ_BYTES,
        limit_name: str | None = None,
    ) -> None:
        self.owner = owner
        self._member_limit_name = limit_name or "max_member_bytes"
        self._total_limit_name = limit_name or "max_total_bytes"
        self.path = os.fspath(path)
        self.max_member_bytes = check_int(owner, "max_member_bytes", max_member_bytes, minimum=0)
        self.max_total_bytes = check_int(owner, "max_total_bytes", max_total_bytes, minimum=0)
        self._file = self._open_regular()
        try:
            self._zip = self._open_zip()
            self._infos = self._check_directory()
        except BaseException:
            self._file.close()
            raise
        self.names = tuple(self._infos)

    # -------------------------------------------------------------- messages
    def _where(self, key: str | None = None) -> str:
        where = f"{self.owner}: {self.path!r}"
        return where if key is None else f"{where}: member {key!r}"

    def _corrupt(self, why: str, key: str | None = None) -> NpzError:
        member = "" if key is None else f"member {key!r}: "
        return NpzError(f"{self.owner}: {self.path!r} is corrupt or truncated ({member}{why})")

    # -------------------------------------------------------------- opening
    def _open_regular(self) -> IO[bytes]:
        # O_NONBLOCK: opening a FIFO without a writer must not block; it is refused just below
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
                raise NpzError(f"{self._where()} is {kind}; an .npz archive is a regular file")
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def _open_zip(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self._file)
        except MemoryError:
            raise
        except Exception as error:  # BadZipFile, OSError, struct.error, UnicodeDecodeError, ...
            raise NpzError(
                f"{self.owner}: {self.path!r} is corrupt or truncated, or not an .npz (zip) "
                f"archive ({type(error).__name__}: {error})"
            ) from None

    def _check_directory(self) -> dict[str, zipfile.ZipInfo]:
        infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in self._zip.infolist():
            name = info.filename
            if not name.endswith(".npy") or len(name) == len(".npy"):
                raise NpzError(
                    f"{self._where(name)} is not an .npy array; an .npz archive holds only "
                    "members named <key>.npy"
                )
            key = name[: -len(".npy")]
            if key in infos:
                raise self._corrupt("the archive holds two members of this name", key)
            if info.file_size > self.max_member_bytes:
                raise NpzError(
                    f"{self._where(key)} declares {info.file_size} bytes uncompressed, over the "
                    f"limit of {self.max_member_bytes} bytes ({self._member_limit_name})"
                )
            total += info.file_size
            infos[key] = info
        if total > self.max_total_bytes:
            raise NpzError(
                f"{self._where()} declares {total} bytes uncompressed in all, over the limit of "
                f"{self.max_total_bytes} bytes ({self._total_limit_name})"
            )
        return infos

    # -------------------------------------------------------------- reading
    def size(self, key: str) -> int:
        """The declared uncompressed size in bytes (``.npy`` header and data) of member ``key``."""
        if key not in self._infos:
            raise NpzError(f"{self._where()} has no member {key!r}; it holds {list(self.names)}")
        return self._infos[key].file_size

    def _header(self, stream: IO[bytes], key: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
        magic = _read_exact(stream, npy_format.MAGIC_LEN)
        if len(magic) < npy_format.MAGIC_LEN or not magic.startswith(npy_format.MAGIC_PREFIX):
            raise NpzError(f"{self._where(key)} is not an .npy array (no .npy magic string)")
        version = (magic[-2], magic[-1])
        if version not in _HEADER_READERS:
            raise NpzError(
                f"{self._where(key)} uses .npy format version {version[0]}.{version[1]}; "
                "versions 1.0 and 2.0 are read"
            )
        length_size, reader = _HEADER_READERS[version]
        length_bytes = _read_exact(stream, length_size)
        if len(length_bytes) < length_size:
            raise self._corrupt("it ends inside the .npy header", key)
        length = int.from_bytes(length_bytes, "little")
        if length > _MAX_NPY_HEADER:  # checked before the header is read (a 2.0 header may claim 4 GiB)
            raise NpzError(
                f"{self._where(key)} has an .npy header of {length} bytes; at most "
                f"{_MAX_NPY_HEADER} are read"
            )
        header = _read_exact(stream, length)
        if len(header) < length:
            raise self._corrupt("it ends inside the .npy header", key)
        try:
            shape, fortran, dtype = reader(
                io.BytesIO(length_bytes + header), max_header_size=_MAX_NPY_HEADER
            )
        except Exception as error:  # ValueError, tokenize errors, RecursionError, TypeError, ...
            # ... and MemoryError: Python's parser raises it for a deeply nested header of a few KB
            # (the header is at most _MAX_NPY_HEADER bytes, so no allocation of ours failed)
            raise self._corrupt(f"unreadable .npy header: {type(error).__name__}: {error}", key) from None
        return shape, fortran, dtype, npy_format.MAGIC_LEN + length_size + length

    def _check_dtype(self, dtype: np.dtype, key: str) -> None:
        if dtype.hasobject:
            raise NpzError(
                f"{self._where(key)} holds pickled Python objects; refusing to load it (dtype "
                f"{dtype}: tinynet reads .npz files without pickle and never unpickles)"
            )
        if dtype.kind not in ARRAY_KINDS or dtype.names is not None or dtype.subdtype is not None:
            raise NpzError(
                f"{self._where(key)} has dtype {dtype}; only {_KIND_TEXT} are read"
            )

    def read(self, key: str, *, max_bytes: int | None = None) -> np.ndarray:
        """Read member ``key`` as a new, writable numpy array.

        Parameters
        ----------
        key : str
            A member's key (one of :attr:`names`).
        max_bytes : int, optional
            A tighter bound than ``max_member_bytes`` for this member's declared uncompressed
            size, checked before anything is decompressed.

        Returns
        -------
        numpy.ndarray
            The array, of the shape, dtype and memory order the ``.npy`` header declares.

        Raises
        ------
        NpzError
            A ``ValueError`` naming the file and the member, for any content it cannot read.
        """
        size = self.size(key)
        if max_bytes is not None:
            limit = check_int(self.owner, "max_bytes", max_bytes, minimum=0)
            if size > limit:
                raise NpzError(
                    f"{self._where(key)} declares {size} bytes uncompressed, over the limit of "
                    f"{limit} bytes for this member"
                )
        try:
            with self._zip.open(self._infos[key]) as stream:
                return self._read_member(stream, key, size)
        except (NpzError, MemoryError):
            raise
        except Exception as error:  # BadZipFile (CRC), zlib.error, EOFError, NotImplementedError, ...
            raise self._corrupt(f"{type(error).__name__}: {error}", key) from None

    def _read_member(self, stream: IO[bytes], key: str, size: int) -> np.ndarray:
        shape, fortran, dtype, header_size = self._header(stream, key)
        self._check_dtype(dtype, key)
        if len(shape) > _MAX_NDIM or any(n < 0 for n in shape):
            raise self._corrupt(f"the .npy header declares the shape {shape}", key)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if dtype.itemsize == 0 and count:
            raise self._corrupt(f"the .npy header declares {count} elements of size 0", key)
        limit = min(self.max_member_bytes, self.max_total_bytes)
        if nbytes > limit:
            name = self._member_limit_name if limit == self.max_member_bytes else self._total_limit_name
            raise NpzError(
                f"{self._where(key)} declares {count} elements of {dtype} ({nbytes} bytes), over "
                f"the limit of {limit} bytes ({name})"
            )
        if nbytes != size - header_size:
            raise self._corrupt(
                f"its .npy header declares {nbytes} bytes of data, the archive {size - header_size}",
                key,
            )
        array = np.empty(shape[::-1] if fortran else shape, dtype=dtype)
        if nbytes:
            flat = array.reshape(-1).view(np.uint8)
            done = 0
            while done < nbytes:
                part = stream.read(min(_CHUNK, nbytes - done))
                if not part:
                    raise self._corrupt(f"its data ends after {done} of {nbytes} bytes", key)
                flat[done : done + len(part)] = np.frombuffer(part, dtype=np.uint8)
                done += len(part)
        if stream.read(1):  # never trust the header: nothing may follow the declared data
            raise self._corrupt(f"it holds more than the {nbytes} bytes of data it declares", key)
        return array.T if fortran else array

    # -------------------------------------------------------------- closing
    def close(self) -> None:
        """Close the archive and its file."""
        with contextlib.suppress(Exception):
            self._zip.close()
        self._file.close()

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_npz(
    path: str | os.PathLike[str],
    *,
    members: Iterable[str] | None = None,
    owner: str = "read_npz",
    max_member_bytes: int = DEFAULT_MAX_NPZ_BYTES,
    max_total_bytes: int = DEFAULT_MAX_NPZ_BYTES,
) -> dict[str, np.ndarray]:
    """Read the arrays of an ``.npz`` archive within bounds, without pickle (see :class:`NpzReader`).

    Parameters
    ----------
    path : str or os.PathLike
        The archive.
    members : iterable of str, optional
        The keys to read (each must be present); default every member.
    owner : str
        The start of every error message.
    max_member_bytes, max_total_bytes : int
        Bounds on the declared uncompressed size of one member and of all members, checked before
        anything is decompressed; default 2 GiB each.

    Returns
    -------
    dict of str to numpy.ndarray
        Key (member name without ``.npy``) to array, in archive order (or in the order of
        ``members``).

    Raises
    ------
    NpzError
        A ``ValueError`` naming the file and the member, for any content it cannot read, a
        missing member or a size over a limit.
    OSError
        If the file cannot be opened (missing, no permission).
    """
    with NpzReader(
        path, owner=owner, max_member_bytes=max_member_bytes, max_total_bytes=max_total_bytes
    ) as archive:
        keys = archive.names if members is None else list(members)
        return {key: archive.read(key) for key in keys}
