"""``python -m tlcourse.badges`` on a copy of the notebooks (issue 14)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tlcourse import badges, bootstrap

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
REPO = "https://github.com/profe/curso-tl"


@pytest.fixture
def copies(tmp_path) -> list[Path]:
    for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, tmp_path)
    return sorted(tmp_path.glob("*.ipynb"))


def first_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    code = next(c for c in nb.cells if c.cell_type == "code")
    return nb, markdown, code


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlcourse.badges", *args], cwd=NOTEBOOKS,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes_badges_and_the_bootstrap_default(copies):
    before = {p: nbformat.read(p, as_version=4) for p in copies}
    result = run_cli("--repo", REPO, "--ref", "curso-2026", "--notebooks", str(copies[0].parent))
    assert result.returncode == 0, result.stderr
    assert f"{len(copies)} de {len(copies)} notebooks" in result.stdout
    assert "Web del curso: https://profe.github.io/curso-tl/ " in result.stdout, "no README next to the copies"
    for path in copies:
        nb, markdown, code = first_cells(path)
        lines = markdown.source.split("\n")
        blob = f"profe/curso-tl/blob/curso-2026/notebooks/{path.name}"
        assert lines[0].startswith("# "), "the title stays the cell's first line"
        assert lines[1] == (
            f"[![Abrir en Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{blob}) "
            f"[![Abrir en Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)]"
            f"(https://kaggle.com/kernels/welcome?src=https://github.com/{blob})"
            f" · [Leer en la web, ejecutado](https://profe.github.io/curso-tl/{path.stem}.html)")
        assert lines[2] == ""
        old_markdown = next(c for c in before[path].cells if c.cell_type == "markdown")
        assert "\n".join(lines[:1] + lines[2:]) == old_markdown.source   # only the badge line is new
        assert bootstrap.parse(code.source) == (REPO, "curso-2026")
        assert len(nb.cells) == len(before[path].cells)
        untouched = [i for i, c in enumerate(nb.cells) if c is not markdown and c is not code]
        assert [nb.cells[i].source for i in untouched] == [before[path].cells[i].source for i in untouched]


def test_second_run_changes_nothing_and_a_new_ref_replaces_the_badges(copies):
    assert badges.write_badges(copies, REPO + ".git/", "main") == copies
    contents = {p: p.read_bytes() for p in copies}
    assert badges.write_badges(copies, REPO, "main") == []
    assert {p: p.read_bytes() for p in copies} == contents

    assert badges.write_badges(copies, REPO, "v2") == copies
    for path in copies:
        _, markdown, code = first_cells(path)
        assert markdown.source.count("Abrir en Colab") == 1 and "/blob/v2/notebooks/" in markdown.source
        assert "/blob/main/" not in markdown.source
        assert bootstrap.parse(code.source) == (REPO, "v2")


@pytest.mark.parametrize("repo", ["https://gitlab.com/profe/curso", "github.com/profe/curso", "https://github.com/profe"])
def test_not_a_github_repository_is_refused(copies, repo, capsys):
    contents = {p: p.read_bytes() for p in copies}
    assert badges.main(["--repo", repo, "--notebooks", str(copies[0].parent)]) == 2
    assert "no es la dirección de un repositorio de GitHub" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in copies} == contents


def test_badge_goes_on_top_when_there_is_no_title():
    line = badges.badge_line("a", "b", "main", "01_x.ipynb")
    assert badges.with_badges("Texto.", line) == f"{line}\n\nTexto."
    assert badges.with_badges(badges.with_badges("# T\n\nTexto.", line), line) == f"# T\n{line}\n\nTexto."


@pytest.mark.parametrize("owner, name, url", [
    ("profe", "curso-tl", "https://profe.github.io/curso-tl/"),
    ("Profe-UPM", "Curso.TL", "https://profe-upm.github.io/Curso.TL/"),   # the host is lower case, the path is not
    ("profe", "Profe.github.io", "https://profe.github.io/"),            # a user site lives at the root
])
def test_pages_address_of_a_fork(owner, name, url):
    assert badges.pages_url(owner, name) == url


def test_help_is_in_spanish():
    result = run_cli("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for spanish in ("Apunta los notebooks a una copia pública del curso", "la copia pública del curso",
                    "rama o etiqueta (por defecto: main)", "carpeta de los notebooks", "muestra esta ayuda y termina",
                    "--repo URL", "--ref RAMA"):
        assert spanish in text, spanish
    assert "the public copy" not in text and "branch or tag" not in text and "folder of the" not in text


def test_readme_line_gets_the_pages_address(copies, tmp_path, capsys):
    fork = tmp_path / "fork"
    (fork / "notebooks").mkdir(parents=True)
    for path in copies[:2]:
        shutil.copy(path, fork / "notebooks")
    readme = fork / "README.md"
    readme.write_text("# Curso\n\n**Leer el curso en la web:** la web de tu copia (ver más abajo).\n\nMás texto.\n",
                      encoding="utf-8")
    try:
        assert badges.main(["--repo", REPO, "--notebooks", str(fork / "notebooks")]) == 0
        assert readme.read_text(encoding="utf-8") == (
            "# Curso\n\n**Leer el curso en la web:** <https://profe.github.io/curso-tl/> (cada notebook ejecutado, "
            "con sus salidas y figuras; se publica desde main con GitHub Pages).\n\nMás texto.\n")
        assert "Web del curso (escrita también en README.md): https://profe.github.io/curso-tl/" in capsys.readouterr().out
        assert not badges.write_readme(readme, REPO), "a second run changes nothing"
        assert badges.write_readme(readme, "https://github.com/otra/copia")
        assert "<https://otra.github.io/copia/>" in readme.read_text(encoding="utf-8")
    finally:
        readme.unlink()
    assert not badges.write_readme(readme, REPO), "no README, nothing to do"
