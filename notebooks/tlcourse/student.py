"""The student edition of the series: the same notebooks without solutions and without outputs.

Run from ``notebooks/``::

    python -m tlcourse.student                     # every notebook -> tmp/alumnos/
    python -m tlcourse.student 07_modelos_preentrenados.ipynb --out /some/folder

Every cell tagged ``solucion`` (cell metadata ``tags``) is left out, and so is a sentence that
points at them («Las soluciones están al final del notebook…»): it would point at nothing. Every
other cell keeps its source and metadata; code cells lose their outputs and execution counts (an
instructor may have run and saved the notebooks). The slides and the website leave the solutions
out the same way (:func:`without_solutions`). The edition is written to a temporary folder next to the target
and renamed into place only when every notebook is written, so an error never leaves half an
edition behind (an earlier edition stays as it was).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from .config import NOTEBOOKS_DIR, REPO_DIR, tmp_path

SOLUTION_TAG = "solucion"
# A sentence that sends the reader to the solutions at the end («Las soluciones están al final del
# notebook (la edición para alumnos no las incluye).»): from its start to its full stop, brackets included.
POINTER_TO_SOLUTIONS = re.compile(
    r"[^.!?\n]*\bsoluci(?:ón|on|ones)\b[^.!?\n]*\bal final\b[^.!?\n]*(?:[.!?]|$)[ \t]*", re.IGNORECASE)


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def without_pointer_to_solutions(source: str) -> str:
    """``source`` without the sentences that send the reader to the solutions at the end."""
    if not POINTER_TO_SOLUTIONS.search(source):
        return source
    lines = []
    for line in source.split("\n"):
        kept = POINTER_TO_SOLUTIONS.sub(lambda m: " " if 0 < m.start() and m.end() < len(line) else "", line)
        kept = kept.rstrip()
        if kept or not line.strip() or not POINTER_TO_SOLUTIONS.search(line):
            lines.append(kept)
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)   # no run of blank lines where the sentence was
    return text.strip("\n")


def without_solutions(notebook):
    """A copy of ``notebook`` without the ``solucion`` cells and without sentences pointing at them.

    Outputs are kept (the website shows them); :func:`student_edition` also clears them.
    """
    edition = copy.deepcopy(notebook)
    edition.cells = [cell for cell in edition.cells if not is_solution(cell)]
    for cell in edition.cells:
        if cell.cell_type == "markdown":
            cell.source = without_pointer_to_solutions(cell.source)
    return edition


def student_edition(notebook):
    """A copy of ``notebook`` without the ``solucion`` cells, without pointers to them, without outputs."""
    edition = without_solutions(notebook)
    for cell in edition.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return edition


def write_edition(paths: list[Path], out_dir: Path) -> dict[Path, int]:
    """Write the student edition of ``paths`` into ``out_dir``; return {written path: solution cells left out}.

    Written into ``<out_dir>.tmp-<pid>`` first and renamed: ``out_dir`` holds either the previous
    edition or the complete new one, never a mixture.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    old = out_dir.with_name(f"{out_dir.name}.old-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    removed = {}
    try:
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            edition = student_edition(notebook)
            nbformat.validate(edition)
            nbformat.write(edition, staging / path.name)
            removed[out_dir / path.name] = len(notebook.cells) - len(edition.cells)
        if out_dir.exists():
            out_dir.rename(old)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return removed


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_DIR)) + "/"
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlcourse.student",
                                     description="Edición para alumnos: los notebooks sin soluciones ni salidas.",
                                     add_help=False)
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (por defecto, toda la serie)")
    parser.add_argument("--out", type=Path, default=None, metavar="CARPETA",
                        help="carpeta de destino (por defecto tmp/alumnos/)")
    args = parser.parse_args(argv)
    paths = [p if p.is_absolute() or p.exists() else NOTEBOOKS_DIR / p for p in args.notebooks] or notebooks()
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print("No encuentro estos notebooks:", ", ".join(missing), file=sys.stderr)
        return 1
    out_dir = args.out or tmp_path("alumnos")
    removed = write_edition(paths, out_dir)
    for path, count in removed.items():
        note = "" if count else " (ninguna celda con la etiqueta «solucion»: ¿tiene soluciones sin etiquetar?)"
        print(f"  {path.name}: {count} celdas de solución quitadas{note}")
    print(f"Edición para alumnos: {len(removed)} notebooks sin soluciones ni salidas en {_shown(out_dir)}\n"
          "Para usarla, pon estos ficheros en lugar de los de notebooks/ en la copia del curso de los alumnos "
          "(en Colab o Kaggle basta subir el notebook: su primera celda descarga el resto del curso).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
