"""Export every notebook of the series to reveal.js slides in ``tmp/slides/``.

Run from ``notebooks/``::

    python -m tlcourse.slides

The cells carry slide metadata (a new slide at each ``#``/``##`` heading, a sub-slide at each
``###``). By default the slides load reveal.js, require.js and jQuery from a CDN. For a classroom
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

LOCAL_ASSETS = {   # nbconvert option -> file inside tmp/slides/, relative to the slides
    "reveal_url_prefix": "node_modules/reveal.js",
    "require_js_url": "node_modules/requirejs/require.js",
    "jquery_url": "node_modules/jquery/dist/jquery.min.js",
}


def notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def local_assets_present(out_dir: Path) -> bool:
    return all((out_dir / rel).exists() for rel in LOCAL_ASSETS.values())


def export(paths: list[Path], out_dir: Path) -> list[Path]:
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
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
        body, _ = exporter.from_filename(str(path))
        target = out_dir / f"{path.stem}.slides.html"
        with atomic_path(target) as tmp:
            tmp.write_text(body, encoding="utf-8")
        written.append(target)
        print(f"  {target}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlcourse.slides",
                                     description="Exporta los notebooks de la serie a diapositivas reveal.js.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="por defecto, todos (notebooks/NN_*.ipynb)")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebooks()
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("No existen: " + ", ".join(map(str, missing)), file=sys.stderr)
        return 1
    out_dir = tmp_path("slides").parent / "slides"
    out_dir.mkdir(parents=True, exist_ok=True)
    export(paths, out_dir)
    print(f"Ábrelas en el navegador desde {out_dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
