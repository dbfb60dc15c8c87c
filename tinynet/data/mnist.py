"""The MNIST family (MNIST, Fashion-MNIST, Kuzushiji-MNIST) from IDX files, with verified download."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .._checks import check_choice, check_int, check_real
from .._files import atomic_write
from .cache import cache_dir
from .idx import read_idx

#: Standard file names (without ``.gz``) of each split, shared by the whole family.
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: Base URLs tried in order for each kind; ``<base><name>.gz`` is fetched.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    "kmnist": (
        "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
    ),
}

#: Pinned SHA-256 of each published ``.gz`` file (the values torchvision and TensorFlow Datasets pin).
SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "kmnist": {
        "train-images-idx3-ubyte.gz": "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
        "train-labels-idx1-ubyte.gz": "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        "t10k-images-idx3-ubyte.gz": "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
        "t10k-labels-idx1-ubyte.gz": "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
    },
}

KINDS = tuple(MIRRORS)
#: Environment variable naming extra mirrors of each kind, tried before :data:`MIRRORS`: one or more
#: ``http``/``https``/``file`` base URLs separated by spaces, e.g. ``TINYNET_MNIST_MIRROR=http://host/mnist/``.
MIRROR_ENV = {kind: f"TINYNET_{kind.upper()}_MIRROR" for kind in KINDS}
#: Default overall deadline, in seconds, for fetching one file (every mirror and attempt together).
DEADLINE = 300.0
_MAX_DOWNLOAD = 64 * 1024 * 1024  # the largest published file is ~26 MB
_BLOCK = 1 << 16


class DownloadError(OSError):
    """No mirror served a copy of a file matching its pinned SHA-256."""


def candidate_names(name: str, kind: str) -> list[str]:
    """File names accepted for the standard ``name``, most preferred first.

    ``train-images-idx3-ubyte`` may appear gzipped or not, with the dotted spelling of the original
    archives (``train-images.idx3-ubyte``), and with a ``<kind>-`` prefix.
    """
    spellings = [name, name.replace("-idx", ".idx")]
    out = []
    for prefix in ("", f"{kind}-"):
        for spelled in spellings:
            out += [f"{prefix}{spelled}.gz", f"{prefix}{spelled}"]
    return out


def find_files(root: str | os.PathLike[str], kind: str = "mnist") -> dict[str, Path | None]:
    """Map each split key of :data:`FILES` to the file found under ``root``, or ``None``."""
    base = Path(root)
    found: dict[str, Path | None] = {}
    for key, name in FILES.items():
        found[key] = next(
            (base / c for c in candidate_names(name, kind) if (base / c).is_file()), None
        )
    return found


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    kind: str = "mnist",
    download: bool = False,
    *,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    retries: int = 2,
    deadline: float = DEADLINE,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST, Fashion-MNIST or Kuzushiji-MNIST from their IDX files.

    Parameters
    ----------
    root : str, os.PathLike or None
        Folder holding the four files under their standard names (see :func:`candidate_names`):
        ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
        ``t10k-labels-idx1-ubyte``, each optionally ``.gz``. Default: ``<cache_dir()>/<kind>``.
    kind : {"mnist", "fashion", "kmnist"}
        Which set; selects the default folder, mirrors and checksums.
    download : bool
        Fetch missing files. Each is requested as ``<mirror><name>.gz`` from each mirror in turn
        (``retries`` attempts per mirror on network errors, at most ``timeout`` seconds of waiting
        per read, at most ``deadline`` seconds per file in all), streamed into a temporary file
        beside its destination while its SHA-256 is computed, and renamed into place only if the
        digest equals the pinned one; otherwise the temporary file is deleted and the next mirror is
        tried. Files already present are used as they are.
    mirrors : sequence of str, optional
        Base URLs (``http``, ``https`` or ``file``: a local folder) to use instead of the default
        ones. The default: the URLs in the environment variable :data:`MIRROR_ENV` ``[kind]``
        (``TINYNET_MNIST_MIRROR``, ``TINYNET_FASHION_MIRROR``, ``TINYNET_KMNIST_MIRROR``; separated
        by spaces), if set, then :data:`MIRRORS` ``[kind]``.
    checksums : mapping of str to str, optional
        SHA-256 hex digests by ``.gz`` file name, instead of :data:`SHA256` ``[kind]``.
    timeout : float
        Seconds to wait for a mirror to connect or to send the next data (per read).
    retries : int
        Attempts per mirror for network errors (>= 1). A wrong checksum moves on at once.
    deadline : float
        Seconds allowed for fetching one file, over every mirror and attempt (default
        :data:`DEADLINE`, 300 s). It holds however slowly a server sends: a download still running
        at the deadline is abandoned at once and its temporary file removed.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        Images as stored (``uint8``, shape ``(n, 28, 28)`` for the published sets), labels ``int64``.

    Raises
    ------
    FileNotFoundError
        If files are missing and ``download`` is false; the message names the folder searched, the
        missing files and how to get them.
    DownloadError
        If no mirror serves a file matching its checksum within the deadline (an ``OSError``); no
        file is left behind.
    ValueError
        If ``kind`` is unknown, a mirror (given or in the environment variable) is not an
        ``http``/``https``/``file`` URL, a file is not valid IDX, images are not 3-D, labels not 1-D, or
        image and label counts disagree.
    """
    kind = check_choice("load_mnist", "kind", kind, KINDS)
    check_int("load_mnist", "retries", retries, minimum=1)
    check_real("load_mnist", "timeout", timeout, minimum=0, strict_min=True)
    check_real("load_mnist", "deadline", deadline, minimum=0, strict_min=True)
    if isinstance(mirrors, (str, bytes)):
        raise TypeError(f"load_mnist: mirrors must be a sequence of URLs, got the single {mirrors!r}")
    base = Path(root) if root is not None else cache_dir() / kind
    found = find_files(base, kind)
    missing = [key for key, path in found.items() if path is None]
    if missing and not download:
        names = ", ".join(FILES[k] + "[.gz]" for k in missing)
        raise FileNotFoundError(
            f"load_mnist: {kind} files not found in {base}: missing {names}. "
            f"Pass download=True to fetch them (from {MIRRORS[kind][0]} and other mirrors, or "
            f"from the mirror given by mirrors=[url] or ${MIRROR_ENV[kind]}), "
            f"or place the standard IDX files (gzipped or not) in that folder, "
            f"or pass root=<folder holding them>."
        )
    if missing:
        urls = list(mirrors) if mirrors is not None else [*env_mirrors(kind), *MIRRORS[kind]]
        sums = dict(checksums) if checksums is not None else SHA256[kind]
        for key in missing:
            gz = FILES[key] + ".gz"
            if gz not in sums:
                raise ValueError(f"load_mnist: no SHA-256 pinned for {gz}; pass checksums={{{gz!r}: ...}}")
            found[key] = download_file(
                gz, base / gz, urls, sums[gz], timeout=timeout, retries=retries, deadline=deadline
            )

    arrays = {key: read_idx(path) for key, path in found.items()}
    out = []
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        img_path, lab_path = found[f"{split}_images"], found[f"{split}_labels"]
        if images.ndim != 3:
            raise ValueError(
                f"load_mnist: {img_path}: images must be 3-D (n, rows, cols), got shape {images.shape}"
            )
        if labels.ndim != 1:
            raise ValueError(f"load_mnist: {lab_path}: labels must be 1-D, got shape {labels.shape}")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"load_mnist: {img_path} holds {images.shape[0]} images but {lab_path} holds "
                f"{labels.shape[0]} labels; they must agree"
            )
        out.append((images, labels.astype(np.int64)))
    return out[0], out[1]


def env_mirrors(kind: str) -> list[str]:
    """The mirrors named by the environment variable :data:`MIRROR_ENV` ``[kind]`` (none if unset).

    Raises
    ------
    ValueError
        If the variable holds something other than ``http``/``https``/``file`` URLs separated by spaces.
    """
    kind = check_choice("env_mirrors", "kind", kind, KINDS)
    name = MIRROR_ENV[kind]
    urls = os.environ.get(name, "").split()
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        web = parts.scheme in ("http", "https") and bool(parts.netloc)
        if not (web or (parts.scheme == "file" and parts.path)):
            raise ValueError(
                f"load_mnist: ${name} must hold http, https or file base URLs separated by spaces, "
                f"got {url!r}"
            )
    return urls


def download_file(
    name: str,
    dest: str | os.PathLike[str],
    mirrors: Sequence[str],
    sha256: str,
    *,
    timeout: float = 30.0,
    retries: int = 2,
    deadline: float = DEADLINE,
) -> Path:
    """Fetch ``<mirror><name>`` from the first mirror serving bytes whose SHA-256 is ``sha256``.

    The download streams into a temporary file in ``dest``'s folder, renamed to ``dest`` only after
    the digest matched; a mismatch, a network error or the deadline deletes it. Network errors
    (connection, timeout, a connection closed before the announced length, a reply that is not
    HTTP, HTTP 5xx) are retried
    up to ``retries`` times per mirror with a short back-off; HTTP 4xx and a wrong digest move on
    to the next mirror at once.

    Two limits bound the time: ``timeout`` is the longest wait for a connection or for the next
    data (one read), and ``deadline`` the longest time for the whole file, over every mirror and
    attempt. Reads return whatever has arrived, the deadline is checked between them, and a
    watchdog shuts down the connection when the deadline passes, so that no read can outlast it:
    a server that sends one byte a second is abandoned at the deadline.

    Parameters
    ----------
    name : str
        File name appended to each mirror's base URL.
    dest : str or os.PathLike
        Where the verified file is written.
    mirrors : sequence of str
        Base URLs (``http``, ``https`` or ``file``), tried in order.
    sha256 : str
        Expected hex digest.
    timeout : float
        Seconds per connection or read (> 0).
    retries : int
        Attempts per mirror for network errors (>= 1).
    deadline : float
        Seconds for the whole file (> 0; default :data:`DEADLINE`).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    TypeError
        If ``retries`` is not an int or ``timeout``/``deadline`` not a real number.
    ValueError
        If a mirror is not an ``http``, ``https`` or ``file`` URL, ``retries < 1``, ``timeout <= 0`` or
        ``deadline <= 0``.
    DownloadError
        If no mirror served a valid copy before the deadline; the message lists what each mirror
        did (and which were not tried because the deadline had passed).
    """
    check_int("download_file", "retries", retries, minimum=1)
    check_real("download_file", "timeout", timeout, minimum=0, strict_min=True)
    check_real("download_file", "deadline", deadline, minimum=0, strict_min=True)
    if isinstance(mirrors, (str, bytes)):
        raise TypeError(f"download_file: mirrors must be a sequence of URLs, got the single {mirrors!r}")
    mirrors = list(mirrors)
    for base in mirrors:
        scheme = urllib.parse.urlsplit(base).scheme
        if scheme not in ("http", "https", "file"):
            raise ValueError(f"download_file: mirror {base!r} must be an http, https or file URL")
    want = sha256.lower()
    failures = []
    with _Watchdog(deadline) as watchdog:
        for index, base in enumerate(mirrors):
            url = base + name if base.endswith("/") else f"{base}/{name}"
            try:
                got = _fetch_with_retries(url, dest, want, timeout, retries, watchdog, failures)
            except _DeadlinePassed as exc:
                failures.append(f"{url}: {exc}")
                untried = ", ".join(mirrors[index + 1 :])
                if untried:
                    failures.append(f"not tried (deadline passed): {untried}")
                break
            if got is not None:
                return got
    detail = "\n  ".join(failures) or "no mirrors given"
    limit = f" within the {deadline:g} s deadline" if watchdog.expired() else ""
    raise DownloadError(
        f"could not download {name} with SHA-256 {want}{limit}; no file was written to "
        f"{Path(dest)}.\n  {detail}"
    )


def _fetch_with_retries(
    url: str,
    dest: str | os.PathLike[str],
    want: str,
    timeout: float,
    retries: int,
    watchdog: _Watchdog,
    failures: list[str],
) -> Path | None:
    """Try ``url`` up to ``retries`` times; the file on success, None (failures noted) otherwise."""
    for attempt in range(1, retries + 1):
        try:
            return _fetch(url, dest, want, timeout, watchdog)
        except _Mismatch as exc:
            failures.append(f"{url}: {exc}")
            return None
        except urllib.error.HTTPError as exc:
            failures.append(f"{url}: HTTP {exc.code} {exc.reason}")
            if exc.code < 500:
                return None
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, short
            reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"  # bodies, garbage
            failures.append(f"{url}: attempt {attempt}: {reason}")
        if attempt < retries:
            time.sleep(max(0.0, min(0.1 * attempt, watchdog.remaining())))
    return None


class _Mismatch(Exception):
    """The bytes served do not match the pinned digest (or are too large)."""


class _DeadlinePassed(Exception):
    """The file's deadline passed during a download (not an OSError: never retried)."""


class _Watchdog:
    """The deadline of one file: time left, and a timer that shuts down its connections when it passes.

    Shutting a socket down ends a read blocked on it at once, in whatever phase (status line,
    headers, body), so no read outlasts the deadline whatever the per-read timeout.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._fired = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()

    def remaining(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self._end - time.monotonic()

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self._fired.is_set() or self.remaining() <= 0

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
            if self._fired.is_set():
                _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self._fired.set()
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    # the plain socket's shutdown, also for an SSL socket: it wakes a blocked read without touching
    # the TLS state the reading thread is using
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: object, watchdog: _Watchdog, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def connect(self) -> None:
        super().connect()
        self._watchdog.watch(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: object, watchdog: _Watchdog, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def connect(self) -> None:
        super().connect()
        self._watchdog.watch(self.sock)


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPConnection, req, watchdog=self.watchdog)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPSConnection, req, watchdog=self.watchdog)


def _fetch(url: str, dest: str | os.PathLike[str], want: str, timeout: float, watchdog: _Watchdog) -> Path:
    """One attempt: stream ``url`` into ``dest`` through a temporary file, checking its digest."""
    if watchdog.expired():
        raise _DeadlinePassed(f"deadline of {watchdog.seconds:g} s passed before the attempt")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":  # a FIFO or device would block in open(), past any deadline
        local = urllib.request.url2pathname(parts.path)
        if not os.path.isfile(local):
            raise FileNotFoundError(f"no regular file at {local!r}")
    opener = urllib.request.build_opener(_WatchedHTTPHandler(watchdog), _WatchedHTTPSHandler(watchdog))
    digest = hashlib.sha256()
    size = 0
    try:
        with opener.open(url, timeout=min(timeout, watchdog.remaining())) as response:
            length = response.headers.get("Content-Length")
            announced = int(length) if length is not None and length.isdigit() else None
            if announced is not None and announced > _MAX_DOWNLOAD:
                raise _Mismatch(f"size {announced} bytes exceeds the {_MAX_DOWNLOAD}-byte limit")
            with atomic_write(dest) as out:
                while not watchdog.expired():
                    block = response.read1(_BLOCK)  # what has arrived: never waits to fill a buffer
                    if not block:
                        break
                    size += len(block)
                    if size > _MAX_DOWNLOAD:
                        raise _Mismatch(f"more than {_MAX_DOWNLOAD} bytes served")
                    digest.update(block)
                    out.write(block)
                if watchdog.expired():
                    raise _DeadlinePassed(
                        f"deadline of {watchdog.seconds:g} s passed after {size} bytes"
                    )
                if announced is not None and size != announced:
                    raise ConnectionError(f"connection closed after {size} of {announced} bytes")
                if digest.hexdigest() != want:
                    raise _Mismatch(f"SHA-256 {digest.hexdigest()} of {size} bytes, expected {want}")
    except (_DeadlinePassed, _Mismatch):
        raise
    except Exception:
        if watchdog.expired():  # whatever the shut-down connection raised
            raise _DeadlinePassed(f"deadline of {watchdog.seconds:g} s passed after {size} bytes") from None
        raise
    return Path(dest)
