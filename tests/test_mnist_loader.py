"""load_mnist: the real files when they are sound, a clear error or the synthetic stand-in when not.

Each test has its own data cache (conftest.py). The real files are copied from the shared
folder into ``<data>/mnist/``; Keras' own cache is pointed at an empty temporary folder, and
the network is off (conftest.py), so Keras' downloader fails as it would offline.
"""

import shutil
import time

import numpy as np
import pytest
import requests

from conftest import SHARED_MNIST
from tlcourse import DataError, load_mnist
from tlcourse.datasets import MNIST_FILES

keras = pytest.importorskip("keras")

needs_mnist = pytest.mark.skipif(not all((SHARED_MNIST / n).exists() for n in MNIST_FILES),
                                 reason=f"no están los ficheros de MNIST en {SHARED_MNIST}")


@pytest.fixture(autouse=True)
def empty_keras_cache(tmp_path, monkeypatch):
    """Keras looks for mnist.npz in an empty folder of this test, not in ~/.keras."""
    import keras.src.backend.config as keras_config
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "keras"))


@pytest.fixture
def mnist_dir(data_dir):
    """<data>/mnist/ seeded with copies of the four official .gz files."""
    folder = data_dir / "mnist"
    folder.mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copyfile(SHARED_MNIST / name, folder / name)
    return folder


def flip_bytes(path, position, count=8):
    """Damage a file in place: invert ``count`` bytes starting at ``position`` (negative: from the end)."""
    data = bytearray(path.read_bytes())
    start = position % len(data)
    for i in range(start, start + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path, keep=0.5):
    """Cut a file to a fraction of its size, like an interrupted copy."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# ------------------------------------------------------------------------------- sound files
@needs_mnist
def test_real_files_are_used(mnist_dir, monkeypatch):
    """Sound files in <data>/mnist/: source 'real', Keras' shapes, and the description says md5-checked."""
    monkeypatch.setenv("TL_DATA", "real")
    data = load_mnist()
    (x_train, y_train), (x_test, y_test) = data
    assert data.source == "real" and not data.is_synthetic and data.tag == ""
    assert x_train.shape == (60_000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60_000,)
    assert x_test.shape == (10_000, 28, 28) and y_test.shape == (10_000,)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert str(mnist_dir) in data.description and "md5" in data.description


@needs_mnist
def test_real_files_quick_mode(mnist_dir, monkeypatch, capsys):
    """TL_QUICK=1: the same real files, a 12,000 / 2,000 subsample (the same on every call)."""
    monkeypatch.setenv("TL_QUICK", "1")
    data = load_mnist()
    (x_train, y_train), (x_test, y_test) = data
    assert data.source == "real"
    assert x_train.shape == (12_000, 28, 28) and y_train.shape == (12_000,)
    assert x_test.shape == (2_000, 28, 28) and y_test.shape == (2_000,)
    assert set(np.unique(y_train)) == set(range(10))
    np.testing.assert_array_equal(load_mnist()[0][1], y_train)
    out = capsys.readouterr().out
    assert "12.000" in out and "modo rápido" in out and "SINTÉTICOS" not in out


# ------------------------------------------------------------------------------ damaged files
# Where a file is damaged decides how gzip notices: bytes flipped near the end of the compressed
# stream decompress to wrong content (CRC / md5 mismatch); a truncated file ends too early.
CAUGHT_DAMAGE = {
    "bytes-cambiados": lambda path: flip_bytes(path, -20),
    "truncado": truncate,
}


@needs_mnist
@pytest.mark.parametrize("damage", CAUGHT_DAMAGE.values(), ids=CAUGHT_DAMAGE.keys())
def test_damaged_file_real_mode_raises(mnist_dir, monkeypatch, damage):
    """TL_DATA=real with a damaged file: DataError naming the file, saying md5 or dañado/truncado."""
    monkeypatch.setenv("TL_DATA", "real")
    damage(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataError) as info:
        load_mnist()
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert "md5" in message or "dañado o truncado" in message
    assert "Qué hacer" in message


@needs_mnist
@pytest.mark.parametrize("damage", CAUGHT_DAMAGE.values(), ids=CAUGHT_DAMAGE.keys())
def test_damaged_file_auto_mode_falls_back(mnist_dir, monkeypatch, capsys, damage):
    """TL_DATA=auto with a damaged file: it says why, and goes on with synthetic data and a banner."""
    monkeypatch.setenv("TL_QUICK", "1")
    damage(mnist_dir / "train-labels-idx1-ubyte.gz")
    data = load_mnist()
    assert data.source == "synthetic" and data.tag == " (datos sintéticos)"
    assert data[0][0].shape == (12_000, 28, 28)
    out = capsys.readouterr().out
    assert "train-labels-idx1-ubyte.gz" in out
    assert "SINTÉTICOS" in out


@needs_mnist
@pytest.mark.parametrize("mode", ["real", "auto"])
def test_corrupt_deflate_stream_is_reported(mnist_dir, monkeypatch, mode):
    """Bytes flipped early in the compressed stream make zlib fail ('invalid distance too far back'):
    like any other damage, real mode should raise DataError and auto mode should fall back."""
    monkeypatch.setenv("TL_DATA", mode)
    monkeypatch.setenv("TL_QUICK", "1")
    flip_bytes(mnist_dir / "t10k-labels-idx1-ubyte.gz", 100)
    if mode == "real":
        with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
            load_mnist()
    else:
        assert load_mnist().source == "synthetic"


@needs_mnist
def test_missing_file_is_named(mnist_dir, monkeypatch):
    """One of the four files missing: the message lists it."""
    monkeypatch.setenv("TL_DATA", "real")
    (mnist_dir / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="faltan en .*t10k-images-idx3-ubyte.gz"):
        load_mnist()


# --------------------------------------------------------------------------------- no data
def test_real_mode_empty_cache_fails_fast(monkeypatch, data_dir):
    """TL_DATA=real, nothing cached, no network: a DataError within 10 s that says what to do."""
    monkeypatch.setenv("TL_DATA", "real")
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        load_mnist()
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert "TL_DATA=real" in message
    assert "Qué hacer" in message
    assert str(data_dir / "mnist") in message                       # where to put the files
    assert "keras.datasets.mnist.load_data() falló" in message      # Keras' downloader was tried


def test_auto_mode_empty_cache_falls_back(monkeypatch, capsys):
    """TL_DATA=auto (the default), nothing cached, no network: synthetic data with the banner."""
    monkeypatch.setenv("TL_QUICK", "1")
    data = load_mnist()
    assert data.source == "synthetic"
    out = capsys.readouterr().out
    assert "seguimos con datos sintéticos" in out and "SINTÉTICOS" in out


def test_synthetic_mode_never_touches_the_network(monkeypatch, capsys, data_dir):
    """TL_DATA=synthetic: neither Keras' downloader nor requests is called, even with no files."""
    def forbidden(*args, **kwargs):
        raise AssertionError("TL_DATA=synthetic no debe usar la red")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", forbidden)
    monkeypatch.setattr(requests, "get", forbidden)
    monkeypatch.setenv("TL_DATA", "synthetic")
    monkeypatch.setenv("TL_QUICK", "1")

    data = load_mnist()
    (x_train, y_train), (x_test, y_test) = data
    assert data.source == "synthetic"
    assert x_train.shape == (12_000, 28, 28) and x_test.shape == (2_000, 28, 28)
    assert x_train.dtype == np.uint8 and set(np.unique(y_train)) == set(range(10))
    assert "SINTÉTICOS" in capsys.readouterr().out
    assert not (data_dir / "mnist").exists()                        # no real-data folder was even looked for
