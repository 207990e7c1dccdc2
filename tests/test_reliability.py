"""Every notebook runs alone on a fresh clone, quietly; run again, it gives the same checked outputs.

Each notebook is executed in its own copy of ``notebooks/`` (with the ``tlcourse`` package) next to
empty ``data/`` and ``tmp/`` folders, like a fresh clone, in quick mode with ``TL_DATA=synthetic`` so
that it never touches the network whatever machine runs the tests. Then the notebooks whose first
run leaves something that a second run reads (``READ_BACK``: a model, a cache, results) are executed
a second time in the same copy. 00 and 01 read nothing from ``tmp/``, so a second run would take
the very same path as the first (their determinism is what nbval's reference outputs pin). Cells
tagged ``nbval-skip`` (they need network) are left out, as nbval does.

What must hold:
- alone and in any order: the notebook rebuilds what it needs from earlier notebooks (and says so);
- twice: the second run works, the ``nbval-check-output`` cells print exactly the same, and
  ``tmp/results.csv`` has its rows replaced, not duplicated, with the same numbers (seeded);
- quiet: no cell writes to stderr (TensorFlow start-up logs, Keras warnings…);
- clean for a student: no warnings, absolute paths, progress bars, English numbers, Keras's own
  English output outside 01, or figures without alternative text (``tests/output_checks.py``).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import output_checks  # noqa: E402
from refresh_references import is_checked, is_skipped  # noqa: E402
# What the first run leaves in tmp/ for the second to read (notebook number: what).
READ_BACK = {
    "02": "tmp/supermodel.h5, rebuilt by the first run",
    "03": "tmp/supermodel.h5; its rows of tmp/results.csv, to be replaced",
    "04": "the ResNet50 feature cache in tmp/features/; tmp/results.csv",
    "05": "04's model, rebuilt by the first run; the conv4 cache; tmp/results.csv",
    "06": "tmp/mnist_cnn.keras; 04's feature cache, if any",
    "07": "the catalogue table saved in tmp/",
}


def fresh_clone(root: Path) -> Path:
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    (root / "data").mkdir()
    (root / "tmp").mkdir()
    return root


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not is_skipped(c)]
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb, time.perf_counter() - start


def text_of(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def checked_outputs(nb) -> list[str]:
    return [text_of(c) for c in nb.cells if is_checked(c)]


def stderr_outputs(nb) -> list[str]:
    return [f"celda {i}: {out.text[:300]}" for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for out in c.get("outputs", []) if out.output_type == "stream" and out.name == "stderr"]


def results(root: Path) -> pd.DataFrame | None:
    path = root / "tmp" / "results.csv"
    return pd.read_csv(path, dtype={"notebook": str}) if path.exists() else None


@pytest.mark.parametrize("notebook", list(reversed(NOTEBOOKS)), ids=lambda p: p.stem)
def test_notebook_alone_then_again_quiet(notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "synthetic")
    monkeypatch.delenv("TL_DATA_DIR", raising=False)     # the clone's own data/ folder
    root = fresh_clone(tmp_path)
    path = root / "notebooks" / notebook.name

    first, seconds_first = execute(path)
    assert stderr_outputs(first) == [], "salida por stderr en una ejecución limpia"
    shown = output_checks.problems(first, notebook.name)
    assert not shown, "lo que un alumno no debería ver en las salidas:\n" + "\n".join(shown)
    rows_first = results(root)
    if notebook.name[:2] not in READ_BACK:
        assert not (root / "tmp" / "results.csv").exists(), f"{notebook.name} escribe resultados: añádelo a READ_BACK"
        print(f"{notebook.name}: {seconds_first:.0f} s (no lee nada de tmp/: una ejecución basta)")
        return

    second, seconds_second = execute(path)
    assert stderr_outputs(second) == [], "salida por stderr en la segunda ejecución"
    assert checked_outputs(second) == checked_outputs(first)

    rows_second = results(root)
    if rows_first is not None:
        keys = rows_second[["notebook", "approach"]]
        assert not keys.duplicated().any(), "filas duplicadas en tmp/results.csv"
        assert len(rows_second) == len(rows_first)
        merged = rows_first.merge(rows_second, on=["notebook", "approach"], suffixes=("_1", "_2"))
        assert (merged["test_accuracy_1"] - merged["test_accuracy_2"]).abs().max() < 1e-9, \
            "las exactitudes del modo rápido deberían repetirse con las semillas fijadas"
    print(f"{notebook.name}: {seconds_first:.0f} s la primera vez, {seconds_second:.0f} s la segunda")
