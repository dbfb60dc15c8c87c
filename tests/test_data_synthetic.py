"""Synthetic MNIST-like digits: structure, determinism, variety, centring, difficulty and the cache."""

import hashlib
import io
import math
import os
import struct
import sys
import threading
import time
import zipfile

import numpy as np
import pytest

from tinynet.data import synthetic
from tinynet.data.synthetic import cache_path, synthetic_digits


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never write into the user's cache folder."""
    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def small():
    return synthetic_digits(300, 100, seed=3, cache=False)


def test_shapes_dtypes_and_balanced_labels(small):
    (x, y), (xt, yt) = small
    assert x.shape == (300, 28, 28) and x.dtype == np.uint8
    assert xt.shape == (100, 28, 28) and xt.dtype == np.uint8
    assert y.shape == (300,) and y.dtype == np.int64
    assert yt.shape == (100,) and yt.dtype == np.int64
    assert np.array_equal(np.bincount(y, minlength=10), np.full(10, 30))
    assert np.array_equal(np.bincount(yt, minlength=10), np.full(10, 10))
    assert not np.array_equal(y[:30], np.sort(y[:30]))  # shuffled, not grouped by class


def test_uneven_count_is_balanced_within_one():
    (_, y), (_, yt) = synthetic_digits(23, 7, seed=0, cache=False)
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == 23 and counts.max() - counts.min() <= 1
    assert len(yt) == 7 and len(set(yt.tolist())) == 7


def test_empty_splits():
    (x, y), (xt, _) = synthetic_digits(0, 5, seed=0, cache=False)
    assert x.shape == (0, 28, 28) and y.shape == (0,)
    assert xt.shape == (5, 28, 28)


def test_same_seed_same_arrays_other_seed_other_arrays(small):
    (x, y), (xt, yt) = small
    (x2, y2), (xt2, yt2) = synthetic_digits(300, 100, seed=3, cache=False)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert np.array_equal(xt, xt2) and np.array_equal(yt, yt2)
    (x3, _), (xt3, _) = synthetic_digits(300, 100, seed=4, cache=False)
    assert not np.array_equal(x, x3) and not np.array_equal(xt, xt3)


def test_test_split_does_not_depend_on_train_size():
    _, test_a = synthetic_digits(10, 50, seed=1, cache=False)
    _, test_b = synthetic_digits(40, 50, seed=1, cache=False)
    assert np.array_equal(test_a[0], test_b[0]) and np.array_equal(test_a[1], test_b[1])


def test_no_two_samples_identical_within_or_across_splits(small):
    (x, _), (xt, _) = small
    digests = {hashlib.sha256(img.tobytes()).hexdigest() for img in np.concatenate([x, xt])}
    assert len(digests) == len(x) + len(xt)


def test_every_digit_is_inked_and_varied(small):
    (x, y), _ = small
    for digit in range(10):
        imgs = x[y == digit]
        assert (imgs.max(axis=(1, 2)) >= 250).all()  # saturated stroke cores, as in MNIST
        assert (imgs.reshape(len(imgs), -1) > 0).sum(axis=1).min() > 30  # visible strokes
    # images of a class differ from each other more than a pixel or two
    a, b = x[y == 0][:2].astype(int)
    assert np.abs(a - b).sum() > 255 * 20


def test_mnist_like_pixel_statistics(small):
    """Background and saturation close to MNIST's (80.7 % zeros, 7.6 % >= 250, mean 33.8)."""
    (x, _), _ = small
    assert 0.70 < (x == 0).mean() < 0.88
    assert 0.02 < (x >= 250).mean() < 0.12
    assert 20 < x.mean() < 50
    assert (x[:, 0, :] == 0).mean() > 0.97 and (x[:, :, 0] == 0).mean() > 0.97  # a clear border


def test_centre_of_mass_within_half_pixel_of_centre(small):
    (x, _), _ = small
    img = x.astype(np.float64)
    mass = img.sum(axis=(1, 2))
    pos = np.arange(28)
    cy = img.sum(axis=2) @ pos / mass
    cx = img.sum(axis=1) @ pos / mass
    dev = np.maximum(np.abs(cy - 14.0), np.abs(cx - 14.0))
    # exact up to uint8 rounding, except a rare digit whose ink reaches the frame edge
    assert (dev <= 0.51).mean() >= 0.98
    assert dev.max() < 1.5


def test_difficulty_guard_linear_least_squares():
    """Ridge regression on one-hot targets: 0.685 +- 0.016 over seeds 0-11 (calibrated; docs/data.md).

    The band is 6 binomial standard errors of a 1000-image test set around that mean: it fails if a
    renderer change makes the digits trivial or unlearnable.
    """
    (x, y), (xt, yt) = synthetic_digits(2000, 1000, seed=11, cache=False)
    a = np.c_[x.reshape(len(x), -1) / 255.0, np.ones(len(x))]
    b = np.c_[xt.reshape(len(xt), -1) / 255.0, np.ones(len(xt))]
    w = np.linalg.solve(a.T @ a + np.eye(a.shape[1]), a.T @ np.eye(10)[y])
    acc = ((b @ w).argmax(axis=1) == yt).mean()
    p = 0.685
    se = math.sqrt(p * (1 - p) / 1000)
    assert abs(acc - p) < 6 * se


def test_generation_is_chunked_with_independent_streams(monkeypatch):
    """A set larger than a chunk equals the concatenation of its independently seeded chunks."""
    monkeypatch.setattr(synthetic, "_CHUNK", 16)
    (x, y), _ = synthetic_digits(40, 0, seed=2, cache=False)
    labels = synthetic._labels(40, np.random.default_rng([synthetic.GENERATOR_VERSION, 2, 0]))
    assert np.array_equal(y, labels)
    rng = np.random.default_rng([synthetic.GENERATOR_VERSION, 2, 0, 3])  # third chunk
    assert np.array_equal(x[32:], synthetic._render(labels[32:], rng))


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"n_train": -1}, ValueError),
        ({"n_test": -5}, ValueError),
        ({"seed": -1}, ValueError),
        ({"n_train": 2.5}, TypeError),
        ({"n_train": True}, TypeError),
        ({"seed": "0"}, TypeError),
        ({"cache": "yes"}, TypeError),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, exc):
    args = {"n_train": 10, "n_test": 10, "seed": 0, "cache": False, **kwargs}
    with pytest.raises(exc, match=next(iter(kwargs))):
        synthetic_digits(**args)


# ---------------------------------------------------------------- cache


def test_cache_roundtrip_under_tinynet_cache(tmp_path, monkeypatch):
    first = synthetic_digits(30, 10, seed=5, cache=True)
    path = cache_path(30, 10, 5)
    assert path.parent == tmp_path / "cache" and path.is_file()
    assert f"v{synthetic.GENERATOR_VERSION}" in path.name
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left

    def fail(*args, **kwargs):
        raise AssertionError("rendered although a valid cache file exists")

    monkeypatch.setattr(synthetic, "_generate_split", fail)
    again = synthetic_digits(30, 10, seed=5, cache=True)
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_cache_key_covers_every_argument():
    names = {cache_path(*args).name for args in [(30, 10, 5), (31, 10, 5), (30, 11, 5), (30, 10, 6)]}
    assert len(names) == 4


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: b"not a zip file at all",
        lambda raw: raw[:200] + bytes([raw[200] ^ 0xFF]) + raw[201:],  # flipped byte
        lambda raw: b"",
    ],
)
def test_corrupt_cache_is_regenerated_not_trusted(damage):
    expected = synthetic_digits(20, 10, seed=6, cache=False)
    synthetic_digits(20, 10, seed=6, cache=True)
    path = cache_path(20, 10, 6)
    path.write_bytes(damage(path.read_bytes()))
    got = synthetic_digits(20, 10, seed=6, cache=True)
    for a, b in zip(expected, got, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with np.load(path, allow_pickle=False) as npz:  # the file was rewritten whole
        assert np.array_equal(npz["x_test"], expected[1][0])


def _npy(header: str, data: bytes = b"") -> bytes:
    """A version-1.0 .npy member with the given (possibly hostile) header text."""
    text = header.encode("latin1")
    pad = (-(10 + len(text) + 1)) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def _good_npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _poisoned_zip(x_train_member, x_train_name="x_train.npy"):
    """An .npz whose x_train member is ``x_train_member``; the other members are valid."""
    members = {
        x_train_name: x_train_member,
        "y_train.npy": _good_npy(np.zeros(20, np.int64)),
        "x_test.npy": _good_npy(np.zeros((10, 28, 28), np.uint8)),
        "y_test.npy": _good_npy(np.zeros(10, np.int64)),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


POISONS = {
    # members that are not .npy at all: numpy hands back raw bytes (AttributeError in the reader)
    "raw-member": lambda: _poisoned_zip(b"plain bytes", "x_train"),
    # a header declaring 10^12 images: allocation fails (MemoryError) unless refused first
    "huge-shape": lambda: _poisoned_zip(_npy("{'descr': '|u1', 'fortran_order': False, "
                                             "'shape': (1000000000000, 28, 28), }")),
    # a header nested 2,000 lists deep (RecursionError while parsing it)
    "deep-header": lambda: _poisoned_zip(_npy("{'descr': '|u1', 'fortran_order': False, 'shape': "
                                              + "[" * 2000 + "]" * 2000 + "}")),
    # an unterminated header (tokenize.TokenError while parsing it)
    "unterminated-header": lambda: _poisoned_zip(_npy("{'descr': '|u1', 'shape': (20, 28, 28),")),
    # an object array: only pickle could read it
    "object-member": lambda: _poisoned_zip(_npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                                                b"\x80\x04N.")),
    "not-a-zip": lambda: b"PK\x03\x04 not really",
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_poisoned_cache_is_rendered_again_and_overwritten(poison):
    """Whatever the reader raises for a crafted file, the digits are rendered and the file replaced."""
    expected = synthetic_digits(20, 10, seed=9, cache=False)
    path = cache_path(20, 10, 9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(POISONS[poison]())
    got = synthetic_digits(20, 10, seed=9, cache=True)
    for a, b in zip(expected, got, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with np.load(path, allow_pickle=False) as npz:  # the poisoned file was overwritten with a good one
        assert np.array_equal(npz["x_train"], expected[0][0])
        assert np.array_equal(npz["y_test"], expected[1][1])


@pytest.mark.parametrize(
    "reader",
    [
        lambda path, expected: None,
        lambda path, expected: (_ for _ in ()).throw(ValueError("cache: bad member")),
        lambda path, expected: (_ for _ in ()).throw(OSError("cache: unreadable")),
        lambda path, expected: {"x_train": np.zeros(3)},  # wrong arrays handed back
        lambda path, expected: {k: np.zeros((1,) * 3, np.uint8) for k in expected},
        lambda path, expected: "not a dict",
    ],
    ids=["none", "value-error", "os-error", "wrong-keys", "wrong-shapes", "not-a-dict"],
)
def test_any_reader_verdict_on_a_bad_cache_means_render_again(monkeypatch, reader):
    expected = synthetic_digits(20, 10, seed=10, cache=False)
    synthetic_digits(20, 10, seed=10, cache=True)
    monkeypatch.setattr(synthetic, "load_npz", reader)
    got = synthetic_digits(20, 10, seed=10, cache=True)
    for a, b in zip(expected, got, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_fifo_at_the_cache_path_is_replaced_not_read(tmp_path):
    """A FIFO where the cache file should be would block a reader forever; it is rendered over instead."""
    expected = synthetic_digits(20, 10, seed=12, cache=False)
    path = cache_path(20, 10, 12)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    box = {}
    thread = threading.Thread(target=lambda: box.update(got=synthetic_digits(20, 10, seed=12, cache=True)),
                              daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(10)
    if thread.is_alive():  # a regression: release the blocked reader before failing
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    assert not thread.is_alive() and time.monotonic() - start < 5, "blocked on a FIFO cache file"
    assert np.array_equal(box["got"][0][0], expected[0][0])
    assert path.is_file()  # the FIFO was replaced by a regular cache file
    with np.load(path, allow_pickle=False) as npz:
        assert np.array_equal(npz["x_test"], expected[1][0])


def test_folder_at_the_cache_path_renders_and_warns():
    path = cache_path(20, 10, 13)
    path.mkdir(parents=True)
    with pytest.warns(UserWarning, match="could not write the cache"):
        (x, _), _ = synthetic_digits(20, 10, seed=13, cache=True)
    assert x.shape == (20, 28, 28) and x.any()


def test_cache_with_wrong_arrays_is_regenerated():
    path = cache_path(20, 10, 7)
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=np.zeros((20, 28, 28), np.uint8), y_train=np.zeros(20, np.int64),
             x_test=np.zeros((9, 28, 28), np.uint8), y_test=np.zeros(9, np.int64))
    (x, _), (xt, _) = synthetic_digits(20, 10, seed=7, cache=True)
    assert xt.shape == (10, 28, 28) and x.any()


def test_default_cache_policy_skips_small_sets():
    synthetic_digits(20, 10, seed=8)
    assert not cache_path(20, 10, 8).exists()


def test_unwritable_cache_only_warns(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("TINYNET_CACHE", str(blocker / "sub"))  # parent is a file: mkdir fails
    with pytest.warns(UserWarning, match="could not write the cache"):
        (x, _), _ = synthetic_digits(10, 0, seed=0, cache=True)
    assert x.shape == (10, 28, 28)


def test_cache_dir_env_var_then_xdg_then_home(monkeypatch, tmp_path):
    from tinynet.data.cache import cache_dir

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("TINYNET_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tinynet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "tinynet"
