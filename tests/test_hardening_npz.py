"""Hostile .npz files against the one bounded reader and its three users (tn.load, the data cache,
data.load): only ValueError (or None from the cache), naming the file and the member; memory bombs
refused before anything is decompressed, in a subprocess under an address-space limit."""

import io
import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet import data, nn, optim
from tinynet._files import ARRAY_KINDS, read_npz
from tinynet.data.cache import load_npz
from tinynet.data.synthetic import cache_path, synthetic_digits
from tinynet.serialization import MANIFEST


# ----------------------------------------------------------------------------- crafting archives
def npy_header(descr="<f8", shape=(3,), fortran=False, version=(1, 0), text=None):
    """The bytes of an .npy header (magic, length, dict text padded to 64), any content."""
    if text is None:
        text = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {shape!r}, }}"
    body = text.encode("latin1", "replace")
    size = 4 if version[0] >= 2 else 2
    pad = -(6 + 2 + size + len(body) + 1) % 64
    body += b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes(version) + len(body).to_bytes(size, "little") + body


def raw_zip(members):
    """A zip archive written byte by byte, so that every field can lie.

    ``members``: dicts with ``name``, ``data`` (the stored bytes, compressed or not) and optional
    ``method`` (0 stored, 8 deflate, ...), ``size`` (declared uncompressed size), ``crc``, ``flags``.
    """
    out, central = io.BytesIO(), io.BytesIO()
    for m in members:
        name = m["name"].encode()
        raw = m["data"]
        size = m.get("size", len(raw))
        crc = m.get("crc", zlib.crc32(raw) if m.get("method", 0) == 0 else 0)
        fields = (20, m.get("flags", 0), m.get("method", 0), 0, 33, crc, len(raw), size, len(name), 0)
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name + raw)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, offset))
        central.write(name)
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    count = len(members)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0))
    return out.getvalue()


def deflated_zeros(header, n_mib):
    """``header`` followed by ``n_mib`` MiB of zeros as one raw deflate stream, built in
    milliseconds: after a full flush every MiB of zeros compresses to the same bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * 2**20
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH) == again
    return head + first + again * (n_mib - 1) + c.flush()


def npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def manifest_member(manifest):
    text = json.dumps(manifest).encode() if not isinstance(manifest, bytes) else manifest
    return {"name": MANIFEST + ".npy", "data": npy_header("|u1", (len(text),)) + text}


HEAD = b'{"format": "tinynet-checkpoint", "version": 1, "tree": '
TREE_A0 = {"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "array", "k": "a0"}}


def checkpoint_with(member):
    """A checkpoint whose one array ``a0`` is the crafted ``member`` (a dict for raw_zip)."""
    return raw_zip([member, manifest_member(TREE_A0)])


def data_set_with(member):
    good = {"name": "y_train.npy", "data": npy_header("<i8", (2,)) + bytes(16)}
    rest = [{"name": f"{k}.npy", "data": npy_header("<i8", (2,)) + bytes(16)} for k in ("x_test", "y_test")]
    return raw_zip([member, good, *rest])


# ----------------------------------------------------------------------------- crafted members
W = "<f8"
CRAFTED = {
    "not_npy_name": {"name": "a0.txt", "data": b"hello"},
    "no_magic": {"name": "a0.npy", "data": b"just some bytes that are not npy"},
    "object_dtype": {"name": "a0.npy", "data": npy_header("|O", (1,)) + b"\x80\x04N."},
    "void_dtype": {"name": "a0.npy", "data": npy_header("|V8", (1,)) + bytes(8)},
    "structured": {"name": "a0.npy", "data": npy_header([("a", "<f8")], (1,)) + bytes(8)},
    "datetime": {"name": "a0.npy", "data": npy_header("<M8[s]", (1,)) + bytes(8)},
    "claims_1e13": {"name": "a0.npy", "data": npy_header(W, (10**13,)) + bytes(8)},
    "claims_2e70": {"name": "a0.npy", "data": npy_header(W, (2**70, 2**70)) + bytes(8)},
    "negative_shape": {"name": "a0.npy", "data": npy_header(W, (-1,)) + bytes(8)},
    "too_many_dims": {"name": "a0.npy", "data": npy_header("|u1", (1,) * 70) + bytes(1)},
    "short_data": {"name": "a0.npy", "data": npy_header(W, (4,)) + bytes(8)},
    "trailing_data": {"name": "a0.npy", "data": npy_header(W, (1,)) + bytes(16)},
    "zero_itemsize": {"name": "a0.npy", "data": npy_header("<U0", (10**12,))},
    "version_3": {"name": "a0.npy", "data": npy_header(W, (1,), version=(3, 0)) + bytes(8)},
    "version_9": {"name": "a0.npy", "data": npy_header(W, (1,), version=(9, 9)) + bytes(8)},
    "header_claims_4gib": {"name": "a0.npy", "data": b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'"},
    "header_truncated": {"name": "a0.npy", "data": npy_header(W, (1,))[:20]},
    "header_not_a_dict": {"name": "a0.npy", "data": npy_header(text="[1, 2, 3]") + bytes(8)},
    "header_wrong_keys": {"name": "a0.npy", "data": npy_header(text="{'descr': '<f8'}") + bytes(8)},
    "header_bad_descr": {"name": "a0.npy", "data": npy_header("no such dtype", (1,)) + bytes(8)},
    "header_tokenize": {"name": "a0.npy", "data": npy_header(text="{'descr': '<f8', '''") + bytes(8)},
    "header_deep_unary": {"name": "a0.npy", "data": npy_header(text="{'shape': (" + "-" * 9000 + "1,)}")},
    "header_deep_parens": {"name": "a0.npy", "data": npy_header(text="(" * 3000 + ")" * 3000)},
    "bad_crc": {"name": "a0.npy", "data": npy_header(W, (1,)) + bytes(8), "crc": 12345},
    "unknown_method": {"name": "a0.npy", "data": npy_header(W, (1,)) + bytes(8), "method": 99},
    "encrypted": {"name": "a0.npy", "data": npy_header(W, (1,)) + bytes(8), "flags": 1},
    "bad_deflate": {"name": "a0.npy", "data": b"\xff" * 40, "method": 8, "size": 200},
    "declared_small_inflates_big": {
        "name": "a0.npy", "data": deflated_zeros(npy_header("|u1", (2**20,)), 4), "method": 8,
        "size": len(npy_header("|u1", (2**20,))) + 2**20,
    },
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_member_gives_value_error_naming_file_and_member(tmp_path, case):
    path = tmp_path / f"crafted-{case}.npz"
    path.write_bytes(checkpoint_with(CRAFTED[case]))
    with pytest.raises(ValueError) as info:
        tn.load(path)
    message = str(info.value)
    assert f"crafted-{case}.npz" in message and "a0" in message, message
    assert message.startswith("tinynet.load: "), message

    path.write_bytes(data_set_with({**CRAFTED[case], "name": CRAFTED[case]["name"].replace("a0", "x_train")}))
    with pytest.raises(ValueError) as info:
        data.load(path)
    message = str(info.value)
    assert f"crafted-{case}.npz" in message and "x_train" in message, message


def test_object_member_is_never_unpickled(tmp_path):
    target = tmp_path / "side_effect.txt"
    payload = b"\x80\x04\x95" + b"cbuiltins\nopen\n(" + repr(str(target)).encode() + b"\nS'w'\ntR."
    path = tmp_path / "evil.npz"
    path.write_bytes(checkpoint_with({"name": "a0.npy", "data": npy_header("|O", (1,)) + payload}))
    with pytest.raises(ValueError, match="pickled Python objects; refusing"):
        tn.load(path)
    assert not target.exists()


def test_duplicate_and_folder_members_are_refused(tmp_path):
    member = {"name": "a0.npy", "data": npy_header(W, (1,)) + bytes(8)}
    path = tmp_path / "dup.npz"
    path.write_bytes(raw_zip([member, member, manifest_member(TREE_A0)]))
    with pytest.raises(ValueError, match=r"dup\.npz.*member 'a0'.*two members"):
        tn.load(path)
    path.write_bytes(raw_zip([{"name": "sub/", "data": b""}, member, manifest_member(TREE_A0)]))
    with pytest.raises(ValueError, match=r"member 'sub/' is not an .npy array"):
        tn.load(path)


# ----------------------------------------------------------------------------- crafted manifests
@pytest.mark.parametrize(
    ("manifest", "match"),
    [
        (b"[" * 2000 + b"]" * 2000, "nested 2000 levels deep"),
        (HEAD + b"[" * 2000 + b"]" * 2000 + b"}", "nested 2001 levels"),
        (HEAD + b'{"t":"list","v":[' * 1000 + b'{"t":"none"}' + b"]}" * 1000 + b"}", "nested 2002 levels"),
        (HEAD + b'{"t":"str","v":"' + b"[" * 5000 + b'"}}', None),  # brackets inside a string count not
        ({"format": "tinynet-checkpoint", "version": 10**400, "tree": {"t": "none"}}, "more than 60 digits"),
        ({"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "float", "v": 10**400}}, "float entry"),
        (b'{"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "int", "v": ' + b"9" * 5000 + b"}}",
         "unreadable manifest"),
        ({"format": "tinynet-checkpoint", "version": 1}, "malformed manifest entry None"),
        ({"format": "tinynet-checkpoint", "version": 1, "tree": {"t": ["dict"]}}, "malformed manifest"),
        ({"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "array", "k": {"a": 1}}},
         "missing member"),
        ({"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "array", "k": MANIFEST}},
         "missing member"),
        (HEAD + b'{"t": "dict", "k": [[1]], "v": [{"t": "none"}]}}', "a dict key is"),
        (HEAD + b'{"t": "dict", "k": [1.5], "v": [{"t": "none"}]}}', "a dict key is"),
        (b"\xff\xfe not utf-8", "unreadable manifest"),
        (b'"just a string"', "not a tinynet checkpoint"),
    ],
)
def test_crafted_manifest_gives_value_error(tmp_path, manifest, match):
    path = tmp_path / "m.npz"
    path.write_bytes(raw_zip([manifest_member(manifest)]))
    if match is None:  # the control: a legitimate manifest of the same shape loads
        assert tn.load(path) == "[" * 5000
        return
    with pytest.raises(ValueError, match=match) as info:
        tn.load(path)
    assert "m.npz" in str(info.value)


def test_400_digit_int_entry_is_a_legitimate_value(tmp_path):
    path = tmp_path / "big.npz"
    tn.save({"n": 10**400, "f": 1e308}, path)
    assert tn.load(path) == {"n": 10**400, "f": 1e308}
    tree = {"t": "dict", "k": ["f"], "v": [{"t": "float", "v": 10**300}]}  # JSON spells 1e300 as an int
    path.write_bytes(raw_zip([manifest_member({"format": "tinynet-checkpoint", "version": 1, "tree": tree})]))
    assert tn.load(path) == {"f": 1e300}


def test_manifest_not_bytes_and_scalar_not_0d(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(raw_zip([{"name": MANIFEST + ".npy", "data": npy_header("<f8", (1,)) + bytes(8)}]))
    with pytest.raises(ValueError, match="not a UTF-8 byte string"):
        tn.load(path)
    scalar = {"format": "tinynet-checkpoint", "version": 1, "tree": {"t": "scalar", "k": "a0"}}
    path.write_bytes(raw_zip([{"name": "a0.npy", "data": npy_header(W, (2,)) + bytes(16)},
                              manifest_member(scalar)]))
    with pytest.raises(ValueError, match=r"member 'a0' holds a scalar of shape \(2,\)"):
        tn.load(path)
    path.write_bytes(raw_zip([{"name": "a0.npy", "data": npy_header(W, (2,)) + bytes(16)},
                              manifest_member(TREE_A0)]))
    np.testing.assert_array_equal(tn.load(path), np.zeros(2))


# ----------------------------------------------------------------------------- the poisoned cache
@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("case", ["not_npy_name", "object_dtype", "claims_1e13", "header_tokenize",
                                  "header_deep_unary", "bad_crc", "unknown_method", "encrypted"])
def test_poisoned_cache_returns_none_and_synthetic_digits_re_renders(private_cache, case):
    expected = synthetic_digits(12, 5, seed=4, cache=False)
    path = cache_path(12, 5, 4)
    path.parent.mkdir(parents=True)
    member = {**CRAFTED[case], "name": CRAFTED[case]["name"].replace("a0", "x_train")}
    path.write_bytes(data_set_with(member))
    spec = {"x_train": (np.dtype(np.uint8), (12, 28, 28)), "y_train": (np.dtype(np.int64), (12,)),
            "x_test": (np.dtype(np.uint8), (5, 28, 28)), "y_test": (np.dtype(np.int64), (5,))}
    assert load_npz(path, spec) is None
    got = synthetic_digits(12, 5, seed=4, cache=True)
    for a, b in zip(expected, got, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert load_npz(path, spec) is not None  # re-rendered and re-written whole


def test_cache_bounds_sizes_by_what_it_expects(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, x=np.zeros(100_000, np.uint8))  # intact, but far larger than asked for
    assert load_npz(path, {"x": (np.dtype(np.uint8), (10,))}) is None
    assert load_npz(tmp_path / "missing.npz", {"x": (np.dtype(np.uint8), (10,))}) is None
    np.savez(path, x=np.arange(10, dtype=np.uint8))
    np.testing.assert_array_equal(load_npz(path, {"x": (np.dtype(np.uint8), (10,))})["x"], np.arange(10))


# ----------------------------------------------------------------------------- fuzzing
def _real_state():
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(np.ones((5, 3))).sum().backward()
    opt.step()
    return {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3, "name": "run"}


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory):
    state = _real_state()
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "real.npz"
    tn.save(state, path)
    data_path = folder / "real-data.npz"
    np.savez(data_path, x_train=np.ones((4, 2, 2), np.uint8), y_train=np.arange(4),
             x_test=np.zeros((2, 2, 2), np.uint8), y_test=np.arange(2))
    return folder, path.read_bytes(), data_path.read_bytes()


def _load_all_ways(path, is_data):
    """Load ``path`` through every user of the reader; only ValueError may escape, and whatever
    loads holds only readable dtypes."""
    try:
        arrays = read_npz(path)
    except ValueError:
        arrays = {}
    assert all(a.dtype.kind in ARRAY_KINDS for a in arrays.values())
    if is_data:
        try:
            data.load(path)
        except ValueError:
            pass
        spec = {"x_train": (np.dtype(np.uint8), (4, 2, 2)), "y_train": (np.dtype(np.int64), (4,)),
                "x_test": (np.dtype(np.uint8), (2, 2, 2)), "y_test": (np.dtype(np.int64), (2,))}
        found = load_npz(path, spec)  # returns (None or the arrays), never raises
        assert found is None or set(found) == set(spec)
    else:
        try:
            tn.load(path)
        except ValueError:
            pass


@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1,
                      max_size=8),
       is_data=st.booleans())
def test_byte_flips_give_only_value_error(real_checkpoint, flips, is_data):
    folder, ckpt, data_file = real_checkpoint
    raw = bytearray(data_file if is_data else ckpt)
    for where, mask in flips:
        raw[int(where * len(raw))] ^= mask
    path = folder / "flipped.npz"
    path.write_bytes(bytes(raw))
    _load_all_ways(path, is_data)


@given(cut=st.floats(0, 1, exclude_max=True), junk=st.binary(max_size=64), is_data=st.booleans())
def test_truncations_give_only_value_error(real_checkpoint, cut, junk, is_data):
    folder, ckpt, data_file = real_checkpoint
    raw = data_file if is_data else ckpt
    path = folder / "cut.npz"
    path.write_bytes(raw[: int(cut * len(raw))] + junk)
    _load_all_ways(path, is_data)


DESCRS = ["<f8", ">i4", "|b1", "<c16", "<U3", "<U0", "|S5", "|O", "|V8", "<M8[s]", "xx", "",
          [("a", "<f8")], ("<f8", (2,)), 3, None]
SHAPES = [(), (3,), (0,), (2, 2), (-1,), (10**13,), (2**64,), (1,) * 70, "3", (1.5,), (True,), None]


@given(descr=st.sampled_from(DESCRS), shape=st.sampled_from(SHAPES),
       fortran=st.sampled_from([False, True, 1]), version=st.sampled_from([(1, 0), (2, 0), (3, 0), (0, 0)]),
       payload=st.binary(max_size=80), compressed=st.booleans())
def test_crafted_headers_give_only_value_error(real_checkpoint, descr, shape, fortran, version, payload,
                                               compressed):
    folder = real_checkpoint[0]
    raw = npy_header(descr, shape, fortran, version) + payload
    member = {"name": "a0.npy", "data": raw}
    if compressed:
        member = {**member, "data": zlib.compress(raw)[2:-4], "method": 8, "size": len(raw),
                  "crc": zlib.crc32(raw)}
    path = folder / "header.npz"
    path.write_bytes(checkpoint_with(member))
    _load_all_ways(path, False)


@given(text=st.text(alphabet="{}()[]':,.0123456789 -<>fiuOVUdescrshapefortran_orderTrueFalse\n\\\"#",
                    max_size=120))
def test_random_header_text_gives_only_value_error(real_checkpoint, text):
    path = real_checkpoint[0] / "text.npz"
    path.write_bytes(checkpoint_with({"name": "a0.npy", "data": npy_header(text=text) + bytes(16)}))
    _load_all_ways(path, False)


# ----------------------------------------------------------------------------- memory bombs
AS_LIMIT = 1536 * 2**20  # 1.5 GiB of address space: a 3 GB allocation fails instead of eating the machine
GB3 = 3 * 2**30
CHILD = r"""
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
import tinynet as tn
from tinynet import data
from tinynet.data.cache import load_npz
how, path = sys.argv[2], sys.argv[3]
try:
    if how == "checkpoint":
        tn.load(path)
    elif how == "data":
        data.load(path)
    else:
        spec = {"x_train": (np.dtype(np.uint8), (GB,)), "y_train": (np.dtype(np.int64), (2,)),
                "x_test": (np.dtype(np.int64), (2,)), "y_test": (np.dtype(np.int64), (2,))}
        print("None" if load_npz(path, spec) is None else "loaded")
except ValueError as error:
    print("ValueError", error)
else:
    print("no error")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""".replace("GB", "100")


def run_bomb(how, path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(AS_LIMIT), how, str(path)], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    peak_kib = int(lines[-1])
    assert peak_kib * 1024 < 400 * 2**20, f"peak RSS {peak_kib} KiB"
    return lines[0]


def bomb_member(name, n_mib):
    header = npy_header("|u1", (n_mib * 2**20,))
    size = len(header) + n_mib * 2**20
    return {"name": name, "data": deflated_zeros(header, n_mib), "method": 8, "size": size}


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    files = {}
    member = bomb_member("a0.npy", GB3 // 2**20)
    files["member_checkpoint"] = raw_zip([member, manifest_member(TREE_A0)])
    files["member_data"] = data_set_with({**member, "name": "x_train.npy"})
    files["manifest"] = raw_zip([bomb_member(MANIFEST + ".npy", GB3 // 2**20)])
    files["manifest_1gib"] = raw_zip([bomb_member(MANIFEST + ".npy", 1024)])  # under 2 GiB, over 64 MiB
    claim = {"name": "a0.npy", "data": npy_header(W, (10**13,)) + bytes(8)}
    files["claim_checkpoint"] = raw_zip([claim, manifest_member(TREE_A0)])
    files["claim_data"] = data_set_with({**claim, "name": "x_train.npy"})
    paths = {}
    for key, raw in files.items():
        paths[key] = folder / f"{key}.npz"
        paths[key].write_bytes(raw)
    return paths


def test_bombs_are_small_files(bombs):
    assert os.path.getsize(bombs["member_checkpoint"]) < 4 * 2**20
    assert os.path.getsize(bombs["manifest"]) < 4 * 2**20
    assert os.path.getsize(bombs["claim_checkpoint"]) < 1024
    with zipfile.ZipFile(bombs["manifest"]) as archive:
        assert archive.infolist()[0].file_size > GB3


@pytest.mark.parametrize(
    ("key", "how", "expect"),
    [
        ("member_checkpoint", "checkpoint", "member 'a0' declares 3221225600 bytes uncompressed"),
        ("member_data", "data", "member 'x_train' declares 3221225600 bytes uncompressed"),
        ("member_data", "cache", "None"),
        ("manifest", "checkpoint", "member '__tinynet__' declares 3221225600 bytes"),
        ("manifest_1gib", "checkpoint", "over the limit of 67108864 bytes for this member"),
        ("claim_checkpoint", "checkpoint", "10000000000000 elements"),
        ("claim_data", "data", "10000000000000 elements"),
        ("claim_data", "cache", "None"),
    ],
)
def test_memory_bomb_is_refused_in_bounded_memory(bombs, key, how, expect):
    first = run_bomb(how, bombs[key])
    assert expect in first, first
    if how != "cache":
        assert first.startswith("ValueError") and bombs[key].name in first, first


def test_address_space_limit_really_bites():
    """The limit above makes a 3 GB allocation fail: a regression shows as MemoryError, not as 3 GB."""
    code = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({AS_LIMIT}, {AS_LIMIT}))\n"
            f"import numpy as np\ntry:\n    np.ones({GB3}, np.uint8)\n"
            "except MemoryError:\n    print('refused')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert done.stdout.strip() == "refused", done.stderr[-2000:]
    assert resource.RLIMIT_AS  # the module is importable here: the tests run on a POSIX system
