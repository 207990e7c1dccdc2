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
    assert bootstrap.is_collapsed(code[0]), f"{path.name}: el paso de Colab/Kaggle va plegado (source_hidden)"


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


# ----------------------------------------------------------------------------- a notebook is a class
MAX_WORDS = 1_500          # student-visible prose per notebook
MAX_SERIES_WORDS = 10_000
MAX_CODE_CELLS = 22        # solutions apart
MAX_SLIDE_LINES = 40       # source lines on one slide or sub-slide (text → code → output)
MAX_TWO_HOUR_PATH = 120
COVER = re.compile(r"\*\*En clase\*\*: (?:unos )?(\d+) minutos")
MAP_ROW = re.compile(r"^\|\s*`(\d\d)_[^`]*`\s*\|[^|]*\|\s*(\d+)\s*\|", re.M)
TWO_HOURS = re.compile(r"\*\*Una clase de 2 horas\.?\*\*(.*?)(?:\n\n|$)", re.S)
PATH_STEP = re.compile(r"\b(\d\d) \((\d+) min\)")


def is_solution(cell) -> bool:
    return "solucion" in cell.metadata.get("tags", [])


def student_visible(cell) -> bool:
    """Shown to a student in class: not a solution, not a speaker note, not skipped in the slides."""
    return not is_solution(cell) and slide_type(cell) not in ("notes", "skip")


def prose_words(nb_cells) -> int:
    return sum(len(re.findall(r"\w+", re.sub(r"```.*?```", "", c.source, flags=re.S)))
               for c in nb_cells if c.cell_type == "markdown" and student_visible(c))


def code_cells(nb_cells) -> int:
    return sum(1 for c in nb_cells if c.cell_type == "code" and not is_solution(c))


def slides(nb_cells) -> list[tuple[int, int]]:
    """(first cell, source lines) of each slide or sub-slide, as a deck without solutions shows it."""
    found = []
    for i, c in enumerate(nb_cells):
        if not student_visible(c):
            continue
        if slide_type(c) in ("slide", "subslide") or not found:
            found.append([i, 0])
        found[-1][1] += lines(c)
    return [tuple(s) for s in found]


def cover_minutes(path) -> int:
    match = COVER.search(cells(path)[0].source)
    assert match, f"{path.name}: la portada (primera celda) dice «**En clase**: N minutos · **Ejecución**: …»"
    return int(match.group(1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_fits_a_class(path):
    nb_cells = cells(path)
    words, code = prose_words(nb_cells), code_cells(nb_cells)
    assert words <= MAX_WORDS, f"{path.name}: {words} palabras de texto para el alumno (una clase: {MAX_WORDS})"
    assert code <= MAX_CODE_CELLS, f"{path.name}: {code} celdas de código (una clase: {MAX_CODE_CELLS})"


def test_the_series_fits_its_hours():
    total = sum(prose_words(cells(p)) for p in NOTEBOOKS)
    assert total <= MAX_SERIES_WORDS, f"la serie tiene {total} palabras de texto (máximo {MAX_SERIES_WORDS})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_slide_runs_over(path):
    long = [(i, n) for i, n in slides(cells(path)) if n > MAX_SLIDE_LINES]
    assert not long, f"{path.name}: diapositivas de más de {MAX_SLIDE_LINES} líneas (primera celda, líneas): {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_cover_says_class_time_and_requirements(path):
    cover = cells(path)[0].source
    assert cover_minutes(path) > 0
    assert "**Ejecución**:" in cover and "**Requisitos**:" in cover, f"{path.name}: portada sin Ejecución/Requisitos"


def test_the_series_map_agrees_with_each_cover():
    intro = next(p for p in NOTEBOOKS if p.name.startswith("00_"))
    text = "\n".join(c.source for c in cells(intro) if c.cell_type == "markdown")
    listed = {number: int(minutes) for number, minutes in MAP_ROW.findall(text)}
    covers = {p.name[:2]: cover_minutes(p) for p in NOTEBOOKS}
    assert listed == covers, f"el mapa del 00 ({listed}) no coincide con las portadas ({covers})"
    path = TWO_HOURS.search(text)
    assert path, "el 00 propone «**Una clase de 2 horas.**» con los notebooks y sus minutos: «00 (20 min) → …»"
    steps = PATH_STEP.findall(path.group(1))
    assert steps, f"el recorrido de 2 horas no dice sus minutos como «03 (25 min)»: {path.group(1)[:200]}"
    wrong = [(nb, int(m), covers.get(nb)) for nb, m in steps if covers.get(nb) != int(m)]
    assert not wrong, f"minutos del recorrido de 2 horas distintos de las portadas (notebook, dice, portada): {wrong}"
    total = sum(int(m) for _, m in steps) + sum(int(m) for m in re.findall(r"\+ (\d+) min", path.group(1)))
    assert total <= MAX_TWO_HOUR_PATH, f"el recorrido de 2 horas suma {total} minutos"
