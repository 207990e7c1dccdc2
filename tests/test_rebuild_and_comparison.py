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
        dict(notebook="04", approach="resnet50_frozen_direct", data="synthetic", weights="random",
             n_train=101_520, epochs=1, trainable_params=96_303, train_seconds=300.0, seconds_per_epoch=290.0,
             test_accuracy=0.016),
        dict(notebook="04", approach="resnet50_frozen_cached_features", data="synthetic", weights="random",
             n_train=101_520, epochs=10, trainable_params=96_303, train_seconds=180.0, seconds_per_epoch=2.0,
             test_accuracy=0.706),
        dict(notebook="05", approach="resnet50_finetuned", data="synthetic", weights="random", n_train=18_000,
             epochs=2, trainable_params=15_049_775, train_seconds=95.0, seconds_per_epoch=30.0, test_accuracy=0.727),
        dict(notebook="05", approach="cnn_scratch", data="synthetic", weights="none", n_train=101_520, epochs=2,
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
    """The review found annotations past the right edge and under the legend, English identifiers,
    decimal points, no epochs and a figure taller than a slide: every text is inside the figure, none
    overlaps the legend, all read in Spanish, each bar says its images and epochs (and «pesos
    aleatorios» when so), and the figure fits a slide."""
    from matplotlib.text import Text

    fig = tlcourse.plots.comparison_figure(comparison_rows().assign(data=data),
                                           title="EMNIST balanced: exactitud en test de cada enfoque")
    assert fig.get_figheight() <= tlcourse.plots.MAX_FIGURE_HEIGHT
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
    assert "CNN pequeña desde cero (05)\n101.520 imágenes · 2 épocas" in shown
    assert "18.000 imágenes · 2 épocas · pesos aleatorios" in shown and "72,7 %" in shown
    assert "101.520 imágenes · 1 época · pesos aleatorios" in shown and "sin dato" in shown
    assert "ResNet50 con pesos aleatorios" in ax.get_title()
    assert ("datos sintéticos" in ax.get_title()) == (data == "synthetic")
    assert ("OPIUM" in shown) == (data == "real") and "88 %" not in shown
    assert not re.search(r"\d\.\d+ ?%", shown), "porcentajes con punto decimal"
    alt = tlcourse.plots.comparison_alt(comparison_rows(), "prueba")
    assert "CNN pequeña desde cero (notebook 05): 96,8 % con 101.520 imágenes y 2 épocas" in alt
    matplotlib.pyplot.close(fig)


def test_comparison_table_has_the_columns_a_slide_needs():
    """Notebook, approach, weights, images, epochs, accuracy, seconds; «datos» only when mixed."""
    rows = comparison_rows()
    table = tlcourse.comparison_table(rows)
    assert list(table.columns) == ["notebook", "enfoque", "pesos de la base", "imágenes", "épocas",
                                   "exactitud en test", "segundos"]
    row = table[table["enfoque"] == "ResNet50, ajuste fino de conv5"].iloc[0]
    assert row["imágenes"] == "18.000" and row["exactitud en test"] == "72,7 %" and row["épocas"] == "2"
    assert row["pesos de la base"] == "aleatorios"
    assert table[table["enfoque"] == "MLP desde cero"].iloc[0]["imágenes"] == "sin dato"
    assert list(tlcourse.comparison_table(rows.query("notebook == '03'")).drop(columns="notebook")["enfoque"]) == [
        "MLP de MNIST congelada, salida nueva", "MLP desde cero"]            # as notebook 03 shows its rows
    mixed = tlcourse.comparison_table(rows.assign(data=["real"] + ["synthetic"] * (len(rows) - 1)))
    assert "datos" in mixed.columns and mixed.iloc[0]["datos"] == "reales"


def test_like_with_like_ranks_only_same_data_images_and_epochs():
    """04's direct way (1 epoch) and precomputed features (10) are never ranked against each other, nor
    the CNN (2 epochs) against them; every ranked line says its epochs; one seed is said."""
    rows = comparison_rows()
    lines = tlcourse.like_with_like(rows)
    text = "\n".join(lines)
    assert "una semilla" in lines[0] and "sin diferencia medible" in lines[0]
    assert "Ningún par de enfoques" in text and ">" not in text
    different = text.split("Mismas imágenes pero distintas épocas")[1].split("Sin pareja")[0]
    assert "forma directa (04) 1,6 % en 1 época" in different
    assert "características precalculadas (04) 70,6 % en 10 épocas" in different
    assert "CNN pequeña desde cero (05) 96,8 % en 2 épocas" in different
    assert "ResNet50, ajuste fino de conv5 (05) 72,7 % con 18.000 imágenes y 2 épocas" in text
    assert "Sin número de imágenes" in text and "MLP desde cero (03)" in text.split("Sin número de imágenes")[1]
    assert tlcourse.like_with_like(rows.iloc[:0]) == ["Todavía no hay resultados en tmp/results.csv."]


def test_like_with_like_marks_differences_under_two_points():
    rows = pd.DataFrame([
        dict(notebook="03", approach=a, data="real", weights=w, n_train=8_460, epochs=6, trainable_params=1,
             train_seconds=1.0, seconds_per_epoch=0.2, test_accuracy=acc)
        for a, w, acc in (("mlp_scratch", "none", 0.852), ("mlp_retarget_frozen", "mnist", 0.849),
                          ("mlp_retarget_unfrozen", "mnist", 0.80))])
    lines = tlcourse.like_with_like(rows)
    ranked = lines[lines.index(next(line for line in lines if line.startswith("Comparables"))) + 1:]
    assert ranked[0] == "- Datos reales · 8.460 imágenes · 6 épocas:"
    assert ranked[1].strip() == "MLP desde cero (03) 85,2 %"
    assert ranked[2].strip() == "≈ MLP de MNIST congelada, salida nueva (03) 84,9 %  (sin diferencia medible)"
    assert ranked[3].strip() == "> MLP de MNIST, después ajustada entera (03) 80,0 %"


@pytest.mark.parametrize("weights, data", [("random", "synthetic"), ("imagenet", "real")])
def test_comparison_reading_fits_the_weights_and_data_used(weights, data):
    """What the numbers can say, from the rows: random weights (no transfer to measure), or ImageNet's at
    32×32; synthetic data; how many more images the CNN saw; and the question of notebook 06."""
    rows = comparison_rows().assign(data=data)
    rows.loc[rows["approach"].str.startswith("resnet50"), "weights"] = weights
    text = " ".join(" ".join(tlcourse.comparison_reading(rows)).split())
    assert ("no hay transferencia que medir" in text) == (weights == "random")
    assert ("32×32" in text) == (weights == "imagenet")
    assert ("sintéticos" in text) == (data == "synthetic")
    assert "La CNN desde cero (96,8 %) vio 5,6 veces las imágenes del ajuste fino (72,7 %)" in text
    assert "entrenada con 101.520 imágenes" in text and "06" in text
    assert all(len(line) <= 110 for chunk in tlcourse.comparison_reading(rows) for line in chunk.splitlines())
    assert tlcourse.comparison_reading(rows.iloc[:0]) == []


def test_resnet50_stage_costs_do_not_depend_on_the_input_size():
    """M1 of the review: stage 5 holds about 63 % of the parameters but about 19 % of the multiply-adds,
    the same at 32×32 and 224×224 (both multiples of 32); at 224 the total is He et al.'s 3.8·10⁹."""
    import keras

    costs = {size: tlcourse.resnet50_stage_costs(
        keras.applications.ResNet50(include_top=False, weights=None, input_shape=(size, size, 3)))
        for size in (32, 224)}
    assert list(costs[32].index) == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    assert costs[32]["params"].sum() > 0.99 * 23_587_712
    for column in ("params_share", "macs_share"):
        assert (costs[32][column] - costs[224][column]).abs().max() < 1e-9
    assert abs(costs[32].loc["conv5", "params_share"] - 0.636) < 0.005
    assert abs(costs[32].loc["conv5", "macs_share"] - 0.190) < 0.005
    assert 3.8e9 < costs[224]["macs"].sum() < 3.9e9
    share = costs[32].loc["conv5", "macs_share"]
    assert 2.3 < (1 + 2 * share) / (3 * share) < 2.5      # the saving by operations said in notebook 05


def test_train_step_speeds_restore_the_weights():
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    x = np.random.default_rng(0).random((400, 4), dtype="float32")
    y = np.zeros(400, dtype="int64")
    before = [w.copy() for w in model.get_weights()]
    speeds = tlcourse.train_step_speeds({"a": (model, x), "b": (model, x[::-1].copy())}, y)
    assert set(speeds) == {"a", "b"} and all(s > 0 for s in speeds.values())
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert tlcourse.train_step_speed(model, x, y) > 0
    with pytest.raises(ValueError):
        tlcourse.train_step_speed(model, x[:100], y)


def test_resnet50_dataset_is_notebook_04s_preparation():
    """28×28 grey → 32×32 RGB → preprocess_input (BGR minus ImageNet's means), in order."""
    import numpy as np

    x = np.full((5, 28, 28), 255, dtype="uint8")
    x[1] = 0
    images, labels = next(iter(tlcourse.resnet50_dataset(x, np.arange(5), batch_size=4)))
    assert images.shape == (4, 32, 32, 3) and list(labels.numpy()) == [0, 1, 2, 3]
    assert np.allclose(images[0, 16, 16], [255 - 103.939, 255 - 116.779, 255 - 123.68], atol=1e-3)
    assert np.allclose(images[1, 16, 16], [-103.939, -116.779, -123.68], atol=1e-3)


def test_scientific_and_unknown_approach():
    assert tlcourse.scientific(3.24e-7) == "3,2·10⁻⁷"
    assert tlcourse.scientific(0.0) == "0"
    assert tlcourse.approach_name("resnet50_finetuned") == "ResNet50, ajuste fino de conv5"
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
    out = capsys.readouterr().out
    assert out.count("Calculada en") == 1 and "Reutilizamos la salida guardada en tmp/features/" in out
    model.layers[-1].kernel.assign(model.layers[-1].kernel * 2)
    changed, _ = tlcourse.predict_once(model, dataset, name="t", images=x, source="synthetic", weights="random")
    assert "no vale" in capsys.readouterr().out and not np.allclose(changed, first)
