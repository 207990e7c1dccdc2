"""What notebook 05 needs when it runs alone, and the final comparison figure."""

import json

import matplotlib
import pandas as pd
import pytest

import tlcourse
from tlcourse.models import resnet50_weights_kind

matplotlib.use("Agg")


def test_resnet50_frozen_is_rebuilt_when_missing(monkeypatch, capsys):
    """05 run alone: the frozen ResNet50 + head of notebook 04 is rebuilt, said, and described in a .json."""
    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "synthetic")
    path = tlcourse.ensure_resnet50_frozen()
    out = capsys.readouterr().out
    assert "no encuentro" in out and "reconstruyo" in out and "ALEATORIOS" in out
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
    path.with_suffix(".json").unlink()
    monkeypatch.setenv("TL_DATA", "real")
    with pytest.raises(tlcourse.DataError) as error:
        tlcourse.ensure_resnet50_frozen()
    assert "Qué hacer" in str(error.value)


def test_comparison_figure(tmp_path):
    """One bar per approach, saved; the published anchors only when every row is real data."""
    rows = pd.DataFrame([
        dict(notebook="03", approach="mlp_retarget_frozen", data="synthetic", weights="mnist", epochs=6,
             trainable_params=235, train_seconds=5.0, seconds_per_epoch=0.8, test_accuracy=0.09),
        dict(notebook="05", approach="cnn_scratch", data="synthetic", weights="none", epochs=3,
             trainable_params=229807, train_seconds=12.0, seconds_per_epoch=4.0, test_accuracy=0.82),
    ])
    path = tlcourse.plot_comparison(rows, title="prueba", path=tmp_path / "comparacion.png")
    assert path.exists() and path.stat().st_size > 10_000
    real = rows.assign(data="real")
    path_real = tlcourse.plot_comparison(real, title="prueba real", path=tmp_path / "real.png")
    assert path_real.stat().st_size > 10_000
