"""Writing files so that nobody ever sees half of one, and turning records into JSON-safe values.

:func:`atomic_write` is the one place in tinynet that renames a file into place: checkpoints, caches,
IDX files, downloads, figures and JSON all go through it.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

_UMASK = os.umask(0)  # os.umask can only be read by setting it; restored on the next line
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path`` for binary writing; rename it onto ``path`` on success.

    Readers never see a half-written file: the rename (``os.replace``) is atomic on the same
    filesystem, and on any exception the temporary file is removed and ``path`` is left untouched.
    The parent folder is created if missing.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
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
