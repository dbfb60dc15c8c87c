"""Downloads against slow, broken and killed transfers (issue 18), from a server on 127.0.0.1 started here.

Classes of failure and the tests that catch every case of them:
- a server that sends slowly in any phase (status line, headers, body) -> abandoned at the file's overall
  deadline, whatever the per-read timeout, with a clear error and no temporary file;
- a transfer that ends early (connection closed mid-way, with or without an announced length) -> retried or
  refused, no temporary file; a download killed mid-way -> its leftover is gone after the next download;
- a mirror given in the environment (``TINYNET_<KIND>_MIRROR``) -> used before the defaults, validated, and
  overridden by an explicit ``mirrors=``.

Every handler stops by itself: it writes at most a few dozen bytes, and stops when the client has gone.
"""

import hashlib
import http.server
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from tinynet.data import DownloadError, load_mnist, mnist, write_idx
from tinynet.data.mnist import DEADLINE, FILES, MIRROR_ENV, download_file

DRIP_BYTES = 30  # a dripping handler gives up after this many bytes (30 s at 1 byte/s)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Gzipped IDX bytes of a small fake set by standard ``.gz`` name, and their SHA-256 digests."""
    folder = tmp_path_factory.mktemp("published")
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 6, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    blobs = {}
    for key, arr in arrays.items():
        name = FILES[key] + ".gz"
        blobs[name] = write_idx(folder / name, arr).read_bytes()
    sums = {name: hashlib.sha256(body).hexdigest() for name, body in blobs.items()}
    return arrays, blobs, sums


@pytest.fixture(scope="module")
def server(published):
    """``http://127.0.0.1:<port>``; the first path segment picks the behaviour; ``hits`` counts requests."""
    _, blobs, _ = published
    hits = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            hits[self.path] = hits.get(self.path, 0) + 1
            mode, _, name = self.path.strip("/").partition("/")
            body = blobs.get(name)
            try:
                if body is None or mode not in MODES:
                    self._head(404, 0)
                else:
                    MODES[mode](self, body)
            except OSError:
                pass  # the client gave up (deadline, timeout): stop

        def _head(self, status, length):
            self.send_response(status)
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()

        def _drip(self, data):
            for i in range(min(len(data), DRIP_BYTES)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(1.0)

        def good(self, body):
            self._head(200, len(body))
            self.wfile.write(body)

        def drip(self, body):  # honest headers, then the body at 1 byte/s
            self._head(200, len(body))
            self.wfile.flush()
            self._drip(body)

        def driphead(self, body):  # even the status line at 1 byte/s
            self._drip(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

        def cut(self, body):  # announces the whole length, sends half, closes
            self._head(200, len(body))
            self.wfile.write(body[: len(body) // 2])

        def cutnolen(self, body):  # no length announced: the early end shows only in the digest
            self._head(200, None)
            self.wfile.write(body[: len(body) // 2])

        def stall(self, body):  # headers, a little, then silence for 3 s
            self._head(200, len(body))
            self.wfile.write(body[:10])
            self.wfile.flush()
            time.sleep(3.0)

        def garbage(self, body):  # not HTTP at all
            self.wfile.write(b"SSH-2.0-OpenSSH\r\n\r\n" + body[:20])

        def log_message(self, *args):
            pass

    names = ("good", "drip", "driphead", "cut", "cutnolen", "stall", "garbage")
    MODES = {m: getattr(Handler, m) for m in names}
    MODES.update({f"env{i}": Handler.good for i in range(4)})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _no_real_mirrors(monkeypatch):
    """No test here can reach the network: the default mirrors are unroutable, the variables unset."""
    for name in MIRROR_ENV.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(mnist, "MIRRORS", {kind: ("http://127.0.0.1:9/none/",) for kind in mnist.KINDS})


NAME = "t10k-labels-idx1-ubyte.gz"


def _timed(fn):
    start = time.monotonic()
    try:
        fn()
    except DownloadError as exc:
        return exc, time.monotonic() - start
    raise AssertionError("no DownloadError")


# ---------------------------------------------------------------- slow servers: the overall deadline


@pytest.mark.parametrize("mode", ["drip", "driphead"])
def test_dripping_server_is_abandoned_at_the_deadline(server, published, tmp_path, mode):
    """1 byte/s never trips a 30 s per-read timeout; the 1.5 s deadline ends it, in the body or headers."""
    base, _ = server
    _, _, sums = published
    dest = tmp_path / NAME
    exc, elapsed = _timed(lambda: download_file(
        NAME, dest, [f"{base}/{mode}/", f"{base}/good/"], sums[NAME], timeout=30, retries=3, deadline=1.5
    ))
    assert 1.4 <= elapsed < 2.3, elapsed
    message = str(exc)
    assert "within the 1.5 s deadline" in message and "deadline of 1.5 s passed" in message
    assert f"not tried (deadline passed): {base}/good/" in message
    assert list(tmp_path.iterdir()) == []  # no temporary file, no partial file


def test_deadline_spans_mirrors_and_retries(server, published, tmp_path):
    """A per-read stall is retried, but all attempts together stop at the deadline."""
    base, hits = server
    _, _, sums = published
    exc, elapsed = _timed(lambda: download_file(
        NAME, tmp_path / NAME, [f"{base}/stall/"], sums[NAME], timeout=0.4, retries=50, deadline=1.5
    ))
    assert elapsed < 2.2 and "deadline" in str(exc)
    assert 2 <= hits[f"/stall/{NAME}"] <= 5  # retried after each read timeout, then the deadline
    assert list(tmp_path.iterdir()) == []


def test_per_read_timeout_still_moves_on_to_the_next_mirror(server, published, tmp_path):
    base, _ = server
    _, blobs, sums = published
    start = time.monotonic()
    got = download_file(NAME, tmp_path / NAME, [f"{base}/stall/", f"{base}/good/"], sums[NAME],
                        timeout=0.3, retries=1, deadline=10)
    assert time.monotonic() - start < 2.0
    assert got.read_bytes() == blobs[NAME] and list(tmp_path.iterdir()) == [got]


def test_load_mnist_passes_the_deadline_and_documents_its_default(server, published, tmp_path):
    base, _ = server
    _, _, sums = published
    assert DEADLINE == 300.0
    assert "deadline" in load_mnist.__doc__ and "300 s" in load_mnist.__doc__
    exc, elapsed = _timed(lambda: load_mnist(
        tmp_path, download=True, mirrors=[f"{base}/drip/"], checksums=sums, deadline=1.0
    ))
    assert elapsed < 1.8 and "within the 1 s deadline" in str(exc)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [({"deadline": 0}, ValueError), ({"deadline": -1.0}, ValueError),
     ({"deadline": float("inf")}, ValueError), ({"deadline": float("nan")}, ValueError),
     ({"deadline": "60"}, TypeError), ({"deadline": True}, TypeError)],
)
def test_deadline_is_validated(tmp_path, kwargs, exc):
    with pytest.raises(exc, match="load_mnist: deadline must be a finite number > 0"):
        load_mnist(tmp_path, download=True, **kwargs)
    with pytest.raises(exc, match="download_file: deadline must be a finite number > 0"):
        download_file(NAME, tmp_path / NAME, ["http://127.0.0.1:9/"], "0" * 64, **kwargs)


def test_a_single_url_string_is_not_taken_for_a_list_of_mirrors(tmp_path):
    with pytest.raises(TypeError, match="load_mnist: mirrors must be a sequence of URLs"):
        load_mnist(tmp_path, download=True, mirrors="http://127.0.0.1:9/")
    with pytest.raises(TypeError, match="download_file: mirrors must be a sequence of URLs"):
        download_file(NAME, tmp_path / NAME, "http://127.0.0.1:9/", "0" * 64)


# ---------------------------------------------------------------- transfers that end early


def test_connection_closed_mid_way_is_retried_and_leaves_nothing(server, published, tmp_path):
    base, hits = server
    _, blobs, sums = published
    exc, _ = _timed(lambda: download_file(NAME, tmp_path / NAME, [f"{base}/cut/"], sums[NAME], retries=2))
    assert f"connection closed after {len(blobs[NAME]) // 2} of {len(blobs[NAME])} bytes" in str(exc)
    assert hits[f"/cut/{NAME}"] == 2  # a network error: retried
    assert list(tmp_path.iterdir()) == []
    got = download_file(NAME, tmp_path / NAME, [f"{base}/cut/", f"{base}/good/"], sums[NAME], retries=1)
    assert got.read_bytes() == blobs[NAME] and list(tmp_path.iterdir()) == [got]


def test_connection_closed_mid_way_without_length_fails_the_digest_and_leaves_nothing(
    server, published, tmp_path
):
    base, _ = server
    _, _, sums = published
    exc, _ = _timed(lambda: download_file(NAME, tmp_path / NAME, [f"{base}/cutnolen/"], sums[NAME]))
    assert "SHA-256" in str(exc) and "expected" in str(exc)
    assert list(tmp_path.iterdir()) == []


def test_a_reply_that_is_not_http_is_a_network_error_not_a_traceback(server, published, tmp_path):
    base, hits = server
    _, _, sums = published
    exc, _ = _timed(lambda: download_file(NAME, tmp_path / NAME, [f"{base}/garbage/"], sums[NAME], retries=2))
    assert "attempt 2" in str(exc) and hits[f"/garbage/{NAME}"] == 2
    assert list(tmp_path.iterdir()) == []


_KILLED_CHILD = textwrap.dedent(
    """
    import sys
    from tinynet.data.mnist import download_file
    download_file(sys.argv[1], sys.argv[2], [sys.argv[3]], sys.argv[4], deadline=60)
    """
)


def test_download_killed_mid_way_leaves_nothing_after_the_next_download(server, published, tmp_path):
    """kill -9 cannot clean up; the next successful download of the file into that folder must."""
    base, _ = server
    _, blobs, sums = published
    dest = tmp_path / NAME
    argv = [sys.executable, "-c", _KILLED_CHILD, NAME, str(dest), f"{base}/drip/", sums[NAME]]
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        limit = time.monotonic() + 15
        while not list(tmp_path.iterdir()) and time.monotonic() < limit and child.poll() is None:
            time.sleep(0.05)
        leftovers = list(tmp_path.iterdir())
        assert leftovers and not dest.exists(), "the child never started writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stderr.close()
    assert list(tmp_path.iterdir()) == leftovers  # the killed writer's temporary file is still there
    got = download_file(NAME, dest, [f"{base}/good/"], sums[NAME])
    assert got.read_bytes() == blobs[NAME]
    assert sorted(os.listdir(tmp_path)) == [NAME], "a killed download's temporary file was never cleaned"


# ---------------------------------------------------------------- a mirror from the environment


def test_environment_mirror_is_used_first(server, published, tmp_path, monkeypatch):
    base, hits = server
    arrays, blobs, sums = published
    monkeypatch.setenv("TINYNET_MNIST_MIRROR", f"{base}/env0/")
    (x, _), (_, yt) = load_mnist(tmp_path, download=True, checksums=sums)
    assert np.array_equal(x, arrays["train_images"]) and np.array_equal(yt, arrays["test_labels"])
    assert all(hits[f"/env0/{name}"] == 1 for name in blobs)
    assert sorted(os.listdir(tmp_path)) == sorted(blobs)


def test_environment_may_name_several_mirrors_tried_in_order(server, published, tmp_path, monkeypatch):
    base, hits = server
    _, blobs, sums = published
    monkeypatch.setenv("TINYNET_MNIST_MIRROR", f"  {base}/absent/   {base}/env1 ")
    load_mnist(tmp_path, download=True, checksums=sums, retries=1)
    assert all(hits[f"/absent/{n}"] == 1 and hits[f"/env1/{n}"] == 1 for n in blobs)


def test_explicit_mirrors_override_the_environment(server, published, tmp_path, monkeypatch):
    base, hits = server
    _, _, sums = published
    monkeypatch.setenv("TINYNET_MNIST_MIRROR", f"{base}/env2/")
    load_mnist(tmp_path, download=True, mirrors=[f"{base}/good/"], checksums=sums)
    assert not any(path.startswith("/env2/") for path in hits)


def test_each_kind_reads_its_own_variable(server, published, tmp_path, monkeypatch):
    base, hits = server
    _, _, sums = published
    assert MIRROR_ENV == {"mnist": "TINYNET_MNIST_MIRROR", "fashion": "TINYNET_FASHION_MIRROR",
                          "kmnist": "TINYNET_KMNIST_MIRROR"}
    monkeypatch.setenv("TINYNET_MNIST_MIRROR", f"{base}/env3/")
    monkeypatch.setenv("TINYNET_FASHION_MIRROR", f"{base}/good/")
    load_mnist(tmp_path, kind="fashion", download=True, checksums=sums)
    assert not any(path.startswith("/env3/") for path in hits)


@pytest.mark.parametrize("value", ["ftp://127.0.0.1/mnist/", "file://", "127.0.0.1/mnist", "http://"])
def test_a_bad_environment_mirror_is_refused_naming_the_variable(tmp_path, monkeypatch, value):
    monkeypatch.setenv("TINYNET_KMNIST_MIRROR", value)
    pattern = r"load_mnist: \$TINYNET_KMNIST_MIRROR must hold http, https or file"
    with pytest.raises(ValueError, match=pattern) as info:
        load_mnist(tmp_path, kind="kmnist", download=True)
    assert repr(value) in str(info.value)


def test_missing_files_message_names_the_mirror_options(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mirrors=\[url\] or \$TINYNET_MNIST_MIRROR"):
        load_mnist(tmp_path)
