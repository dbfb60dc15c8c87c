"""The MNIST family (MNIST, Fashion-MNIST, Kuzushiji-MNIST) from IDX files, with verified download."""

from __future__ import annotations

import hashlib
import os
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
        (``retries`` attempts per mirror on network errors, ``timeout`` seconds per attempt),
        streamed into a temporary file beside its destination while its SHA-256 is computed, and
        renamed into place only if the digest equals the pinned one; otherwise the temporary file is
        deleted and the next mirror is tried. Files already present are used as they are.
    mirrors : sequence of str, optional
        Base URLs (``http``/``https``) to use instead of :data:`MIRRORS` ``[kind]``.
    checksums : mapping of str to str, optional
        SHA-256 hex digests by ``.gz`` file name, instead of :data:`SHA256` ``[kind]``.
    timeout : float
        Seconds to wait for a mirror to connect or send data.
    retries : int
        Attempts per mirror for network errors (>= 1). A wrong checksum moves on at once.

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
        If no mirror serves a file matching its checksum (an ``OSError``); no file is left behind.
    ValueError
        If ``kind`` is unknown, a file is not valid IDX, images are not 3-D, labels not 1-D, or
        image and label counts disagree.
    """
    kind = check_choice("load_mnist", "kind", kind, KINDS)
    check_int("load_mnist", "retries", retries, minimum=1)
    check_real("load_mnist", "timeout", timeout, minimum=0, strict_min=True)
    base = Path(root) if root is not None else cache_dir() / kind
    found = find_files(base, kind)
    missing = [key for key, path in found.items() if path is None]
    if missing and not download:
        names = ", ".join(FILES[k] + "[.gz]" for k in missing)
        raise FileNotFoundError(
            f"load_mnist: {kind} files not found in {base}: missing {names}. "
            f"Pass download=True to fetch them (from {MIRRORS[kind][0]} and other mirrors), "
            f"or place the standard IDX files (gzipped or not) in that folder, "
            f"or pass root=<folder holding them>."
        )
    if missing:
        urls = list(mirrors) if mirrors is not None else list(MIRRORS[kind])
        sums = dict(checksums) if checksums is not None else SHA256[kind]
        for key in missing:
            gz = FILES[key] + ".gz"
            if gz not in sums:
                raise ValueError(f"load_mnist: no SHA-256 pinned for {gz}; pass checksums={{{gz!r}: ...}}")
            found[key] = download_file(gz, base / gz, urls, sums[gz], timeout=timeout, retries=retries)

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


def download_file(
    name: str,
    dest: str | os.PathLike[str],
    mirrors: Sequence[str],
    sha256: str,
    *,
    timeout: float = 30.0,
    retries: int = 2,
) -> Path:
    """Fetch ``<mirror><name>`` from the first mirror serving bytes whose SHA-256 is ``sha256``.

    The download streams into a temporary file in ``dest``'s folder, renamed to ``dest`` only after
    the digest matched; a mismatch or a network error deletes it. Network errors (connection,
    timeout, HTTP 5xx) are retried up to ``retries`` times per mirror with a short back-off; HTTP
    4xx and a wrong digest move on to the next mirror at once.

    Raises
    ------
    TypeError
        If ``retries`` is not an int or ``timeout`` not a real number.
    ValueError
        If a mirror is not an ``http`` or ``https`` URL, ``retries < 1`` or ``timeout <= 0``.
    DownloadError
        If no mirror served a valid copy; the message lists what each mirror did.
    """
    check_int("download_file", "retries", retries, minimum=1)
    check_real("download_file", "timeout", timeout, minimum=0, strict_min=True)
    for base in mirrors:
        scheme = urllib.parse.urlsplit(base).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"download_file: mirror {base!r} must be an http or https URL")
    want = sha256.lower()
    failures = []
    for base in mirrors:
        url = base + name if base.endswith("/") else f"{base}/{name}"
        for attempt in range(1, retries + 1):
            try:
                got = _fetch(url, dest, want, timeout)
            except _Mismatch as exc:
                failures.append(f"{url}: {exc}")
                break
            except urllib.error.HTTPError as exc:
                failures.append(f"{url}: HTTP {exc.code} {exc.reason}")
                if exc.code < 500:
                    break
            except OSError as exc:  # URLError, timeouts, connection resets
                reason = getattr(exc, "reason", exc)
                failures.append(f"{url}: attempt {attempt}: {reason}")
            else:
                return got
            if attempt < retries:
                time.sleep(0.1 * attempt)
    detail = "\n  ".join(failures) or "no mirrors given"
    raise DownloadError(
        f"could not download {name} with SHA-256 {want}; no file was written to {Path(dest)}.\n  {detail}"
    )


class _Mismatch(Exception):
    """The bytes served do not match the pinned digest (or are too large)."""


def _fetch(url: str, dest: str | os.PathLike[str], want: str, timeout: float) -> Path:
    digest = hashlib.sha256()
    size = 0
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > _MAX_DOWNLOAD:
            raise _Mismatch(f"size {length} bytes exceeds the {_MAX_DOWNLOAD}-byte limit")
        with atomic_write(dest) as out:
            while True:
                block = response.read(_BLOCK)
                if not block:
                    break
                size += len(block)
                if size > _MAX_DOWNLOAD:
                    raise _Mismatch(f"more than {_MAX_DOWNLOAD} bytes served")
                digest.update(block)
                out.write(block)
            if digest.hexdigest() != want:
                raise _Mismatch(f"SHA-256 {digest.hexdigest()} of {size} bytes, expected {want}")
    return Path(dest)
