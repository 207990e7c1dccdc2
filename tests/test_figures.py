"""tlcourse.figures: figures with alternative text and Spanish ticks; Keras output in Spanish."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import ticker  # noqa: E402

from tlcourse import figures, plots  # noqa: E402


def tick_texts(fig):
    fig.canvas.draw()
    return [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]


def test_spanish_ticks_use_a_decimal_comma_and_a_spaced_percent():
    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1], [0.1, 0.9])
    b.plot([0, 1], [0.1, 0.9])
    b.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    before = tick_texts(fig)
    assert any(re.search(r"\d\.\d", t) for t in before)          # matplotlib's own ticks: 0.2, 0.4…
    figures.spanish_ticks(fig)
    after = tick_texts(fig)
    assert not any(re.search(r"\d\.\d", t) for t in after), after
    assert any(re.search(r"\d,\d", t) for t in after) and any(t.endswith(" %") for t in after), after
    plt.close(fig)


def test_spanish_ticks_leave_func_formatters_alone():
    fig, ax = plt.subplots()
    ax.plot([0, 2000], [0, 1])
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{int(v):,}".replace(",", ".")))
    figures.spanish_ticks(fig)
    assert "2.000" in tick_texts(fig)        # Spanish thousands written by the caller stay as they are
    plt.close(fig)


def test_figure_bundle_carries_the_alt_text_in_html_and_text():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    bundle = figures.figure_bundle(fig, 'Una recta "creciente" <de 1 a 3>.')
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert 'alt="Una recta &quot;creciente&quot; &lt;de 1 a 3&gt;."' in bundle["text/html"]
    assert bundle["text/plain"] == '[Figura] Una recta "creciente" <de 1 a 3>.'
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)


def test_a_figure_without_alt_text_is_refused_and_closed():
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="texto alternativo"):
        figures.show_figure(fig, "   ")
    assert not plt.fignum_exists(fig.number)


def test_show_figure_outside_ipython_prints_the_alt_text(capsys):
    fig, _ = plt.subplots()
    figures.show_figure(fig, "Nada que ver.")
    assert capsys.readouterr().out == "[Figura] Nada que ver.\n"
    assert not plt.fignum_exists(fig.number)


def test_history_alt_says_where_each_curve_ends(capsys):
    history = {"loss": [2.0, 1.0], "val_loss": [2.1, 1.2], "accuracy": [0.5, 0.8], "val_accuracy": [0.45, 0.756]}
    plots.plot_history(history, title="Historia")
    out = capsys.readouterr().out
    assert "2 épocas" in out and "exactitud (validación) de 45,0 % a 75,6 %" in out
    assert "pérdida (entrenamiento) de 2,000 a 1,000" in out


def test_epoch_line_is_spanish():
    line = figures.epoch_line(3, 10, {"loss": 0.4921, "accuracy": 0.8612, "val_loss": 0.511, "val_accuracy": 0.85})
    assert line == "época 3/10 · pérdida 0,492 · exactitud 86,1 % · validación: pérdida 0,511, exactitud 85,0 %"
    assert figures.epoch_line(1, None, {"loss": 1.0}) == "época 1 · pérdida 1,000"


def test_epoch_log_prints_every_n_epochs_and_the_last(capsys):
    import keras

    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 2), "float32")
    model.fit(x, x[:, :1], epochs=5, verbose=0, callbacks=[figures.EpochLog(every=2)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" · ")[0] for line in lines] == ["época 2/5", "época 4/5", "época 5/5"]
    with pytest.raises(ValueError, match="every"):
        figures.EpochLog(every=0)


def test_model_summary_counts_like_keras_in_spanish(capsys):
    import keras

    base = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, name="oculta")], name="base")
    model = keras.Sequential([keras.Input(shape=(4,)), base, keras.layers.Dropout(0.1, name="apagado"),
                              keras.layers.Dense(1000, name="salida")], name="red")
    base.trainable = False
    figures.model_summary(model)
    out = capsys.readouterr().out
    assert "Modelo «red» (Sequential)" in out
    assert re.search(r"base\s+Sequential\s+\(None, 3\)\s+15\s+no", out), out
    assert re.search(r"apagado\s+Dropout\s+\(None, 3\)\s+0\s+—", out), out
    assert re.search(r"salida\s+Dense\s+\(None, 1000\)\s+4\.000\s+sí", out), out
    assert out.rstrip().endswith("Total: 4.015 parámetros · entrenables: 4.000 · no entrenables: 15")
    assert model.count_params() == 4_015
