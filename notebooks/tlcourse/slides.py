"""Export every notebook of the series to reveal.js slides in ``tmp/slides/``.

Run from ``notebooks/``::

    python -m tlcourse.slides                      # every notebook, without the solutions
    python -m tlcourse.slides --con-soluciones     # with the solutions of the exercises

The cells carry slide metadata (a new slide at each ``#``/``##`` heading, a sub-slide at each
``###``); cells with slide type ``notes`` become speaker notes (key ``s`` in the deck). The
solutions (cells tagged ``solucion``, :func:`tlcourse.student.is_solution`) stay out of the decks
unless asked for, like in the student edition, and so does a sentence pointing at them. Slides
scroll when their content is taller than the screen. By default the slides load reveal.js, require.js and jQuery from a CDN. For a classroom
without network, install local copies once (needs npm; from the repository folder)::

    npm install --prefix tmp/slides reveal.js@4.6.0 requirejs@2.3.8 jquery@2.2.3

and the slides use them from then on (the command says which it used).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import NOTEBOOKS_DIR, tmp_path
from .files import atomic_path
from .student import is_solution, without_solutions

LOCAL_ASSETS = {   # nbconvert option -> file inside tmp/slides/, relative to the slides
    "reveal_url_prefix": "node_modules/reveal.js",
    "require_js_url": "node_modules/requirejs/require.js",
    "jquery_url": "node_modules/jquery/dist/jquery.min.js",
}


def notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def local_assets_present(out_dir: Path) -> bool:
    return all((out_dir / rel).exists() for rel in LOCAL_ASSETS.values())


def export(paths: list[Path], out_dir: Path, solutions: bool = False) -> list[Path]:
    """One reveal.js deck per notebook in ``out_dir``; without the solutions unless ``solutions``."""
    import nbformat
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.reveal_scroll = True   # a slide taller than the screen scrolls instead of being cut
    if local_assets_present(out_dir):
        config.SlidesExporter.reveal_url_prefix = LOCAL_ASSETS["reveal_url_prefix"]
        config.SlidesExporter.require_js_url = LOCAL_ASSETS["require_js_url"]
        config.SlidesExporter.jquery_url = LOCAL_ASSETS["jquery_url"]
        print(f"reveal.js local: {out_dir / LOCAL_ASSETS['reveal_url_prefix']} (funciona sin red)")
    else:
        print("reveal.js desde su CDN (necesita red al proyectar). Para usarlo sin red, una vez:\n"
              "  npm install --prefix tmp/slides reveal.js@4.6.0 requirejs@2.3.8 jquery@2.2.3")
    exporter = SlidesExporter(config=config)
    written = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        left_out = 0 if solutions else sum(is_solution(cell) for cell in notebook.cells)
        if not solutions:
            notebook = without_solutions(notebook)
        body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": path.stem}})
        target = out_dir / f"{path.stem}.slides.html"
        with atomic_path(target) as tmp:
            tmp.write_text(body, encoding="utf-8")
        written.append(target)
        note = f" (sin {left_out} celdas de solución)" if left_out else ""
        print(f"  {target}{note}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlcourse.slides",
                                     description="Exporta los notebooks de la serie a diapositivas reveal.js.",
                                     add_help=False)
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument("notebooks", nargs="*", type=Path, help="por defecto, todos (notebooks/NN_*.ipynb)")
    parser.add_argument("--con-soluciones", dest="solutions", action="store_true",
                        help="incluye las soluciones de los ejercicios (celdas «solucion»); por defecto se quitan")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebooks()
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("No existen: " + ", ".join(map(str, missing)), file=sys.stderr)
        return 1
    out_dir = tmp_path("slides").parent / "slides"
    out_dir.mkdir(parents=True, exist_ok=True)
    export(paths, out_dir, solutions=args.solutions)
    if not args.solutions:
        print("Sin las soluciones de los ejercicios; para incluirlas: --con-soluciones.")
    print(f"Ábrelas en el navegador desde {out_dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
