"""tlcourse.timing: the clocks for fit, notebook 04's time figure, and the kernel's peak memory."""

import numpy as np
import pytest

import tlcourse


def test_batch_clock_times_each_training_batch():
    import keras

    x, y = np.zeros((40, 3), "float32"), np.zeros(40, "int64")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    clock = tlcourse.batch_clock()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[clock])
    assert len(clock.seconds) == 5 and all(s > 0 for s in clock.seconds)
    assert clock.first() == clock.seconds[0]
    assert clock.typical() == pytest.approx(float(np.median(clock.seconds[1:-1])))
    assert clock.preparation() == pytest.approx(max(clock.first() - clock.typical(), 0.0))


def test_batch_clock_arithmetic():
    clock = tlcourse.batch_clock()
    clock.seconds = [5.0, 1.0, 1.2, 0.8, 0.3]        # the graph in the first; a small last batch
    assert clock.typical() == 1.0 and clock.preparation() == 4.0
    clock.seconds = [0.5, 1.0]
    assert clock.preparation() == 0.0                 # never negative
    with pytest.raises(ValueError):
        tlcourse.batch_clock().first()


def test_peak_memory_is_plausible():
    peak = tlcourse.peak_memory_gib()
    assert 0.01 < peak < 64
    big = np.ones(64 * 2**20 // 8)                    # 64 MiB touched
    assert tlcourse.peak_memory_gib() >= peak and big.sum() > 0


def test_setup_cannot_turn_onednn_off_after_tensorflow(monkeypatch, capsys):
    """TensorFlow reads TF_ENABLE_ONEDNN_OPTS only at import: setup says so instead of pretending."""
    import tensorflow  # noqa: F401  (imported: too late for the variable)

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    tlcourse.setup(seed=1, onednn=False)
    out = capsys.readouterr().out
    assert "reinicia el kernel" in out and "TF_ENABLE_ONEDNN_OPTS" not in __import__("os").environ


def test_setup_turns_onednn_off_before_tensorflow(tmp_path):
    import subprocess
    import sys

    code = ("import os, sys, tlcourse; tlcourse.setup(seed=1, onednn=False); "
            "print(os.environ['TF_ENABLE_ONEDNN_OPTS'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                            cwd=tlcourse.config.NOTEBOOKS_DIR)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0" and "oneDNN desactivado" in result.stdout


def _tiny(seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def _datasets():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)).astype("float32"), rng.integers(0, 2, 40)
    return (tf.data.Dataset.from_tensor_slices((x[:32], y[:32])).batch(8),
            tf.data.Dataset.from_tensor_slices((x[32:], y[32:])).batch(8))


def test_fit_clock_warms_validation_first_and_times_both_kinds_of_batch():
    """M8: the validation graph is built before the clock starts, and training is not changed by it."""
    train, val = _datasets()
    model = _tiny()
    clock = tlcourse.timing.fit_clock(warm_up=val.take(1))
    model.fit(train, validation_data=val, epochs=2, shuffle=False, verbose=0, callbacks=[clock])
    assert clock.warm_up_seconds > 0 and clock.epochs == 2
    assert len(clock.seconds) == 8 and len(clock.validation_seconds) == 2      # 4 + 4 training, 1 + 1 validation
    assert 0 < clock.epoch_seconds() <= clock.wall_seconds / 2 + 1e-9
    assert clock.preparation() >= clock.warm_up_seconds
    plain = _tiny()
    plain.fit(train, validation_data=val, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)                                   # the warm-up trains nothing


def test_fit_clock_arithmetic():
    clock = tlcourse.timing.fit_clock()
    clock.seconds, clock.warm_up_seconds, clock.wall_seconds, clock.epochs = [5.0, 1.0, 1.2, 0.8, 0.3], 2.0, 12.0, 1
    assert clock.preparation() == 6.0                                         # 2 of warm-up + 5 - 1 in the first batch
    assert clock.epoch_seconds() == 8.0                                       # 12 - 4
    assert clock.estimate(epochs=10, images=20, measured_images=10) == 6.0 + 10 * 8.0 * 2
    with pytest.raises(ValueError):
        tlcourse.timing.fit_clock().preparation()


@pytest.mark.parametrize("direct, unit", [(90.0, "segundos"), (600.0, "minutos")])
def test_training_times_figure_has_alt_text_and_a_readable_unit(monkeypatch, direct, unit):
    shown = {}
    monkeypatch.setattr(tlcourse, "show_figure", lambda fig, alt: shown.update(fig=fig, alt=alt))
    tlcourse.timing.plot_training_times(direct, 20.0, 4.0, epochs=10, n_images=5120, base="pesos ALEATORIOS")
    ax = shown["fig"].axes[0]
    assert ax.get_xlabel() == f"tiempo de entrenamiento ({unit})"
    assert "pesos ALEATORIOS" in ax.get_title()
    assert "forma directa tarda" in shown["alt"] and "24,0 s" in shown["alt"] and "5.120 imágenes" in shown["alt"]
    hatches = {patch.get_hatch() for patch in ax.patches}
    assert len(hatches) == 3                                                  # told apart without colour
