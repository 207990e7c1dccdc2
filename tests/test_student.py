"""The student edition (``python -m tlcourse.student``): no solution cell, no sentence pointing at them,
every other cell intact."""

from __future__ import annotations

import nbformat
import pytest

from tlcourse import student


def _notebook_with_solutions():
    nb = nbformat.v4.new_notebook()
    lesson = nbformat.v4.new_code_cell("x = 1\nprint(x)", metadata={"slideshow": {"slide_type": "-"}, "tags": ["keep"]})
    lesson.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    lesson.execution_count = 3
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Título", metadata={"slideshow": {"slide_type": "slide"}}),
        lesson,
        nbformat.v4.new_markdown_cell("## Ejercicios\n\n1. Suma.", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell("## Soluciones", metadata={"tags": ["solucion"]}),
        nbformat.v4.new_code_cell("print(1 + 1)", metadata={"tags": ["solucion"]}),
    ]
    return nb


def _check_edition(original, edition):
    kept = [c for c in original.cells if "solucion" not in c.metadata.get("tags", [])]
    assert not [c for c in edition.cells if "solucion" in c.metadata.get("tags", [])]
    expected_source = [student.without_pointer_to_solutions(c.source) if c.cell_type == "markdown" else c.source
                       for c in kept]   # only a sentence pointing at the solutions may go
    assert [(c.cell_type, c.source, c.metadata) for c in edition.cells] == \
           [(c.cell_type, source, c.metadata) for c, source in zip(kept, expected_source)]
    assert all(c.outputs == [] and c.execution_count is None for c in edition.cells if c.cell_type == "code")
    assert edition.metadata == original.metadata


def test_edition_drops_solutions_and_outputs_only():
    original = _notebook_with_solutions()
    edition = student.student_edition(original)
    _check_edition(original, edition)
    assert len(edition.cells) == 3
    assert original.cells[1].outputs, "the original is not changed"


def test_series_edition(tmp_path):
    out = tmp_path / "alumnos"
    removed = student.write_edition(student.notebooks(), out)
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in student.notebooks()]
    for path in student.notebooks():
        original = nbformat.read(path, as_version=4)
        edition = nbformat.read(out / path.name, as_version=4)
        nbformat.validate(edition)
        _check_edition(original, edition)
        assert removed[out / path.name] == len(original.cells) - len(edition.cells)


def test_nothing_half_written_on_error(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    paths = []
    for name in ("01_a.ipynb", "02_b.ipynb"):
        nbformat.write(_notebook_with_solutions(), source / name)
        paths.append(source / name)
    out = tmp_path / "alumnos"
    student.write_edition(paths[:1], out)          # an earlier edition
    before = sorted(p.name for p in out.iterdir())

    real_write = nbformat.write
    def failing_write(nb, path, *args, **kwargs):
        if str(path).endswith("02_b.ipynb"):
            raise OSError("disco lleno")
        return real_write(nb, path, *args, **kwargs)
    monkeypatch.setattr(student.nbformat, "write", failing_write)

    with pytest.raises(OSError):
        student.write_edition(paths, out)
    assert sorted(p.name for p in out.iterdir()) == before, "the earlier edition stays as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alumnos", "src"], "no staging folder left behind"


def test_command_says_where(tmp_path, capsys):
    out = tmp_path / "ed"
    assert student.main(["07_modelos_preentrenados.ipynb", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Edición para alumnos: 1 notebooks" in said and str(out) in said
    assert (out / "07_modelos_preentrenados.ipynb").exists()
    assert student.main(["no_existe.ipynb", "--out", str(out)]) == 1


@pytest.mark.parametrize("source, expected", [
    ("1. (básico) Suma.\n\nLas soluciones están al final del notebook (la edición para alumnos no las incluye).",
     "1. (básico) Suma."),
    ("Haz los ejercicios. Las soluciones están al final. Después, sigue con el 02.",
     "Haz los ejercicios. Después, sigue con el 02."),
    ("1. Suma.\n\nTienes la solución al final del notebook.\n\n2. Resta.", "1. Suma.\n\n2. Resta."),
    ("La solución es **volver a compilar**: Adam empieza de cero.", "La solución es **volver a compilar**: Adam empieza de cero."),
    ("Al final del notebook hay un resumen.", "Al final del notebook hay un resumen."),
])
def test_pointer_to_the_solutions_is_removed(source, expected):
    assert student.without_pointer_to_solutions(source) == expected


def test_edition_does_not_point_at_removed_solutions():
    original = _notebook_with_solutions()
    original.cells[2].source += "\n\nLas soluciones están al final del notebook (la edición para alumnos no las incluye)."
    edition = student.student_edition(original)
    assert edition.cells[2].source == "## Ejercicios\n\n1. Suma."
    assert "Las soluciones están al final" in original.cells[2].source, "the original is not changed"


def test_series_edition_never_says_the_solutions_are_at_the_end(tmp_path):
    out = tmp_path / "alumnos"
    student.write_edition(student.notebooks(), out)
    for path in sorted(out.glob("*.ipynb")):
        edition = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in edition.cells if c.cell_type == "markdown")
        assert not student.POINTER_TO_SOLUTIONS.search(text), path.name
