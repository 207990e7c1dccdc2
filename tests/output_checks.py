"""What a student should not see in an executed notebook, found in its outputs.

Used by ``tests/test_reliability.py`` on the notebooks it executes anyway (the series is not run
a second time for this), and by hand on any executed copy::

    python tests/output_checks.py executed/NN_name.ipynb [...]     # lists the problems; exit 1 if any

What counts as a problem:
- a TensorFlow/absl warning or log line (``WARNING:tensorflow``, ``W0000 …``, retracing notices…);
- an absolute path (``/home/…``, ``/tmp/…``, ``C:\\…``): print paths relative to the repository;
- a progress bar (tqdm's text or widget, ``it/s``, ``epoch/s``);
- a number written the English way in printed text: ``0.5``, ``88.6%`` (version numbers such as
  ``3.15.1`` and names such as ``Python 3.11`` are fine);
- Keras's English epoch log or ``model.summary()`` table outside notebook 01, the one notebook where
  they are the lesson (``KERAS_OUTPUT_NOTEBOOK``);
- a figure without alternative text: an image output without an HTML ``<img alt="…">`` beside it
  (``tlcourse.show_figure`` writes both), or matplotlib's bare ``<Figure size …>``.
Deliberate Keras error messages are English and allowed: the notebook explains them in Spanish.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

KERAS_OUTPUT_NOTEBOOK = "01"

LOG = re.compile(r"WARNING:tensorflow|WARNING:absl|^[WIE]\d{4} \d\d:|oneDNN custom operations|retracing"
                 r"|UserWarning|DeprecationWarning|FutureWarning|RuntimeWarning", re.M)
ABSOLUTE_PATH = re.compile(r"(?:^|[\s'\"(«=:\[])(/(?:[\w.+-]+/)+[\w.+-]*)|\b[A-Za-z]:\\\w", re.M)
PROGRESS = re.compile(r"\d+%\|.*\||\bit/s\b|\bepoch/s\b|\?it/s")
# 0.5 or 88.6% (but not Spanish thousands such as 96.303 or 1.281.167, nor versions such as 3.15.1)
ENGLISH_NUMBER = re.compile(r"(?<![\w.,/])(?!(?:[1-9]\d{0,2})(?:\.\d{3})+(?![\d.]))\d+\.\d+(?![\w.])|\d%")
NAMES_WITH_VERSIONS = re.compile(r"\b(?:Python|Keras|TensorFlow|numpy|NumPy|CUDA|cuDNN|nbformat)\s+\d+\.\d+")
KERAS_LOG = re.compile(r"^Epoch \d+/\d+|\d+/\d+ (?:━|-|\[)|- (?:val_)?(?:accuracy|loss): ", re.M)
KERAS_SUMMARY = re.compile(r"Total params:|Trainable params:|Layer \(type\)")
IMG_ALT = re.compile(r"<img\b[^>]*\balt=\"([^\"]+)\"", re.I)
WIDGET = "application/vnd.jupyter.widget-view+json"


def _texts(cell):
    """(text, is_printed_text) for each output of ``cell``: streams and plain-text results."""
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            yield out.text, True
        elif out.output_type in ("execute_result", "display_data"):
            data = out.get("data", {})
            plain = data.get("text/plain", "")
            rich = set(data) - {"text/plain"}
            yield plain, not rich           # a DataFrame's or a figure's text/plain is only a fallback
        elif out.output_type == "error":
            yield "\n".join(out.get("traceback", [])), False


def _figure_problems(cell) -> list[str]:
    problems = []
    for out in cell.get("outputs", []):
        data = out.get("data", {}) if out.output_type in ("execute_result", "display_data") else {}
        if WIDGET in data:
            problems.append("un widget (barra de progreso) en la salida")
        images = [k for k in data if k.startswith("image/")]
        if images and not IMG_ALT.search(data.get("text/html", "")):
            problems.append("una figura sin texto alternativo (usa tlcourse.show_figure)")
        if re.search(r"<Figure size \d", data.get("text/plain", "")) and not images:
            problems.append("una figura vacía («<Figure size …>»)")
    return problems


def problems(nb, name: str) -> list[str]:
    """Every problem in the outputs of notebook ``nb`` (``name`` is its file name), one line each."""
    found = []
    keras_output_allowed = name.startswith(KERAS_OUTPUT_NOTEBOOK)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name}, celda {i}"
        found += [f"{where}: {p}" for p in _figure_problems(cell)]
        for text, printed in _texts(cell):
            for pattern, what in ((LOG, "un aviso o registro de TensorFlow"), (PROGRESS, "una barra de progreso")):
                match = pattern.search(text)
                if match:
                    found.append(f"{where}: {what}: «{match.group(0)}»")
            match = ABSOLUTE_PATH.search(text)
            if match and printed:
                found.append(f"{where}: una ruta absoluta: «{match.group(0).strip()}»")
            if not keras_output_allowed:
                for pattern, what in ((KERAS_LOG, "el registro de épocas de Keras"),
                                      (KERAS_SUMMARY, "la tabla de model.summary()")):
                    match = pattern.search(text)
                    if match:
                        found.append(f"{where}: {what} (solo en el {KERAS_OUTPUT_NOTEBOOK}): «{match.group(0)}»")
            if printed:
                cleaned = NAMES_WITH_VERSIONS.sub("", text)
                if keras_output_allowed:   # Keras's own lines, English numbers included, are the lesson there
                    cleaned = "\n".join(line for line in cleaned.splitlines()
                                        if not re.search(r"- (?:val_)?(?:accuracy|loss)|\(\d[\d.]* [KMG]?B\)", line))
                match = ENGLISH_NUMBER.search(cleaned)
                if match:
                    start = max(0, match.start() - 30)
                    found.append(f"{where}: un número a la inglesa: «…{cleaned[start:match.end() + 10]}…»")
    return found


def main(argv: list[str]) -> int:
    total = []
    for arg in argv:
        path = Path(arg)
        total += problems(nbformat.read(path, as_version=4), path.name)
    print("\n".join(total) if total else "Nada que objetar en las salidas.")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
