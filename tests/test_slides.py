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
