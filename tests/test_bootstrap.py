"""The Colab/Kaggle step (``tlcourse.bootstrap.CELL_SOURCE``) on a notebook that arrives alone (issue 14).

A notebook is copied into an empty folder, as Colab and Kaggle give it; ``TL_REPO_URL`` points at a
``file://`` repository made from this repository's committed HEAD. In a real kernel the first cell
clones the course and moves into its ``notebooks/`` folder; run again it clones nothing (the URL is
made unreachable first, so a second clone would fail); after a kernel restart it reuses the clone;
then the notebook's own setup cell runs: ``tlcourse``, ``data/`` and ``tmp/`` are the clone's.
``emnist`` is installed here already, and pip is cut off from any index, so a test that tried to
install it would fail instead of reaching the network. Without a reachable course it stops with
the Spanish message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "notebooks"))
from tlcourse import bootstrap  # noqa: E402

NOTEBOOK = "01_entrenar_mnist.ipynb"
UNREACHABLE = "file:///nonexistent/curso.git"

CHECK = """\
import json, os, pathlib, tlcourse
print("CHECK" + json.dumps({"cwd": os.getcwd(), "tlcourse": tlcourse.__file__,
                            "data": str(cfg.data_dir), "tmp": str(cfg.tmp_dir)}))"""


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> str:
    """A bare repository holding this repository's committed HEAD as branch ``main``."""
    if subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip(f"SKIPPED: {REPO} is not a git repository with a commit, nothing to clone")
    bare = tmp_path_factory.mktemp("origin") / "curso.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "--git-dir", str(bare), "fetch", "-q", str(REPO), "HEAD:refs/heads/main"], check=True)
    return bare.as_uri()


@pytest.fixture
def lone_notebook(tmp_path, monkeypatch, origin) -> Path:
    """An empty folder with only the notebook in it, and the kernel's environment set for the test."""
    shutil.copy(REPO / "notebooks" / NOTEBOOK, tmp_path / NOTEBOOK)
    monkeypatch.setenv("TL_REPO_URL", origin)
    monkeypatch.setenv("TL_REPO_REF", "main")
    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.delenv("TL_DATA_DIR", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")   # an attempt to install emnist fails instead of downloading
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    return tmp_path / NOTEBOOK


def code_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert cells[0].source == bootstrap.CELL_SOURCE, "the notebook's first code cell is not the bootstrap"
    return nb, cells[0], cells[1]


def run(nb, sources: list[str], folder: Path) -> list:
    """Execute ``sources`` as the notebook's code cells in one fresh kernel started in ``folder``."""
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb.cells


def text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_lone_notebook_clones_once_and_runs_from_the_clone(lone_notebook):
    folder = lone_notebook.parent
    nb, boot, setup = code_cells(lone_notebook)
    course = folder / "curso_transfer_learning"
    cells = run(nb, [boot.source,
                     f"import os; os.environ['TL_REPO_URL'] = {UNREACHABLE!r}",   # a second clone would fail
                     boot.source, setup.source, CHECK], folder)
    seen = json.loads(text(cells[-1]).split("CHECK", 1)[1])
    assert Path(seen["cwd"]) == course / "notebooks"
    assert Path(seen["tlcourse"]) == course / "notebooks" / "tlcourse" / "__init__.py"
    assert Path(seen["data"]) == course / "data"
    assert Path(seen["tmp"]) == course / "tmp"
    assert "Keras" in text(cells[3]), text(cells[3])   # the setup cell printed its versions line
    assert sorted(p.name for p in folder.iterdir()) == sorted([NOTEBOOK, course.name])

    # A new kernel (Colab's "restart runtime") starts in the notebook's folder again: the clone is reused.
    head = subprocess.run(["git", "-C", str(course), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    cells = run(nb, [f"import os; os.environ['TL_REPO_URL'] = {UNREACHABLE!r}", boot.source,
                     "import tlcourse; print('CHECK' + tlcourse.__file__)"], folder)
    assert text(cells[-1]).split("CHECK", 1)[1].strip() == str(course / "notebooks" / "tlcourse" / "__init__.py")
    assert subprocess.run(["git", "-C", str(course), "rev-parse", "HEAD"],
                          capture_output=True, text=True).stdout == head


def run_alone(source: str, folder: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", source], cwd=folder, capture_output=True, text=True,
                          env={**__import__("os").environ, "TL_REPO_URL": url}, timeout=120)


@pytest.mark.parametrize("url", [UNREACHABLE, ""], ids=["unreachable", "not-configured"])
def test_without_the_course_it_stops_in_spanish(tmp_path, url):
    result = run_alone(bootstrap.CELL_SOURCE, tmp_path, url)
    assert result.returncode != 0
    assert "No se pudo descargar el curso" in result.stderr and "Turn on internet" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []   # nothing half-cloned left behind


def test_local_clone_is_a_no_op():
    """In the repository's notebooks/ folder (a local clone, CI) the cell does nothing at all."""
    result = run_alone(bootstrap.CELL_SOURCE + "\nprint(os.getcwd())", REPO / "notebooks", UNREACHABLE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(REPO / "notebooks")


def test_cell_is_short_and_parses_back():
    assert len(bootstrap.CELL_SOURCE.splitlines()) <= 12
    url, ref = "https://github.com/someone/curso-tl", "v1.0"
    assert bootstrap.parse(bootstrap.cell_source(url, ref)) == (url, ref)
    for forbidden in ("tensorflow", "keras", "numpy", "requirements"):
        assert forbidden not in bootstrap.CELL_SOURCE.lower()
