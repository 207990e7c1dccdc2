"""load_emnist and the NIST zip, tested with a tiny zip built here in NIST's real layout.

NIST's ``gzip.zip`` holds ``gzip/emnist-<dataset>-<train|test>-<images-idx3|labels-idx1>-ubyte.gz``
and stores every image *transposed* (columns as rows). The ``emnist`` package transposes them
back. The tiny zip below stores ``img.T`` like NIST, with lopsided images (an 'L' and a bright
dot at row 2, column 20), so an image that came back sideways or mirrored would be caught.

``EMNIST_SIZES`` / ``EMNIST_ZIP_SIZE`` are patched where needed so that load_emnist's checks
accept the tiny zip as if it were the 562 MB original.
"""

import gzip
import time
import zipfile

import emnist
import numpy as np
import pytest

import tlcourse
import tlcourse.datasets as datasets
from tlcourse import DataError, load_emnist
from tlcourse.datasets import EMNIST_URL, emnist_zip_problem, extract_with_emnist_package
from tlcourse.idx import encode_idx


def upright_images(labels):
    """One 28×28 uint8 image per label: an 'L', a bright dot at (2, 20) and a mark that depends on the label."""
    images = np.zeros((len(labels), 28, 28), np.uint8)
    images[:, 5:20, 5] = 200          # the L's vertical stroke…
    images[:, 19, 5:12] = 200         # …and its foot, to the right
    images[:, 2, 20] = 255            # a dot near the top right corner
    for i, label in enumerate(labels):
        images[i, 24, label % 28] = 100 + label   # so no two images are alike
        images[i, 26, label // 28] = 100
    return images


def write_nist_zip(path, train, test, dataset="balanced", compression=zipfile.ZIP_DEFLATED):
    """Write ``path`` as NIST does: gzip'ed IDX files inside gzip/, images transposed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for usage, (images, labels) in (("train", train), ("test", test)):
            stored = np.ascontiguousarray(images.transpose(0, 2, 1))   # img.T for every image
            zf.writestr(f"gzip/emnist-{dataset}-{usage}-images-idx3-ubyte.gz", gzip.compress(encode_idx(stored)))
            zf.writestr(f"gzip/emnist-{dataset}-{usage}-labels-idx1-ubyte.gz", gzip.compress(encode_idx(labels)))
    return path


@pytest.fixture
def tiny():
    """Train: labels 0..46 (one image per class); test: the same 47 classes in reverse order."""
    train_labels = np.arange(47, dtype=np.uint8)
    test_labels = train_labels[::-1].copy()
    return (upright_images(train_labels), train_labels), (upright_images(test_labels), test_labels)


@pytest.fixture(autouse=True)
def restore_emnist_package(monkeypatch):
    """extract_with_emnist_package changes emnist.CACHE_FILE_PATH; put it back after each test."""
    monkeypatch.setattr(emnist, "CACHE_FILE_PATH", emnist.CACHE_FILE_PATH)


@pytest.fixture
def accept_tiny_zip(monkeypatch):
    """Make load_emnist's size checks accept a zip of ``size`` bytes with 47 + 47 images."""
    def accept(size):
        monkeypatch.setattr(datasets, "EMNIST_ZIP_SIZE", size)
        monkeypatch.setattr(datasets, "EMNIST_SIZES", {"train": 47, "test": 47})
    return accept


# ------------------------------------------------------------------ the emnist package on its own
def test_emnist_package_returns_upright_images(tmp_path, tiny):
    """The emnist package (under the pinned numpy, no TypeError) undoes NIST's transposition."""
    (x_train, y_train), (x_test, y_test) = tiny
    zip_path = write_nist_zip(tmp_path / "gzip.zip", *tiny)
    (got_x_train, got_y_train), (got_x_test, got_y_test) = extract_with_emnist_package(zip_path)

    np.testing.assert_array_equal(got_x_train, x_train)
    np.testing.assert_array_equal(got_x_test, x_test)
    np.testing.assert_array_equal(got_y_train, y_train)
    np.testing.assert_array_equal(got_y_test, y_test)
    assert got_x_train.shape == (47, 28, 28) and got_x_train.dtype == np.uint8
    # Spelled out: the dot is at row 2, column 20 (not row 20, column 2), the L's foot points right.
    assert got_x_train[0, 2, 20] == 255 and got_x_train[0, 20, 2] == 0
    assert got_x_train[0, 19, 11] == 200 and got_x_train[0, 11, 19] == 0


def test_stored_zip_is_really_transposed(tmp_path, tiny):
    """The tiny zip is faithful to NIST: read raw, its first image is the transpose of the upright one."""
    from tlcourse.idx import parse_idx
    zip_path = write_nist_zip(tmp_path / "gzip.zip", *tiny)
    with zipfile.ZipFile(zip_path) as zf:
        raw = parse_idx(gzip.decompress(zf.read("gzip/emnist-balanced-train-images-idx3-ubyte.gz")))
    np.testing.assert_array_equal(raw[0], tiny[0][0][0].T)
    assert raw[0, 20, 2] == 255


# ------------------------------------------------------------------------------ zip checks
def test_zip_problem_missing(tmp_path):
    """No zip: 'no existe'."""
    assert "no existe" in emnist_zip_problem(tmp_path / "emnist.zip")


def test_zip_problem_wrong_size(tmp_path, tiny):
    """A zip of another size than NIST's is refused as truncated or damaged, saying both sizes."""
    zip_path = write_nist_zip(tmp_path / "emnist.zip", *tiny)
    problem = emnist_zip_problem(zip_path)
    assert problem is not None
    assert tlcourse.thousands(zip_path.stat().st_size) in problem and tlcourse.thousands(datasets.EMNIST_ZIP_SIZE) in problem
    assert "truncada o dañada" in problem


def test_zip_problem_right_size_and_md5(tmp_path, tiny, accept_tiny_zip):
    """The right size passes the cheap check; the full check also compares the md5."""
    zip_path = write_nist_zip(tmp_path / "emnist.zip", *tiny)
    accept_tiny_zip(zip_path.stat().st_size)
    assert emnist_zip_problem(zip_path) is None
    assert "md5" in emnist_zip_problem(zip_path, full_check=True)


# ---------------------------------------------------------------------------- load_emnist
def test_only_balanced():
    """The course uses EMNIST balanced only; any other split is a ValueError."""
    with pytest.raises(ValueError, match="balanced"):
        load_emnist("byclass")


def test_real_mode_empty_cache_fails_fast(monkeypatch, data_dir):
    """TL_DATA=real, no cache, no network: DataError within 10 s naming NIST's URL and what to do."""
    monkeypatch.setenv("TL_DATA", "real")
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        load_emnist()
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert EMNIST_URL in message and "Qué hacer" in message
    assert str(data_dir / "emnist" / "emnist.zip") in message
    assert not list((data_dir / "emnist").glob("*.part"))      # the failed download left nothing


def test_auto_mode_empty_cache_falls_back(monkeypatch, capsys):
    """TL_DATA=auto, no cache, no network: synthetic EMNIST with 47 classes and the banner."""
    monkeypatch.setenv("TL_QUICK", "1")
    data = load_emnist()
    (x_train, y_train), (x_test, _) = data
    assert data.source == "synthetic"
    assert len(data.classes) == 47 and set(np.unique(y_train)) == set(range(47))
    assert x_train.shape == (9_400, 28, 28) and x_test.shape == (1_880, 28, 28)
    out = capsys.readouterr().out
    assert EMNIST_URL in out and "SINTÉTICOS" in out


def test_damaged_compact_cache_is_not_used(monkeypatch, capsys, data_dir):
    """A compact cache full of garbage is reported as 'dañada' and not used (auto → synthetic)."""
    monkeypatch.setenv("TL_QUICK", "1")
    compact = data_dir / "emnist" / "emnist-balanced.npz"
    compact.parent.mkdir(parents=True)
    compact.write_bytes(b"PK\x03\x04 esto no es un npz " * 50)
    data = load_emnist()
    assert data.source == "synthetic"
    out = capsys.readouterr().out
    assert "emnist-balanced.npz está dañada" in out and "no la uso" in out


def test_wrong_size_zip_is_not_used(monkeypatch, capsys, data_dir, tiny):
    """A zip of the wrong size in the cache is reported ('no se usa') and not read (auto → synthetic)."""
    monkeypatch.setenv("TL_QUICK", "1")
    write_nist_zip(data_dir / "emnist" / "emnist.zip", *tiny)
    assert load_emnist().source == "synthetic"
    assert "no se usa" in capsys.readouterr().out


def test_real_path_end_to_end(monkeypatch, capsys, data_dir, tiny, accept_tiny_zip):
    """Tiny zip at <data>/emnist/emnist.zip: the first call reads it (source 'real') and writes the
    compact cache; the second call uses the compact cache, even with the zip gone."""
    monkeypatch.setenv("TL_DATA", "real")
    zip_path = write_nist_zip(data_dir / "emnist" / "emnist.zip", *tiny)
    accept_tiny_zip(zip_path.stat().st_size)

    first = load_emnist()
    assert first.source == "real"
    assert "zip de NIST" in first.description
    np.testing.assert_array_equal(first[0][0], tiny[0][0])     # upright, as built
    np.testing.assert_array_equal(first[1][1], tiny[1][1])
    compact = data_dir / "emnist" / "emnist-balanced.npz"
    assert compact.exists()
    assert sorted(p.name for p in compact.parent.iterdir()) == ["emnist-balanced.npz", "emnist.zip"]

    zip_path.unlink()
    second = load_emnist()
    assert second.source == "real"
    assert "caché compacta" in second.description
    np.testing.assert_array_equal(second[0][0], tiny[0][0])
    np.testing.assert_array_equal(second[0][1], tiny[0][1])
    assert "SINTÉTICOS" not in capsys.readouterr().out


def test_damaged_zip_of_the_right_size_falls_back(monkeypatch, data_dir, tiny, accept_tiny_zip):
    """Bit rot inside a zip that still has the expected size: auto mode should fall back, not crash."""
    monkeypatch.setenv("TL_QUICK", "1")
    zip_path = write_nist_zip(data_dir / "emnist" / "emnist.zip", *tiny)
    accept_tiny_zip(zip_path.stat().st_size)
    with zipfile.ZipFile(zip_path) as zf:       # where the first member's compressed bytes start
        member = zf.infolist()[0]
    start = member.header_offset + 30 + len(member.filename) + len(member.extra) + 10
    data = bytearray(zip_path.read_bytes())
    for i in range(start, start + 4):
        data[i] ^= 0xFF
    zip_path.write_bytes(bytes(data))
    assert load_emnist().source == "synthetic"
