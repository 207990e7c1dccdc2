"""Course configuration: folders and the TL_* environment variables.

Paths are resolved from this file's location, never from the current directory, so a
notebook (working directory ``notebooks/``), a test (``tests/``) and a script all agree.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
NOTEBOOKS_DIR = PACKAGE_DIR.parent
REPO_DIR = NOTEBOOKS_DIR.parent

DATA_MODES = ("auto", "real", "synthetic")


class ConfigError(ValueError):
    """A TL_* environment variable has a value the course does not understand."""


@dataclass(frozen=True)
class Config:
    quick: bool
    data_mode: str
    data_dir: Path
    tmp_dir: Path

    def describe(self) -> str:
        mode = "rápido (TL_QUICK=1)" if self.quick else "completo"
        return (f"Modo {mode} · datos: {self.data_mode} (TL_DATA) · "
                f"caché: {_short(self.data_dir)} · resultados: {_short(self.tmp_dir)}")


def _short(path: Path) -> str:
    return shown_path(path) + "/"


def shown_path(path) -> str:
    """A path as the notebooks print it, never absolute (it would show someone else's folders).

    Inside the repository, relative to it with ``/`` (``tmp/supermodel.h5``, on Windows too); under
    the home folder, from ``~`` (``~/.keras/models/…``). Elsewhere (a ``TL_DATA_DIR`` the user chose)
    it stays absolute: that is where they asked us to look.
    """
    path = Path(path).expanduser()
    resolved = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
    for base, prefix in ((REPO_DIR.resolve(), ""), (Path.home().resolve(), "~/")):
        try:
            relative = resolved.relative_to(base).as_posix()
        except ValueError:
            continue
        return prefix + relative if relative != "." else (prefix.rstrip("/") or ".")
    return str(resolved)


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on", "si", "sí"):
        return True
    raise ConfigError(f"{name}={value!r} no es válido: usa {name}=1 para activarlo o {name}=0 para no.")


def get_config() -> Config:
    """Read the configuration from the environment (every call reads it afresh)."""
    data_mode = os.environ.get("TL_DATA", "auto").strip().lower() or "auto"
    if data_mode not in DATA_MODES:
        raise ConfigError(f"TL_DATA={data_mode!r} no es válido: usa uno de {', '.join(DATA_MODES)}.")
    data_dir = Path(os.environ.get("TL_DATA_DIR") or REPO_DIR / "data").expanduser().resolve()
    return Config(quick=_flag("TL_QUICK"), data_mode=data_mode, data_dir=data_dir,
                  tmp_dir=REPO_DIR / "tmp")


def tmp_path(name: str) -> Path:
    """Path of a file in ``tmp/`` (created if needed)."""
    folder = get_config().tmp_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def data_path(*parts: str) -> Path:
    """Path inside the data cache (its folder is created if needed)."""
    path = get_config().data_dir.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def native_stderr_silenced():
    """Silence what native code (C++) writes straight to file descriptor 2 inside the block.

    TensorFlow announces at import time that it uses oneDNN, through C++ logging that no
    environment variable turns off; the notebooks import Keras inside this block so that
    message does not clutter the first cell. Python's own warnings and errors are unaffected
    outside the block. Where descriptor 2 cannot be duplicated (a Windows kernel started without a
    console has none) the block runs unsilenced: a notice too many, never an error.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        saved = None
    if saved is None:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
