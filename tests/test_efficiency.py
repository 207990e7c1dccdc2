"""Notebook 06's plumbing (tlcourse.efficiency): the subsets, the schedule, restarts, the CSV, the conclusions.

conftest.py points ``tlcourse.config.REPO_DIR`` at ``tmp_path/repo``, so files written here go to
``tmp_path/repo/tmp/``, never to the repository's own ``tmp/``.
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


def test_training_steps_are_clipped_epochs():
    assert ef.training_steps(640, batch_size=64, epochs=15, min_steps=40, max_steps=200) == 150
    assert ef.training_steps(47, batch_size=64, epochs=15, min_steps=40, max_steps=200) == 40
    assert ef.training_steps(9400, batch_size=64, epochs=15, min_steps=40, max_steps=200) == 200


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


# -------------------------------------------------------------------------- reuse or rebuild
def test_reusable_model_rule(tmp_path, monkeypatch, capsys):
    path = tmp_path / "cnn.keras"
    assert not ef.reusable_model(path, input_shape=(3,), n_outputs=2)
    assert "lo entrenamos ahora" in capsys.readouterr().out
    _tiny_model().save(path)
    assert ef.reusable_model(path, input_shape=(3,), n_outputs=2)
    assert "Reutilizo" in capsys.readouterr().out
    assert not ef.reusable_model(path, input_shape=(3,), n_outputs=5)     # another model: rebuilt
    path.write_bytes(b"not a model")
    monkeypatch.setenv("TL_DATA", "auto")
    assert not ef.reusable_model(path, input_shape=(3,), n_outputs=2)
    monkeypatch.setenv("TL_DATA", "real")
    with pytest.raises(DataError, match="borra ese fichero"):
        ef.reusable_model(path, input_shape=(3,), n_outputs=2)


# ------------------------------------------------------------------------ experiment and CSV
def _fake_table():
    """Transfer wins by 20 points at k=1, 10 at k=5, ties at k=20 (seeds differ by ±1 point)."""
    means = {"scratch": [0.20, 0.40, 0.70], "mnist_frozen": [0.40, 0.50, 0.70], "random_frozen": [0.15, 0.30, 0.50]}
    rows = []
    for approach, values in means.items():
        for k, mean in zip([1, 5, 20], values):
            for seed, delta in enumerate([-0.01, 0.0, 0.01]):
                rows.append(dict(k=k, approach=approach, seed=seed, n_train=47 * k, test_accuracy=mean + delta,
                                 train_seconds=1.0, data="synthetic", weights="none"))
    return pd.DataFrame(rows, columns=ef.CSV_COLUMNS)


def test_save_csv_writes_the_columns_atomically():
    path = ef.save_csv(_fake_table())
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["k", "approach", "seed", "n_train", "test_accuracy", "train_seconds", "data", "weights"]
    assert len(rows) == 1 + 27
    assert sorted(p.name for p in path.parent.iterdir()) == ["data_efficiency.csv"]   # no temporary file left
    bad = _fake_table()
    bad.loc[0, "test_accuracy"] = 1.5
    with pytest.raises(ValueError):
        ef.save_csv(bad)
    assert len(ef.read_csv()) == 27                    # the good table is still there


def test_run_experiment_rows_and_chained_seconds():
    y = np.repeat(np.arange(3), 10)
    seen = []

    def first(rows, seed):
        seen.append(("first", tuple(rows)))
        return 0.5

    def second(rows, seed):
        seen.append(("second", tuple(rows)))
        return 0.6

    table = ef.run_experiment({"scratch": first, "mnist_frozen": second}, ks=[1, 2], seeds=[0, 1], y_pool=y,
                              data="synthetic", weights={"scratch": "none", "mnist_frozen": "mnist"},
                              starts_from={"mnist_frozen": "scratch"})
    assert list(table.columns) == ef.CSV_COLUMNS and len(table) == 8
    assert table["n_train"].tolist() == [3, 3, 6, 6] * 2
    assert seen[0][1] == seen[1][1]                       # the same images for every approach
    pairs = table.pivot_table(index=["k", "seed"], columns="approach", values="train_seconds")
    assert (pairs["mnist_frozen"] >= pairs["scratch"]).all()
    with pytest.raises(ValueError, match="tiene que ir antes"):
        ef.run_experiment({"scratch": first, "mnist_frozen": second}, ks=[1], seeds=[0], y_pool=y, data="synthetic",
                          weights={}, starts_from={"scratch": "mnist_frozen"})


def test_conclusions_follow_the_numbers():
    lines = ef.conclusions(_fake_table())
    text = "\n".join(lines)
    assert "k = 1:" in lines[0] and "+20,0 puntos → gana" in lines[0]
    assert "empata" in lines[2]
    assert "no se cruzan" not in text
    # scratch reaches 50 % (transfer at k=5) between k=5 (40 %) and k=20 (70 %), log-interpolated: 5·4^(1/3) ≈ 7.9
    assert ef.k_to_reach(ef.summary(_fake_table()), "scratch", 0.5) == pytest.approx(5 * 4 ** (1 / 3))
    assert "unas 8 imágenes por clase" in text
    control = ef.conclusions(_fake_table(), "random_frozen", "scratch")
    assert all("pierde" in line for line in control[:3])


def test_spanish_table_and_figure(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    wide = ef.spanish_table(_fake_table())
    assert list(wide.columns) == ["imágenes de entrenamiento", "desde cero", "base MNIST congelada",
                                  "base aleatoria congelada (control)"]
    assert wide.loc[5, "desde cero"] == "40,0 % ± 1,0"
    fig = ef.plot_efficiency(_fake_table(), "Prueba", path=tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_ylim() == (0, 1)


def test_random_resnet_is_labelled_as_such():
    table = _fake_table()
    extra = table[table["approach"] == "scratch"].assign(approach="resnet50_frozen", weights="random")
    wide = ef.spanish_table(pd.concat([table, extra], ignore_index=True))
    assert "ResNet50 congelada (¡pesos ALEATORIOS!)" in wide.columns
    wide = ef.spanish_table(pd.concat([table, extra.assign(weights="imagenet")], ignore_index=True))
    assert "ResNet50 congelada" in wide.columns


def test_resnet50_cache_of_notebook_04_is_read_only_for_its_own_images(monkeypatch):
    """A cache written as notebook 04 writes it (its images, a random base with seed 42) is found and sliced."""
    import keras

    from tlcourse import pretrained
    from tlcourse.sources import LoadedData

    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "synthetic")
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 255, (30, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 255, (12, 28, 28), dtype=np.uint8)
    emnist = LoadedData((x_train, np.zeros(30, int)), (x_test, np.zeros(12, int)), name="EMNIST balanced",
                        source="synthetic", description="prueba", classes="ab")
    keras.utils.set_random_seed(42)
    base = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    key = pretrained.resnet50_features_fingerprint(base, x_train[:20], x_test[:10])   # as notebook 04 writes it
    features_train = rng.random((20, 1, 1, 2048), dtype=np.float32)
    features_test = rng.random((10, 1, 1, 2048), dtype=np.float32)
    path = pretrained.features_path("resnet50", source="synthetic", weights="random", n=30)
    pretrained.save_features(path, fingerprint=key, features_train=features_train, features_test=features_test)
    found = ef.resnet50_cached_features(emnist, x_train[:15], x_test[:8])
    assert found is not None and found[2] == "random"
    assert np.array_equal(found[0], features_train[:15].reshape(15, 2048))
    assert np.array_equal(found[1], features_test[:8].reshape(8, 2048))
    assert ef.resnet50_cached_features(emnist, x_train[:25], x_test[:8]) is None      # more images than cached
    assert ef.resnet50_cached_features(emnist, x_train[1:16], x_test[:8]) is None     # other images
