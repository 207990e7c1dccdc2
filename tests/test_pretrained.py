"""ResNet50's ImageNet weights, the feature cache and the batches fed to fit (tlcourse.pretrained).

conftest.py already gives every test its own data cache (``TL_DATA_DIR``), its own ``tmp/``
(``tlcourse.config.REPO_DIR``) and no network. Here ``HOME`` also goes to ``tmp_path``, so
``~/.keras/models/`` is the test's own folder and never the user's.
"""

import time

import numpy as np
import pytest

import tlcourse
import tlcourse.pretrained as pretrained
from tlcourse import DataError, features_path, fingerprint, load_features, md5sum, resnet50_weights, save_features

FAKE_WEIGHTS = b"no soy un fichero HDF5 de verdad, pero tengo un md5 conocido\n"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """``~`` is ``tmp_path/home`` (and KERAS_HOME unset), so ``~/.keras/models`` is ours."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return tmp_path / "home"


def keras_cache(home):
    return home / ".keras" / "models" / pretrained.RESNET50_NOTOP


def data_cache(data_dir):
    return data_dir / "keras" / "models" / pretrained.RESNET50_NOTOP


def put_fake(path, content=FAKE_WEIGHTS):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def fake_md5(tmp_path, monkeypatch):
    """Make FAKE_WEIGHTS the 'official' file: the expected md5 becomes its md5."""
    probe = put_fake(tmp_path / "probe.h5")
    monkeypatch.setattr(pretrained, "RESNET50_NOTOP_MD5", md5sum(probe))


# ------------------------------------------------------------------------------------- weights
def test_candidates_are_keras_cache_then_data_cache(isolated_home, data_dir):
    assert pretrained.resnet50_weights_candidates() == [keras_cache(isolated_home), data_cache(data_dir)]


@pytest.mark.parametrize("where", ["keras", "data"])
def test_a_file_with_the_right_md5_is_used(where, fake_md5, isolated_home, data_dir, capsys):
    """A file that passes the md5 check, in either place, is returned as the path for weights=."""
    path = put_fake(keras_cache(isolated_home) if where == "keras" else data_cache(data_dir))
    assert resnet50_weights() == str(path)
    assert "md5 verificado" in capsys.readouterr().out


def test_keras_cache_is_preferred(fake_md5, isolated_home, data_dir):
    put_fake(data_cache(data_dir))
    path = put_fake(keras_cache(isolated_home))
    assert resnet50_weights() == str(path)


def test_a_file_with_the_wrong_md5_is_never_used(isolated_home, data_dir, capsys):
    """The real md5 cannot match this fake: auto mode falls back to random weights and says why."""
    put_fake(data_cache(data_dir))
    assert resnet50_weights() is None
    out = capsys.readouterr().out
    assert "md5" in out and "no se usa" in out and "ALEATORIOS" in out


def test_a_damaged_file_is_skipped_for_a_good_one(fake_md5, isolated_home, data_dir):
    put_fake(keras_cache(isolated_home), b"truncado")
    good = put_fake(data_cache(data_dir))
    assert resnet50_weights() == str(good)


def test_auto_offline_returns_none_with_a_loud_banner(capsys):
    """Nothing cached, no network: None (random weights) within seconds, and a banner that says so."""
    start = time.perf_counter()
    assert resnet50_weights() is None
    assert time.perf_counter() - start < 10
    out = capsys.readouterr().out
    assert "!!!!" in out and "ALEATORIOS" in out and "weights=None" in out
    assert "No se pudo descargar" in out          # it did try Keras' URL, and failed fast


def test_real_mode_raises_a_spanish_data_error(monkeypatch, data_dir):
    """TL_DATA=real: no silent fallback; the message names the file, the URL and where to put it."""
    monkeypatch.setenv("TL_DATA", "real")
    with pytest.raises(DataError) as info:
        resnet50_weights()
    message = str(info.value)
    assert "TL_DATA=real" in message and "Qué hacer" in message
    assert pretrained.RESNET50_NOTOP_URL in message and str(data_dir / "keras" / "models") in message


def test_real_mode_with_a_damaged_file_says_so(monkeypatch, data_dir):
    monkeypatch.setenv("TL_DATA", "real")
    put_fake(data_cache(data_dir))
    with pytest.raises(DataError, match="md5"):
        resnet50_weights()


def test_synthetic_mode_never_downloads(monkeypatch, capsys):
    monkeypatch.setenv("TL_DATA", "synthetic")

    def no_download(*args, **kwargs):
        raise AssertionError("TL_DATA=synthetic no debe descargar nada")

    monkeypatch.setattr(pretrained, "download", no_download)
    assert resnet50_weights() is None
    assert "ALEATORIOS" in capsys.readouterr().out


def test_a_download_goes_to_the_keras_cache(monkeypatch, fake_md5, isolated_home):
    """When the download works, the file lands in ~/.keras/models/ (where Keras looks) and is used."""
    def fake_download(url, dest, *, md5=None, **kwargs):
        assert url == pretrained.RESNET50_NOTOP_URL and md5 == pretrained.RESNET50_NOTOP_MD5
        return put_fake(dest)

    monkeypatch.setattr(pretrained, "download", fake_download)
    assert resnet50_weights() == str(keras_cache(isolated_home))


# ------------------------------------------------------------------------------- feature cache
SHAPES = {"features_train": (6, 1, 1, 4), "features_test": (2, 1, 1, 4)}


def some_features():
    rng = np.random.default_rng(0)
    return {name: rng.normal(size=shape).astype("float32") for name, shape in SHAPES.items()}


def test_features_path_is_keyed_and_under_tmp(tmp_path, monkeypatch):
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    assert path == tmp_path / "repo" / "tmp" / "features" / "resnet50_synthetic_random_full_8.npz"
    monkeypatch.setenv("TL_QUICK", "1")
    assert features_path("resnet50", source="synthetic", weights="random", n=8).name == \
        "resnet50_synthetic_random_quick_8.npz"
    keys = {features_path("resnet50", source=s, weights=w, n=n).name
            for s in ("real", "synthetic") for w in ("imagenet", "random") for n in (8, 9)}
    assert len(keys) == 8


def test_round_trip(capsys):
    """What is saved is read back: the same arrays, bit for bit, and the seconds as a float."""
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    arrays = some_features()
    save_features(path, fingerprint="abc", seconds_train=12.5, **arrays)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]   # no temporary file left
    loaded = load_features(path, fingerprint="abc", shapes=SHAPES)
    assert loaded is not None and loaded["seconds_train"] == 12.5
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and np.array_equal(loaded[name], array)
    assert "Reutilizamos" in capsys.readouterr().out


def test_first_rows_only_reads_the_prefix():
    """``rows`` returns the first rows bit for bit, and never holds the whole array in memory."""
    import tracemalloc

    big = {"features_train": (20_000, 1, 1, 64), "features_test": (10, 1, 1, 64)}   # 4,9 MiB de entrenamiento
    arrays = {name: np.random.default_rng(1).normal(size=shape).astype("float32") for name, shape in big.items()}
    path = features_path("resnet50", source="synthetic", weights="random", n=20_010)
    save_features(path, fingerprint="abc", **arrays)
    tracemalloc.start()
    loaded = load_features(path, fingerprint="abc", shapes=big, rows={"features_train": 100})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert loaded["features_train"].shape == (100, 1, 1, 64)
    assert np.array_equal(loaded["features_train"], arrays["features_train"][:100])
    assert np.array_equal(loaded["features_test"], arrays["features_test"])          # not in rows: whole
    assert peak < arrays["features_train"].nbytes / 4, f"leyó demasiado: pico de {peak} bytes"
    loaded["features_train"][0] = 0                                                  # a normal, writable array


def test_saved_shapes_reads_headers_only():
    arrays = some_features()
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    save_features(path, fingerprint="abc", seconds_train=1.5, **arrays)
    assert pretrained.saved_shapes(path) == {"fingerprint": (), "seconds_train": (), **SHAPES}
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(Exception):
        pretrained.saved_shapes(path)


def test_first_rows_of_a_wrong_or_short_cache_are_rejected(capsys):
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    save_features(path, fingerprint="abc", **some_features())
    assert load_features(path, fingerprint="abc", shapes={**SHAPES, "features_train": (7, 1, 1, 4)},
                         rows={"features_train": 3}) is None                          # other shape saved
    assert load_features(path, fingerprint="abc", shapes={**SHAPES, "features_train": (6, 1, 1, 4)},
                         rows={"features_train": 9}) is None                          # more rows than saved
    assert load_features(path, fingerprint="xyz", shapes=SHAPES, rows={"features_train": 3}) is None
    assert capsys.readouterr().out.count("no vale") == 3


def test_missing_cache_is_none(capsys):
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    assert load_features(path, fingerprint="abc", shapes=SHAPES) is None
    assert "No hay características guardadas en tmp/features/" in capsys.readouterr().out
    assert load_features(path, fingerprint="abc", shapes=SHAPES, quiet=True) is None
    assert capsys.readouterr().out == ""                                 # quiet: the caller says it


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupted_cache_is_rejected(damage, capsys):
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    save_features(path, fingerprint="abc", **some_features())
    content = path.read_bytes()
    path.write_bytes({"truncated": content[: len(content) // 2], "garbage": b"\x00" * 500, "empty": b""}[damage])
    assert load_features(path, fingerprint="abc", shapes=SHAPES) is None
    assert "no vale" in capsys.readouterr().out


def test_wrong_shapes_or_missing_arrays_are_rejected():
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    save_features(path, fingerprint="abc", **some_features())
    assert load_features(path, fingerprint="abc", shapes={**SHAPES, "features_test": (3, 1, 1, 4)}) is None
    assert load_features(path, fingerprint="abc", shapes={**SHAPES, "labels": (8,)}) is None


def test_other_images_or_weights_are_rejected(capsys):
    """The fingerprint guards against features of other images or of another base."""
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    save_features(path, fingerprint="abc", **some_features())
    assert load_features(path, fingerprint="xyz", shapes=SHAPES) is None
    assert "huella" in capsys.readouterr().out


def test_fingerprint_sees_every_part():
    images = np.arange(12, dtype="uint8").reshape(3, 4)
    weights = [np.ones((2, 2), "float32"), np.zeros(3, "float32")]
    reference = fingerprint(images, *weights)
    assert fingerprint(images.copy(), *[w.copy() for w in weights]) == reference
    changed = images.copy()
    changed[0, 0] += 1
    assert fingerprint(changed, *weights) != reference
    assert fingerprint(images, weights[0], weights[1] + 1e-7) != reference
    assert fingerprint(images.reshape(4, 3), *weights) != reference             # same bytes, other shape
    assert fingerprint(images, *weights, "otro preprocesado") != reference


def test_exported_from_the_package():
    for name in ("resnet50_weights", "features_path", "save_features", "load_features", "fingerprint", "batches"):
        assert name in tlcourse.__all__ and callable(getattr(tlcourse, name))
    for name in ("features_once", "extraction_metadata", "resnet50_features_fingerprint"):
        assert callable(getattr(tlcourse, name))


# ------------------------------------------------------------------------------- features_once
class FakeBase:
    """What features_once needs from a Keras model: its weights and its output shape."""

    class output:
        shape = (None, 1, 1, 4)

    def __init__(self, offset=0.0):
        self.offset = offset

    def get_weights(self):
        return [np.full((2, 2), self.offset, "float32")]


def fake_parts(n_train=6, n_test=2):
    rng = np.random.default_rng(1)
    return {"train": (rng.integers(0, 255, (n_train, 3, 3), dtype="uint8"), np.arange(n_train)),
            "test": (rng.integers(0, 255, (n_test, 3, 3), dtype="uint8"), np.arange(n_test))}


def fake_extract(calls):
    def extract(base, x, y):
        assert isinstance(base, FakeBase)                                # features_once passes its base
        calls.append(len(x))
        return x.reshape(len(x), -1)[:, :4].astype("float32").reshape(len(x), 1, 1, 4)
    return extract


def test_features_once_extracts_times_and_saves_then_reuses(capsys):
    parts, calls = fake_parts(), []
    features, seconds = tlcourse.features_once(fake_extract(calls), FakeBase(), parts, source="synthetic",
                                               weights="random")
    assert calls == [6, 2] and set(features) == set(seconds) == {"train", "test"}
    assert features["train"].shape == (6, 1, 1, 4) and all(s >= 0 for s in seconds.values())
    again, seconds_again = tlcourse.features_once(fake_extract(calls), FakeBase(), parts, source="synthetic",
                                                  weights="random")
    assert calls == [6, 2]                                               # not extracted a second time
    assert seconds_again == pytest.approx(seconds)                       # the seconds measured when computed
    for name in parts:
        assert np.array_equal(again[name], features[name])
    out = capsys.readouterr().out
    assert "Características de 8 imágenes calculadas" in out and "Reutilizamos las características" in out
    assert "imágenes/s" in out and "tmp/features/resnet50_synthetic_random_full_8.npz" in out   # relative
    rows = tlcourse.read_throughput()                                    # one pass recorded, for the benchmark
    assert [(r["name"], r["images"]) for r in rows] == [("resnet50_extraction", 8)]


def test_features_once_recomputes_for_another_base_or_other_images():
    parts, calls = fake_parts(), []
    tlcourse.features_once(fake_extract(calls), FakeBase(), parts, source="synthetic", weights="random")
    tlcourse.features_once(fake_extract(calls), FakeBase(offset=1.0), parts, source="synthetic", weights="random")
    changed = {"train": (parts["train"][0] + 1, parts["train"][1]), "test": parts["test"]}
    tlcourse.features_once(fake_extract(calls), FakeBase(offset=1.0), changed, source="synthetic", weights="random")
    assert calls == [6, 2, 6, 2, 6, 2]


def test_features_once_cache_is_readable_with_the_documented_recipe():
    """Notebooks 05 and 06 read 04's cache with features_path + load_features + resnet50_features_fingerprint."""
    parts, base = fake_parts(), FakeBase()
    features, _ = tlcourse.features_once(fake_extract([]), base, parts, source="synthetic", weights="random")
    (x_train, _), (x_test, _) = parts["train"], parts["test"]
    path = features_path("resnet50", source="synthetic", weights="random", n=len(x_train) + len(x_test))
    cached = load_features(path, fingerprint=tlcourse.resnet50_features_fingerprint(base, x_train, x_test),
                           shapes={"features_train": (6, 1, 1, 4), "features_test": (2, 1, 1, 4)})
    assert cached is not None and np.array_equal(cached["features_train"], features["train"])
    assert {"seconds_extract_train", "seconds_extract_test"} <= set(cached)


def test_extraction_metadata_says_images_and_seconds():
    """For a benchmark's images/s: how many images the extraction took and how long, next to the cache."""
    parts = fake_parts()
    _, seconds = tlcourse.features_once(fake_extract([]), FakeBase(), parts, source="synthetic", weights="random")
    path = features_path("resnet50", source="synthetic", weights="random", n=8)
    assert pretrained.metadata_path(path) == path.with_suffix(".json")
    info = tlcourse.extraction_metadata(path)
    assert info["model"] == "resnet50" and info["images"] == 8
    assert info["seconds"] == pytest.approx(sum(seconds.values()), abs=1e-3)
    assert info["parts"]["train"]["images"] == 6 and info["parts"]["test"]["images"] == 2
    assert isinstance(info["onednn"], bool) and info["source"] == "synthetic" and info["quick"] is False
    assert "load_1min" in info and info["cpus"] >= 1
    assert tlcourse.extraction_metadata(features_path("resnet50", source="real", weights="random", n=8)) is None


# ------------------------------------------------------------------------------------ batches
def epoch_of(dataset):
    parts = [dataset[i] for i in range(len(dataset))]
    dataset.on_epoch_end()
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), [len(p[0]) for p in parts]


def test_batches_in_order_cover_everything_once():
    x, y = np.arange(10 * 3, dtype="float32").reshape(10, 3), np.arange(10)
    dataset = tlcourse.batches(x, y, batch_size=4)
    assert len(dataset) == 3
    xs, ys, sizes = epoch_of(dataset)
    assert sizes == [4, 4, 2] and np.array_equal(xs, x) and np.array_equal(ys, y)
    assert np.array_equal(epoch_of(dataset)[1], y)                     # and again, still in order


def test_batches_shuffled_differ_per_epoch_and_repeat_with_the_seed():
    x, y = np.arange(100, dtype="float32")[:, None], np.arange(100)
    first, second = tlcourse.batches(x, y, batch_size=8, shuffle=True), tlcourse.batches(x, y, batch_size=8, shuffle=True)
    epochs = [epoch_of(first)[1] for _ in range(3)]
    for labels in epochs:
        assert sorted(labels) == list(range(100))                      # every sample exactly once per epoch
    assert not np.array_equal(epochs[0], epochs[1])                    # a new order every epoch
    assert np.array_equal(epoch_of(second)[1], epochs[0])              # same seed, same orders
    xs, ys, _ = epoch_of(second)
    assert np.array_equal(xs[:, 0], ys)                                # x and y stay paired


def test_batches_reject_mismatched_lengths():
    with pytest.raises(ValueError):
        tlcourse.batches(np.zeros((5, 2)), np.zeros(4))


def test_batches_of_rows_are_those_of_the_repeated_copy():
    """``rows`` (repeated, in any order): the batches of ``x[rows]`` without building it (notebook 06)."""
    x, y = np.arange(10 * 3, dtype="float32").reshape(10, 3), np.arange(10)
    rows = np.array([7, 2, 2, 9, 0, 7, 7, 1, 3])
    dataset = tlcourse.batches(x, y, batch_size=4, rows=rows)
    assert len(dataset) == 3
    xs, ys, sizes = epoch_of(dataset)
    assert sizes == [4, 4, 1] and np.array_equal(xs, x[rows]) and np.array_equal(ys, y[rows])
    with pytest.raises(ValueError, match="shuffle"):
        tlcourse.batches(x, y, rows=rows, shuffle=True)


def test_fit_on_batches_equals_fit_on_arrays_without_shuffle():
    """What notebook 04 relies on: the same batches in the same order give the same model."""
    import keras

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 6)).astype("float32"), rng.integers(0, 3, 300)
    trained = []
    for how in ("arrays", "batches"):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
        if how == "arrays":
            model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
        else:
            model.fit(tlcourse.batches(x, y, batch_size=64), epochs=2, shuffle=False, verbose=0)
        trained.append(model.get_weights())
    for a, b in zip(*trained):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_printed_paths_are_relative(isolated_home, data_dir, capsys):
    """What the weights' search prints names ~/.keras/… and data/…, never the machine's full paths."""
    assert resnet50_weights() is None
    out = capsys.readouterr().out
    assert "no está en ~/.keras/models/" + pretrained.RESNET50_NOTOP in out
    assert str(isolated_home) not in out


# ------------------------------------------------------------------------------- heads and losses
def test_head_accuracy_learns_separable_features_and_holds_out_the_end():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 2_000)
    means = rng.normal(size=(3, 32)) * 3
    features = (means[labels] + rng.normal(size=(2_000, 32))).astype("float32").reshape(2_000, 1, 1, 32)
    accuracy, n_val = pretrained.head_accuracy(features, labels, epochs=3, n_classes=3)
    assert n_val == 400 and accuracy > 0.5                               # 3 classes: chance is 1/3
    again, _ = pretrained.head_accuracy(features, labels, epochs=3, n_classes=3)
    assert again == accuracy                                             # seeded: the same head every time
    noise = rng.normal(size=(2_000, 32)).astype("float32")
    assert pretrained.head_accuracy(noise, labels, epochs=3, n_classes=3)[0] < 0.45   # only the features differ


def test_first_loss_explains_from_the_numbers():
    rng = np.random.default_rng(0)
    kernel = rng.uniform(-0.05, 0.05, size=(2048, 47))
    big = np.abs(rng.normal(scale=5.0, size=(64, 1, 1, 2048)))
    small = np.abs(rng.normal(scale=0.05, size=(64, 1, 1, 2048)))
    sentence = pretrained.first_loss(10.6, big, kernel)
    assert "10,60" in sentence and "muy por encima de ln 47 = 3,85" in sentence and "muy segura" in sentence
    sentence = pretrained.first_loss(3.9, small, kernel)
    assert "cerca de ln 47" in sentence and "casi sin preferencias" in sentence


def test_timed_extraction_warms_up_on_one_batch_then_times_everything():
    """Notebook 04's 32×32 against 64×64: the same function, timed after one warm-up batch, recorded."""
    from tlcourse.throughput import timed_extraction

    calls = []

    def extract(base, x, y, batch_size=1024, size=32):
        calls.append((len(x), batch_size, size))
        time.sleep(0.01)
        return np.zeros((len(x), 1, 1, 2), "float32")

    x, y = np.zeros((512, 28, 28), "uint8"), np.zeros(512, "int64")
    features, per_second = timed_extraction(extract, FakeBase(), x, y, size=64, name="resnet50_64px")
    assert calls == [(256, 256, 64), (512, 256, 64)] and features.shape == (512, 1, 1, 2)
    assert 0 < per_second < 512 / 0.01
    assert [(r["name"], r["images"]) for r in tlcourse.read_throughput()] == [("resnet50_64px", 512)]
