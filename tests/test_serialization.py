"""tn.save / tn.load: exact round trips, atomic writes, and refusal of anything that is not a
tinynet checkpoint (without ever unpickling)."""

import json
import os
import pickle
import threading
import zipfile

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, optim, serialization
from tinynet.serialization import MANIFEST, MAX_DEPTH


def assert_same(a, b, where="obj"):
    assert type(a) is type(b), where
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where
        if isinstance(a, float):
            assert np.copysign(1, a) == np.copysign(1, b), where


def test_round_trip_keeps_values_types_and_order(tmp_path):
    obj = {
        "z_first": 1,
        "arrays": [
            np.arange(6, dtype=np.float32).reshape(2, 3),
            np.array([1e-300, -np.inf, np.nan]),
            np.arange(4, dtype=np.int64),
            np.array([True, False]),
            np.zeros((0, 3), dtype=np.uint8),
            np.array([1 + 2j]),
            np.array(["a", "bé"]),
            np.array(2.5, dtype=np.float16),
        ],
        "scalars": (np.float32(0.1), np.int16(-3), np.bool_(True)),
        0: "int key",
        7: {"nested": {"deeper": [None, True, False, ""]}},
        "numbers": [0, -1, 2**100, 0.1, -0.0, float("inf"), float("nan"), 1e-310],
        "text": "ünïcode ✓",
        "empty": [{}, [], ()],
    }
    path = tmp_path / "ckpt.npz"
    tn.save(obj, path)
    assert_same(tn.load(path), obj)
    assert tn.load(str(path))[0] == "int key"


def test_path_is_used_as_given_and_overwritten_atomically(tmp_path):
    path = tmp_path / "model.ckpt"
    tn.save({"a": 1}, path)
    tn.save({"a": 2}, path)
    assert tn.load(path) == {"a": 2}
    assert os.listdir(tmp_path) == ["model.ckpt"]  # no .npz suffix added, no temp files left


def test_checkpoint_has_ordinary_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "ckpt.npz"
    tn.save({"a": 1}, path)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_numpy_integer_keys_are_stored_as_ints(tmp_path):
    path = tmp_path / "keys.npz"
    tn.save({np.int64(3): "three", 4: "four"}, path)
    loaded = tn.load(path)
    assert loaded == {3: "three", 4: "four"} and all(type(k) is int for k in loaded)


def test_interrupted_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tn.save({"epoch": 1, "w": np.ones(3)}, path)

    def broken_savez(handle, **arrays):
        handle.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        tn.save({"epoch": 2, "w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert tn.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_model_optimizer_and_rng_state_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    model(np.ones((5, 3))).sum().backward()
    opt.step()
    rng_state = tn.default_generator().bit_generator.state
    path = tmp_path / "all.npz"
    tn.save({"model": model.state_dict(), "optim": opt.state_dict(), "rng": rng_state}, path)
    loaded = tn.load(path)
    assert_same(loaded["model"], model.state_dict())
    assert_same(loaded["optim"], opt.state_dict())
    assert loaded["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["rng"] == rng_state
    expected = tn.default_generator().random(4)
    tn.default_generator().bit_generator.state = loaded["rng"]
    np.testing.assert_array_equal(tn.default_generator().random(4), expected)


def test_tensors_are_stored_as_arrays(tmp_path):
    tn.save({"p": nn.Parameter(np.ones(2))}, tmp_path / "t.npz")
    assert_same(tn.load(tmp_path / "t.npz"), {"p": np.ones(2)})


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"w": np.array([{"x": 1}], dtype=object)}, r"obj\['w'\] is an array of dtype object"),
        ({"s": {1, 2}}, r"obj\['s'\] is a set"),
        ({(1, 2): 3}, "dict keys must be str or int"),
        ([lambda: 0], r"obj\[0\] is a function"),
    ],
)
def test_unsupported_values_are_refused_before_writing(tmp_path, obj, match):
    path = tmp_path / "bad.npz"
    with pytest.raises(TypeError, match=match):
        tn.save(obj, path)
    assert os.listdir(tmp_path) == []


def test_save_into_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tn.save({"a": 1}, tmp_path / "no" / "such" / "ckpt.npz")


def test_self_containing_object_is_refused(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        tn.save(loop, tmp_path / "loop.npz")


# ----------------------------------------------------------------------------- what load refuses
def test_missing_file(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        tn.load(path)


def test_plain_npz_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, w=np.ones(2))
    with pytest.raises(ValueError, match=r"plain.npz.* is not a tinynet checkpoint.*manifest"):
        tn.load(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "corrupt or truncated.*empty"),
        (b"hello, world", "not an .npz"),
        (b"\x93NUMPY\x01\x00", "single-array .npy"),
    ],
)
def test_other_files_are_refused_by_name(tmp_path, content, match):
    path = tmp_path / "weird.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        tn.load(path)
    assert "weird.bin" in str(info.value)


class _Trap:
    def __reduce__(self):
        return (open, (self.target, "w"))


def test_pickle_is_never_unpickled(tmp_path):
    trap = _Trap()
    trap.target = str(tmp_path / "side_effect.txt")
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(trap))
    with pytest.raises(ValueError, match="looks like a pickle"):
        tn.load(path)
    assert not os.path.exists(trap.target)


def test_object_array_inside_a_checkpoint_is_refused(tmp_path):
    trap = _Trap()
    trap.target = str(tmp_path / "side_effect.txt")
    manifest = {"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "array", "k": "a0"}}
    path = tmp_path / "evil.npz"
    with open(path, "wb") as handle:
        np.savez(
            handle,
            a0=np.array([trap], dtype=object),
            **{MANIFEST: np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)},
        )
    with pytest.raises(ValueError, match="pickled Python objects; refusing"):
        tn.load(path)
    assert not os.path.exists(trap.target)


def test_truncated_and_damaged_checkpoints_are_reported(tmp_path):
    path = tmp_path / "ckpt.npz"
    tn.save({"w": np.arange(1000.0)}, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut.npz.*corrupt or truncated"):
        tn.load(cut)
    damaged = tmp_path / "damaged.npz"
    middle = len(data) // 3
    damaged.write_bytes(
        data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]
    )
    with pytest.raises(ValueError, match=r"damaged.npz.*corrupt or truncated"):
        tn.load(damaged)


def write_manifest(path, manifest):
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open(MANIFEST + ".npy", "w") as member:
            np.lib.format.write_array(
                member, np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
            )


@pytest.mark.parametrize(
    ("manifest", "match"),
    [
        ({"format": "other", "version": 1, "tree": {"t": "none"}}, "does not name the tinynet"),
        (
            {"format": "tinynet-checkpoint", "version": 99, "tree": {"t": "none"}},
            "format version 99",
        ),
        (
            {"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "array", "k": "a9"}},
            "missing member",
        ),
        (
            {"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "eval", "v": "1"}},
            "unknown entry",
        ),
    ],
)
def test_bad_manifests(tmp_path, manifest, match):
    path = tmp_path / "m.npz"
    write_manifest(path, manifest)
    with pytest.raises(ValueError, match=match):
        tn.load(path)


def test_loading_a_foreign_file_into_a_model_changes_nothing(tmp_path):
    model = nn.Linear(2, 2)
    before = model.state_dict()
    path = tmp_path / "plain.npz"
    np.savez(path, weight=np.zeros((2, 2)), bias=np.zeros(2))
    with pytest.raises(ValueError, match="not a tinynet checkpoint"):
        model.load_state_dict(tn.load(path))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


# ----------------------------------------------------------------------------- limits (issue 18)
def nested(depth):
    tree = None
    for _ in range(depth):
        tree = [tree]
    return tree


def test_nesting_up_to_the_limit_round_trips_and_deeper_is_refused_at_save(tmp_path):
    path = tmp_path / "deep.npz"
    tn.save({"d": nested(MAX_DEPTH - 1)}, path)  # the outer dict is one level
    assert tn.load(path) == {"d": nested(MAX_DEPTH - 1)}
    for depth in (MAX_DEPTH + 1, 2000):
        with pytest.raises(ValueError, match="nested deeper than 64 levels"):
            tn.save(nested(depth), tmp_path / "deeper.npz")
    assert sorted(os.listdir(tmp_path)) == ["deep.npz"]


def test_manifest_size_limit_holds_for_save_and_load(tmp_path, monkeypatch):
    path = tmp_path / "many.npz"
    tn.save(list(range(1000)), path)
    monkeypatch.setattr(serialization, "MAX_MANIFEST_BYTES", 4000)
    with pytest.raises(ValueError, match="over the limit of 4000 bytes; store many numbers as one array"):
        tn.save(list(range(1000)), tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"member '__tinynet__' declares \d+ bytes.*limit of 4000"):
        tn.load(path)


def test_max_bytes_bounds_a_checkpoint(tmp_path):
    path = tmp_path / "w.npz"
    tn.save({"w": np.ones(1000)}, path)
    limit = r"w\.npz.*member 'a0' declares \d+ bytes.*of 5000 bytes \(max_bytes\)"
    with pytest.raises(ValueError, match=limit):
        tn.load(path, max_bytes=5000)
    assert tn.load(path, max_bytes=10_000)["w"].shape == (1000,)
    with pytest.raises(ValueError, match="max_bytes must be an int >= 0"):
        tn.load(path, max_bytes=-1)
    with pytest.raises(TypeError, match="max_bytes must be an int"):
        tn.load(path, max_bytes="big")


def test_loaded_arrays_are_writable(tmp_path):
    tn.save({"w": np.zeros(3)}, tmp_path / "w.npz")
    w = tn.load(tmp_path / "w.npz")["w"]
    w += 1  # an optimizer updates loaded weights in place
    np.testing.assert_array_equal(w, np.ones(3))


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            tn.load(fifo)
        except ValueError as error:
            outcome.append(str(error))

    worker = threading.Thread(target=attempt, daemon=True)  # a regression blocks in open(): bounded
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "tn.load blocked on a FIFO"
    assert len(outcome) == 1 and "pipe.npz' is not a regular file" in outcome[0]
