"""Cells that need the network or extra packages, without stopping "Run All" when they are missing.

A notebook cell that downloads something reads::

    if tlcourse.ready_to_download("los pesos de MobileNetV2 (unos 9 MB)", url, keras_cache="models/..."):
        base_model = keras.applications.MobileNetV2(weights="imagenet", ...)

When the file is already in Keras' cache, or the packages are installed and the server answers,
the cell runs as written. Otherwise :func:`ready_to_download` says in Spanish what the cell would
have downloaded and how to get it, and returns False, so the cell ends without an exception and
JupyterLab's *Run All* goes on with the next cell (JupyterLab ignores nbval's
``raises-exception`` tag and stops at the first error).
"""

from __future__ import annotations

import importlib.util
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from .config import shown_path

# pip names of import names that differ (what a student types to install them).
PIP_NAMES = {"tensorflow_hub": "tensorflow-hub", "tf_keras": "tf-keras==2.21.*", "keras_hub": "keras-hub",
             "huggingface_hub": "huggingface_hub"}


def keras_home() -> Path:
    """Keras' cache folder, found as Keras finds it: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when
    the home folder is read-only). ``models/`` and ``datasets/`` hang from it."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"])
    return Path(os.path.expanduser("~") if os.access(os.path.expanduser("~"), os.W_OK) else "/tmp") / ".keras"


def missing_packages(packages) -> list[str]:
    """The import names among ``packages`` that are not installed."""
    return [name for name in packages if importlib.util.find_spec(name) is None]


def server_answers(url: str, timeout: float = 5.0) -> bool:
    """True if the server of ``url`` answers at all (any HTTP status), through the proxy settings urllib uses."""
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
        return True
    except urllib.error.HTTPError:
        return True            # the server answered (403, 405…): the network works
    except (urllib.error.URLError, OSError, ValueError):
        return False


def ready_to_download(what: str, url: str, *, packages=(), keras_cache: str | None = None,
                      timeout: float = 5.0) -> bool:
    """Whether a cell that downloads ``what`` from ``url`` can run now; if not, say why and how, in Spanish.

    ``packages``: import names the cell needs (``"keras_hub"``). ``keras_cache``: the file's path
    under Keras' cache folder (``"models/…h5"``, ``"datasets/…zip"``); when it is there no network
    is needed. Never raises: a cell guarded by this call always lets the notebook go on. What it
    prints is two short lines, with paths as ``~/.keras/…``, never this machine's absolute paths.
    """
    missing = missing_packages(packages)
    if not missing and keras_cache and (keras_home() / keras_cache).exists():
        return True
    host = urlsplit(url).netloc or url
    if not missing and server_answers(url, timeout):
        return True
    if missing:
        install = "pip install " + " ".join(PIP_NAMES.get(name, name) for name in missing)
        reason = (f"Faltan paquetes que no instala requirements.txt ({', '.join(missing)}): "
                  f"esta celda descargaría {what} desde {host}")
        how = f"instala con «{install}», reinicia el kernel y repítela con red"
    else:
        reason = f"No hay conexión con {host}: esta celda descargaría {what}"
        how = "conéctate a Internet y repítela"
        if keras_cache:
            how += f", o copia el fichero a {shown_path(keras_home() / keras_cache)} desde otro ordenador"
    print(f"{reason}.\n"
          f"Se salta y el notebook sigue. Para ejecutarla, {how}.")
    return False
