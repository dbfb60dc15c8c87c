"""The MNIST family loader and ``data.load``: local files, and downloads from a local HTTP server.

No test touches the real network: mirrors are served by a ``http.server`` on 127.0.0.1 started here.
"""

import gzip
import hashlib
import http.server
import threading
import time

import numpy as np
import pytest

from tinynet import data
from tinynet.data import DownloadError, load, load_mnist, write_idx
from tinynet.data.mnist import FILES, SHA256, candidate_names


def _fake_set(seed=0, n_train=12, n_test=5):
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def _write_set(folder, arrays, gz=True, prefix=""):
    for key, arr in arrays.items():
        write_idx(folder / f"{prefix}{FILES[key]}{'.gz' if gz else ''}", arr)


def _check(result, arrays):
    (x, y), (xt, yt) = result
    assert np.array_equal(x, arrays["train_images"]) and np.array_equal(xt, arrays["test_images"])
    assert np.array_equal(y, arrays["train_labels"]) and np.array_equal(yt, arrays["test_labels"])
    assert y.dtype == np.int64 and yt.dtype == np.int64


@pytest.fixture(scope="module")
def served():
    """A local server: ``routes[path] = (status, body, delay_s)``; ``hits`` counts requests."""
    routes, hits = {}, {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits[self.path] = hits.get(self.path, 0) + 1
            status, body, delay = routes.get(self.path, (404, b"not found", 0.0))
            if callable(status):
                status = status(hits[self.path])
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, routes, hits
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Gzipped IDX bytes of a fake set, by standard ``.gz`` name, and their SHA-256 digests."""
    folder = tmp_path_factory.mktemp("published")
    arrays = _fake_set()
    _write_set(folder, arrays)
    blobs = {FILES[k] + ".gz": (folder / (FILES[k] + ".gz")).read_bytes() for k in FILES}
    sums = {name: hashlib.sha256(b).hexdigest() for name, b in blobs.items()}
    return arrays, blobs, sums


def _serve(routes, mirror, blobs, mutate=None, status=200, delay=0.0):
    for name, body in blobs.items():
        routes[f"/{mirror}/{name}"] = (status, mutate(body) if mutate else body, delay)


def test_download_from_good_mirror(served, published, tmp_path):
    base, routes, _ = served
    arrays, blobs, sums = published
    _serve(routes, "good", blobs)
    result = load_mnist(tmp_path, download=True, mirrors=[f"{base}/good/"], checksums=sums, timeout=5)
    _check(result, arrays)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(blobs)  # nothing else left
    for name, body in blobs.items():
        assert (tmp_path / name).read_bytes() == body
    _check(load_mnist(tmp_path), arrays)  # now found without downloading


def test_corrupted_mirror_rejected_then_next_mirror_used(served, published, tmp_path):
    base, routes, hits = served
    arrays, blobs, sums = published
    _serve(routes, "corrupt", blobs, mutate=lambda b: b[:-5] + b"XXXXX")
    _serve(routes, "good2", blobs)
    mirrors = [f"{base}/corrupt/", f"{base}/good2"]  # with and without trailing slash
    result = load_mnist(tmp_path, download=True, mirrors=mirrors, checksums=sums, timeout=5, retries=3)
    _check(result, arrays)
    for name in blobs:
        assert hits[f"/corrupt/{name}"] == 1  # a wrong digest is not retried
        assert (tmp_path / name).read_bytes() == blobs[name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(blobs)


def test_no_valid_mirror_raises_and_leaves_no_file(served, published, tmp_path):
    base, routes, _ = served
    _, blobs, sums = published
    _serve(routes, "bad1", blobs, mutate=lambda b: b + b"!")
    _serve(routes, "bad2", blobs, status=500)
    root = tmp_path / "root"
    mirrors = [f"{base}/bad1/", f"{base}/bad2/", f"{base}/absent/"]
    with pytest.raises(DownloadError) as info:
        load_mnist(root, download=True, mirrors=mirrors, checksums=sums, timeout=5, retries=2)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "SHA-256" in message
    assert "bad1" in message and "HTTP 500" in message and "HTTP 404" in message
    assert isinstance(info.value, OSError)
    assert not root.exists() or list(root.iterdir()) == []


def test_server_errors_are_retried_on_the_same_mirror(served, published, tmp_path):
    base, routes, hits = served
    arrays, blobs, sums = published
    for name, body in blobs.items():
        routes[f"/flaky/{name}"] = (lambda n: 503 if n == 1 else 200, body, 0.0)
    result = load_mnist(tmp_path, download=True, mirrors=[f"{base}/flaky/"], checksums=sums, retries=2)
    _check(result, arrays)
    assert all(hits[f"/flaky/{name}"] == 2 for name in blobs)


def test_timeout_moves_to_next_mirror(served, published, tmp_path):
    base, routes, _ = served
    arrays, blobs, sums = published
    _serve(routes, "slow", blobs, delay=0.6)
    _serve(routes, "fast", blobs)
    mirrors = [f"{base}/slow/", f"{base}/fast/"]
    result = load_mnist(tmp_path, download=True, mirrors=mirrors, checksums=sums, timeout=0.2, retries=1)
    _check(result, arrays)


def test_only_missing_files_are_downloaded(served, published, tmp_path):
    base, routes, hits = served
    arrays, blobs, sums = published
    _serve(routes, "partial", blobs)
    write_idx(tmp_path / "train-images-idx3-ubyte", arrays["train_images"])  # present, raw
    load_mnist(tmp_path, download=True, mirrors=[f"{base}/partial/"], checksums=sums)
    assert "/partial/train-images-idx3-ubyte.gz" not in hits
    assert hits["/partial/t10k-labels-idx1-ubyte.gz"] == 1


def test_a_mirror_of_another_scheme_is_refused(tmp_path, published):
    _, _, sums = published
    with pytest.raises(ValueError, match="http, https or file"):
        load_mnist(tmp_path, download=True, mirrors=["ftp://127.0.0.1/mnist/"], checksums=sums)


def test_a_local_folder_serves_as_a_file_mirror(tmp_path, published):
    arrays, blobs, sums = published
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, body in blobs.items():
        (mirror / name).write_bytes(body)
    dest = tmp_path / "dest"
    _check(load_mnist(dest, download=True, mirrors=[mirror.as_uri() + "/"], checksums=sums), arrays)
    assert sorted(p.name for p in dest.iterdir()) == sorted(blobs)


def test_a_file_mirror_entry_that_is_not_a_regular_file_moves_on(tmp_path, published):
    _, blobs, sums = published
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in blobs:
        (mirror / name).mkdir()  # a folder in the file's place: refused before open()
    with pytest.raises(DownloadError, match="no regular file"):
        load_mnist(tmp_path / "dest", download=True, mirrors=[mirror.as_uri()], checksums=sums, timeout=5)


def test_missing_files_without_download_say_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path / "nowhere", kind="fashion")
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message
    assert "download=True" in message and "t10k-labels-idx1-ubyte" in message


def test_default_root_is_cache_folder_per_kind(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_CACHE", str(tmp_path))
    arrays = _fake_set(1)
    (tmp_path / "kmnist").mkdir()
    _write_set(tmp_path / "kmnist", arrays, gz=False)
    _check(load_mnist(kind="kmnist"), arrays)
    _check(load("kmnist"), arrays)


@pytest.mark.parametrize(("gz", "prefix"), [(False, ""), (True, "fashion-")])
def test_files_found_raw_or_gzipped_with_optional_kind_prefix(tmp_path, gz, prefix):
    arrays = _fake_set(2)
    _write_set(tmp_path, arrays, gz=gz, prefix=prefix)
    _check(load_mnist(tmp_path, kind="fashion"), arrays)


def test_candidate_names_include_dotted_spelling():
    names = candidate_names("t10k-images-idx3-ubyte", "mnist")
    assert names[0] == "t10k-images-idx3-ubyte.gz"
    assert "t10k-images.idx3-ubyte" in names and "mnist-t10k-images-idx3-ubyte.gz" in names


def test_image_and_label_counts_must_agree(tmp_path):
    arrays = _fake_set(3)
    arrays["test_labels"] = arrays["test_labels"][:-1]
    _write_set(tmp_path, arrays)
    with pytest.raises(ValueError, match=r"5 images but .* 4 labels"):
        load_mnist(tmp_path)


def test_images_must_be_three_dimensional(tmp_path):
    arrays = _fake_set(4)
    arrays["train_images"] = arrays["train_images"].reshape(12, -1)
    _write_set(tmp_path, arrays)
    with pytest.raises(ValueError, match="3-D"):
        load_mnist(tmp_path)


def test_bad_kind_and_arguments(tmp_path):
    with pytest.raises(ValueError, match="kind must be one of 'mnist', 'fashion', 'kmnist', got 'emnist'"):
        load_mnist(tmp_path, kind="emnist")
    with pytest.raises(ValueError, match="retries"):
        load_mnist(tmp_path, retries=0)
    with pytest.raises(ValueError, match="timeout"):
        load_mnist(tmp_path, timeout=0)
    with pytest.raises(TypeError, match="load_mnist: kind must be one of"):
        load_mnist(tmp_path, kind=None)
    with pytest.raises(TypeError, match="load_mnist: retries must be an int"):
        load_mnist(tmp_path, retries=2.0)
    with pytest.raises(TypeError, match="load_mnist: timeout"):
        load_mnist(tmp_path, timeout="30")


def test_pinned_checksums_cover_every_file():
    for kind, table in SHA256.items():
        assert sorted(table) == sorted(f + ".gz" for f in FILES.values()), kind
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in table.values())


def test_read_real_layout_of_gzip_member_name(tmp_path):
    """A gzip file whose inner name differs (as in the original archives) still reads."""
    arrays = _fake_set(5)
    _write_set(tmp_path, arrays, gz=False)
    for key in ("train_images", "train_labels", "test_images", "test_labels"):
        raw = tmp_path / FILES[key]
        with gzip.GzipFile(tmp_path / (FILES[key] + ".gz"), "wb", mtime=0) as gz:
            gz.write(raw.read_bytes())
        raw.unlink()
    _check(load_mnist(tmp_path), arrays)


# ---------------------------------------------------------------- data.load


def test_load_synthetic_passes_options():
    (x, y), (xt, _) = load("synthetic", n_train=20, n_test=10, seed=1, cache=False)
    assert x.shape == (20, 28, 28) and xt.shape == (10, 28, 28) and y.dtype == np.int64
    ref = data.synthetic_digits(20, 10, 1, cache=False)
    assert np.array_equal(x, ref[0][0])


def test_load_folder_of_idx_files(tmp_path):
    arrays = _fake_set(6)
    _write_set(tmp_path, arrays)
    _check(load(tmp_path), arrays)
    _check(load(str(tmp_path)), arrays)


def test_load_npz(tmp_path):
    arrays = _fake_set(7)
    path = tmp_path / "set.npz"
    np.savez(path, x_train=arrays["train_images"], y_train=arrays["train_labels"],
             x_test=arrays["test_images"], y_test=arrays["test_labels"])
    _check(load(path), arrays)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"x_train": np.zeros((2, 3)), "y_train": np.zeros(2, int)}, "lacks x_test, y_test"),
        ({"x_train": np.zeros((2, 3)), "y_train": np.zeros(3, int), "x_test": np.zeros((1, 3)),
          "y_test": np.zeros(1, int)}, "2 samples but y_train has 3"),
        ({"x_train": np.zeros((2, 3)), "y_train": np.zeros(2), "x_test": np.zeros((1, 3)),
          "y_test": np.zeros(1, int)}, "integer labels"),
        ({"x_train": np.array([{}, {}], dtype=object), "y_train": np.zeros(2, int),
          "x_test": np.zeros((1, 3)), "y_test": np.zeros(1, int)}, "without pickle"),
    ],
)
def test_load_bad_npz(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **content)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_load_unknown_name_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="synthetic, mnist, fashion, kmnist"):
        load("cifar10")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match="not a data set name"):
        load(tmp_path / "notes.txt")
    with pytest.raises(TypeError, match="name or a path"):
        load(3)
