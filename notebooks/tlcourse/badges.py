"""Point the notebooks at a public copy of the course: one command after forking.

    cd notebooks
    python -m tlcourse.badges --repo https://github.com/OWNER/NAME [--ref BRANCH]

writes "Abrir en Colab" and "Abrir en Kaggle" badges and a "Leer en la web" link (the notebook's
page on the fork's GitHub Pages site, built by ``.github/workflows/pages.yml`` with
``tlcourse.site``) into each notebook's first Markdown cell (right under its title; run again, it
replaces them), and makes that repository and branch the default of the Colab/Kaggle step
(:mod:`tlcourse.bootstrap`), which clones the course when a notebook is opened alone. It writes the
site's address into the README's «Leer el curso en la web» line (when the README next to the
notebooks' folder has one) and prints it. No badge points anywhere until an instructor runs this: the course's public address
is not known in advance.

URL patterns (the ones Colab and Kaggle document, used by e.g. ageron/handson-ml3):
Colab  https://colab.research.google.com/github/OWNER/NAME/blob/BRANCH/notebooks/X.ipynb
Kaggle https://kaggle.com/kernels/welcome?src=https://github.com/OWNER/NAME/blob/BRANCH/notebooks/X.ipynb
Pages  https://OWNER.github.io/NAME/X.html (https://OWNER.github.io/X.html for a repository named OWNER.github.io)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import bootstrap
from .config import NOTEBOOKS_DIR

COLAB_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
KAGGLE_IMAGE = "https://kaggle.com/static/images/open-in-kaggle.svg"
BADGE_LINE = re.compile(r"^\[!\[Abrir en Colab\]")
README_LINE = re.compile(r"^\*\*Leer el curso en la web:?\*\*:?.*$", re.MULTILINE)
GITHUB = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?")


def github_repo(url: str) -> tuple[str, str]:
    """``(owner, name)`` of a ``https://github.com/OWNER/NAME`` URL (Colab opens only GitHub)."""
    match = GITHUB.fullmatch(url.strip())
    if not match:
        raise ValueError(f"{url!r} no es la dirección de un repositorio de GitHub "
                         "(https://github.com/USUARIO/REPOSITORIO): Colab solo abre notebooks desde GitHub.")
    return match[1], match[2]


def pages_url(owner: str, name: str) -> str:
    """The address of the repository's GitHub Pages site (a user site when the name is OWNER.github.io)."""
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if name.lower() == host else f"https://{host}/{name}/"


def badge_line(owner: str, name: str, ref: str, notebook: str) -> str:
    blob = f"github/{owner}/{name}/blob/{ref}/notebooks/{notebook}"
    colab = f"https://colab.research.google.com/{blob}"
    kaggle = f"https://kaggle.com/kernels/welcome?src=https://{blob.replace('github/', 'github.com/', 1)}"
    web = pages_url(owner, name) + Path(notebook).with_suffix(".html").name
    return (f"[![Abrir en Colab]({COLAB_IMAGE})]({colab}) [![Abrir en Kaggle]({KAGGLE_IMAGE})]({kaggle})"
            f" · [Leer en la web, ejecutado]({web})")


def with_badges(source: str, line: str) -> str:
    """``source`` with ``line`` right under its title (or on top), replacing any earlier badges."""
    lines = [text for text in source.split("\n") if not BADGE_LINE.match(text)]
    at = 1 if lines and lines[0].startswith("#") else 0   # a title must stay the cell's first line
    lines.insert(at, line)
    if at + 1 < len(lines) and lines[at + 1].strip():
        lines.insert(at + 1, "")   # a paragraph of its own
    return "\n".join(lines)


def write_badges(paths, repo: str, ref: str = bootstrap.DEFAULT_REF) -> list[Path]:
    """Badges in every notebook of ``paths`` and ``repo``/``ref`` as the bootstrap's default.

    Returns the notebooks that changed (a second run with the same arguments changes none).
    """
    import nbformat

    owner, name = github_repo(repo)
    url = f"https://github.com/{owner}/{name}"
    paths = [Path(p) for p in paths]
    changed = set(bootstrap.sync(paths, url=url, ref=ref))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if c.cell_type == "markdown")
        source = with_badges(cell.source, badge_line(owner, name, ref, path.name))
        if source != cell.source:
            cell.source = source
            nbformat.write(nb, path)
            changed.add(path)
    return sorted(changed)


def readme_line(url: str) -> str:
    return (f"**Leer el curso en la web:** <{url}> (cada notebook ejecutado, con sus salidas y figuras; "
            "se publica desde main con GitHub Pages).")


def write_readme(readme: Path, repo: str) -> bool:
    """Put the fork's Pages address in ``readme``'s «Leer el curso en la web» line; True if it changed."""
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    owner, name = github_repo(repo)
    new = README_LINE.sub(lambda _: readme_line(pages_url(owner, name)), text, count=1)
    if new == text:
        return False
    readme.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlcourse.badges",
        description="Apunta los notebooks a una copia pública del curso (un fork en GitHub): escribe bajo el título "
                    "de cada notebook las insignias «Abrir en Colab» y «Abrir en Kaggle» y el enlace a su página en la "
                    "web del curso (GitHub Pages), y hace de esa dirección la del paso de Colab/Kaggle.",
        add_help=False)
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument("--repo", required=True, metavar="URL",
                        help="https://github.com/USUARIO/REPOSITORIO, la copia pública del curso")
    parser.add_argument("--ref", default=bootstrap.DEFAULT_REF, metavar="RAMA",
                        help="rama o etiqueta (por defecto: %(default)s)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, metavar="CARPETA",
                        help="carpeta de los notebooks (por defecto: la de este curso)")
    args = parser.parse_args(argv)
    paths = sorted(args.notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        parser.error(f"no hay notebooks NN_*.ipynb en {args.notebooks}")
    try:
        changed = write_badges(paths, args.repo, args.ref)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    owner, name = github_repo(args.repo)
    readme = args.notebooks.resolve().parent / "README.md"
    readme_note = " (escrita también en README.md)" if write_readme(readme, args.repo) else ""
    print(f"{len(changed)} de {len(paths)} notebooks actualizados: insignias de Colab y Kaggle hacia "
          f"{args.repo} ({args.ref}) y esa dirección como la del paso de Colab/Kaggle.\n"
          f"Web del curso{readme_note}: {pages_url(owner, name)} (la publica .github/workflows/pages.yml desde main; "
          "actívala una vez en GitHub: Settings → Pages → Source: GitHub Actions).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
