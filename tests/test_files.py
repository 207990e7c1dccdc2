"""Files that are never half-written (tlcourse.files): download, atomic_path and md5sum.

The downloads go to a tiny HTTP server started by the tests on 127.0.0.1 (``server`` in conftest.py:
a random free port, in a thread), which can serve a complete file, or announce a size and hang up
halfway, like a connection that drops during a download.
"""

import gzip
import hashlib
import socket

import pytest

from tlcourse.files import PARTIAL_SUFFIX, DataError, atomic_path, download, md5sum

CONTENT = bytes(range(256)) * 400          # 100 KiB: several chunks of the download loop
CONTENT_MD5 = hashlib.md5(CONTENT).hexdigest()


@pytest.fixture
def base(server):
    """Base URL of the local server (conftest.py): CONTENT at /completo, and at /cortado it announces
    CONTENT's size but sends only half."""
    server.serve("/completo", CONTENT)
    server.serve("/cortado", CONTENT, cut=True)
    return server.base


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leftovers(folder):
    """Every file left in ``folder`` (a failed download should leave none)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------------------------- download
def test_download_complete_file(base, tmp_path):
    """A complete file with the right md5 is saved under its name, and no '.part' remains."""
    dest = tmp_path / "descargas" / "fichero.bin"
    assert download(f"{base}/completo", dest, md5=CONTENT_MD5, size=len(CONTENT)) == dest
    assert dest.read_bytes() == CONTENT
    assert leftovers(dest.parent) == ["fichero.bin"]
    assert not dest.with_name(dest.name + PARTIAL_SUFFIX).exists()


def test_download_wrong_md5(base, tmp_path):
    """A wrong md5 raises DataError (saying 'md5') and leaves neither the file nor '.part'."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="md5"):
        download(f"{base}/completo", dest, md5="0" * 32)
    assert leftovers(tmp_path) == []


def test_download_wrong_size(base, tmp_path):
    """A file of another size than expected is refused as incomplete, and nothing is left."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="incompleta"):
        download(f"{base}/completo", dest, size=len(CONTENT) + 1)
    assert leftovers(tmp_path) == []


def test_download_interrupted(base, tmp_path):
    """The server announces N bytes and hangs up after N/2: DataError, nothing left behind."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="/cortado"):
        download(f"{base}/cortado", dest)
    assert leftovers(tmp_path) == []


def test_download_http_error(base, tmp_path):
    """An HTTP error (404) becomes a DataError naming the URL, and nothing is left."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="/no-existe"):
        download(f"{base}/no-existe", dest)
    assert leftovers(tmp_path) == []


def test_download_unreachable(tmp_path):
    """Nothing listens at the URL: DataError that says 'sin conexión' (no network, no server)."""
    dest = tmp_path / "fichero.bin"
    with pytest.raises(DataError, match="sin conexión"):
        download(f"http://127.0.0.1:{closed_port()}/x", dest)
    assert leftovers(tmp_path) == []


def test_download_keeps_an_existing_file_on_failure(base, tmp_path):
    """A failed download does not destroy a file already at ``dest`` (it only replaces on success)."""
    dest = tmp_path / "fichero.bin"
    dest.write_bytes(b"lo que ya estaba")
    with pytest.raises(DataError):
        download(f"{base}/cortado", dest)
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
