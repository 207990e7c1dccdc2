"""The slides command (``python -m tlcourse.slides``) exports notebooks to reveal.js."""

import json

import nbformat

from tlcourse import slides


def _tiny_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Título\nPromesa"),
                nbformat.v4.new_code_cell("print(1)"),
                nbformat.v4.new_markdown_cell("## Sección")]
    nb.cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    nb.cells[2].metadata["slideshow"] = {"slide_type": "slide"}
    nbformat.write(nb, path)
    return path


def test_slides_use_cdn_without_local_assets(tmp_path, capsys):
    """Without local reveal.js the deck still exports (CDN) and says how to get it offline."""
    out = tmp_path / "slides"
    out.mkdir()
    written = slides.export([_tiny_notebook(tmp_path / "01_demo.ipynb")], out)
    html = written[0].read_text(encoding="utf-8")
    assert written[0].name == "01_demo.slides.html"
    assert html.count("<section") >= 2          # one per slide
    assert "unpkg.com/reveal.js" in html
    assert "npm install --prefix tmp/slides" in capsys.readouterr().out


def test_slides_use_local_assets_when_installed(tmp_path):
    """With the npm packages in tmp/slides/node_modules, the deck points at them (works offline)."""
    out = tmp_path / "slides"
    for rel in slides.LOCAL_ASSETS.values():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    html = slides.export([_tiny_notebook(tmp_path / "02_demo.ipynb")], out)[0].read_text(encoding="utf-8")
    assert "unpkg.com" not in html
    assert '"node_modules/reveal.js/dist/reveal.js"' in html


def test_every_notebook_has_slide_metadata():
    """Each notebook of the series starts a slide at its title, so the deck reads well in class."""
    for path in slides.notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        kinds = [c["metadata"].get("slideshow", {}).get("slide_type") for c in nb["cells"]]
        assert kinds[0] == "slide", path.name
        assert kinds.count("slide") >= 3, path.name


def _notebook_with_solutions_and_notes(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · Demo", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell("Medido con 3 semillas; detalles en la guía del profesor.",
                                      metadata={"slideshow": {"slide_type": "notes"}}),
        nbformat.v4.new_markdown_cell("## Ejercicios\n\n1. (básico) Suma.\n\nLas soluciones están al final del notebook.",
                                      metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell("## Soluciones\n\nRESPUESTA_SECRETA", metadata={"tags": ["solucion"]}),
        nbformat.v4.new_code_cell("print('OTRA_RESPUESTA')", metadata={"tags": ["solucion"]}),
    ]
    nbformat.write(nb, path)
    return path


def test_solutions_only_when_asked_notes_and_scrolling(tmp_path):
    """Solutions (and the sentence pointing at them) stay out unless asked; notes become speaker notes."""
    path = _notebook_with_solutions_and_notes(tmp_path / "01_demo.ipynb")
    plain, with_solutions = tmp_path / "sin", tmp_path / "con"
    plain.mkdir()
    with_solutions.mkdir()
    html = slides.export([path], plain)[0].read_text(encoding="utf-8")
    assert "RESPUESTA_SECRETA" not in html and "OTRA_RESPUESTA" not in html and "celltag_solucion" not in html
    assert "Las soluciones están al final" not in html and "(básico) Suma." in html
    assert '<aside class="notes">' in html and "Medido con 3 semillas" in html
    assert "var scroll = true" in html
    html = slides.export([path], with_solutions, solutions=True)[0].read_text(encoding="utf-8")
    assert "RESPUESTA_SECRETA" in html and "OTRA_RESPUESTA" in html and "celltag_solucion" in html


def test_command_writes_no_solution_into_any_deck_unless_asked(capsys):
    """``python -m tlcourse.slides`` on the whole series: no deck holds a cell tagged «solucion»."""
    from tlcourse import student
    from tlcourse.config import tmp_path as course_tmp

    assert slides.main([]) == 0
    out = course_tmp("slides").parent / "slides"
    decks = {path.stem: out / f"{path.stem}.slides.html" for path in slides.notebooks()}
    said = capsys.readouterr().out
    assert "--con-soluciones" in said
    for stem, deck in decks.items():
        html = deck.read_text(encoding="utf-8")
        nb = nbformat.read(slides.NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4)
        solutions = [cell for cell in nb.cells if student.is_solution(cell)]
        assert "celltag_solucion" not in html, stem
        assert not student.POINTER_TO_SOLUTIONS.search(html), stem
        for cell in solutions:
            if cell.cell_type == "markdown" and cell.source.startswith("## "):
                assert f">{cell.source.splitlines()[0][3:].strip()}<" not in html, (stem, cell.source[:60])
        if solutions:
            assert f"sin {len(solutions)} celdas de solución" in said, stem

    assert slides.main(["--con-soluciones", str(slides.notebooks()[1])]) == 0
    deck = decks[slides.notebooks()[1].stem].read_text(encoding="utf-8")
    nb = nbformat.read(slides.notebooks()[1], as_version=4)
    assert deck.count("celltag_solucion") == sum(student.is_solution(c) for c in nb.cells) > 0
