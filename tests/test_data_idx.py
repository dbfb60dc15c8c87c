"""IDX reading and writing: round trips, exact bytes, validation before allocation, fuzzing."""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinynet.data import read_idx, write_idx
from tinynet.data.idx import IDX_DTYPES

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("idx")


def _header(code, shape):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_roundtrip_every_dtype_raw_and_gzip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True).astype(dtype)
    else:
        arr = rng.standard_normal((3, 4, 5)).astype(dtype)
        arr[0, 0, :3] = [np.inf, -0.0, np.finfo(dtype).max]
    path = write_idx(tmp_path / f"a{suffix}", arr)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == arr.shape
    assert np.array_equal(out, arr)
    assert out.flags.writeable
    assert [p.name for p in tmp_path.iterdir()] == [f"a{suffix}"]  # no temporary file left


@given(arr=hnp.arrays(st.sampled_from(DTYPES), hnp.array_shapes(min_dims=1, max_dims=4, min_side=0,
                                                                  max_side=5)),
       gz=st.booleans())
def test_roundtrip_any_shape_and_values(folder, arr, gz):
    path = write_idx(folder / ("h.idx.gz" if gz else "h.idx"), arr)
    out = read_idx(path)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    assert np.array_equal(out, arr, equal_nan=arr.dtype.kind == "f")


def test_exact_bytes_big_endian(tmp_path):
    path = write_idx(tmp_path / "b", np.array([[1, -2, 258]], dtype=np.int16))
    assert path.read_bytes() == _header(0x0B, (1, 3)) + b"\x00\x01\xff\xfe\x01\x02"
    assert read_idx(path).tolist() == [[1, -2, 258]]


def test_gzip_output_is_reproducible_and_detected_by_content(tmp_path):
    arr = np.arange(60, dtype=np.uint8).reshape(3, 20)
    a = write_idx(tmp_path / "x.gz", arr).read_bytes()
    b = write_idx(tmp_path / "y.gz", arr).read_bytes()
    assert a == b and a[:2] == b"\x1f\x8b"
    renamed = tmp_path / "no_suffix"
    renamed.write_bytes(a)
    assert np.array_equal(read_idx(renamed), arr)


def test_non_native_byte_order_input(tmp_path):
    arr = np.array([1.5, -2.25], dtype=">f8")
    assert read_idx(write_idx(tmp_path / "c", arr)).tolist() == [1.5, -2.25]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x00", "magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x00", "type code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x01", "truncated"),
        (_header(0x08, (2, 3)) + bytes(5), "implies a payload of 6 bytes"),
        (_header(0x08, (2, 3)) + bytes(7), "implies a payload of 6 bytes"),
        (_header(0x0C, (2,)) + bytes(7), "implies a payload of 8 bytes"),
    ],
)
def test_malformed_files_raise_value_error_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert "bad.idx" in str(info.value)


def test_hostile_header_is_rejected_without_allocating(tmp_path):
    huge = _header(0x0E, (65535, 65535, 65535)) + bytes(16)  # claims 2 PB
    raw = tmp_path / "huge.idx"
    raw.write_bytes(huge)
    gz = tmp_path / "huge.idx.gz"
    gz.write_bytes(gzip.compress(huge))
    tracemalloc.start()
    try:
        for path in (raw, gz):
            with pytest.raises(ValueError, match="implies a payload"):
                read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_gzip_header_claiming_plausible_size_reads_only_what_exists(tmp_path):
    """A claim within the deflate ratio limit but not backed by data fails on the actual bytes."""
    noise = np.random.default_rng(0).integers(0, 256, 100, dtype=np.uint8).tobytes()
    data = _header(0x08, (100, 28, 28)) + noise  # incompressible: the claim passes the ratio bound
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(data))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="payload is 100 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


@pytest.mark.parametrize("gz", [False, True])
def test_every_truncation_of_a_valid_file_raises_value_error(tmp_path, gz):
    arr = np.arange(2 * 3 * 4, dtype=np.int32).reshape(2, 3, 4)
    full = write_idx(tmp_path / ("v.gz" if gz else "v"), arr).read_bytes()
    cut = tmp_path / "cut"
    for n in range(len(full)):
        cut.write_bytes(full[:n])
        with pytest.raises(ValueError):
            read_idx(cut)


@given(data=st.binary(max_size=300))
def test_fuzz_arbitrary_bytes_only_value_error(folder, data):
    path = folder / "fuzz.bin"
    path.write_bytes(data)
    try:
        out = read_idx(path)
    except ValueError:
        return
    assert out.nbytes <= len(data)


@given(
    code=st.sampled_from([*sorted(IDX_DTYPES), 0, 7, 0x0A, 0xFF]),
    dims=st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=4),
    payload=st.binary(max_size=64),
    gz=st.booleans(),
    cut=st.integers(0, 200),
)
def test_fuzz_plausible_headers_only_value_error(folder, code, dims, payload, gz, cut):
    data = (bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload)[
        : len(dims) * 4 + 4 + cut
    ]
    if gz:
        data = gzip.compress(data)
    path = folder / "plausible.bin"
    path.write_bytes(data)
    try:
        out = read_idx(path)
    except ValueError:
        return
    assert out.nbytes <= len(payload)


@pytest.mark.parametrize("dtype", [np.bool_, np.int64, np.uint16, np.complex64, np.float16, object])
def test_write_rejects_types_without_idx_code(tmp_path, dtype):
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "t", np.zeros(3, dtype=dtype))
    assert not (tmp_path / "t").exists()


def test_write_rejects_zero_dimensional(tmp_path):
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "s", np.uint8(3))


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")
