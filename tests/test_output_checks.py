"""tests/output_checks.py finds what a student should not see, and lets the rest through."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import output_checks  # noqa: E402


def notebook(*outputs):
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = list(outputs)
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("texto"), cell])


def printed(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def shown(data):
    return nbformat.v4.new_output("display_data", data=data)


FINE = [
    "Exactitud en test: 88,6 % con 96.303 parámetros\n",
    "Keras 3.15.1 sobre TensorFlow 2.21.0 · semilla 42\n",
    "Modelo guardado en tmp/supermodel.h5 (imágenes/s: 908)\n",
    "ValueError: Input size must be at least 32x32; Received: input_shape=(28, 28, 3)\n",
    "1/47 de azar; 5 / 7 pasos; Python 3.11\n",
]


@pytest.mark.parametrize("text", FINE)
def test_spanish_output_passes(text):
    assert output_checks.problems(notebook(printed(text)), "03_x.ipynb") == []


BAD = {
    "WARNING:tensorflow:5 out of the last 5 calls to <function> triggered tf.function retracing.\n": "aviso",
    "W0000 00:00:1700000000.1 123 gpu.cc:1] something\n": "aviso",
    "Guardado en /tmp/tl-x/tmp/supermodel.h5\n": "ruta absoluta",
    "Pesos en /root/.keras/models/resnet.h5\n": "ruta absoluta",
    "Datos en C:\\Users\\ana\\data\n": "ruta absoluta",
    "100%|██████████| 30/30 [00:02<00:00, 14.02epoch/s]\n": "barra de progreso",
    "Exactitud: 0.886\n": "número a la inglesa",
    "Exactitud: 88.6%\n": "número a la inglesa",
    "Epoch 1/10\n85/85 - 1s - 9ms/step - accuracy: 0.1827 - loss: 2.1544\n": "registro de épocas",
    "Total params: 6,366 (24.87 KB)\n": "model.summary",
}


@pytest.mark.parametrize("text", BAD)
def test_each_problem_is_found(text):
    found = output_checks.problems(notebook(printed(text)), "03_x.ipynb")
    assert found and BAD[text] in found[0], found


def test_keras_own_output_is_allowed_only_in_01():
    log = printed("Epoch 1/10\n85/85 - 1s - 9ms/step - accuracy: 0.1827 - loss: 2.1544\n"
                  "Total params: 6,366 (24.87 KB)\n")
    assert output_checks.problems(notebook(log), "01_entrenar_mnist.ipynb") == []
    assert len(output_checks.problems(notebook(log), "02_cargar.ipynb")) >= 2


def test_figures_need_alt_text():
    bare = shown({"image/png": "iVBOR", "text/plain": "<Figure size 800x300 with 2 Axes>"})
    empty_alt = shown({"image/png": "iVBOR", "text/html": '<img src="data:," alt="">', "text/plain": "x"})
    good = shown({"image/png": "iVBOR", "text/html": '<img src="data:," alt="Dos curvas.">',
                  "text/plain": "[Figura] Dos curvas con 0.5 de pérdida."})   # plain is only a fallback here
    assert "texto alternativo" in output_checks.problems(notebook(bare), "03.ipynb")[0]
    assert "texto alternativo" in output_checks.problems(notebook(empty_alt), "03.ipynb")[0]
    assert output_checks.problems(notebook(good), "03.ipynb") == []


def test_a_progress_widget_is_found():
    widget = shown({"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "0epoch [00:00]"})
    assert any("widget" in p for p in output_checks.problems(notebook(widget), "03.ipynb"))


def test_the_command_line_says_what_it_found(tmp_path, capsys):
    path = tmp_path / "05_x.ipynb"
    nbformat.write(notebook(printed("Exactitud: 0.886\n")), path)
    assert output_checks.main([str(path)]) == 1
    assert "05_x.ipynb, celda 1" in capsys.readouterr().out
    nbformat.write(notebook(printed("Exactitud: 88,6 %\n")), path)
    assert output_checks.main([str(path)]) == 0
