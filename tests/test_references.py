"""nbval really compares the stored references, and refresh_references stores what it should.

The suite's ``nbval-check-output`` cells are worth something only if changing what such a cell
prints makes the suite fail. This runs nbval, as CI does, on a temporary copy of notebook 01 cut
after its first marked cell: unaltered it passes; with that cell's stored reference altered by one
character it fails, on that cell, with nbval's "Cell outputs differ".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import refresh_references as refresh  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "01_entrenar_mnist.ipynb"


def cut_after_first_check(nb):
    first = next(i for i, c in enumerate(nb.cells) if refresh.is_checked(c))
    nb.cells = nb.cells[:first + 1]
    return nb, first


def run_nbval(folder: Path, *names: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TL_QUICK="1", TL_DATA_DIR=str(REPO / "data"))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax",
                           "-o", "addopts=", "-q", *names], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)


def test_an_altered_reference_makes_nbval_fail(tmp_path):
    folder = tmp_path / "notebooks"   # tlcourse's REPO_DIR is then tmp_path: tmp/ goes there
    shutil.copytree(REPO / "notebooks" / "tlcourse", folder / "tlcourse",
                    ignore=shutil.ignore_patterns("__pycache__"))
    nb, first = cut_after_first_check(nbformat.read(NOTEBOOK, as_version=4))
    stored = nb.cells[first].outputs
    assert stored and nb.cells[first].execution_count, "la celda marcada no tiene referencia guardada"
    nbformat.write(nb, folder / "a_intacto.ipynb")
    altered = nbformat.from_dict(nb)
    out = next(o for o in altered.cells[first].outputs if o.output_type == "stream")
    out.text = out.text.replace("0", "9", 1) if "0" in out.text else out.text + "x"
    nbformat.write(altered, folder / "b_alterado.ipynb")

    result = run_nbval(folder, "a_intacto.ipynb", "b_alterado.ipynb")
    report = result.stdout + result.stderr
    assert result.returncode == 1, report[-3000:]
    assert "1 failed" in report, report[-3000:]
    code_index = sum(c.cell_type == "code" for c in nb.cells[:first])   # nbval numbers code cells only
    assert f"b_alterado.ipynb::Cell {code_index}" in report and "Cell outputs differ" in report, report[-3000:]
    assert "a_intacto.ipynb::Cell" not in report.split("short test summary")[-1], report[-3000:]


def test_reference_outputs_keep_what_nbval_compares():
    outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\n"),
               nbformat.v4.new_output("display_data", data={"image/png": "AAA", "text/plain": "<Figure>"}),
               nbformat.v4.new_output("stream", name="stdout", text="b\n"),
               nbformat.v4.new_output("display_data", data={"image/png": "AAA"})]
    kept = refresh.reference_outputs(outputs)
    assert [o.output_type for o in kept] == ["stream", "display_data"]
    assert kept[0].text == "a\nb\n" and kept[1].data == {"text/plain": "<Figure>"}


def test_a_marked_cell_that_fails_is_not_stored():
    error = nbformat.v4.new_output("error", ename="AssertionError", evalue="x", traceback=[])
    with pytest.raises(RuntimeError, match="AssertionError"):
        refresh.reference_outputs([error])


def checked_cell(source):
    return nbformat.v4.new_code_cell(source, metadata={"tags": [refresh.CHECK]})


def test_with_references_numbers_marked_cells_and_clears_the_rest():
    committed = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(1)"), checked_cell("print(2)"),
        nbformat.v4.new_markdown_cell("texto"), checked_cell("3")])
    executed = nbformat.from_dict(committed)
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    executed.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    executed.cells[3].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "3"},
                                                        execution_count=7)]
    nb = refresh.with_references(committed, executed)
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert nb.cells[1].execution_count == 1 and nb.cells[1].outputs[0].text == "2\n"
    assert nb.cells[3].execution_count == 2 and nb.cells[3].outputs[0].execution_count == 2
    again = refresh.with_references(nb, executed)
    assert nbformat.writes(again) == nbformat.writes(nb)   # idempotent
