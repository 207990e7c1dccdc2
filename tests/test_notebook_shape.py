"""The classroom shape of every notebook: the lesson in front, plumbing out of sight.

An instructor presents these notebooks as slides and a student reads them top to bottom, so:
- the first code cell is the Colab/Kaggle step, identical everywhere (``tlcourse.bootstrap``);
- the setup cell is at most 6 lines and both are left out of the slides;
- no code cell is longer than 15 lines, no Markdown cell longer than 25;
- plumbing names (``atomic_path``, ``fingerprint``, ``resource``, ``BatchTimer``) and our own
  memory budget stay in ``tlcourse``;
- every ``#``/``##`` heading starts its cell, and that cell starts a slide;
- solutions live only in cells tagged ``solucion``, after the exercises;
- no "cachear" (in ordinary Spanish, to frisk someone).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tlcourse import bootstrap

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CODE_LINES = 15
MAX_SETUP_LINES = 6
MAX_MARKDOWN_LINES = 25
PLUMBING = re.compile(r"\b(atomic_path|fingerprint|resource|BatchTimer)\b")
MEMORY_BUDGET = re.compile(r"\d+\s*GiB\s+que|presupuesto de memoria|límite de memoria", re.I)
CALQUES = re.compile(r"\bcache(a|á|ad|ar|amos|aremos|ando)\w*", re.I)


def cells(path):
    return nbformat.read(path, as_version=4).cells


def slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def lines(cell) -> int:
    return len(cell.source.rstrip("\n").splitlines())


def setup_index(nb_cells) -> int:
    found = [i for i, c in enumerate(nb_cells) if c.cell_type == "code" and "tlcourse.setup(" in c.source]
    assert len(found) == 1, f"una sola celda de preparación con tlcourse.setup(...), hay {len(found)}"
    return found[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_colab_step(path):
    nb_cells = cells(path)
    code = [c for c in nb_cells if c.cell_type == "code"]
    assert bootstrap.parse(code[0].source) is not None, (
        f"{path.name}: la primera celda de código debe ser el paso de Colab/Kaggle de tlcourse.bootstrap "
        "(python -c 'import tlcourse.bootstrap as b, glob; b.sync(glob.glob(\"0*.ipynb\"))' desde notebooks/)")
    assert sum(bootstrap.is_bootstrap(c) for c in nb_cells) == 1
    assert slide_type(code[0]) == "skip"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_is_short_and_skipped(path):
    nb_cells = cells(path)
    i = setup_index(nb_cells)
    assert lines(nb_cells[i]) <= MAX_SETUP_LINES, f"{path.name}: la celda de preparación tiene {lines(nb_cells[i])} líneas"
    assert slide_type(nb_cells[i]) == "skip"
    assert bootstrap.is_bootstrap(nb_cells[i - 1]) or bootstrap.is_bootstrap(nb_cells[i - 2])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_are_short(path):
    long_code = [(i, lines(c)) for i, c in enumerate(cells(path))
                 if c.cell_type == "code" and not bootstrap.is_bootstrap(c) and lines(c) > MAX_CODE_LINES]
    long_text = [(i, lines(c)) for i, c in enumerate(cells(path))
                 if c.cell_type == "markdown" and lines(c) > MAX_MARKDOWN_LINES]
    assert not long_code, f"{path.name}: celdas de código de más de {MAX_CODE_LINES} líneas (celda, líneas): {long_code}"
    assert not long_text, f"{path.name}: celdas de texto de más de {MAX_MARKDOWN_LINES} líneas: {long_text}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_plumbing_in_the_lesson(path):
    found = [(i, m.group(0)) for i, c in enumerate(cells(path)) if c.cell_type == "code"
             for m in PLUMBING.finditer(c.source)]
    found += [(i, m.group(0)) for i, c in enumerate(cells(path)) for m in MEMORY_BUDGET.finditer(c.source)]
    assert not found, f"{path.name}: fontanería que va en tlcourse, no en la lección: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_calques(path):
    found = [(i, m.group(0)) for i, c in enumerate(cells(path)) for m in CALQUES.finditer(c.source)]
    assert not found, f"{path.name}: di «precalcular» o «guardar en caché»: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_heading_starts_a_slide(path):
    problems = []
    for i, c in enumerate(cells(path)):
        if c.cell_type != "markdown":
            continue
        text = c.source.splitlines()
        headings = [n for n, line in enumerate(text) if re.match(r"#{1,2} ", line)]
        if any(n > 0 for n in headings):
            problems.append((i, "título a media celda"))
        if headings and headings[0] == 0 and slide_type(c) != "slide":
            problems.append((i, f"slide_type={slide_type(c)}"))
    assert not problems, f"{path.name}: cada # o ## empieza su celda y su diapositiva: {problems}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_are_tagged_and_last(path):
    nb_cells = cells(path)
    tagged = [i for i, c in enumerate(nb_cells) if "solucion" in c.metadata.get("tags", [])]
    exercises = [i for i, c in enumerate(nb_cells) if c.cell_type == "markdown" and c.source.startswith("## Ejercicios")]
    assert exercises, f"{path.name}: falta la sección «## Ejercicios»"
    assert tagged, f"{path.name}: las soluciones van en celdas con la etiqueta «solucion»"
    assert tagged == list(range(tagged[0], len(nb_cells))), f"{path.name}: las celdas «solucion» van juntas, al final"
    assert tagged[0] > exercises[0]
    untagged_solutions = [i for i, c in enumerate(nb_cells[:tagged[0]]) if re.search(r"(?m)^#+ Soluci", c.source)]
    assert not untagged_solutions, f"{path.name}: soluciones fuera de las celdas «solucion»: {untagged_solutions}"
