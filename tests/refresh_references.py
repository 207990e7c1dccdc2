"""Refresh the reference outputs that nbval compares: only cells tagged ``nbval-check-output``.

nbval compares a cell's output only against a reference output stored in the notebook, and a cell
without one (``execution_count`` None) is never compared. So the committed notebooks keep exactly
these references and nothing else: every marked cell carries the outputs of a quick-mode run and an
execution count; every other cell is empty.

Usage, from the repository folder (contributors; takes the quick series' time, a few minutes)::

    python tests/refresh_references.py            # every notebook, run in order
    python tests/refresh_references.py --check    # exit 1 if a notebook would change (nothing written)
    python tests/refresh_references.py 01 03      # only these notebooks (each rebuilds what it needs)

The series runs in order, as CI runs it, in a fresh copy of ``notebooks/`` next to an empty ``tmp/``
and the repository's ``data/`` cache, with ``TL_QUICK=1`` and the caller's ``TL_DATA`` (CI uses the
default, ``auto``). What is stored for a marked cell is what nbval compares: its streams (merged, as
nbval merges them) and the ``text/plain`` of its results; figures are dropped (nbval does not compare
images). Execution counts are numbered 1, 2, … over the marked cells, so a refresh of unchanged
outputs rewrites nothing: run it twice and ``git diff`` stays empty.

Only mark a cell whose output is the same on every machine and with real or synthetic data (shapes,
parameter counts, layer names, what is frozen): a timing, a path or an accuracy does not belong there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
CHECK = "nbval-check-output"   # cell tags that nbval reads (it also reads "# NBVAL_…" comments,
SKIP = "nbval-skip"            # which the series does not use: a student would read them first)


def tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and CHECK in tags(cell)


def is_skipped(cell) -> bool:
    return cell.cell_type == "code" and SKIP in tags(cell)


def reference_outputs(outputs) -> list:
    """The outputs nbval compares, in a stable form: streams merged by name, images dropped."""
    kept, streams = [], {}
    for out in outputs:
        if out.output_type == "stream":
            if out.name in streams:
                streams[out.name].text += out.text
            else:
                streams[out.name] = nbformat.v4.new_output("stream", name=out.name, text=out.text)
                kept.append(streams[out.name])
        elif out.output_type in ("execute_result", "display_data"):
            data = {k: v for k, v in out.get("data", {}).items() if k == "text/plain"}
            if not data:
                continue
            if out.output_type == "execute_result":
                kept.append(nbformat.v4.new_output("execute_result", data=data, execution_count=None))
            else:
                kept.append(nbformat.v4.new_output("display_data", data=data))
        elif out.output_type == "error":
            raise RuntimeError(f"una celda marcada terminó en error: {out.ename}: {out.evalue}")
    return kept


def with_references(committed, executed):
    """``committed`` with the outputs of ``executed`` on its marked cells and no others."""
    nb = nbformat.from_dict(committed)
    count = 0
    for cell, ran in zip(nb.cells, executed.cells):
        if cell.cell_type != "code":
            continue
        if is_checked(cell):
            count += 1
            cell.execution_count = count
            cell.outputs = reference_outputs(ran.outputs)
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = count
        else:
            cell.execution_count = None
            cell.outputs = []
    return nb


def run_series(paths: list[Path], workdir: Path) -> dict[Path, nbformat.NotebookNode]:
    """Execute the notebooks in order in a fresh copy; nbval-skip cells run as nbval runs them: not at all."""
    shutil.copytree(REPO / "notebooks", workdir / "notebooks",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.ipynb"))
    (workdir / "tmp").mkdir()
    data = REPO / "data"
    data.mkdir(exist_ok=True)
    (workdir / "data").symlink_to(data, target_is_directory=True)
    executed = {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        copy = workdir / "notebooks" / path.name
        nbformat.write(nb, copy)
        runnable = nbformat.from_dict(nb)
        for cell in runnable.cells:
            if is_skipped(cell):
                cell.source = "pass  # nbval-skip"
        print(f"· {path.name}", flush=True)
        NotebookClient(runnable, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(copy.parent)}}).execute()
        executed[path] = runnable
    return executed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which notebooks would change")
    parser.add_argument("only", nargs="*", help="notebook numbers (01 03…); default: all, in order")
    args = parser.parse_args(argv)
    os.environ["TL_QUICK"] = "1"
    paths = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [p for p in paths if p.name[:2] in args.only]
        if len(paths) != len(set(args.only)):
            parser.error(f"no encuentro todos los notebooks {args.only}: hay {[p.name[:2] for p in paths]}")
    with tempfile.TemporaryDirectory(prefix="tl-references-") as tmp:
        executed = run_series(paths, Path(tmp))
    changed = []
    for path in paths:
        committed = nbformat.read(path, as_version=4)
        refreshed = with_references(committed, executed[path])
        if nbformat.writes(refreshed) != nbformat.writes(committed):
            changed.append(path.name)
            if not args.check:
                nbformat.write(refreshed, path)
    verb = "cambiarían" if args.check else "actualizados"
    print(f"{verb}: {', '.join(changed) or 'ninguno'}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
