"""The synthetic stand-ins (tlcourse.synthetic) and their cache in <data>/synthetic/.

The generator is what the notebooks fall back to without real data, so it has to look like the
real thing in shape and type, be the same on every run (seeded), balanced, and not trivial.
"""

import os
import time

import numpy as np
import pytest
import requests

from tlcourse import EMNIST_BALANCED_CLASSES, MNIST_CLASSES, load_emnist, load_mnist, synthetic


@pytest.fixture(scope="module")
def digits():
    """470 synthetic digits (seed 0), generated once for the tests that only look at them."""
    return synthetic.generate(MNIST_CLASSES, 470, seed=0)


def test_same_seed_same_images(digits):
    """Same classes, size and seed → exactly the same images and labels."""
    x, y = digits
    x2, y2 = synthetic.generate(MNIST_CLASSES, 470, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_different_seed_different_images(digits):
    """Another seed → other images and another label order."""
    x, y = digits
    x2, y2 = synthetic.generate(MNIST_CLASSES, 470, seed=1)
    assert not np.array_equal(x, x2)
    assert not np.array_equal(y, y2)


def test_shape_and_dtype(digits):
    """Like keras' MNIST: images (n, 28, 28) uint8, labels (n,) integers."""
    x, y = digits
    assert x.shape == (470, 28, 28) and x.dtype == np.uint8
    assert y.shape == (470,) and np.issubdtype(y.dtype, np.integer)


@pytest.mark.parametrize("chars, n", [(MNIST_CLASSES, 470), (MNIST_CLASSES, 105), (EMNIST_BALANCED_CLASSES, 100)],
                         ids=["10-clases-470", "10-clases-105", "47-clases-100"])
def test_labels_are_balanced(chars, n):
    """Every class appears, and the counts differ by at most one (n need not be a multiple)."""
    _, y = synthetic.generate(chars, n, seed=3)
    counts = np.bincount(y, minlength=len(chars))
    assert len(counts) == len(chars)
    assert counts.min() >= 1
    assert counts.max() - counts.min() <= 1


def test_images_are_not_blank(digits):
    """Every image has a bright stroke (max > 100) on a dark background (corners near 0)."""
    x, _ = digits
    assert (x.max(axis=(1, 2)) > 100).all()
    assert x[:, 0, 0].max() < 30


def test_images_vary_within_a_class(digits):
    """Within each class the images are not all the same picture (fonts and warps vary)."""
    x, y = digits
    for label in range(10):
        same_class = x[y == label]
        distinct = np.unique(same_class.reshape(len(same_class), -1), axis=0)
        assert len(distinct) == len(same_class), f"imágenes repetidas en la clase {label}"


def test_emnist_classes():
    """47 classes: 10 digits, 26 upper case, 11 lower case, with no character repeated."""
    assert len(EMNIST_BALANCED_CLASSES) == 47
    assert len(set(EMNIST_BALANCED_CLASSES)) == 47
    assert EMNIST_BALANCED_CLASSES.startswith("0123456789ABC")


# ------------------------------------------------------------------------ through the loaders
def refuse_network(monkeypatch):
    """Make any use of the downloaders a test failure (TL_DATA=synthetic must not download)."""
    def forbidden(*args, **kwargs):
        raise AssertionError("TL_DATA=synthetic no debe usar la red")
    monkeypatch.setattr(requests, "get", forbidden)


def test_emnist_quick_stand_in_is_cached(monkeypatch, capsys, data_dir):
    """TL_DATA=synthetic TL_QUICK=1: 9,400 + 1,880 images of 47 classes, saved in <data>/synthetic
    and reused on the second call (which does not generate again)."""
    monkeypatch.setenv("TL_DATA", "synthetic")
    monkeypatch.setenv("TL_QUICK", "1")
    refuse_network(monkeypatch)

    first = load_emnist("balanced")
    (x_train, y_train), (x_test, y_test) = first
    assert first.source == "synthetic" and first.is_synthetic
    assert x_train.shape == (9_400, 28, 28) and x_test.shape == (1_880, 28, 28)
    assert x_train.dtype == np.uint8
    assert len(first.classes) == 47
    assert set(np.unique(y_train)) == set(range(47))
    assert list((data_dir / "synthetic").iterdir()) == [data_dir / "synthetic" / "emnist-balanced-v1-9400-1880.npz"]

    second = load_emnist("balanced")
    np.testing.assert_array_equal(second[0][0], x_train)
    np.testing.assert_array_equal(second[1][1], y_test)

    out = capsys.readouterr().out
    assert out.count("Generando") == 1, out
    assert out.count("SINTÉTICOS") == 2          # the banner is shown every time, cached or not


def test_damaged_synthetic_cache_is_regenerated(monkeypatch, capsys, data_dir):
    """A damaged synthetic cache is not used: it is reported and generated again."""
    monkeypatch.setenv("TL_DATA", "synthetic")
    monkeypatch.setenv("TL_QUICK", "1")
    refuse_network(monkeypatch)
    cache = data_dir / "synthetic" / "mnist-v1-12000-2000.npz"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"esto no es un npz")

    (x_train, _), (x_test, _) = load_mnist()
    assert x_train.shape == (12_000, 28, 28) and x_test.shape == (2_000, 28, 28)
    out = capsys.readouterr().out
    assert "está dañada" in out and "Generando" in out
    with np.load(cache) as f:                   # the cache was rewritten with good data
        assert f["x_train"].shape == (12_000, 28, 28)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TL_SLOW_TESTS") != "1", reason="lento: activa con TL_SLOW_TESTS=1")
def test_full_emnist_size_in_a_minute():
    """Generating the full EMNIST balanced size (112,800 + 18,800 = 131,600 images) takes ≤ 60 s."""
    start = time.perf_counter()
    x_train, _ = synthetic.generate(EMNIST_BALANCED_CLASSES, 112_800, seed=47)
    x_test, _ = synthetic.generate(EMNIST_BALANCED_CLASSES, 18_800, seed=48)
    seconds = time.perf_counter() - start
    assert len(x_train) + len(x_test) == 131_600
    assert seconds <= 60, f"{seconds:.0f} s"
