"""Notebook 06's plumbing (tlcourse.efficiency): subsets, schedule, training, the CSV, the analysis.

conftest.py points ``tlcourse.config.REPO_DIR`` at ``tmp_path/repo``, so files written here go to
``tmp_path/repo/tmp/``, never to the repository's own ``tmp/``. The analysis tests feed tables
built by hand, including ones where transfer does not pay and where the random base beats the
network from scratch: the conclusions must say so, whichever way the numbers fall.
"""

import csv

import numpy as np
import pandas as pd
import pytest

from tlcourse import efficiency as ef
from tlcourse.files import DataError

LABELS = np.repeat(np.arange(5), [30, 12, 20, 25, 8])   # 5 classes, the rarest with 8 images
np.random.default_rng(0).shuffle(LABELS)


# ------------------------------------------------------------------------------ subsets
@pytest.mark.parametrize("k", [1, 3, 8])
def test_sample_per_class_is_balanced(k):
    rows = ef.sample_per_class(LABELS, k, seed=0)
    assert len(rows) == 5 * k == len(set(rows.tolist()))
    assert np.bincount(LABELS[rows], minlength=5).tolist() == [k] * 5
    assert (np.diff(rows) > 0).all()   # sorted, no repeats


def test_sample_per_class_is_seeded_and_nested():
    assert np.array_equal(ef.sample_per_class(LABELS, 3, seed=4), ef.sample_per_class(LABELS, 3, seed=4))
    assert not np.array_equal(ef.sample_per_class(LABELS, 3, seed=4), ef.sample_per_class(LABELS, 3, seed=5))
    small, large = ef.sample_per_class(LABELS, 2, seed=1), ef.sample_per_class(LABELS, 6, seed=1)
    assert np.isin(small, large).all()


def test_sample_per_class_refuses_too_large_k():
    assert ef.max_k(LABELS) == 8
    with pytest.raises(ValueError, match="solo tiene 8"):
        ef.sample_per_class(LABELS, 9, seed=0)
    with pytest.raises(ValueError):
        ef.sample_per_class(LABELS, 0, seed=0)


def test_repeat_rows_is_whole_passes_in_new_orders():
    rows = np.array([3, 7, 11, 20, 21])
    order = ef.repeat_rows(rows, steps=6, batch_size=4, seed=0)   # 24 = 4 passes of 5, cut at 24
    assert len(order) == 24
    for p in range(4):
        assert sorted(order[5 * p:5 * p + 5].tolist()) == rows.tolist()
    assert not all(np.array_equal(order[:5], order[5 * p:5 * p + 5]) for p in range(1, 4))
    assert np.array_equal(order, ef.repeat_rows(rows, steps=6, batch_size=4, seed=0))


# ------------------------------------------------------------------------------ schedule
BUDGET = dict(epochs=10, batch_size=64, max_steps=100)


def test_the_same_epochs_at_every_k_until_the_cap():
    assert ef.training_steps(5, **BUDGET) == 10          # minibatches of all 5 images: 10 steps = 10 epochs
    assert ef.training_steps(25, **BUDGET) == 10
    assert ef.training_steps(640, **BUDGET) == 100       # 640 · 10 / 64 = 100: exactly at the cap
    assert ef.training_steps(940, **BUDGET) == 100       # 147 wanted, cut to 100
    table = ef.schedule(47, [1, 5, 20], **BUDGET)
    assert table.loc[1, "minilote"] == 47 and table.loc[1, "épocas"] == "10,0"
    assert table.loc[5, "pasos"] == "37" and table.loc[20, "épocas"] == "6,8"
    with pytest.raises(ValueError):
        ef.training_steps(0, **BUDGET)


def test_cap_note_says_which_k_it_cut():
    assert "no recortó ninguno" in ef.cap_note(5, [1, 5, 20, 100], **BUDGET)   # 78 steps at most
    note = ef.cap_note(47, [1, 5, 20], **BUDGET)
    assert "dejó k = 20 en 6,8 épocas, en lugar de 10" in note and "k = 5" not in note


# ------------------------------------------------------------------------------ restart
def _tiny_model():
    import keras
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model


def test_restart_equals_a_freshly_compiled_model():
    """Restarting a trained model gives the same training as building and compiling it again."""
    import keras
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    keras.utils.set_random_seed(1)
    reused = _tiny_model()
    initial = reused.get_weights()
    ef.restart(reused, initial)
    reused.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert int(reused.optimizer.iterations.numpy()) == 12
    ef.restart(reused, initial)
    assert int(reused.optimizer.iterations.numpy()) == 0
    assert all(np.array_equal(a, b) for a, b in zip(reused.get_weights(), initial))
    reused.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)

    fresh = _tiny_model()
    fresh.set_weights(initial)
    fresh.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    # Same float32 operations in the same order on CPU; 1e-6 allows for a different summation order in oneDNN.
    for a, b in zip(reused.get_weights(), fresh.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_restart_refuses_an_optimizer_that_already_stepped():
    model = _tiny_model()
    model.fit(np.zeros((4, 3), "float32"), np.zeros(4, "int64"), verbose=0)
    with pytest.raises(ValueError, match="antes del primer fit"):
        ef.restart(model, model.get_weights())


# ------------------------------------------------------------------------------ training
def _net(frozen_first=False):
    import keras
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="relu", name="a"),
                              keras.layers.Dense(2, activation="softmax", name="b")])
    model.get_layer("a").trainable = not frozen_first
    return model


def test_train_steps_is_compile_and_fit_on_the_repeated_images():
    import keras
    x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    keras.utils.set_random_seed(3)
    model = _net()
    initial = model.get_weights()
    assert ef.train_steps(model, x, y, steps=7, learning_rate=1e-2, seed=5, batch_size=4) is model

    fresh = _net()
    fresh.set_weights(initial)
    fresh.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    order = ef.repeat_rows(np.arange(10), steps=7, batch_size=4, seed=5)
    fresh.fit(x[order], y[order], batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)

    again = _net()                                       # another model of the same architecture: same twin
    again.set_weights(initial)
    ef.train_steps(again, x, y, steps=7, learning_rate=1e-2, seed=5, batch_size=4)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_train_steps_respects_frozen_layers_and_the_learning_rate():
    import keras
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    y = np.arange(8) % 2
    keras.utils.set_random_seed(0)
    model = _net(frozen_first=True)
    before = [w.copy() for w in model.get_weights()]
    ef.train_steps(model, x, y, steps=5, learning_rate=1e-2, seed=0)
    after = model.get_weights()
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])   # layer a: frozen
    assert not np.array_equal(before[2], after[2])
    slow = _net(frozen_first=True)
    slow.set_weights(before)
    ef.train_steps(slow, x, y, steps=5, learning_rate=1e-5, seed=0)
    assert np.abs(slow.get_weights()[2] - before[2]).max() < np.abs(after[2] - before[2]).max() / 100


def test_predict_classes_and_features():
    import keras
    keras.utils.set_random_seed(0)
    model = _net()
    x = np.random.default_rng(2).normal(size=(2500, 3)).astype("float32")
    expected = model.predict(x, verbose=0).argmax(axis=1)
    assert np.array_equal(ef.predict_classes(model, x), expected)
    base = keras.Sequential([keras.Input(shape=(3,)), model.get_layer("a")])
    first = ef.features(base, x)
    assert first.shape == (2500, 4) and ef.features(base, x) is first          # computed once
    base.set_weights([w + 1 for w in base.get_weights()])
    assert not np.array_equal(ef.features(base, x), first)                        # other weights, recomputed


# ------------------------------------------------------------------------------ the tasks
def _task(**kwargs):
    x = np.zeros((6, 28, 28, 1), "float32")
    return ef.Task("emnist_balanced", x, np.array([0, 1, 2, 10, 11, 12]), x[:4], np.array([0, 1, 10, 11]),
                   classes="0123456789ABC", **kwargs)


def test_task_measures_all_classes_and_letters():
    row = _task(letters_from=10).measure("scratch", 1, 0, [0, 1], [0, 5, 10, 3], 1.5, "none")
    assert row["test_accuracy"] == 0.5 and row["test_accuracy_letters"] == 0.5
    assert row["task"] == "emnist_balanced" and row["n_train"] == 2 and row["data"] == "real"
    assert np.isnan(_task().measure("scratch", 1, 0, [0], [0, 1, 10, 11], 1.0, "none")["test_accuracy_letters"])
    with pytest.raises(ValueError):
        _task().measure("scratch", 1, 0, [0], [0, 1], 1.0, "none")
    with pytest.raises(ValueError, match="tarea desconocida"):
        ef.Task("mnist", np.zeros((1, 2)), [0], np.zeros((1, 2)), [0], classes="0")


# -------------------------------------------------------------------------- reuse or rebuild
def test_reusable_model_rule(tmp_path, monkeypatch, capsys):
    path = tmp_path / "cnn.keras"
    assert not ef.reusable_model(path, input_shape=(3,), n_outputs=2)
    assert "la entrenamos ahora" in capsys.readouterr().out
    _tiny_model().save(path)
    assert ef.reusable_model(path, input_shape=(3,), n_outputs=2)
    assert "Se reutiliza" in capsys.readouterr().out
    assert not ef.reusable_model(path, input_shape=(3,), n_outputs=5)     # another model: rebuilt
    path.write_bytes(b"not a model")
    monkeypatch.setenv("TL_DATA", "auto")
    assert not ef.reusable_model(path, input_shape=(3,), n_outputs=2)
    monkeypatch.setenv("TL_DATA", "real")
    with pytest.raises(DataError, match="borra ese fichero"):
        ef.reusable_model(path, input_shape=(3,), n_outputs=2)


# ------------------------------------------------------------------------ tables to analyse
SEED_NOISE = [-0.01, 0.0, 0.01]


def _table(means: dict, ks=(1, 5, 20), task="mnist_0-4_to_5-9", n_classes=5, noise=SEED_NOISE, letters=None):
    """One row per approach, k and seed: ``means[approach][i]`` at ``ks[i]``, plus ``noise[seed]``."""
    rows = []
    for approach, values in means.items():
        for k, mean in zip(ks, values):
            for seed, delta in enumerate(noise):
                rows.append(dict(task=task, k=k, approach=approach, seed=seed, n_train=n_classes * k,
                                 test_accuracy=mean + delta,
                                 test_accuracy_letters=np.nan if letters is None else mean + delta - letters,
                                 train_seconds=1.0, data="real", weights="none"))
    return pd.DataFrame(rows, columns=ef.CSV_COLUMNS)


TRANSFER_PAYS = {"scratch": [0.20, 0.40, 0.70], "mnist_frozen": [0.40, 0.50, 0.70],
                 "random_frozen": [0.15, 0.30, 0.50]}


def test_save_csv_writes_the_columns_atomically():
    path = ef.save_csv(_table(TRANSFER_PAYS))
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["task", "k", "approach", "seed", "n_train", "test_accuracy", "test_accuracy_letters",
                       "train_seconds", "data", "weights"]
    assert len(rows) == 1 + 27
    assert sorted(p.name for p in path.parent.iterdir()) == ["data_efficiency.csv"]   # no temporary file left
    bad = _table(TRANSFER_PAYS)
    bad.loc[0, "test_accuracy"] = 1.5
    with pytest.raises(ValueError):
        ef.save_csv(bad)
    with pytest.raises(ValueError, match="tareas desconocidas"):
        ef.save_csv(_table(TRANSFER_PAYS, task="otra"))
    assert len(ef.read_csv()) == 27                    # the good table is still there


def test_paired_differences_seed_by_seed():
    diff = ef.paired(_table(TRANSFER_PAYS), "mnist_frozen", "scratch")
    assert diff.loc[1, "mean"] == pytest.approx(0.20) and diff.loc[1, "std"] == pytest.approx(0.0)
    assert diff.loc[1, "verdict"] == "a" and diff.loc[20, "verdict"] == "="     # 0 points at k = 20
    noisy = _table({"scratch": [0.50], "mnist_frozen": [0.52]}, ks=(5,), noise=[0.0, 0.0, 0.0])
    noisy.loc[(noisy["approach"] == "mnist_frozen") & (noisy["seed"] == 2), "test_accuracy"] = 0.45
    row = ef.paired(noisy, "mnist_frozen", "scratch").loc[5]
    assert row["verdict"] == "=" and row["low"] == pytest.approx(-0.05) and row["high"] == pytest.approx(0.02)
    with pytest.raises(ValueError, match="mezcla tareas"):
        ef.paired(pd.concat([_table(TRANSFER_PAYS), _table(TRANSFER_PAYS, task="emnist_balanced")]),
                  "mnist_frozen", "scratch")


def test_conclusions_when_transfer_pays():
    lines = ef.conclusions(_table(TRANSFER_PAYS), budget=BUDGET)
    text = "\n".join(lines)
    assert lines[0] == "¿Compensa transferir? Base MNIST congelada − desde cero, semilla a semilla:"
    assert "k = 1: +20,0 puntos (de +20,0 a +20,0) → sí, gana la base aprendida" in text
    assert "k = 20: 0,0 puntos" in text and "no se distingue con 3 semillas" in text
    assert "¿Lo aprendido o la arquitectura?" in text and "lo aprendido: gana a la base aleatoria" in text
    assert "supera a «desde cero» con k = 1, 5; a partir de k = 20 ya no." in text
    # scratch reaches 50 % (transfer at k = 5) between k = 5 (40 %) and 20 (70 %): 5·4^(1/3) ≈ 7.9, a rough reading
    assert ef.k_to_reach(ef.summary(_table(TRANSFER_PAYS)), "scratch", 0.5) == pytest.approx(5 * 4 ** (1 / 3))
    assert "Lectura aproximada" in text and "unas 8 imágenes por clase" in text
    assert lines[-1].startswith("Todos los k entrenaron 10 épocas")


def test_conclusions_when_the_random_base_beats_from_scratch():
    """Random conv features can beat a network from scratch with few labels: said, never an error."""
    table = _table({"scratch": [0.40, 0.75, 0.90], "mnist_frozen": [0.48, 0.80, 0.92],
                    "random_frozen": [0.45, 0.78, 0.87]})
    text = "\n".join(ef.conclusions(table))
    assert "Y la base aleatoria frente a desde cero" in text
    assert "k = 1: +5,0 puntos (de +5,0 a +5,0) → gana la base aleatoria" in text
    assert "k = 5: +2,0 puntos (de +2,0 a +2,0) → lo aprendido: gana a la base aleatoria" in text   # the control


def test_conclusions_when_transfer_does_not_pay():
    table = _table({"scratch": [0.30, 0.60, 0.85], "mnist_frozen": [0.25, 0.50, 0.70],
                    "mnist_finetuned": [0.28, 0.55, 0.80], "random_frozen": [0.27, 0.55, 0.72]},
                   ks=(1, 5, 20), task="emnist_balanced", n_classes=47, letters=0.02)
    lines = ef.conclusions(table, budget=BUDGET)
    text = "\n".join(lines)
    assert text.count("no, gana desde cero") == 3
    assert "la arquitectura: la base aleatoria gana" in text           # random − learned = +2 points, every seed
    assert "no supera a «desde cero» en ningún k medido (1 a 20)" in text
    assert "Lectura aproximada" not in text
    assert "dejó k = 20 en" in lines[-1]
    letters = ef.conclusions(table, "test_accuracy_letters", brief=True)
    assert len(letters) == 2 * (1 + 3) and "Y la base aleatoria" not in "\n".join(letters)


def test_spanish_table_with_and_without_letters():
    wide = ef.spanish_table(_table(TRANSFER_PAYS))
    assert list(wide.columns) == ["imágenes", "desde cero", "congelada", "aleatoria"]
    assert wide.loc[5, "desde cero"] == "40,0 % ± 1,0" and wide.loc[20, "imágenes"] == "100"
    both = ef.spanish_table(_table(TRANSFER_PAYS, task="emnist_balanced", n_classes=47, letters=0.05))
    assert both.index.names == ["k", "clases"]
    assert both.loc[(5, "letras"), "congelada"] == "45,0 % ± 1,0" and both.loc[(5, "todas"), "imágenes"] == "235"


def test_figure_lines_differ_without_colour_and_carry_their_numbers(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    table = _table({**TRANSFER_PAYS, "mnist_finetuned": [0.41, 0.50, 0.71]})
    fig = ef.plot_efficiency(table, "Prueba", path=tmp_path / "f.png", show=False)
    assert (tmp_path / "f.png").stat().st_size > 0
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylim() == (0, 1)
    styles = {(line.get_linestyle(), line.get_marker()) for line in ax.get_lines()
              if line.get_marker() not in ("None", "_")}             # not the chance line, not the caps
    assert len(styles) == 4                            # frozen and fine-tuned told apart by style and marker
    alt = ef.alt_text(table)
    assert "k = 5: desde cero 40,0 %, base MNIST congelada 50,0 %" in alt and "dígitos 5–9" in alt
    letters = _table(TRANSFER_PAYS, task="emnist_balanced", n_classes=47, letters=0.05)
    assert len(ef.plot_efficiency(letters, "Prueba", show=False).axes) == 2
    assert "solo las letras: desde cero 35,0 %" in ef.alt_text(letters)


# ------------------------------------------------------------------ notebook 04's ResNet50 cache
def test_resnet50_is_left_out_without_an_imagenet_cache(capsys):
    from tlcourse.sources import LoadedData

    x = np.zeros((4, 28, 28), np.uint8)
    emnist = LoadedData((x, np.zeros(4, int)), (x, np.zeros(4, int)), name="EMNIST balanced",
                        source="synthetic", description="prueba", classes="ab")
    assert ef.resnet50_cached_features(emnist, x, x) is None
    assert "ResNet50 queda fuera" in capsys.readouterr().out


def test_resnet50_cache_of_notebook_04_is_read_only_for_its_own_images(monkeypatch, tmp_path):
    """A cache written as notebook 04 writes it with ImageNet weights is found and sliced to our images.

    There are no ImageNet weights offline: ResNet50 is built here with random weights (seed 42) both
    when the cache is written and when it is read, which is all the fingerprint check needs.
    """
    import keras

    from tlcourse import pretrained
    from tlcourse.sources import LoadedData

    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "synthetic")
    real_resnet50 = keras.applications.ResNet50

    def resnet50(**kwargs):
        keras.utils.set_random_seed(42)
        return real_resnet50(**{**kwargs, "weights": None})

    weights = tmp_path / "resnet50_notop.h5"
    weights.write_bytes(b"pesos")
    monkeypatch.setattr(keras.applications, "ResNet50", resnet50)
    monkeypatch.setattr(pretrained, "resnet50_weights_candidates", lambda: [weights])
    monkeypatch.setattr(pretrained, "weights_file_problem", lambda path: None)
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 255, (30, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 255, (12, 28, 28), dtype=np.uint8)
    emnist = LoadedData((x_train, np.zeros(30, int)), (x_test, np.zeros(12, int)), name="EMNIST balanced",
                        source="synthetic", description="prueba", classes="ab")
    base = resnet50(include_top=False, weights="imagenet", input_shape=(32, 32, 3))
    key = pretrained.resnet50_features_fingerprint(base, x_train[:20], x_test[:10])   # as notebook 04 writes it
    features_train = rng.random((20, 1, 1, 2048), dtype=np.float32)
    features_test = rng.random((10, 1, 1, 2048), dtype=np.float32)
    path = pretrained.features_path("resnet50", source="synthetic", weights="imagenet", n=30)
    pretrained.save_features(path, fingerprint=key, features_train=features_train, features_test=features_test)
    found = ef.resnet50_cached_features(emnist, x_train[:15], x_test[:8])
    assert found is not None
    assert np.array_equal(found[0], features_train[:15].reshape(15, 2048))
    assert np.array_equal(found[1], features_test[:8].reshape(8, 2048))
    assert ef.resnet50_cached_features(emnist, x_train[:25], x_test[:8]) is None      # more images than cached
    assert ef.resnet50_cached_features(emnist, x_train[1:16], x_test[:8]) is None     # other images
