"""read_idx against hostile input (issue 18): only ValueError, bounded memory, never a hang.

Three classes of failure, each with the test that catches every case of it:
- any bytes at all (random, flipped, truncated, crafted headers, any ``max_bytes``) -> only ``ValueError``;
- a header declaring more than ``max_bytes`` -> refused before inflating; memory follows the payload once
  (a memory bomb runs in a subprocess under an address-space limit, so a regression fails, not the machine);
- anything that is not a regular file (FIFO, folder, device, socket) -> ``ValueError`` at once, never a
  blocked ``open`` (run in a thread with a hard time bound).
"""

import gzip
import os
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinynet.data import idx, read_idx, write_idx
from tinynet.data.idx import MAX_BYTES

MiB = 1 << 20


def _header(code, shape):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """Bytes of one small valid raw file and one gzip file (int32 and float64: byte order matters)."""
    folder = tmp_path_factory.mktemp("valid")
    rng = np.random.default_rng(0)
    raw = write_idx(folder / "v.idx", rng.integers(-(2**31), 2**31 - 1, (3, 4, 5), dtype=np.int32))
    gz = write_idx(folder / "v.idx.gz", rng.standard_normal((4, 6)))
    return {"raw": raw.read_bytes(), "gz": gz.read_bytes()}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


def _only_value_error(path, max_bytes=MAX_BYTES):
    """read_idx either fails with ValueError naming the file or returns an array within max_bytes."""
    try:
        out = read_idx(path, max_bytes=max_bytes)
    except ValueError as exc:
        assert str(path) in str(exc)
        return None
    assert out.nbytes <= max_bytes and out.dtype.isnative and out.flags.writeable
    return out


# ---------------------------------------------------------------- fuzzing: only ValueError


@given(
    which=st.sampled_from(["raw", "gz"]),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 10_000)),
    max_bytes=st.one_of(st.just(MAX_BYTES), st.integers(0, 600)),
)
def test_fuzz_flipped_and_truncated_valid_files_only_value_error(valid, folder, which, flips, cut,
                                                                  max_bytes):
    data = bytearray(valid[which])
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path = folder / "flipped.bin"
    path.write_bytes(bytes(data))
    _only_value_error(path, max_bytes)


@given(
    code=st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]),
    dims=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5),
    body=st.sampled_from(["none", "short", "zeros64k"]),
    gz=st.booleans(),
    max_bytes=st.one_of(st.just(MAX_BYTES), st.integers(0, 2**40)),
)
def test_fuzz_crafted_headers_only_value_error_and_little_memory(folder, code, dims, body, gz, max_bytes):
    payload = {"none": b"", "short": bytes(range(37)), "zeros64k": bytes(1 << 16)}[body]
    data = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload
    path = folder / "crafted.bin"
    path.write_bytes(gzip.compress(data) if gz else data)
    tracemalloc.start()
    try:
        _only_value_error(path, max_bytes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # whatever the header claims, at most the bytes the data could really hold are ever reserved
    assert peak < 4 * MiB + 1100 * len(path.read_bytes())


@given(
    shape=st.lists(st.integers(0, 6), min_size=1, max_size=3),
    dtype=st.sampled_from([np.uint8, np.int16, np.float64]),
    max_bytes=st.integers(0, 400),
    gz=st.booleans(),
)
def test_max_bytes_is_exactly_the_declared_payload_limit(folder, shape, dtype, max_bytes, gz):
    arr = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    path = write_idx(folder / ("m.gz" if gz else "m"), arr)
    if arr.nbytes <= max_bytes:
        assert np.array_equal(read_idx(path, max_bytes=max_bytes), arr)
    else:
        with pytest.raises(ValueError, match=f"more than max_bytes={max_bytes}") as info:
            read_idx(path, max_bytes=max_bytes)
        assert str(path) in str(info.value) and "larger max_bytes" in str(info.value)


@pytest.mark.parametrize(("value", "exc"), [(1.5, TypeError), (True, TypeError), ("9", TypeError),
                                             (None, TypeError), (-1, ValueError)])
def test_max_bytes_is_validated(tmp_path, value, exc):
    path = write_idx(tmp_path / "a", np.zeros(3, np.uint8))
    with pytest.raises(exc, match="read_idx: max_bytes must be an int >= 0"):
        read_idx(path, max_bytes=value)


@pytest.mark.parametrize("path", [3, None, 2.5, ["a.idx"]])
def test_path_must_be_a_str_or_path(path):
    with pytest.raises(TypeError, match=r"read_idx: path must be a str or os\.PathLike"):
        read_idx(path)


def test_default_max_bytes_is_documented_and_one_gib():
    assert MAX_BYTES == 1 << 30
    assert read_idx.__defaults__ == (MAX_BYTES,)
    assert "max_bytes" in read_idx.__doc__ and "1 GiB" in read_idx.__doc__


# ---------------------------------------------------------------- memory: the payload, once


@pytest.mark.parametrize("dtype", [np.uint8, np.int32])
def test_honest_gzip_is_read_with_the_payload_once_in_memory(tmp_path, dtype):
    """Before: a growing bytearray plus a converted copy, over twice the payload (1 MB .gz -> 2.1 GB)."""
    n = (32 * MiB) // np.dtype(dtype).itemsize
    arr = np.zeros(n, dtype=dtype)
    arr[::4099] = 7
    path = write_idx(tmp_path / "big.gz", arr)
    assert path.stat().st_size < MiB  # highly compressible: the shape of a memory bomb
    tracemalloc.start()
    try:
        out = read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(out, arr)
    assert peak < arr.nbytes + 4 * MiB, f"peak {peak / MiB:.1f} MiB for a {arr.nbytes / MiB:.0f} MiB payload"


def _honest_bomb(path, gib=2):
    """A ~2 MB gzip file whose IDX header honestly declares ``gib`` GiB of zeros, and holds them.

    Deflate is fed 16 MiB of zeros between full flushes; a full flush resets the compressor, so the
    compressed block is the same each time and is written once per 16 MiB. The trailer carries the
    true CRC-32 and length: the file is valid gzip and valid IDX, only too large.
    """
    chunk = bytes(16 * MiB)
    count = gib * 64
    header = _header(0x08, (gib * 1024, 1024, 1024))
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(header) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH) == block
    tail = comp.flush()
    crc = zlib.crc32(header)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    size = len(header) + count * len(chunk)
    with open(path, "wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head)
        for _ in range(count):
            out.write(block)
        out.write(tail + struct.pack("<II", crc, size & 0xFFFFFFFF))
    return size - len(header)


_BOMB_CHILD = textwrap.dedent(
    """
    import resource, sys, time
    limit = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import numpy as np
    from tinynet.data import read_idx
    try:  # the limit is in force: a regression fails here instead of eating the machine
        np.ones(limit, dtype=np.uint8)
        print("LIMIT-NOT-ENFORCED")
    except MemoryError:
        print("limit-ok")
    for max_bytes in (None, 4 << 30):
        start = time.monotonic()
        try:
            read_idx(sys.argv[1]) if max_bytes is None else read_idx(sys.argv[1], max_bytes=max_bytes)
            print("READ")
        except ValueError as exc:
            print("ValueError", round(time.monotonic() - start, 3), exc)
        except BaseException as exc:
            print("OTHER", type(exc).__name__, exc)
    """
)


def test_memory_bomb_refused_before_inflating_under_an_address_space_limit(tmp_path):
    bomb = tmp_path / "bomb.idx.gz"
    payload = _honest_bomb(bomb)
    assert bomb.stat().st_size < 3 * MiB and payload == 2 << 30
    assert bomb.stat().st_size * 1100 > payload  # the old deflate-ratio bound alone lets it through
    done = subprocess.run([sys.executable, "-c", _BOMB_CHILD, str(bomb)], capture_output=True, text=True,
                          timeout=60)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines[0] == "limit-ok", done.stdout + done.stderr
    default, raised = lines[1].split(" ", 2), lines[2].split(" ", 2)
    assert default[0] == "ValueError", lines[1]
    assert f"implies a payload of {payload} bytes, more than max_bytes={MAX_BYTES}" in default[2]
    assert str(bomb) in default[2]
    assert float(default[1]) < 1.0  # refused from the header: nothing inflated
    # allowed by max_bytes but more than the process may hold: still a ValueError naming the file
    assert raised[0] == "ValueError" and str(bomb) in raised[2] and "cannot be allocated" in raised[2]
    assert float(raised[1]) < 1.0


# ---------------------------------------------------------------- only regular files, never blocking


def _run_bounded(fn, seconds=5.0):
    """Run ``fn`` in a thread; return (finished, exception, elapsed). A hang fails, it does not block."""
    box = {}

    def target():
        start = time.monotonic()
        try:
            fn()
        except BaseException as exc:  # reported to the test
            box["exc"] = exc
        box["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), box.get("exc"), box.get("elapsed")


def _release(fifo):
    """Open the FIFO's writing end once, so that a reader blocked in open() (a regression) returns."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # no reader waiting: nothing to release


def test_fifo_without_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.idx"
    os.mkfifo(fifo)
    try:
        finished, exc, elapsed = _run_bounded(lambda: read_idx(fifo))
    finally:
        _release(fifo)
    assert finished, "read_idx blocked on a FIFO with no writer"
    assert isinstance(exc, ValueError) and "FIFO" in str(exc) and str(fifo) in str(exc)
    assert elapsed < 1.0


def test_fifo_swapped_in_after_the_check_cannot_block_either(tmp_path, monkeypatch):
    """The race: the path was a regular file when checked and a FIFO when opened."""
    fifo = tmp_path / "raced.idx"
    os.mkfifo(fifo)
    checks = []
    real = idx._require_regular

    def lenient_first(mode, where):
        checks.append(mode)
        if len(checks) > 1:  # the check before open() passes, as if the file was swapped afterwards
            real(mode, where)

    monkeypatch.setattr(idx, "_require_regular", lenient_first)
    try:
        finished, exc, elapsed = _run_bounded(lambda: read_idx(fifo))
    finally:
        _release(fifo)
    assert finished, "open() blocked on a FIFO: O_NONBLOCK missing"
    assert isinstance(exc, ValueError) and "FIFO" in str(exc)
    assert len(checks) == 2 and elapsed < 1.0


def _unix_socket(tmp_path):
    path = tmp_path / "s"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    return path, sock


@pytest.mark.parametrize("kind", ["folder", "device", "socket"])
def test_other_non_regular_files_are_refused(tmp_path, kind):
    held = None
    if kind == "folder":
        path, word = tmp_path, "folder"
    elif kind == "device":
        path, word = "/dev/zero", "character device"  # read without the check: endless zeros
    else:
        path, held = _unix_socket(tmp_path)
        word = "socket"
    try:
        finished, exc, elapsed = _run_bounded(lambda: read_idx(path))
    finally:
        if held is not None:
            held.close()
    assert finished and isinstance(exc, ValueError)
    assert word in str(exc) and str(path) in str(exc) and elapsed < 1.0


def test_link_to_a_regular_file_is_read(tmp_path):
    arr = np.arange(6, dtype=np.uint8)
    target = write_idx(tmp_path / "t.gz", arr)
    link = tmp_path / "link"
    link.symlink_to(target)
    assert np.array_equal(read_idx(link), arr)
