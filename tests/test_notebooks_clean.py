"""The notebooks are committed clean, except for the reference outputs that nbval compares.

A student opens a notebook and runs it; stale outputs from someone else's machine would mislead.
But nbval compares a cell's output only against a reference stored in the notebook (a cell without
an execution count is never compared), so each cell tagged ``nbval-check-output`` keeps the
reference written by ``tests/refresh_references.py``, and no other cell keeps anything.
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOKS_DIR.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CASES = [pytest.param(p, id=p.name) for p in NOTEBOOKS]
CHECK = "nbval-check-output"
REFRESH = "python tests/refresh_references.py"


def checked(cell) -> bool:
    return cell.cell_type == "code" and CHECK in cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", CASES)
def test_is_valid_nbformat_4(path):
    """The file is a notebook in nbformat version 4 that passes nbformat's schema."""
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert notebook.nbformat == 4
    nbformat.validate(notebook)


@pytest.mark.parametrize("path", CASES)
def test_only_checked_cells_keep_outputs(path):
    """Untagged code cells have no outputs and no execution_count."""
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    dirty = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and not checked(cell)
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: celdas sin {CHECK} con salidas o execution_count: {dirty} ({REFRESH})"


@pytest.mark.parametrize("path", CASES)
def test_checked_cells_have_a_reference(path):
    """Every marked cell has a reference output and an execution count, so nbval compares it."""
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    missing = [i for i, cell in enumerate(notebook.cells)
               if checked(cell) and (cell.get("execution_count") is None or not cell.get("outputs"))]
    assert not missing, f"{path.name}: celdas {CHECK} sin salida de referencia: {missing} ({REFRESH})"
    images = [i for i, cell in enumerate(notebook.cells) if checked(cell)
              for out in cell.outputs if set(out.get("data", {})) - {"text/plain"}]
    assert not images, f"{path.name}: las referencias guardan solo texto (nbval no compara imágenes): {images}"


@pytest.mark.parametrize("path", CASES)
def test_no_nbval_comments(path):
    """nbval's markers are cell tags, never a comment: a student would read it as the cell's first line."""
    notebook = nbformat.read(path, as_version=4)
    found = [i for i, cell in enumerate(notebook.cells) if "NBVAL_" in cell.source]
    assert not found, f"{path.name}: usa las etiquetas nbval-check-output / nbval-skip, no comentarios # NBVAL_…: {found}"
