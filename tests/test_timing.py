"""tlcourse.timing: the per-batch clock for fit, and the kernel's peak memory."""

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
