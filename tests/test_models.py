"""``tlcourse.ensure_supermodel``: the model of notebook 01, rebuilt when missing, never used when damaged."""

import re
import time

import pytest

import tlcourse
from tlcourse.models import SUPERMODEL, model_file_problem


@pytest.fixture
def quick_synthetic(monkeypatch):
    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "synthetic")


def test_missing_supermodel_is_rebuilt_and_said(quick_synthetic, capsys):
    """Notebook 02 or 03 run alone: the model is rebuilt with notebook 01's recipe, saying so."""
    start = time.perf_counter()
    path = tlcourse.ensure_supermodel()
    out = capsys.readouterr().out
    assert "no está" in out and "Se reconstruye" in out
    assert re.search(r"exactitud en test \d{1,3},\d %", out), out   # Spanish numbers, as the notebooks print
    assert model_file_problem(path, (28, 28), 10) is None
    assert tlcourse.load_history("supermodel_history.csv") is not None
    assert time.perf_counter() - start < 120
    # A second call reuses it.
    tlcourse.ensure_supermodel()
    assert "el modelo que guardó el notebook 01" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_damaged_supermodel_auto_is_rebuilt(quick_synthetic, capsys, damage):
    """A damaged tmp/supermodel.h5 is detected and rebuilt (TL_DATA=auto/synthetic), loudly."""
    path = tlcourse.ensure_supermodel()
    data = path.read_bytes()
    path.write_bytes(b"no soy un HDF5" * 10 if damage == "garbage" else data[: len(data) // 2])
    capsys.readouterr()
    tlcourse.ensure_supermodel()
    out = capsys.readouterr().out
    assert "no se puede cargar" in out and "Se reconstruye" in out
    assert model_file_problem(path, (28, 28), 10) is None


def test_damaged_supermodel_real_mode_stops_with_the_reason(quick_synthetic, monkeypatch):
    """With TL_DATA=real a damaged model is an error naming the file and the check, not a silent rebuild."""
    path = tlcourse.tmp_path(SUPERMODEL)
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    monkeypatch.setenv("TL_DATA", "real")
    with pytest.raises(tlcourse.DataError) as error:
        tlcourse.ensure_supermodel()
    message = str(error.value)
    assert "tmp/supermodel.h5" in message and "no se puede cargar" in message and "Qué hacer" in message


def test_wrong_model_is_rejected(quick_synthetic, tmp_path):
    """A loadable model with the wrong input or output is not taken for the supermodel."""
    import keras
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    path = tmp_path / "otro.h5"
    other.save(path)
    problem = model_file_problem(path, (28, 28), 10)
    assert problem is not None and "no es el modelo esperado" in problem


def test_build_mnist_mlp_is_notebook_01s_network():
    """The model notebook 01 builds in plain Keras (§2) and rebuilds with the helper (§3, §4): 28×28 → 8 → 4 → 10."""
    model = tlcourse.build_mnist_mlp()
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [layer.units for layer in dense] == [8, 4, 10]
    assert [layer.activation.__name__ for layer in dense] == ["relu", "relu", "softmax"]
    assert tuple(model.input_shape) == (None, 28, 28) and model.count_params() == 6366
