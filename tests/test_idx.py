"""The IDX reader (tlcourse.idx): the file format of MNIST and EMNIST.

An IDX file is a 4-byte magic number (0, 0, type code, number of dimensions), one big-endian
uint32 per dimension, and then the values. These tests write small IDX files and read them
back, check that damaged files are refused with a message naming the file, and finally read
the real MNIST files against the facts listed in their README.
"""

import gzip

import numpy as np
import pytest

from conftest import SHARED_MNIST
from tlcourse.idx import encode_idx, parse_idx, read_idx


def small_images():
    """Three 28×28 uint8 images with different content (so a wrong reshape would show)."""
    return np.arange(3 * 28 * 28, dtype=np.uint32).reshape(3, 28, 28).astype(np.uint8)


def test_round_trip_images_3d():
    """encode_idx → parse_idx gives back the same 3-D uint8 array (shape, dtype and values)."""
    images = small_images()
    back = parse_idx(encode_idx(images))
    assert back.shape == (3, 28, 28)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, images)


def test_round_trip_labels_1d():
    """A 1-D uint8 array (a label file) also survives the round trip."""
    labels = np.array([5, 0, 4, 1, 9, 2, 1, 3, 1, 4], dtype=np.uint8)
    back = parse_idx(encode_idx(labels))
    assert back.shape == (10,)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, labels)


def test_header_is_the_documented_one():
    """The bytes start with 0, 0, 0x08 (uint8), 3 (dims), then 3, 28, 28 as big-endian uint32."""
    data = encode_idx(small_images())
    assert data[:4] == bytes([0, 0, 0x08, 3])
    assert data[4:16] == (3).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    assert len(data) == 16 + 3 * 28 * 28


def test_read_idx_gzip_file(tmp_path):
    """read_idx decompresses a ``.gz`` file transparently."""
    images = small_images()
    path = tmp_path / "imagenes-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(encode_idx(images)))
    np.testing.assert_array_equal(read_idx(path), images)


def test_read_idx_uncompressed_file(tmp_path):
    """A file without ``.gz`` is read as plain IDX."""
    labels = np.arange(47, dtype=np.uint8)
    path = tmp_path / "etiquetas-idx1-ubyte"
    path.write_bytes(encode_idx(labels))
    np.testing.assert_array_equal(read_idx(path), labels)


def test_truncated_bytes_raise_value_error_with_name():
    """Data shorter than the header announces is refused, and the message says which data."""
    data = encode_idx(small_images())[:-100]
    with pytest.raises(ValueError, match="mis-datos") as info:
        parse_idx(data, name="mis-datos")
    assert "truncado" in str(info.value)


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "sin-comprimir"])
def test_truncated_file_names_the_file(tmp_path, compress):
    """A truncated IDX file raises ValueError whose message contains the file name."""
    data = encode_idx(small_images())[:-1]
    name = "train-images-idx3-ubyte.gz" if compress else "train-images-idx3-ubyte"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ValueError, match=name):
        read_idx(path)


def test_extra_bytes_are_refused():
    """Trailing bytes after the announced data are also a damaged file."""
    with pytest.raises(ValueError, match="datos"):
        parse_idx(encode_idx(small_images()) + b"\x00")


@pytest.mark.parametrize("magic", [
    b"\x1f\x8b\x08\x03",   # a gzip header: the file was not decompressed
    b"\x00\x01\x08\x03",   # second byte must be 0
    b"\x00\x00\x42\x03",   # unknown type code
    b"\x00\x00\x08\x00",   # zero dimensions
], ids=["gzip", "byte-1", "tipo", "cero-dims"])
def test_bad_magic_raises(magic):
    """A header that is not IDX is refused with 'no es IDX' and the given name."""
    data = magic + encode_idx(small_images())[4:]
    with pytest.raises(ValueError, match="fichero.bin: la cabecera no es IDX"):
        parse_idx(data, name="fichero.bin")


def test_truncated_header_raises():
    """Fewer bytes than the dimensions need: 'cabecera IDX truncada'."""
    with pytest.raises(ValueError, match="cabecera IDX truncada"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0]), name="x")


# ----------------------------------------------------------------------------- the real MNIST
needs_mnist = pytest.mark.skipif(not (SHARED_MNIST / "train-labels-idx1-ubyte.gz").exists(),
                                 reason=f"no están los ficheros de MNIST en {SHARED_MNIST}")


@pytest.fixture(scope="module")
def mnist():
    """The four real MNIST arrays, read once for all the tests below."""
    return {name: read_idx(SHARED_MNIST / f"{name}-ubyte.gz")
            for name in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")}


@needs_mnist
def test_real_mnist_shapes(mnist):
    """README: 60,000 training and 10,000 test images of 28×28 uint8, one label per image."""
    assert mnist["train-images-idx3"].shape == (60_000, 28, 28)
    assert mnist["t10k-images-idx3"].shape == (10_000, 28, 28)
    assert mnist["train-labels-idx1"].shape == (60_000,)
    assert mnist["t10k-labels-idx1"].shape == (10_000,)
    for array in mnist.values():
        assert array.dtype == np.uint8


@needs_mnist
def test_real_mnist_first_labels(mnist):
    """README: the first ten training labels are 5 0 4 1 9 2 1 3 1 4."""
    assert mnist["train-labels-idx1"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


@needs_mnist
def test_real_mnist_label_counts(mnist):
    """README: the training label counts per digit 0..9."""
    counts = np.bincount(mnist["train-labels-idx1"], minlength=10)
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@needs_mnist
def test_real_mnist_images_are_upright_digits(mnist):
    """Sanity: pixels span 0..255 and the digits sit in the middle (the border is mostly dark)."""
    images = mnist["train-images-idx3"]
    assert images.min() == 0 and images.max() == 255
    assert images[:, :, :3].mean() < 1 and images[:, 10:18, 10:18].mean() > 50
