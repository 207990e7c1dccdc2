"""Files that are never half-written (tlcourse.files): download, atomic_path and md5sum.

The downloads go to a tiny HTTP server started by the tests on 127.0.0.1 (a random free port,
in a thread), which can serve a complete file, or announce a size and hang up halfway, like a
connection that drops during a download.
"""

import gzip
import hashlib
import http.server
import socket
import threading

import pytest

from tlcourse.files import PARTIAL_SUFFIX, DataError, atomic_path, download, md5sum

CONTENT = bytes(range(256)) * 400          # 100 KiB: several chunks of the download loop
CONTENT_MD5 = hashlib.md5(CONTENT).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    """``/completo`` sends CONTENT; ``/cortado`` announces CONTENT's size but sends only half."""

    def do_GET(self):
        if self.path not in ("/completo", "/cortado"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(CONTENT)))
        self.end_headers()
        body = CONTENT if self.path == "/completo" else CONTENT[: len(CONTENT) // 2]
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True          # HTTP/1.0: the socket closes after this

    def log_message(self, *args):             # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    """Base URL of a local HTTP server, shut down when the module's tests are done."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leftovers(folder):
    """Every file left in ``folder`` (a failed download should leave none)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------------------------- download
def test_download_complete_file(server, tmp_path):
    """A complete file with the right md5 is saved under its name, and no '.part' remains."""
    dest = tmp_path / "descargas" / "fichero.bin"
    assert download(f"{server}/completo", dest, md5=CONTENT_MD5, size=len(CONTENT)) == dest
    assert dest.read_bytes() == CONTENT
    assert leftovers(dest.parent) == ["fichero.bin"]
    assert not dest.with_name(dest.name + PARTIAL_SUFFIX).exists()


def test_download_wrong_md5(server, tmp_path):
    """A wrong md5 raises DataError (saying 'md5') and leaves neither the file nor '.part'."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="md5"):
        download(f"{server}/completo", dest, md5="0" * 32)
    assert leftovers(tmp_path) == []


def test_download_wrong_size(server, tmp_path):
    """A file of another size than expected is refused as incomplete, and nothing is left."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="incompleta"):
        download(f"{server}/completo", dest, size=len(CONTENT) + 1)
    assert leftovers(tmp_path) == []


def test_download_interrupted(server, tmp_path):
    """The server announces N bytes and hangs up after N/2: DataError, nothing left behind."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="/cortado"):
        download(f"{server}/cortado", dest)
    assert leftovers(tmp_path) == []


def test_download_http_error(server, tmp_path):
    """An HTTP error (404) becomes a DataError naming the URL, and nothing is left."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="/no-existe"):
        download(f"{server}/no-existe", dest)
    assert leftovers(tmp_path) == []


def test_download_unreachable(tmp_path):
    """Nothing listens at the URL: DataError that says 'sin conexión' (no network, no server)."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="sin conexión"):
        download(f"http://127.0.0.1:{closed_port()}/x", dest)
    assert leftovers(tmp_path) == []


def test_download_keeps_an_existing_file_on_failure(server, tmp_path):
    """A failed download does not destroy a file already at ``dest`` (it only replaces on success)."""
    dest = tmp_path / "fichero.bin"
    dest.write_bytes(b"lo que ya estaba")
    with pytest.raises(DataError):
        download(f"{server}/cortado", dest)
    assert dest.read_bytes() == b"lo que ya estaba"
    assert leftovers(tmp_path) == ["fichero.bin"]


# ------------------------------------------------------------------------------- atomic_path
def test_atomic_path_success(tmp_path):
    """On success the file exists with its content and no temporary file remains."""
    path = tmp_path / "sub" / "modelo.h5"
    with atomic_path(path) as tmp:
        assert tmp != path and tmp.suffix == ".h5"     # Keras picks the format from the suffix
        tmp.write_text("hola")
        assert not path.exists()                        # not visible until the block ends
    assert path.read_text() == "hola"
    assert leftovers(path.parent) == ["modelo.h5"]


def test_atomic_path_failure_leaves_nothing(tmp_path):
    """If the block raises, the exception goes through and no file (final or temporary) is left."""
    path = tmp_path / "modelo.h5"
    with pytest.raises(RuntimeError, match="a medias"):
        with atomic_path(path) as tmp:
            tmp.write_text("medio fichero")
            raise RuntimeError("interrumpido a medias")
    assert leftovers(tmp_path) == []


def test_atomic_path_failure_keeps_old_file(tmp_path):
    """If the block raises, a previous version of the file is left untouched."""
    path = tmp_path / "results.csv"
    path.write_text("versión anterior")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(path) as tmp:
            tmp.write_text("versión nueva a medias")
            raise KeyboardInterrupt
    assert path.read_text() == "versión anterior"
    assert leftovers(tmp_path) == ["results.csv"]


# -------------------------------------------------------------------------------------- md5sum
def test_md5sum_plain_and_gunzip(tmp_path):
    """md5sum gives the md5 of the bytes, or with gunzip=True of the uncompressed content."""
    path = tmp_path / "datos.gz"
    path.write_bytes(gzip.compress(CONTENT))
    assert md5sum(path, gunzip=True) == CONTENT_MD5
    assert md5sum(path) == hashlib.md5(path.read_bytes()).hexdigest()
    assert md5sum(path, chunk=7) == md5sum(path)       # the chunk size does not matter
