"""The Colab/Kaggle step: the first code cell of every notebook, kept identical here.

On Colab or Kaggle a notebook opened from a repository arrives alone, without ``tlcourse``.
This cell then clones the course (``TL_REPO_URL``, ``TL_REPO_REF``), moves into its
``notebooks/`` folder and installs ``emnist`` without dependencies. It never installs
TensorFlow, Keras or NumPy: the platform provides them. In a local clone (``tlcourse/`` is next
to the notebook) and in CI it does nothing; run twice, it does not clone twice.

``CELL_SOURCE`` is the single source of truth; :func:`sync` writes it into the notebooks and
``python -m tlcourse.badges`` fills in the default URL after forking.
"""

from __future__ import annotations

import re
from pathlib import Path

MARKER = "# Paso para Colab/Kaggle"
DEFAULT_URL = ""   # set by `python -m tlcourse.badges --repo ...`
DEFAULT_REF = "main"

CELL_TEMPLATE = '''\
# Paso para Colab/Kaggle: si este notebook está solo, descarga el curso. En una copia local no hace nada.
import os, pathlib, subprocess, sys
REPO_URL = os.environ.get("TL_REPO_URL", "{url}")   # lo escribe `python -m tlcourse.badges`
if not pathlib.Path("tlcourse").is_dir():
    course = pathlib.Path("curso_transfer_learning")
    clone = ["git", "clone", "-q", "--depth", "1", "-b", os.environ.get("TL_REPO_REF", "{ref}"), REPO_URL, str(course)]
    if not course.is_dir() and (not REPO_URL or subprocess.run(clone).returncode != 0):
        raise RuntimeError(f"No se pudo descargar el curso desde '{{REPO_URL}}' (TL_REPO_URL). ¿Hay conexión? En Kaggle, activa "
                           "Internet en los ajustes del notebook (Settings → Turn on internet). Después, repite esta celda.")
    os.chdir(course / "notebooks"); sys.path.insert(0, os.getcwd())
    if subprocess.run([sys.executable, "-m", "pip", "show", "-q", "emnist"]).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "emnist==0.0"], check=True)'''


def cell_source(url: str = DEFAULT_URL, ref: str = DEFAULT_REF) -> str:
    if not re.fullmatch(r"[\w.:/@~+-]*", url) or not re.fullmatch(r"[\w./-]+", ref):
        raise ValueError(f"URL o rama no válidas: {url!r}, {ref!r}")
    return CELL_TEMPLATE.format(url=url, ref=ref)


CELL_SOURCE = cell_source()


def parse(source: str) -> tuple[str, str] | None:
    """``(url, ref)`` if ``source`` is the bootstrap cell for some URL and branch, else None."""
    url = re.search(r'os\.environ\.get\("TL_REPO_URL", "([^"]*)"\)', source)
    ref = re.search(r'os\.environ\.get\("TL_REPO_REF", "([^"]*)"\)', source)
    if not (url and ref):
        return None
    try:
        return (url[1], ref[1]) if cell_source(url[1], ref[1]) == source else None
    except ValueError:
        return None


def is_bootstrap(cell) -> bool:
    return cell.get("cell_type") == "code" and "".join(cell.get("source", "")).startswith(MARKER)


def is_collapsed(cell) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def sync(paths, url: str = DEFAULT_URL, ref: str = DEFAULT_REF) -> list[Path]:
    """Make the bootstrap cell of every notebook in ``paths`` read ``cell_source(url, ref)``.

    The cell is inserted right before the first code cell if a notebook lacks it, and it is
    collapsed (``"jupyter": {"source_hidden": true}``: JupyterLab shows only that it is there).
    Returns the notebooks that changed; the others are not rewritten.
    """
    import nbformat

    source = cell_source(url, ref)
    changed = []
    for path in map(Path, paths):
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if is_bootstrap(c)]
        if cells:
            if cells[0].source == source and is_collapsed(cells[0]):
                continue
            cells[0].source = source
            cells[0].metadata.setdefault("jupyter", {})["source_hidden"] = True
        else:
            first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
            cell = nbformat.v4.new_code_cell(source)
            cell.id = "colab-kaggle"
            cell.metadata = {"slideshow": {"slide_type": "skip"}, "jupyter": {"source_hidden": True}}
            nb.cells.insert(first_code, cell)
        nbformat.write(nb, path)
        changed.append(path)
    return changed
