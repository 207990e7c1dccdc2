"""Keras 3.15.1 behaviours the notebooks teach or work around, pinned by name.

Each test states the behaviour of the Keras version in requirements.txt. If a Keras upgrade
changes one, the test named after it fails: then read the upstream issue it cites, update the
notebook that teaches it (02 for saving, 05 for BatchNormalization) and this test.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

keras = pytest.importorskip("keras")

LOSS = "sparse_categorical_crossentropy"


def small_model(optimizer):
    """A tiny classifier compiled with ``optimizer``, as notebooks 01–02 compile theirs."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(loss=LOSS, optimizer=optimizer, metrics=["accuracy"])
    return model


def data(n=32):
    rng = np.random.default_rng(0)
    return rng.random((n, 4), dtype="float32"), rng.integers(0, 2, n)


def trained_model(optimizer):
    model = small_model(optimizer)
    x, y = data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)   # 4 steps: the optimizer has state
    return model


def optimizer_summary(optimizer):
    return type(optimizer).__name__, float(optimizer.learning_rate), int(optimizer.iterations)


# --- Saving to .h5 mutates the live model (keras-team/keras#23475, fixed upstream, not released in 3.15.1) ---

def test_h5_save_removes_the_optimizer_from_the_live_models_compile_config(tmp_path):
    """``saving_utils.model_metadata`` pops ``"optimizer"`` from ``model._compile_config`` when saving ``.h5``."""
    model = small_model(keras.optimizers.SGD(learning_rate=0.0123))
    assert "optimizer" in model._compile_config.config
    model.save(tmp_path / "m.h5")
    assert "optimizer" not in model._compile_config.config


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_keras_file_saved_after_an_h5_reloads_with_the_default_optimizer(tmp_path):
    """The trap: ``.h5`` then ``.keras`` gives a ``.keras`` whose optimizer is RMSprop (the default), fresh.

    The compiled SGD (learning rate 0.0123) and its 4 steps are lost without an error, only a
    UserWarning ("Skipping variable loading for optimizer": RMSprop has 2 + 4 variables, plain SGD
    2). When the counts happen to match (SGD with momentum) the saved state is even poured into
    RMSprop's slots. Notebook 02 avoids the trap (see below).
    """
    model = trained_model(keras.optimizers.SGD(learning_rate=0.0123))
    model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert optimizer_summary(reloaded.optimizer) == ("RMSprop", pytest.approx(0.001), 0)


def test_keras_file_saved_before_the_h5_keeps_the_optimizer(tmp_path):
    """The same saves in the other order: the ``.keras`` keeps the optimizer, its settings and its step count."""
    model = trained_model(keras.optimizers.SGD(learning_rate=0.0123, momentum=0.9))
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert optimizer_summary(reloaded.optimizer) == ("SGD", pytest.approx(0.0123), 4)


@pytest.mark.parametrize("order", ["keras_first", "h5_first", "cell_run_twice"])
def test_notebook_02_saves_keep_the_keras_optimizer_in_any_order(tmp_path, order):
    """Notebook 02 §5 saves ``.keras`` and ``.h5`` with ``include_optimizer=False`` on the ``.h5``.

    Without the optimizer the ``.h5`` save does not touch the compile config, so the ``.keras``
    keeps Adam and its moments whatever the order of the two saves, and when the cell runs twice.
    """
    model = trained_model(keras.optimizers.Adam(learning_rate=0.003))
    saves = {"keras_first": ["keras", "h5"], "h5_first": ["h5", "keras"],
             "cell_run_twice": ["keras", "h5", "keras", "h5"]}[order]
    for kind in saves:
        if kind == "h5":
            model.save(tmp_path / "m.h5", include_optimizer=False)   # as in notebook 02
        else:
            model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert optimizer_summary(reloaded.optimizer) == ("Adam", pytest.approx(0.003), 4)
    for saved, restored in zip(model.optimizer.variables, reloaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))   # same state, bit for bit
    # The .h5 without optimizer loads uncompiled: notebook 02 compiles it before training it.
    assert not keras.models.load_model(tmp_path / "m.h5").compiled


# --- What an .h5's optimizer_weights group holds, and why Keras 3 cannot continue from it ---

def test_h5_stores_adams_state_but_the_loaded_optimizer_cannot_use_it(tmp_path):
    """Notebook 02 §4: the ``.h5`` keeps Adam's step count, learning rate and two moments per weight array…

    …but ``legacy_h5_format.load_model_from_hdf5`` builds the optimizer with
    ``model._trainable_variables``, the variables the model object owns itself: none for a
    Sequential (they belong to its layers). So the restored Adam has only ``iteration`` and
    ``learning_rate``, ``set_weights`` fills just those two, and ``fit`` raises
    "Unknown variable … This optimizer can only be called for the variables it was originally built with".
    """
    model = trained_model("adam")
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        names = []
        f["optimizer_weights"].visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    n_arrays = len(model.trainable_variables)                       # 2 Dense layers: 2 kernels + 2 biases
    assert sum(n.endswith("_momentum") for n in names) == n_arrays   # first moment (mean of gradients)
    assert sum(n.endswith("_velocity") for n in names) == n_arrays   # second moment (mean of squared gradients)
    assert any(n.endswith("/iteration") for n in names) and any(n.endswith("/learning_rate") for n in names)

    loaded = keras.models.load_model(tmp_path / "m.h5")
    assert loaded._trainable_variables == [] and len(loaded.trainable_variables) == n_arrays
    assert [v.name for v in loaded.optimizer.variables] == ["iteration", "learning_rate"]
    assert int(loaded.optimizer.iterations) == 4                    # the step count did come back
    x, y = data()
    with pytest.raises(ValueError, match="Unknown variable"):
        loaded.fit(x, y, verbose=0)


# --- fit overrides an inner training=False (keras-team/keras#20285) ---

def model_with_inner_bn(bn_trainable: bool):
    """inputs → inner model (BatchNormalization) called with training=False → Dense, as notebook 05 builds ResNet50."""
    keras.utils.set_random_seed(0)
    inner_inputs = keras.Input(shape=(3,))
    bn = keras.layers.BatchNormalization(name="bn")
    inner = keras.Model(inner_inputs, bn(inner_inputs), name="inner")
    bn.trainable = bn_trainable
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Dense(2, activation="softmax")(inner(inputs, training=False))
    model = keras.Model(inputs, outputs)
    model.compile(loss=LOSS, optimizer="sgd")
    return model, bn


def one_fit_step(model):
    rng = np.random.default_rng(0)
    x = (5.0 + rng.standard_normal((16, 3))).astype("float32")   # mean 5: batch statistics far from 0 and 1
    model.fit(x, rng.integers(0, 2, 16), batch_size=16, epochs=1, verbose=0)


def test_fit_overrides_inner_training_false_so_trainable_bn_uses_batch_statistics():
    """Keras 3.15.1: ``fit`` calls the model with ``training=True`` and that wins over the inner ``training=False``.

    A trainable BatchNormalization inside the inner model therefore runs in batch mode during
    ``fit``: it normalises with the batch's statistics and updates its moving mean and variance
    (momentum 0.99: mean 0 → about 0.01 × 5 = 0.05 after one step). In Keras 2 (tf.keras) the
    inner ``training=False`` held. Notebook 05 sets ``bn.trainable = False`` for this reason.
    """
    model, bn = model_with_inner_bn(bn_trainable=True)
    one_fit_step(model)
    moving_mean = np.asarray(bn.moving_mean)
    assert np.all(moving_mean > 0.03), moving_mean                  # moved towards the batch mean of 5
    assert not np.allclose(np.asarray(bn.moving_variance), 1.0)


def test_frozen_bn_keeps_its_moving_statistics_during_fit():
    """With ``bn.trainable = False`` BatchNormalization runs in inference mode: one ``fit`` step leaves it as it was."""
    model, bn = model_with_inner_bn(bn_trainable=False)
    one_fit_step(model)
    np.testing.assert_array_equal(np.asarray(bn.moving_mean), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(bn.moving_variance), np.ones(3))


def test_notebook_02_saves_its_h5_without_the_optimizer():
    """The immunity above holds only while notebook 02 keeps ``include_optimizer=False`` on the ``.h5`` it saves
    from a model whose ``.keras`` it also saves (§5), and checks the optimizer the ``.keras`` brings back."""
    from pathlib import Path

    import nbformat

    path = Path(__file__).resolve().parents[1] / "notebooks" / "02_cargar_y_continuar.ipynb"
    sources = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    cell = next(s for s in sources if "model.save(keras_path)" in s)
    assert "model.save(h5_path, include_optimizer=False)" in cell
    assert "type(from_keras.optimizer) is type(model.optimizer)" in cell
