import http.server
import socket
import sys
import threading
from pathlib import Path

import pytest

# The helper package lives next to the notebooks (notebooks/tlcourse).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))

REPO = Path(__file__).resolve().parents[1]
# The real MNIST files shared with the project (../shared/data/mnist next to the repository).
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long test, run only with TL_SLOW_TESTS=1")


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Tests never reach the Internet: any host other than 127.0.0.1 fails as if offline.

    Name resolution and ``connect`` refuse every non-loopback address, so requests, urllib
    (used by Keras' downloader) and the ``emnist`` package all fail at once, like a laptop
    without network, instead of waiting for a timeout.
    """
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host is None or str(host) in LOOPBACK:
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"sin red en los tests: {host}")

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and str(host) not in LOOPBACK:
            raise ConnectionRefusedError(f"sin red en los tests: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def isolated_course(tmp_path, monkeypatch):
    """Every test gets its own data cache and ``tmp/`` folder inside pytest's ``tmp_path``.

    ``TL_DATA_DIR`` points at ``tmp_path/data`` and ``tlcourse.config.REPO_DIR`` (from which
    ``tmp/`` is derived) at ``tmp_path/repo``, so nothing is ever written to the repository's
    ``data/`` or ``tmp/``. ``TL_DATA`` and ``TL_QUICK`` start unset (tests set what they need).
    """
    import tlcourse.config

    monkeypatch.setenv("TL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TL_DATA", raising=False)
    monkeypatch.delenv("TL_QUICK", raising=False)
    monkeypatch.setattr(tlcourse.config, "REPO_DIR", tmp_path / "repo")


@pytest.fixture
def data_dir(tmp_path):
    """The data cache of this test (what ``TL_DATA_DIR`` points at)."""
    return tmp_path / "data"


# ------------------------------------------------------------- a local HTTP server (downloads)
class Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``routes[path] = (body, cut)``; ``cut`` announces len(body) but sends only half.

    Any other path answers 404. Every requested path is appended to ``requested``.
    """

    routes: dict[str, tuple[bytes, bool]] = {}
    requested: list[str] = []

    def do_GET(self):
        self.requested.append(self.path)
        if self.path not in self.routes:
            self.send_error(404)
            return
        body, cut = self.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        self.close_connection = True          # HTTP/1.0: the socket closes after this

    def log_message(self, *args):             # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def http_server():
    """Base URL of a local HTTP server (a thread), shut down after this module's tests."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


class Server:
    """What a test serves: ``serve(path, body)`` or ``serve(path, body, cut=True)``."""

    def __init__(self, base: str):
        self.base = base
        Handler.routes = {}
        Handler.requested = []

    def serve(self, path: str, body: bytes, cut: bool = False) -> str:
        Handler.routes[path] = (body, cut)
        return self.base + path

    @property
    def requested(self) -> list[str]:
        return Handler.requested


@pytest.fixture
def server(http_server):
    """The local server with no routes yet (every path is 404 until the test serves it)."""
    yield Server(http_server)
    Handler.routes = {}
