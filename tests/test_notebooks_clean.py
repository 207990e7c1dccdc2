"""The notebooks are committed clean: valid nbformat 4, no outputs, no execution counts.

A student opens a notebook and runs it; stale outputs from someone else's machine (or their
execution numbers) would mislead. Until the first notebook exists, a single case checks that
the notebooks/ folder is there.
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOKS_DIR.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CASES = [pytest.param(p, id=p.name) for p in NOTEBOOKS] or [pytest.param(None, id="aun-sin-notebooks")]


@pytest.mark.parametrize("path", CASES)
def test_is_valid_nbformat_4(path):
    """The file is a notebook in nbformat version 4 that passes nbformat's schema."""
    if path is None:
        assert NOTEBOOKS_DIR.is_dir()
        return
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert notebook.nbformat == 4
    nbformat.validate(notebook)


@pytest.mark.parametrize("path", CASES)
def test_has_no_outputs_nor_execution_counts(path):
    """Every code cell has an empty outputs list and no execution_count."""
    if path is None:
        assert NOTEBOOKS_DIR.is_dir()
        return
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    dirty = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: celdas con salidas o execution_count: {dirty}"
