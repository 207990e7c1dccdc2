"""Files that are never half-written: checksums, atomic writes and downloads."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import secrets
import time
from pathlib import Path

import requests
from tqdm.auto import tqdm

PARTIAL_SUFFIX = ".part"
TIMEOUT = (10, 60)  # seconds: to connect, and between two chunks


class DataError(RuntimeError):
    """Data that cannot be had, or that failed a check. The message (in Spanish) says what to do."""


def md5sum(path: Path, *, gunzip: bool = False, chunk: int = 1 << 20) -> str:
    """MD5 of a file, or of its uncompressed content when ``gunzip`` is true."""
    digest = hashlib.md5()
    opener = gzip.open if gunzip else open
    with opener(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary name next to ``path``; rename it to ``path`` only if the block succeeds.

    The temporary name keeps the extension (``modelo.tmp-123-1a2b3c4d.h5``: process id and a random
    part, so two writers never share it) because Keras picks the format from it. If the block fails,
    the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def download(url: str, dest: Path, *, md5: str | None = None, size: int | None = None,
             desc: str | None = None, session=None, verify=None) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, through ``dest.part``.

    The part file is checked (size, md5, and ``verify(part) -> problem or None`` if given) and
    only then renamed to ``dest``. On any failure, including an interruption, the part file is
    removed and a :class:`DataError` is raised.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + PARTIAL_SUFFIX)
    http = session or requests
    try:
        with http.get(url, stream=True, timeout=TIMEOUT) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0)) or size
            with open(part, "wb") as out, tqdm(total=total, unit="B", unit_scale=True,
                                               unit_divisor=1024, desc=desc or dest.name) as bar:
                for block in response.iter_content(chunk_size=1 << 16):
                    out.write(block)
                    bar.update(len(block))
        got = part.stat().st_size
        if size is not None and got != size:
            raise DataError(f"La descarga de {url} está incompleta: {got} bytes de {size}.")
        if md5 is not None and (actual := md5sum(part)) != md5:
            raise DataError(f"La descarga de {url} no supera la comprobación md5 "
                            f"(esperado {md5}, obtenido {actual}).")
        if verify is not None and (problem := verify(part)):
            raise DataError(f"La descarga de {url} no supera su comprobación: {problem}.")
        os.replace(part, dest)
        return dest
    except DataError:
        raise
    except requests.ConnectionError as error:
        raise DataError(f"No se pudo descargar {url}: sin conexión con el servidor "
                        f"({type(error).__name__}; ¿hay red?)") from error
    except (requests.RequestException, OSError) as error:
        raise DataError(f"No se pudo descargar {url}: {str(error)[:200]}") from error
    finally:
        if part.exists():
            part.unlink()


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 60.0, stale_after: float = 120.0):
    """Only one process at a time inside the block for ``path`` (a read-change-write of a shared file).

    The lock is ``<path>.lock``, created with O_EXCL (portable: Windows has no fcntl); one left
    behind by a killed process is taken over once it is older than ``stale_after`` seconds. A lock
    held longer than ``timeout`` gives a Spanish message saying what to do.
    """
    lock = Path(path).with_name(Path(path).name + ".lock")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime > stale_after:
                    lock.unlink(missing_ok=True)
                    continue
            except FileNotFoundError:
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{lock} lleva más de {timeout:.0f} s bloqueado por otro proceso. "
                                   "Si no hay otro notebook escribiendo, borra ese fichero.") from None
            time.sleep(0.05)
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)
