"""Notebook 06 on real handwriting, offline: what the lesson prints must hold where every student can run it.

The notebook never asserts that the learned base beats the random one (real data could overturn
an expectation; the lesson prints it). Here we check that, in quick mode with the real MNIST files
and no network, it does: the CNN trained on digits 0–4, frozen, beats the same CNN with random
weights, frozen, on digits 5–9 with k = 5 images per class, seed by seed, on five seeds. The code
run is the notebook's own (its cells, read from the .ipynb), so this tests what students run.
"""

import re
import shutil

import nbformat
import pytest

from conftest import REPO, SHARED_MNIST
from tlcourse import efficiency as ef

NOTEBOOK = REPO / "notebooks" / "06_cuando_compensa.ipynb"
MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
               "t10k-labels-idx1-ubyte.gz"]
# The cells that build the digits task and the approaches, in order (found by how they start).
NEEDED = ["import time", "def build_cnn", "mnist = tlcourse.load_mnist()", "new, new_test", "BUDGET = dict",
          "def new_head", "def scratch", "def mnist_finetuned", "SEEDS ="]

# The shared copy next to the repository, else the repository's own cache (a worktree has no ../shared).
MNIST_DIR = next((d for d in (SHARED_MNIST, REPO / "data" / "mnist") if all((d / n).exists() for n in MNIST_FILES)),
                 None)
needs_mnist = pytest.mark.skipif(MNIST_DIR is None, reason=f"no están los ficheros de MNIST en {SHARED_MNIST}")


def code_cells():
    return [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]


def test_the_lesson_asserts_nothing_about_the_random_base():
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    text = "\n".join(c.source for c in cells)
    assert "Si fallara" not in text
    for source in code_cells():
        for line in source.splitlines():
            if re.match(r"\s*assert\b", line):
                assert "random" not in line and "scratch" not in line, line
                assert "#" in line or "Comprobación" in source, f"un assert sin comentario: {line}"


@needs_mnist
def test_the_learned_base_beats_the_random_base_on_real_digits(data_dir, monkeypatch):
    (data_dir / "mnist").mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copyfile(MNIST_DIR / name, data_dir / "mnist" / name)
    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "real")
    cells = code_cells()
    namespace = {"display": print}
    for start in NEEDED:
        source = next(s for s in cells if s.startswith(start))
        if start == "BUDGET = dict":
            namespace.update(chars=namespace["digits"], KS_CHARS=[5])   # its schedule also lists EMNIST (not loaded)
        exec(compile(source, f"06:{start}", "exec"), namespace)
    assert namespace["mnist"].source == "real"
    namespace["SEEDS"] = [0, 1, 2, 3, 4]
    table = namespace["run"](namespace["digits"], {"mnist_frozen": namespace["mnist_frozen"],
                                                   "random_frozen": namespace["random_frozen"]}, [5])
    difference = ef.paired(table, "mnist_frozen", "random_frozen").loc[5]
    assert difference["n"] == 5 and difference["low"] > 0, difference   # every seed
    assert difference["verdict"] == "a"
