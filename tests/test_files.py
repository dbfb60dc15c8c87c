"""tinynet/_files.py: the one atomic writer (recognisable temp files, stale ones removed, live ones
never, the folder fsynced; kill -9 and concurrent writers) and the one bounded .npz reader (exact
round trips of every readable dtype and layout, limits, non-regular files)."""

import multiprocessing
import os
import re
import stat
import sys
import threading
import time

import numpy as np
import pytest

import tinynet as tn
from tinynet import _files
from tinynet._files import NpzError, NpzReader, atomic_write, is_temp_file, read_npz

TEMP = re.compile(r"^\.(?P<target>.+)\.tinynet-(?P<pid>\d+)-\w+\.tmp$")
_CTX = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def temp_files(folder):
    return sorted(name for name in os.listdir(folder) if is_temp_file(name))


def dead_pid():
    """The pid of a process that has exited and been reaped."""
    proc = _CTX.Process(target=os._exit, args=(0,))
    proc.start()
    proc.join(10)
    assert proc.exitcode == 0
    return proc.pid


# ----------------------------------------------------------------------------- temp files
def test_temp_file_is_named_with_target_and_pid(tmp_path):
    target = tmp_path / "model.npz"
    with atomic_write(target) as handle:
        handle.write(b"x")
        names = os.listdir(tmp_path)
        assert len(names) == 1
        match = TEMP.match(names[0])
        assert match and match["target"] == "model.npz" and int(match["pid"]) == os.getpid()
        assert is_temp_file(names[0])
    assert os.listdir(tmp_path) == ["model.npz"] and target.read_bytes() == b"x"


def test_is_temp_file_recognises_only_tinynet_temp_files():
    assert is_temp_file(".a.npz.tinynet-12-abc_9.tmp")
    assert is_temp_file(".x.tinynet-3-q.tinynet-45-zz.tmp")  # a target whose name holds the mark
    for name in ["a.npz", ".a.npz.tmp", ".a.npz.tinynet-x-abc.tmp", "a.tinynet-12-abc.tmp",
                 ".a.npz.tinynet-12-abc.tmpx", ".tinynet-12-abc.tmp"]:
        assert not is_temp_file(name), name


def test_successful_save_removes_stale_temp_files_and_keeps_everything_else(tmp_path):
    gone, alive, own = dead_pid(), os.getppid(), os.getpid()
    stale = [f".model.npz.tinynet-{gone}-aaa.tmp", f".other.bin.tinynet-{gone}-bbb.tmp"]
    kept = [
        f".model.npz.tinynet-{alive}-ccc.tmp",  # a live process is writing it
        f".model.npz.tinynet-{own}-ddd.tmp",  # another thread of this process may be writing it
        ".model.npz.tmp",  # not tinynet's
        "notes.tinynet-1-x.tmp",
        "model.npz.bak",
    ]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"partial")
    tn.save({"a": 1}, tmp_path / "model.npz")
    assert sorted(os.listdir(tmp_path)) == sorted([*kept, "model.npz"])


def test_failed_write_removes_its_temp_file_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "t.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as handle:
        handle.write(b"new")
        raise RuntimeError("boom")
    assert os.listdir(tmp_path) == ["t.bin"] and target.read_bytes() == b"old"


def test_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        return real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    tn.save({"a": 1}, tmp_path / "c.npz")
    assert events == ["fsync-file", "replace", "fsync-dir"]


def test_process_alive_is_safe_for_odd_pids():
    assert _files._process_alive(os.getpid())
    assert not _files._process_alive(dead_pid())
    assert _files._process_alive(2**80)  # unsure: treated as alive, its file is kept


# ----------------------------------------------------------------------------- kill -9 and concurrency
def _save_forever(path, start):
    k = start
    while True:
        k += 1
        tn.save({"k": k, "w": np.full(300_000, k, dtype=np.float64)}, path)


def _check_consistent(path):
    state = tn.load(path)
    assert state["w"].shape == (300_000,) and np.all(state["w"] == state["k"])
    return state["k"]


def test_kill_9_during_saves_never_breaks_the_old_file_and_next_save_cleans_up(tmp_path):
    path = tmp_path / "ckpt.npz"
    tn.save({"k": 0, "w": np.zeros(300_000)}, path)
    rng = np.random.default_rng(18)
    kills, left_behind, seen = 0, 0, set()
    while (kills < 20 or left_behind == 0) and kills < 80:
        proc = _CTX.Process(target=_save_forever, args=(path, 1000 * (kills + 1)))
        proc.start()
        time.sleep(rng.uniform(0.005, 0.06))
        proc.kill()  # SIGKILL: no handler, no cleanup
        proc.join(10)
        assert proc.exitcode == -9
        kills += 1
        seen.add(_check_consistent(path))  # the last complete file is always there and whole
        left_behind += bool(temp_files(tmp_path))
    assert kills >= 20 and left_behind >= 1, (kills, left_behind)
    assert len(seen) > 1  # the children did replace the file now and then
    tn.save({"k": -1, "w": np.full(300_000, -1.0)}, path)
    assert temp_files(tmp_path) == []
    assert os.listdir(tmp_path) == ["ckpt.npz"] and _check_consistent(path) == -1


def _save_n_times(path, n, value):
    try:
        for _ in range(n):
            tn.save({"k": value, "w": np.full(300_000, value, dtype=np.float64)}, path)
            tn.save({"k": value}, path.parent / f"own-{value}.npz")
    except BaseException as error:  # reported through the exit code and a note beside the files
        (path.parent / f"error-{value}.txt").write_text(repr(error))
        os._exit(1)


def test_two_processes_saving_into_one_folder_both_succeed(tmp_path):
    path = tmp_path / "shared.npz"
    procs = [_CTX.Process(target=_save_n_times, args=(path, 40, v)) for v in (1, 2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    notes = [p.read_text() for p in sorted(tmp_path.glob("error-*.txt"))]
    assert [proc.exitcode for proc in procs] == [0, 0], notes
    assert _check_consistent(path) in (1, 2)
    assert tn.load(tmp_path / "own-1.npz") == {"k": 1} and tn.load(tmp_path / "own-2.npz") == {"k": 2}
    assert temp_files(tmp_path) == []


def test_two_threads_saving_one_file_both_succeed(tmp_path):
    path = tmp_path / "shared.npz"
    failures = []

    def work(value):
        try:
            for _ in range(20):
                tn.save({"k": value, "w": np.full(300_000, value, dtype=np.float64)}, path)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(v,)) for v in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and _check_consistent(path) in (1, 2) and temp_files(tmp_path) == []


# ----------------------------------------------------------------------------- the bounded reader
ARRAYS = {
    "f32": np.arange(12, dtype=np.float32).reshape(3, 4),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "big_endian": np.arange(5, dtype=">i4"),
    "scalar": np.array(2.5),
    "empty": np.zeros((0, 3), dtype=np.uint8),
    "unicode": np.array(["a", "bé", ""]),
    "bool": np.array([True, False]),
    "complex": np.array([1 + 2j, -3j], dtype=np.complex64),
    "strided": np.arange(20.0)[::3],
    "deep/name": np.ones((1, 1, 1, 2), dtype=np.int8),
}


@pytest.mark.parametrize("compressed", [False, True])
def test_reader_round_trips_every_readable_dtype_and_layout(tmp_path, compressed):
    path = tmp_path / "a.npz"
    (np.savez_compressed if compressed else np.savez)(path, **ARRAYS)
    got = read_npz(path)
    assert list(got) == list(ARRAYS)
    with np.load(path, allow_pickle=False) as reference:
        for key, array in got.items():
            want = reference[key]
            assert array.dtype == want.dtype and array.shape == want.shape, key
            assert array.flags.f_contiguous == want.flags.f_contiguous, key
            np.testing.assert_array_equal(array, want)
            assert array.flags.writeable, key


def test_reader_reads_chosen_members_and_names_a_missing_one(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, x=np.ones(3), y=np.zeros(2))
    assert list(read_npz(path, members=["y"])) == ["y"]
    with NpzReader(path) as archive:
        assert archive.names == ("x", "y") and archive.size("x") > 24
    with pytest.raises(NpzError, match=r"a\.npz' has no member 'z'"):
        read_npz(path, members=["z"])


def test_limits_are_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "a.npz"
    np.savez(path, x=np.ones(1000), y=np.ones(10))
    opened = []
    real_open = _files.zipfile.ZipFile.open

    def recording_open(self, *args, **kwargs):
        opened.append(args)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(_files.zipfile.ZipFile, "open", recording_open)
    with pytest.raises(NpzError, match=r"member 'x' declares \d+ bytes uncompressed, over the limit of 4000"):
        read_npz(path, max_member_bytes=4000)
    with pytest.raises(NpzError, match=r"declares \d+ bytes uncompressed in all, over the limit of 8100"):
        read_npz(path, max_total_bytes=8100)
    with NpzReader(path) as archive, pytest.raises(NpzError, match="limit of 100 bytes for this member"):
        archive.read("x", max_bytes=100)
    assert opened == []  # nothing was decompressed
    assert read_npz(path, max_member_bytes=8200, max_total_bytes=8400)["x"].shape == (1000,)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_member_bytes": -1}, ValueError, "max_member_bytes must be an int >= 0, got -1"),
        ({"max_total_bytes": 1.5}, TypeError, "max_total_bytes must be an int >= 0, got 1.5"),
        ({"max_member_bytes": True}, TypeError, "max_member_bytes"),
    ],
)
def test_limit_arguments_are_validated(tmp_path, kwargs, error, match):
    path = tmp_path / "a.npz"
    np.savez(path, x=np.ones(1))
    with pytest.raises(error, match=match):
        read_npz(path, **kwargs)


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(NpzError, match="is a folder"):
        read_npz(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "none.npz")


def test_fifo_without_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            read_npz(fifo)
        except ValueError as error:
            outcome.append(str(error))

    worker = threading.Thread(target=attempt, daemon=True)
    started = time.perf_counter()
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "read_npz blocked on a FIFO"
    assert time.perf_counter() - started < 5
    assert len(outcome) == 1 and "not a regular file" in outcome[0] and "pipe.npz" in outcome[0]
