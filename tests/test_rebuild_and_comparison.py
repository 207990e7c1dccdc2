"""What notebook 05 needs when it runs alone, and the final comparison figure."""

import json
import re

import matplotlib
import pandas as pd
import pytest

import tlcourse
from tlcourse.models import resnet50_weights_kind
from tlcourse.results import SPANISH_COLUMNS

matplotlib.use("Agg")


def test_resnet50_frozen_is_rebuilt_when_missing(monkeypatch, capsys):
    """05 run alone: the frozen ResNet50 + head of notebook 04 is rebuilt, said, and described in a .json."""
    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "synthetic")
    path = tlcourse.ensure_resnet50_frozen()
    out = capsys.readouterr().out
    assert "no está" in out and "Se reconstruye" in out and "ALEATORIOS" in out
    assert resnet50_weights_kind(path) == "random"
    assert json.loads(path.with_suffix(".json").read_text())["data"] == "synthetic"
    history = tlcourse.load_history("resnet50_head_history.csv")
    assert len(history["accuracy"]) == 10
    # Even on a random base the head learns something: well above chance (1/47) on its own images.
    assert history["accuracy"][-1] > 3 / 47, history["accuracy"]

    import keras
    model = keras.models.load_model(path)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 47)

    # Reused on the next call; a missing description means it cannot be trusted, so it is rebuilt.
    tlcourse.ensure_resnet50_frozen()
    assert "el modelo que guardó el notebook 04" in capsys.readouterr().out
    # A model built in quick mode is not used as notebook 04's model in full mode (here TL_DATA=real: stops).
    assert json.loads(path.with_suffix(".json").read_text())["mode"] == "quick"
    monkeypatch.setenv("TL_QUICK", "0")
    monkeypatch.setenv("TL_DATA", "real")
    with pytest.raises(tlcourse.DataError) as error:
        tlcourse.ensure_resnet50_frozen()
    assert "modo rápido" in str(error.value)
    monkeypatch.setenv("TL_QUICK", "1")
    path.with_suffix(".json").unlink()
    monkeypatch.setenv("TL_DATA", "real")
    with pytest.raises(tlcourse.DataError) as error:
        tlcourse.ensure_resnet50_frozen()
    assert "Qué hacer" in str(error.value)


def comparison_rows():
    """Rows like those of a full run offline, one from an older run without n_train."""
    return pd.DataFrame([
        dict(notebook="03", approach="mlp_retarget_frozen", data="synthetic", weights="mnist", n_train=101_520,
             epochs=6, trainable_params=235, train_seconds=5.0, seconds_per_epoch=0.8, test_accuracy=0.09),
        dict(notebook="03", approach="mlp_scratch", data="synthetic", weights="none", n_train=float("nan"),
             epochs=6, trainable_params=6_551, train_seconds=7.0, seconds_per_epoch=1.2, test_accuracy=0.198),
        dict(notebook="04", approach="resnet50_frozen_cached_features", data="synthetic", weights="random",
             n_train=101_520, epochs=10, trainable_params=96_303, train_seconds=180.0, seconds_per_epoch=2.0,
             test_accuracy=0.706),
        dict(notebook="05", approach="resnet50_finetuned", data="synthetic", weights="random", n_train=18_000,
             epochs=2, trainable_params=15_049_775, train_seconds=95.0, seconds_per_epoch=30.0, test_accuracy=0.727),
        dict(notebook="05", approach="cnn_scratch", data="synthetic", weights="none", n_train=101_520, epochs=3,
             trainable_params=229_807, train_seconds=62.0, seconds_per_epoch=20.0, test_accuracy=0.968),
    ])


def test_comparison_figure(tmp_path):
    """One bar per approach, saved; the published anchors only when every row is real data."""
    rows = comparison_rows()
    path = tlcourse.plot_comparison(rows, title="prueba", path=tmp_path / "comparacion.png")
    assert path.exists() and path.stat().st_size > 10_000
    real = rows.assign(data="real")
    path_real = tlcourse.plot_comparison(real, title="prueba real", path=tmp_path / "real.png")
    assert path_real.stat().st_size > 10_000


@pytest.mark.parametrize("data", ["synthetic", "real"])
def test_comparison_figure_texts_are_spanish_inside_and_clear_of_the_legend(data):
    """The review found annotations past the right edge and under the legend, English identifiers and
    decimal points: every text is inside the figure, none overlaps the legend, all read in Spanish."""
    from matplotlib.text import Text

    fig = tlcourse.plots.comparison_figure(comparison_rows().assign(data=data),
                                           title="EMNIST balanced: exactitud en test de cada enfoque")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    legend_texts = set(legend.get_texts())
    figure_box = fig.bbox
    for text in texts:
        box = text.get_window_extent(renderer)
        assert figure_box.x0 - 1 <= box.x0 and box.x1 <= figure_box.x1 + 1, text.get_text()
        assert figure_box.y0 - 1 <= box.y0 and box.y1 <= figure_box.y1 + 1, text.get_text()
        if text not in legend_texts and text is not legend.get_title():
            assert not box.overlaps(legend.get_window_extent(renderer)), text.get_text()
    shown = "\n".join(t.get_text() for t in texts)
    for identifier in ("cnn_scratch", "resnet50_finetuned", "mlp_retarget_frozen"):
        assert identifier not in shown
    assert "CNN pequeña desde cero" in shown and "72,7 %" in shown and "18.000 imágenes" in shown
    assert "15.049.775 parámetros entrenables" in shown and "sin dato" in shown
    assert not re.search(r"\d\.\d+ ?%", shown), "porcentajes con punto decimal"
    matplotlib.pyplot.close(fig)


def test_comparison_table_and_like_with_like():
    """Spanish labels and numbers on display; only rows with the same data and n_train are ranked."""
    rows = comparison_rows()
    table = tlcourse.comparison_table(rows)
    assert list(table.columns) == [SPANISH_COLUMNS[c] for c in ("notebook", "approach", "data", "weights", "n_train",
                                                                 "epochs", "trainable_params", "train_seconds",
                                                                 "test_accuracy")]
    row = table[table["enfoque"] == "ResNet50 con conv5 ajustada (fine-tuning)"].iloc[0]
    assert row["imágenes de entrenamiento"] == "18.000" and row["exactitud en test"] == "72,7 %"
    assert row["parámetros entrenables"] == "15.049.775"
    assert table[table["enfoque"] == "MLP desde cero"].iloc[0]["imágenes de entrenamiento"] == "sin dato"

    lines = tlcourse.like_with_like(rows)
    text = "\n".join(lines)
    ranked = [line for line in lines if "101.520 imágenes:" in line]
    assert len(ranked) == 1
    assert ranked[0].index("CNN pequeña") < ranked[0].index("ResNet50 congelada") < ranked[0].index("MLP de MNIST")
    assert "ResNet50 con conv5 ajustada (fine-tuning) (05): 72,7 % con 18.000 imágenes" in text
    assert "Sin número de imágenes" in text and "MLP desde cero (03)" in text.split("Sin número de imágenes")[1]
    assert tlcourse.like_with_like(rows.iloc[:0]) == ["Todavía no hay resultados en tmp/results.csv."]


def test_scientific_and_unknown_approach():
    assert tlcourse.scientific(3.24e-7) == "3,2·10⁻⁷"
    assert tlcourse.scientific(0.0) == "0"
    assert tlcourse.approach_name("resnet50_finetuned") == "ResNet50 con conv5 ajustada (fine-tuning)"
    assert tlcourse.approach_name("some_new_thing") == "some new thing"


def test_predict_once_computes_then_reuses_and_never_reuses_stale_outputs(capsys):
    """Notebook 05's conv4 outputs: computed batch by batch into one array, equal to predict, then read
    back from tmp/features/; other images (or other weights) are computed afresh."""
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="salida")])
    x = np.random.default_rng(0).random((1000, 4), dtype="float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, np.zeros(len(x)))).batch(256)
    first, seconds = tlcourse.predict_once(model, dataset, name="t", images=x, source="synthetic", weights="random")
    # Same float32 computation, batched differently: equal up to rounding.
    assert np.allclose(first, model.predict(x, verbose=0), atol=1e-6)
    again, seconds_again = tlcourse.predict_once(model, dataset, name="t", images=x, source="synthetic",
                                                 weights="random")
    assert np.array_equal(first, again) and seconds_again == seconds
    assert "Reutilizo" in capsys.readouterr().out
    model.layers[-1].kernel.assign(model.layers[-1].kernel * 2)
    changed, _ = tlcourse.predict_once(model, dataset, name="t", images=x, source="synthetic", weights="random")
    assert "no vale" in capsys.readouterr().out and not np.allclose(changed, first)
