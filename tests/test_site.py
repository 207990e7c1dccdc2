"""The course's website (``python -m tlcourse.site``, issue 23).

The last test builds the quick series on a fresh copy, offline, then builds it again without changes:
``tmp/site/index.html`` links a page for every notebook, every image has alternative text, nothing is
loaded from the network, and the second build reuses every executed notebook in a fraction of the
time. It executes the quick series once (about 4 minutes on an idle 2-core machine). The other tests
render tiny notebooks and take seconds.
"""

from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tlcourse import bootstrap, figures, site  # noqa: E402
from tlcourse.badges import badge_line  # noqa: E402

# MyST-Parser 5.2 still reads an attribute Sphinx 11 will remove: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _notebook(title: str = "# 01 · Demo", minutes: int = 12):
    nb = nbformat.v4.new_notebook()
    cover = (f"{title}\n{badge_line('profe', 'curso', 'main', '01_demo.ipynb')}\n\n"
             "Aprenderemos a sumar. Después, a restar.\n\n**Al terminar sabrás**\n- sumar\n\n"
             f"**En clase**: {minutes} minutos · **Ejecución**: rápida 1 s / completa 2 s\n**Requisitos**: nada")
    colab = nbformat.v4.new_code_cell(bootstrap.cell_source(), metadata={"jupyter": {"source_hidden": True}})
    setup = nbformat.v4.new_code_cell("x = 1", metadata={"jupyter": {"source_hidden": True}})
    lesson = nbformat.v4.new_code_cell("print(x + 1)")
    lesson.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    nb.cells = [nbformat.v4.new_markdown_cell(cover), colab, setup, lesson,
                nbformat.v4.new_markdown_cell("## Ejercicios\n\n1. (básico) Resta.\n\n"
                                              "Las soluciones están al final del notebook."),
                nbformat.v4.new_markdown_cell("## Soluciones\n\nRESPUESTA_SECRETA", metadata={"tags": ["solucion"]})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _figure_output(alt: str):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0.25, 0.75], marker="o")
    return nbformat.v4.new_output("display_data", data=figures.figure_bundle(fig, alt))


def _bare_png_output():
    bundle = _figure_output("x")
    return nbformat.v4.new_output("display_data", data={"image/png": bundle.data["image/png"], "text/plain": "<Figure>"})


# ----------------------------------------------------------------------------- the pieces
def test_executed_without_solutions_nor_outputs():
    nb = _notebook()
    prepared = site.to_execute(nb)
    assert "RESPUESTA_SECRETA" not in str(prepared) and "al final" not in prepared.cells[-1].source
    assert all(c.outputs == [] for c in prepared.cells if c.cell_type == "code")
    assert "RESPUESTA_SECRETA" in str(site.to_execute(nb, solutions=True))
    assert nb.cells[3].outputs, "the original keeps its outputs"


def test_cache_key_follows_the_cells_and_the_mode_not_the_outputs():
    mode = {"TL_QUICK": True, "TL_DATA": "synthetic", "real_data": []}
    nb = site.to_execute(_notebook())
    key = site.cache_key(nb, mode)
    ran = site.to_execute(_notebook())
    ran.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    assert site.cache_key(site.to_execute(ran), mode) == key
    changed = site.to_execute(_notebook())
    changed.cells[3].source = "print(x + 2)"
    assert site.cache_key(changed, mode) != key
    tagged = site.to_execute(_notebook())
    tagged.cells[3].metadata["tags"] = ["nbval-skip"]
    assert site.cache_key(tagged, mode) != key
    assert site.cache_key(nb, {**mode, "TL_QUICK": False}) != key
    assert site.cache_key(nb, {**mode, "real_data": ["mnist"]}) != key


def test_a_cached_run_is_stale_when_a_module_it_imported_changed(tmp_path, monkeypatch):
    package = tmp_path / "tlcourse"
    package.mkdir()
    (package / "fmt.py").write_text("X = 1\n")
    (package / "badges.py").write_text("Y = 1\n")
    monkeypatch.setattr(site, "PACKAGE_DIR", package)
    recorded = site.source_hashes([package / "fmt.py", "/elsewhere/numpy/__init__.py"])
    assert list(recorded) == ["fmt.py"], "only the course's own modules count"
    assert site.sources_unchanged(recorded)
    (package / "badges.py").write_text("Y = 2\n")       # a module the notebook did not import
    assert site.sources_unchanged(recorded)
    (package / "fmt.py").write_text("X = 2\n")
    assert not site.sources_unchanged(recorded)
    assert site.sources_unchanged({}), "a notebook that imports no tlcourse module"
    assert not site.sources_unchanged(None), "a run that could not say what it imported is never reused"


def test_page_leaves_out_the_colab_step_and_the_badges():
    page = site.for_the_web(_notebook())
    assert not any(bootstrap.is_bootstrap(c) for c in page.cells)
    assert "Abrir en Colab" not in page.cells[0].source and page.cells[0].source.startswith("# 01 · Demo\n\nAprenderemos")
    assert page.cells[1].metadata["tags"] == ["hide-input"], "collapsed code stays folded"
    assert "tags" not in page.cells[2].metadata


def test_cover():
    info = site.cover(_notebook())
    assert (info.title, info.minutes) == ("01 · Demo", "12")
    assert site.cover(nbformat.v4.new_notebook()) == site.Cover("", None)


def test_home_page_says_what_how_and_who():
    pages = [site.Page(Path(f"0{i}_demo.ipynb"), _notebook(f"# 0{i} · Demo {i}", 10 + i), False, 0) for i in range(3)]
    text = site.home_page(pages, solutions=False, repo="https://github.com/profe/curso")
    for i in range(3):
        assert f"- [0{i} · Demo {i}](0{i}_demo.ipynb) · {10 + i} minutos en clase\n" in text
    for needed in ("Alberto Díaz Álvarez", "CC BY-NC-SA", "4.0", "MIT", "no muestra las soluciones",
                   "--con-soluciones", "pip install -r requirements.txt", "TL_QUICK=1", "guia_del_profesor.md",
                   "<https://github.com/profe/curso>", "## Cómo ejecutarlo", "## Créditos y licencias"):
        assert needed in text, needed
    assert "incluye las soluciones" in site.home_page(pages, solutions=True, repo=None)


class _Assets(html.parser.HTMLParser):
    """What a page loads (script src, link href, img src) and each image's alt text."""

    def __init__(self):
        super().__init__()
        self.loads, self.images, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video") and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def parse(path: Path) -> _Assets:
    parser = _Assets()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


REMOTE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
CSS_REMOTE = re.compile(r"(?:@import\s+(?:url\()?|url\()\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def check_offline_and_alt(out: Path) -> list[str]:
    """Independent of tlcourse.site's own checks: every page and stylesheet of ``out``."""
    problems = []
    for page in sorted(out.rglob("*.html")):
        assets = parse(page)
        problems += [f"{page.name}: loads {src}" for src in assets.loads if REMOTE.match(src)]
        for img in assets.images:
            alt = (img.get("alt") or "").strip()
            if not alt or alt == img.get("src") or alt.endswith(".png"):
                problems.append(f"{page.name}: <img> without alternative text ({str(img.get('src'))[:60]})")
        problems += [f"{page.name}: @import/url() from the network" for _ in CSS_REMOTE.finditer(page.read_text())]
    for sheet in sorted(out.rglob("*.css")):
        problems += [f"{sheet.name}: @import/url() from the network" for _ in CSS_REMOTE.finditer(sheet.read_text())]
    return problems


def test_rendered_figure_keeps_its_alt_text_and_nothing_comes_from_the_network(tmp_path):
    first, second = _notebook("# 01 · Demo"), _notebook("# 02 · Otra")
    first.cells[3].outputs.append(_figure_output("Curva de prueba: sube de 0,25 a 0,75."))
    second.cells[3].outputs = [_bare_png_output()]
    pages = [site.Page(Path("01_demo.ipynb"), first, False, 0), site.Page(Path("02_otra.ipynb"), second, False, 0)]
    source, out = tmp_path / "src", tmp_path / "out"
    site.write_sources(pages, source, solutions=False, repo=None)
    site.render(source, out)

    index = parse(out / "index.html")
    assert {"01_demo.html", "02_otra.html", "guia_del_profesor.html"} <= set(index.links)
    demo = (out / "01_demo.html").read_text(encoding="utf-8")
    assert 'alt="Curva de prueba: sube de 0,25 a 0,75."' in demo, "text/html is rendered before the PNG"
    assert "RESPUESTA_SECRETA" not in demo and "Las soluciones están al final" not in demo
    assert "colab-badge.svg" not in demo and "Paso para Colab" not in demo
    assert "02_otra.html" in parse(out / "01_demo.html").links, "navigation to the next page"
    assert site.remote_assets(out) == []
    problems = check_offline_and_alt(out)
    assert len(problems) == 1 and problems[0].startswith("02_otra.html: <img> without alternative text"), problems
    assert [p.split(":")[0] for p in site.images_without_alt(out)] == ["02_otra.html"]

    (out / "02_otra.html").write_text('<script src="https://cdn.example.org/x.js"></script>')
    (out / "_static" / "curso.css").write_text('@import url("https://fonts.example.org/css");')
    assert len(site.remote_assets(out)) == 2


def test_executed_once_reused_while_unchanged_and_a_failure_names_the_notebook(tmp_path):
    """Kernels for real: the first run executes, the second reuses, an edit re-executes, an error stops."""
    paths = []
    for name, code in (("01_uno", "from tlcourse import fmt\nprint(fmt.percent(0.5))"), ("02_dos", "print(2)")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), nbformat.v4.new_code_cell(code)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        paths.append(tmp_path / f"{name}.ipynb")
    said = []
    first = site.executed_series(paths, say=said.append)
    assert [p.reused for p in first] == [False, False]
    assert first[0].notebook.cells[1].outputs[0].text == "50,0 %\n"
    assert len(first[0].notebook.cells) == 2, "the probe cell does not stay"
    recorded = first[0].notebook.metadata["tlcourse_site"]["sources"]
    assert {"__init__.py", "fmt.py"} <= set(recorded) and "site.py" not in recorded

    assert [p.reused for p in site.executed_series(paths, say=said.append)] == [True, True]
    assert said[-1] == "  02_dos: sin cambios, se reutiliza la ejecución anterior"

    broken = nbformat.read(paths[1], as_version=4)
    broken.cells[1].source = "print(2)\n1 / 0"
    nbformat.write(broken, paths[1])
    with pytest.raises(site.SiteError, match="02_dos.ipynb falló al ejecutarse") as error:
        site.executed_series(paths, say=said.append)
    assert "ZeroDivisionError" in str(error.value)
    assert sorted(p.name.split(".")[0] for p in site.cache_dir().glob("*.ipynb")) == ["01_uno", "02_dos"]


# ----------------------------------------------------------------------------- the command, end to end
def _build(notebooks_dir: Path, env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tlcourse.site"], cwd=notebooks_dir, env=env,
                            capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, f"python -m tlcourse.site failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return seconds, result.stdout


def test_site_quick_offline_on_a_fresh_copy_then_reused(tmp_path):
    root = tmp_path / "curso"
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    (root / "data").mkdir()
    (root / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TL_", "GITHUB_"))}
    dead_proxy = "http://127.0.0.1:9"   # nothing listens there: any download fails at once, as offline
    env.update(TL_QUICK="1", TL_DATA="synthetic", HTTP_PROXY=dead_proxy, HTTPS_PROXY=dead_proxy,
               http_proxy=dead_proxy, https_proxy=dead_proxy, NO_PROXY="", no_proxy="")

    first, said = _build(root / "notebooks", env)
    out = root / "tmp" / "site"
    assert f"({len(NOTEBOOKS)} notebooks ejecutados, 0 reutilizados)" in said, said[-1500:]
    index = parse(out / "index.html")
    for notebook in NOTEBOOKS:
        page = notebook.with_suffix(".html").name
        assert page in index.links, f"index.html does not link {page}"
        assert (out / page).exists()
    assert sum(len(parse(out / n.with_suffix(".html").name).images) for n in NOTEBOOKS) >= len(NOTEBOOKS) // 2
    assert "guia_del_profesor.html" in index.links
    problems = check_offline_and_alt(out)   # asserted at the end: the rebuild is checked whatever they are

    second, said = _build(root / "notebooks", env)
    print(f"\nquick site on a fresh copy: {first:.0f} s the first time, {second:.0f} s the second "
          f"({second / first:.0%})")
    assert f"(0 notebooks ejecutados, {len(NOTEBOOKS)} reutilizados)" in said, said[-1500:]
    assert second < first / 4, f"the second build took {second:.0f} s, the first {first:.0f} s"
    assert check_offline_and_alt(out) == problems, "the same pages"
    assert problems == [], "\n".join(problems[:20])
