"""The course as a website: every notebook executed, with its outputs and figures, in ``tmp/site/``.

Run from ``notebooks/``::

    python -m tlcourse.site                    # full mode (about 15 minutes on 2 cores the first time)
    TL_QUICK=1 python -m tlcourse.site         # quick mode (about 4 minutes)
    python -m tlcourse.site --con-soluciones   # with the solutions of the exercises
    python -m tlcourse.site --reejecutar       # execute every notebook again, even if unchanged

then open ``tmp/site/index.html``. The site is a Spanish home page (what the course is, the path
through it, how to run it, credits and licences), one page per notebook with its executed outputs,
the instructor's guide (``guia_del_profesor.md``), and navigation between them. It loads nothing
from the network: it opens from disk in a classroom without it. GitHub Pages publishes the same
folder (``.github/workflows/pages.yml``).

How it is made:

1. The notebooks are executed in order (``00`` to ``07``), each in a fresh kernel whose working
   directory is ``notebooks/``, exactly as a student runs them. Without ``--con-soluciones`` the
   solution cells (tag ``solucion``) are left out before executing, as in the student edition.
2. An executed notebook is kept in ``tmp/site-cache/`` under a key that hashes what decides its
   outputs: the notebook (cells and metadata, without outputs) and the mode (``TL_QUICK``,
   ``TL_DATA``, which real data sets are in the cache, the versions of Python, TensorFlow and
   Keras). With it are kept the hashes of the ``tlcourse`` modules its kernel imported. A notebook
   is executed again only if its key or one of those modules has changed (editing the command
   modules, such as this one, re-executes nothing).
3. Sphinx with MyST-NB renders the executed notebooks (it executes nothing itself) with the Furo
   theme; the configuration is ``tlcourse/site_config/``. A figure shown with
   ``tlcourse.show_figure`` is an HTML ``<img alt="…">``, which is rendered before the PNG, so its
   alternative text reaches the page.
4. Before the new site replaces the old one, every page is checked: no script, stylesheet, font or
   image from the network (the command fails and names them), and every image has alternative text
   (the command lists those that do not).

Why our own execution instead of MyST-NB's (jupyter-cache): the notebooks must run in order in
``notebooks/`` (they import ``tlcourse`` from there and pass files to each other in ``tmp/``), and
the cache must also change when ``tlcourse`` or the mode changes, not only the notebook's code.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import hashlib
import html
import json
import os
import platform
import re
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import nbformat

from . import bootstrap
from .badges import BADGE_LINE
from .config import NOTEBOOKS_DIR, PACKAGE_DIR, REPO_DIR, get_config
from .student import is_solution, notebooks, without_solutions

CONFIG_DIR = PACKAGE_DIR / "site_config"
GUIDE = "guia_del_profesor.md"
CACHE_VERSION = "1"   # change it to invalidate every cached notebook
# Run in the kernel after the notebook's last cell (and then removed): which tlcourse modules it used.
MODULES_CELL = ("import json as _j, sys as _s\n"
                "print(_j.dumps(sorted({m.__file__ for n, m in list(_s.modules.items()) "
                "if n.split('.')[0] == 'tlcourse' and getattr(m, '__file__', None)})))")
CELL_TIMEOUT = 3600   # seconds; the longest cell of the full series takes a few minutes

# What a page must not load from the network (scripts, stylesheets, fonts, images, frames).
REMOTE_ASSET = re.compile(
    r"<(?:script|img|iframe|audio|video|source|embed)\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^\"'\s>]+"
    r"|<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^\"'\s>]+"
    r"|@import\s+(?:url\()?\s*[\"']?(?:https?:)?//[^\"')\s;]+"
    r"|url\(\s*[\"']?(?:https?:)?//[^\"')\s]+", re.IGNORECASE)
IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
ALT = re.compile(r"\balt\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.IGNORECASE)
SRC = re.compile(r"\bsrc\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)


class SiteError(RuntimeError):
    """The site could not be built; the message says why, in Spanish."""


@dataclass
class Page:
    path: Path                    # the notebook in notebooks/
    notebook: nbformat.NotebookNode   # executed
    reused: bool                  # taken from tmp/site-cache/ without executing
    seconds: float                # executing it (0 when reused)


# ------------------------------------------------------------------------------ paths
def site_dir() -> Path:
    return get_config().tmp_dir / "site"


def cache_dir() -> Path:
    return get_config().tmp_dir / "site-cache"


def build_dir() -> Path:
    return get_config().tmp_dir / "site-build"


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_DIR.resolve()).as_posix()
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------ execution and cache
def to_execute(notebook, solutions: bool = False):
    """The notebook as it is executed: without solutions (unless asked), without outputs."""
    prepared = copy.deepcopy(notebook) if solutions else without_solutions(notebook)
    for cell in prepared.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return prepared


def source_hashes(files) -> dict[str, str]:
    """``{path inside tlcourse: sha256}`` of the package's files among ``files`` (others are ignored)."""
    hashes = {}
    for name in files:
        path = Path(name).resolve()
        try:
            relative = path.relative_to(PACKAGE_DIR.resolve()).as_posix()
        except ValueError:
            continue
        hashes[relative] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "-"
    return hashes


def sources_unchanged(recorded: dict[str, str] | None) -> bool:
    """Whether the ``tlcourse`` modules a cached run imported are still as they were.

    ``None`` (the run could not say which modules it imported) is never reused.
    """
    return recorded is not None and source_hashes(PACKAGE_DIR / name for name in recorded) == recorded


def _version(*names: str) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "-"


def real_data_present() -> list[str]:
    """Which real data sets are in the cache (a notebook's outputs change when one appears)."""
    from .prefetch import items

    config = get_config()
    if config.data_mode == "synthetic":
        return []
    keras_models = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"
    present = set()
    for item in items():
        if item.path().exists() or (item.group == "resnet50" and (keras_models / Path(item.relpath).name).exists()):
            present.add(item.group)
    return sorted(present)


def mode_description() -> dict:
    config = get_config()
    return {"TL_QUICK": config.quick, "TL_DATA": config.data_mode, "real_data": real_data_present(),
            "python": platform.python_version_tuple()[:2], "tensorflow": _version("tensorflow", "tensorflow-cpu"),
            "keras": _version("keras")}


def cache_key(notebook, mode: dict) -> str:
    """Hash of the notebook (cells and metadata, not outputs) and of the mode it runs in."""
    digest = hashlib.sha256(f"tlcourse.site cache {CACHE_VERSION}\n".encode())
    cells = [(c.cell_type, c.source, c.get("metadata", {})) for c in notebook.cells]
    digest.update(json.dumps([cells, notebook.metadata], sort_keys=True, ensure_ascii=False).encode())
    digest.update(json.dumps(mode, sort_keys=True).encode())
    return digest.hexdigest()[:20]


def execute(notebook, log) -> dict[str, str] | None:
    """Execute ``notebook`` in place in a fresh kernel (working directory ``notebooks/``).

    Returns the hashes of the ``tlcourse`` modules the kernel imported (``None`` if it did not say).
    """
    from nbclient import NotebookClient

    probe = nbformat.v4.new_code_cell(MODULES_CELL)
    notebook.cells.append(probe)
    try:
        client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
        # The kernel's own stderr (TensorFlow's C++ start-up lines) goes to the log, not to the terminal.
        client.execute(stdout=log, stderr=log)
    finally:
        notebook.cells.remove(probe)
    printed = "".join(out.get("text", "") for out in probe.outputs if out.output_type == "stream")
    try:
        return source_hashes(json.loads(printed.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return None


def _say(text: str) -> None:
    print(text, flush=True)


def executed_series(paths: list[Path], solutions: bool = False, again: bool = False, say=_say) -> list[Page]:
    """Every notebook of ``paths`` executed (in order) or taken from the cache."""
    from nbclient.exceptions import CellExecutionError

    mode = mode_description()
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    build_dir().mkdir(parents=True, exist_ok=True)
    pages = []
    with open(build_dir() / "kernel.log", "w", encoding="utf-8") as log:
        for path in paths:
            notebook = to_execute(nbformat.read(path, as_version=4), solutions)
            key = cache_key(notebook, mode)
            cached = cache / f"{path.stem}.{key}.ipynb"
            if cached.exists() and not again:
                previous = nbformat.read(cached, as_version=4)
                if sources_unchanged(previous.metadata.get("tlcourse_site", {}).get("sources")):
                    pages.append(Page(path, previous, True, 0.0))
                    say(f"  {path.stem}: sin cambios, se reutiliza la ejecución anterior")
                    continue
            say(f"  {path.stem}: ejecutando…")
            start = time.perf_counter()
            try:
                sources = execute(notebook, log)
            except CellExecutionError as error:
                raise SiteError(f"{path.name} falló al ejecutarse; la web anterior se queda como estaba.\n"
                                f"{str(error)[-1500:]}") from error
            seconds = time.perf_counter() - start
            notebook.metadata["tlcourse_site"] = {"sources": sources, "mode": mode, "seconds": round(seconds, 1)}
            tmp = cached.with_name(cached.name + f".tmp-{os.getpid()}")
            nbformat.write(notebook, tmp)
            tmp.replace(cached)
            for old in cache.glob(f"{path.stem}.*.ipynb"):   # one executed copy per notebook
                if old != cached:
                    old.unlink()
            pages.append(Page(path, notebook, False, seconds))
            say(f"  {path.stem}: ejecutado en {seconds:.0f} s")
    return pages


# ------------------------------------------------------------------------------ pages
def for_the_web(notebook):
    """An executed notebook as its page shows it.

    The Colab/Kaggle step is left out (locally it does nothing, on the web it means nothing), as are
    the «Abrir en Colab/Kaggle» badges (their images come from the network); a cell whose code is
    collapsed in Jupyter (``source_hidden``) shows its code folded.
    """
    page = copy.deepcopy(notebook)
    page.cells = [cell for cell in page.cells if not bootstrap.is_bootstrap(cell)]
    for cell in page.cells:
        if cell.cell_type == "markdown" and any(BADGE_LINE.match(line) for line in cell.source.split("\n")):
            lines = [line for line in cell.source.split("\n") if not BADGE_LINE.match(line)]
            cell.source = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
        if cell.cell_type == "code" and cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
    return page


@dataclass
class Cover:
    title: str
    minutes: str | None


def cover(notebook) -> Cover:
    """The title and the «En clase» minutes of a notebook's first cell."""
    first = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    source = first.source if first else ""
    title = next((line.lstrip("#").strip() for line in source.split("\n") if line.startswith("# ")), "")
    minutes = re.search(r"\*\*En clase\*\*:\s*(\d+)\s*minutos", source)
    return Cover(title, minutes[1] if minutes else None)


def _synthetic_notebooks(pages: list[Page]) -> list[str]:
    marks = ("datos sintéticos", "pesos aleatorios")
    found = []
    for page in pages:
        text = json.dumps([c.get("outputs", []) for c in page.notebook.cells], ensure_ascii=False)
        if any(mark in text for mark in marks):
            found.append(page.path.stem[:2])
    return found


def _when() -> str:
    months = ("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
              "diciembre").split()
    today = datetime.date.today()
    return f"{today.day} de {months[today.month - 1]} de {today.year}"


def home_page(pages: list[Page], solutions: bool, repo: str | None) -> str:
    """The home page, in MyST Markdown."""
    config = get_config()
    mode = "rápido (`TL_QUICK=1`: menos datos y menos épocas)" if config.quick else "completo"
    path_lines = []
    for page in pages:
        info = cover(page.notebook)
        minutes = f" · {info.minutes} minutos en clase" if info.minutes else ""
        path_lines.append(f"- [{info.title or page.path.stem}]({page.path.name}){minutes}")
    synthetic = _synthetic_notebooks(pages)
    if synthetic:
        data_note = (f"En esta ejecución no todos los datos eran reales: los notebooks {', '.join(synthetic)} "
                     "usaron datos sintéticos o pesos aleatorios, y cada uno lo dice donde ocurre. Esos números "
                     "muestran que el código funciona, no lo bien que se reconoce la escritura a mano.")
    else:
        data_note = "Todos los datos y pesos de esta ejecución eran los reales."
    solutions_note = ("Esta edición **incluye las soluciones** de los ejercicios." if solutions else
                      "Como en la edición para alumnos, esta web **no muestra las soluciones** de los ejercicios: "
                      "están en los notebooks del repositorio, en las celdas con la etiqueta `solucion` "
                      "(`python -m tlcourse.site --con-soluciones` genera la web con ellas).")
    source_line = f"El repositorio del curso: <{repo}>.\n\n" if repo else ""
    toc = "\n".join(page.path.stem for page in pages)
    return f"""# Transfer learning, paso a paso

Un curso práctico de aprendizaje por transferencia (*transfer learning*) con Keras, en español: reutilizar
lo que una red neuronal ya aprendió en una tarea para resolver otra con menos datos y menos cálculo. Son
ocho notebooks de Jupyter que funcionan en un portátil sin GPU y sin red. Empiezan con una red diminuta
entrenada en MNIST, la guardan, la cargan y la reutilizan para reconocer letras de EMNIST; después hacen lo
mismo con ResNet50, una red preentrenada en ImageNet, y miden cuándo compensa.

Esta web muestra cada notebook **ejecutado**, con sus salidas y sus figuras, para leerlo sin instalar
nada. Se generó el {_when()} en modo {mode}. {data_note}

## El recorrido

Sigue los notebooks en orden; cada uno dice al empezar qué aprenderás y qué necesita, y termina con un
resumen y ejercicios.

{chr(10).join(path_lines)}

Para el profesor: la [guía del profesor]({GUIDE}) reúne cómo se mide cada resultado, los tiempos y las
notas que no caben en clase.

(como-ejecutarlo)=
## Cómo ejecutarlo

En tu ordenador (Python 3.11, 3.12 o 3.13), desde la carpeta del repositorio:

```bash
python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt && jupyter lab notebooks/
```

Abre `00_introduccion.ipynb` y ejecuta las celdas en orden. Con `TL_QUICK=1` delante de `jupyter lab` la
serie usa menos datos y menos épocas (unos minutos en total). Sin red, los notebooks usan un sustituto
sintético de los datos y lo dicen en cada resultado; para preparar un aula sin red, descarga antes los datos
con `python -m tlcourse.prefetch` desde `notebooks/`. Cada notebook también se abre en Colab, Kaggle o Binder:
su primera celda descarga el resto del curso.

{solutions_note}

## Créditos y licencias

Esta serie adapta el curso *Transfer learning* de **Alberto Díaz Álvarez** (ETSISI, Universidad Politécnica
de Madrid), publicado con licencia Creative Commons BY-NC-SA: de él vienen la idea y el recorrido (una red
pequeña de MNIST guardada, cargada y reutilizada para EMNIST; una ResNet50 congelada; de dónde sacar modelos
preentrenados). El texto se reescribió y amplió, cada resultado se midió de nuevo y el código se escribió de
nuevo. Que se cite al autor original no significa que respalde esta adaptación.

- El texto de los notebooks (sus celdas Markdown) y de esta web: [CC BY-NC-SA
  4.0](https://creativecommons.org/licenses/by-nc-sa/4.0/deed.es), como adaptación del curso original.
- El código (el paquete `tlcourse`, las pruebas, los scripts y las celdas de código de los notebooks, con lo
  que imprimen): licencia MIT.
- Los datos (MNIST, EMNIST) y los pesos preentrenados (ResNet50 de ImageNet): sus propias licencias, que
  el notebook 00 y el README del repositorio detallan.

{source_line}Web generada con [Sphinx](https://www.sphinx-doc.org/), [MyST-NB](https://myst-nb.readthedocs.io/)
y el tema [Furo](https://pradyunsg.me/furo/); no carga nada de la red.

```{{toctree}}
:hidden:
:caption: La serie

{toc}
```

```{{toctree}}
:hidden:
:caption: Para el profesor

{Path(GUIDE).stem}
```
"""


def _page_note(solutions: bool) -> str:
    config = get_config()
    mode = "rápido (`TL_QUICK=1`)" if config.quick else "completo"
    hidden = "" if solutions else " Las soluciones de los ejercicios no se muestran."
    return (f"*Notebook ejecutado en modo {mode} el {_when()}: estas son las salidas de esa ejecución.{hidden} "
            "Para ejecutarlo tú, mira {ref}`cómo ejecutarlo <como-ejecutarlo>`.*")


def write_sources(pages: list[Page], source: Path, solutions: bool, repo: str | None) -> None:
    """The Sphinx source folder: home page, one executed notebook per page, the guide."""
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    (source / "index.md").write_text(home_page(pages, solutions, repo), encoding="utf-8")
    for page in pages:
        notebook = for_the_web(page.notebook if solutions else without_solutions(page.notebook))
        note = nbformat.v4.new_markdown_cell(_page_note(solutions))
        at = 1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0
        notebook.cells.insert(at, note)
        nbformat.write(notebook, source / page.path.name)
    shutil.copyfile(NOTEBOOKS_DIR / GUIDE, source / GUIDE)


def render(source: Path, out: Path) -> list[str]:
    """Build the HTML of ``source`` into ``out`` with Sphinx; returns Sphinx's warnings."""
    import io

    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    status, warnings = io.StringIO(), io.StringIO()
    doctrees = build_dir() / "doctrees"
    shutil.rmtree(doctrees, ignore_errors=True)
    with patch_docutils(str(CONFIG_DIR)), docutils_namespace():
        app = Sphinx(str(source), str(CONFIG_DIR), str(out), str(doctrees), "html",
                     status=status, warning=warnings, freshenv=True, verbosity=0)
        app.build(force_all=True)
        if app.statuscode:
            raise SiteError("Sphinx no pudo generar la web:\n" + warnings.getvalue()[-2000:])
    return [line for line in warnings.getvalue().splitlines() if line.strip()]


# ------------------------------------------------------------------------------ checks
def remote_assets(site: Path) -> list[str]:
    """Every place where a page of ``site`` would load something from the network."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css", ".js") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in REMOTE_ASSET.finditer(text):
            found.append(f"{path.relative_to(site).as_posix()}: {match[0][:160]}")
    return found


def images_without_alt(site: Path) -> list[str]:
    """Every ``<img>`` of the pages whose alternative text is missing, empty or just its file name."""
    found = []
    for path in sorted(site.rglob("*.html")):
        for tag in IMG.findall(path.read_text(encoding="utf-8", errors="replace")):
            alt = ALT.search(tag)
            text = html.unescape(next(g for g in alt.groups() if g is not None)).strip() if alt else ""
            src = SRC.search(tag)
            source = src[1] if src else ""
            if not text or text == source or re.fullmatch(r"\S+\.(?:png|jpe?g|gif|svg)", text, re.IGNORECASE):
                found.append(f"{path.relative_to(site).as_posix()}: {tag[:120]}")
    return found


# ------------------------------------------------------------------------------ the command
def build(solutions: bool = False, again: bool = False, repo: str | None = None, say=_say) -> Path:
    """Execute (or reuse) the series, render it and put the site in ``tmp/site/``; return that folder."""
    paths = notebooks()
    if not paths:
        raise SiteError(f"No hay notebooks NN_*.ipynb en {_shown(NOTEBOOKS_DIR)}.")
    config = get_config()
    say(f"Web del curso en modo {'rápido (TL_QUICK=1)' if config.quick else 'completo'}"
        f"{', con soluciones' if solutions else ', sin soluciones'}: {len(paths)} notebooks.")
    start = time.perf_counter()
    pages = executed_series(paths, solutions=solutions, again=again, say=say)

    target = site_dir()
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        write_sources(pages, build_dir() / "src", solutions, repo)
        warnings = render(build_dir() / "src", staging)
        remote = remote_assets(staging)
        if remote:
            raise SiteError("La web cargaría recursos de la red (debe abrirse sin conexión):\n  "
                            + "\n  ".join(remote[:20]))
        old = target.with_name(f"{target.name}.old-{os.getpid()}")
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if warnings:
        say(f"Avisos de Sphinx ({len(warnings)}):\n  " + "\n  ".join(w[-200:] for w in warnings[:10]))
    missing_alt = images_without_alt(target)
    if missing_alt:
        say(f"Atención: {len(missing_alt)} imágenes sin texto alternativo (usa tlcourse.show_figure):\n  "
            + "\n  ".join(missing_alt[:10]))
    executed = [p for p in pages if not p.reused]
    say(f"Web escrita en {_shown(target)}/ en {time.perf_counter() - start:.0f} s "
        f"({len(executed)} notebooks ejecutados, {len(pages) - len(executed)} reutilizados). "
        f"Ábrela en el navegador: {_shown(target / 'index.html')}")
    return target


def default_repo() -> str | None:
    """On GitHub Actions, the repository being built (``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``)."""
    name = os.environ.get("GITHUB_REPOSITORY")
    return f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{name}" if name else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlcourse.site",
        description="Genera la web del curso en tmp/site/: la serie ejecutada (modo completo; TL_QUICK=1 para el "
                    "rápido), con una página de inicio, la guía del profesor y navegación, sin nada de la red.",
        add_help=False)
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument("--con-soluciones", dest="solutions", action="store_true",
                        help="incluye las soluciones de los ejercicios (por defecto no se muestran)")
    parser.add_argument("--reejecutar", dest="again", action="store_true",
                        help="ejecuta todos los notebooks aunque no hayan cambiado")
    parser.add_argument("--repo", default=default_repo(), metavar="URL",
                        help="dirección del repositorio para enlazarlo desde la portada (en GitHub Actions, "
                             "la del propio repositorio)")
    args = parser.parse_args(argv)
    try:
        build(solutions=args.solutions, again=args.again, repo=args.repo)
    except SiteError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
