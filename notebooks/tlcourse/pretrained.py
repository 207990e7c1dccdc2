"""A pretrained base for notebooks 04–05: ResNet50's ImageNet weights, and a cache of its features.

``resnet50_weights()`` returns what to pass as ``weights=`` to ``keras.applications.ResNet50``:
the path of the checked ImageNet file (found in ``~/.keras/models/`` or ``data/keras/models/``,
or downloaded into ``~/.keras/models/``, where Keras itself keeps it), or ``None`` — random
weights — when it cannot be had and ``TL_DATA`` allows it, after saying so loudly.

``features_path`` / ``save_features`` / ``load_features`` keep what a frozen base computes in
``tmp/features/``, so a re-run does not pay for the forward passes again. A cache whose shapes or
fingerprint (of the images and the base's weights) do not match is never used. ``features_once``
is notebook 04's use of them: the notebook's own extraction function, run once per set of images
and timed, or the saved features. Next to each cache it writes ``<cache>.json`` with how many
images the extraction took and how many seconds (for a benchmark's images/s). ``batches`` feeds
those features to ``fit`` one batch at a time, without the whole-array copies ``fit(x, y)`` makes.
``head_accuracy`` trains a new head on a base's features and returns its validation accuracy
(notebook 04 compares two input sizes, or ImageNet against random weights, with it); ``first_loss``
says in Spanish why a head's first loss sits where it does, from the run's own numbers.

Other notebooks (05, 06) can read 04's cache of ResNet50 features with::

    path = features_path("resnet50", source=emnist.source, weights=weights_kind, n=len(x_train) + len(x_test))
    cached = load_features(path, fingerprint=resnet50_features_fingerprint(base_model, x_train, x_test),
                           shapes={"features_train": (len(x_train), 1, 1, 2048),
                                   "features_test": (len(x_test), 1, 1, 2048)})
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np

from .config import get_config, shown_path as shown, tmp_path
from .files import DataError, atomic_path, download, md5sum
from .sources import banner

RESNET50_NOTOP = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
RESNET50_NOTOP_MD5 = "4d473c1dd8becc155b73f8504c6f6626"
RESNET50_NOTOP_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + RESNET50_NOTOP


# ------------------------------------------------------------------------------------ weights
def keras_models_dir() -> Path:
    """Where Keras caches downloaded weights: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home).expanduser() / "models"


def resnet50_weights_candidates() -> list[Path]:
    """The places looked at, in order: Keras' own cache, then the course's data cache (prefetched)."""
    return [keras_models_dir() / RESNET50_NOTOP, get_config().data_dir / "keras" / "models" / RESNET50_NOTOP]


def weights_file_problem(path: Path) -> str | None:
    """None if ``path`` is ResNet50's notop ImageNet file (md5 checked); else what is wrong."""
    if not path.exists():
        return f"no está en {shown(path)}"
    actual = md5sum(path)
    if actual != RESNET50_NOTOP_MD5:
        return (f"{shown(path)} no supera la comprobación md5 (esperado {RESNET50_NOTOP_MD5}, obtenido {actual}): "
                "fichero dañado o incompleto; no se usa")
    return None


def resnet50_weights() -> str | None:
    """What to pass as ``weights=`` to ``ResNet50(include_top=False, ...)``: a checked path, or None.

    Order: the two local candidates (md5-checked; a damaged file is never used); then a download
    into ``~/.keras/models/`` (skipped with ``TL_DATA=synthetic``); then, with ``TL_DATA=real``, a
    :class:`DataError` that says what is missing and how to get it, and otherwise ``None`` (random
    weights) after a loud banner.
    """
    cfg = get_config()
    problems = []
    for path in resnet50_weights_candidates():
        problem = weights_file_problem(path)
        if problem is None:
            print(f"Pesos de ImageNet para ResNet50: {shown(path)} (md5 verificado).")
            return str(path)
        problems.append(problem)
    if cfg.data_mode == "synthetic":
        problems.append("con TL_DATA=synthetic no se descargan")
    else:
        target = keras_models_dir() / RESNET50_NOTOP
        try:
            download(RESNET50_NOTOP_URL, target, md5=RESNET50_NOTOP_MD5, desc="pesos de ResNet50 (ImageNet)")
            print(f"Pesos de ImageNet para ResNet50 descargados en {shown(target)} (md5 verificado).")
            return str(target)
        except (DataError, OSError) as error:   # OSError: e.g. ~/.keras not writable
            problems.append(str(error))
    reasons = "\n".join(f"  - {p}" for p in problems)
    howto = (f"con red, ejecuta una vez keras.applications.ResNet50(include_top=False, weights='imagenet') "
             f"(Keras lo guarda en ~/.keras/models/), o descarga {RESNET50_NOTOP_URL} y cópialo en "
             f"{cfg.data_dir / 'keras' / 'models'}/ (md5 {RESNET50_NOTOP_MD5})")
    if cfg.data_mode == "real":
        raise DataError(f"No hay pesos de ImageNet para ResNet50 (TL_DATA=real):\n{reasons}\n"
                        f"Qué hacer: {howto}; o usa TL_DATA=auto para seguir con pesos aleatorios.")
    print(f"No hay pesos de ImageNet para ResNet50. Motivos:\n{reasons}")
    banner(["ResNet50 SIN PREENTRENAR: la base tendrá pesos ALEATORIOS (weights=None).",
            "Lo que midamos con ella NO enseña nada sobre características aprendidas en ImageNet:",
            "solo muestra que el código funciona y cuánto tarda cada forma de entrenar.",
            f"Para los pesos reales: {RESNET50_NOTOP} en data/keras/models/ o ~/.keras/models/."])
    return None


# ----------------------------------------------------------------------------- feature cache
def fingerprint(*parts) -> str:
    """MD5 of arrays (shape, dtype and bytes) and strings: changes if any of them changes."""
    digest = hashlib.md5()
    for part in parts:
        if isinstance(part, str):
            digest.update(b"s" + part.encode())
        else:
            array = np.ascontiguousarray(part)
            digest.update(f"a{array.shape}{array.dtype}".encode())
            digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def features_path(model: str, *, source: str, weights: str, n: int) -> Path:
    """``tmp/features/<model>_<source>_<weights>_<quick|full>_<n>.npz``: one file per data and base."""
    mode = "quick" if get_config().quick else "full"
    return tmp_path("features") / f"{model}_{source}_{weights}_{mode}_{n}.npz"


def save_features(path: Path, *, fingerprint: str, quiet: bool = False, **values) -> Path:
    """Save arrays and numbers (e.g. the seconds the extraction took) to ``path``, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, fingerprint=np.array(fingerprint), **values)
    if not quiet:
        print(f"Características guardadas en {shown(path)} ({_mib(path)}).")
    return path


def _mib(path: Path) -> str:
    from .fmt import thousands

    return f"{thousands(Path(path).stat().st_size / 2**20)} MiB"


def _read_header(f) -> tuple[tuple, bool, np.dtype]:
    """Shape, Fortran order and dtype from the header of an open ``.npy`` stream (left at its data)."""
    version = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return read(f)


def saved_shapes(path: Path) -> dict[str, tuple]:
    """The shape of each array saved by :func:`save_features` in ``path``, read from the headers only."""
    with zipfile.ZipFile(path) as archive:
        shapes = {}
        for member in archive.namelist():
            with archive.open(member) as f:
                shapes[member.removesuffix(".npy")] = _read_header(f)[0]
    return shapes


def _first_rows(path: Path, name: str, n: int, shape: tuple) -> np.ndarray:
    """The first ``n`` rows of array ``name`` saved by :func:`save_features`, reading nothing more.

    ``np.savez`` stores each array uncompressed as ``name.npy`` inside the zip, so its header says
    the shape and its rows follow in order: a prefix costs its own bytes, not the whole array's.
    """
    with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as f:
        saved_shape, fortran_order, dtype = _read_header(f)
        if saved_shape != tuple(shape) or fortran_order or dtype.hasobject:
            raise ValueError(f"{name} tiene forma {saved_shape}, se esperaba {tuple(shape)}")
        rows = np.empty((n, *saved_shape[1:]), dtype)
        if f.readinto(memoryview(rows).cast("B")) != rows.nbytes:
            raise EOFError(f"{name} está incompleto")
    return rows


def load_features(path: Path, *, fingerprint: str, shapes: dict[str, tuple],
                  rows: dict[str, int] | None = None, quiet: bool = False) -> dict | None:
    """What :func:`save_features` saved, or None (saying why) if missing, damaged or not for these data.

    ``shapes`` maps each array that must be there to its expected shape; the fingerprint must
    match the one saved. Scalars come back as Python floats. ``rows`` (optional) maps some of those
    arrays to how many of their first rows to return: only those are read from disk, so taking
    the features of a few thousand images from a cache of 131,600 costs the memory of a few thousand.
    ``quiet`` leaves the caller to say what happened (a cache that does not fit is still reported).
    """
    path = Path(path)
    rows = rows or {}
    if not path.exists():
        if not quiet:
            print(f"No hay características guardadas en {shown(path)}: hay que calcularlas.")
        return None
    try:
        with np.load(path) as f:
            if str(f["fingerprint"]) != fingerprint:
                raise ValueError("la huella no coincide: otras imágenes u otros pesos de la base")
            values = {}
            for name in f.files:
                if name in rows:
                    values[name] = _first_rows(path, name, rows[name], shapes[name])
                elif name != "fingerprint":
                    array = f[name]
                    values[name] = array if array.ndim else float(array)
        for name, shape in shapes.items():
            expected = (rows[name], *shape[1:]) if name in rows else tuple(shape)
            got = getattr(values.get(name), "shape", None)
            if got != expected:
                raise ValueError(f"{name} tiene forma {got}, se esperaba {tuple(shape)}")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        print(f"Las características guardadas en {shown(path)} no valen ({error}): se calculan de nuevo.")
        return None
    if not quiet:
        print(f"Reutilizamos las características guardadas en {shown(path)}.")
    return values


RESNET50_RECIPE = "32×32 RGB, preprocess_input"   # what notebook 04 feeds ResNet50: part of the fingerprint


def resnet50_features_fingerprint(base_model, x_train, x_test) -> str:
    """The fingerprint of notebook 04's ResNet50 feature cache: its images, in order, and the base's weights."""
    return fingerprint(x_train, x_test, *base_model.get_weights(), RESNET50_RECIPE)


def metadata_path(cache: Path) -> Path:
    """``<cache>.json``, next to a feature cache: what its extraction cost (images, seconds, images/s)."""
    cache = Path(cache)
    return cache.with_name(cache.stem + ".json")


def features_once(extract, base_model, parts: dict, *, source: str, weights: str, model: str = "resnet50"):
    """The features of each set of images through a frozen base, computed once and saved, and their seconds.

    ``parts`` maps a name to ``(x, y)``, e.g. ``{"train": (x_train, y_train), "test": (x_test, y_test)}``;
    ``extract(base_model, x, y)`` is the notebook's extraction function. If ``tmp/features/`` holds the
    features of exactly these images through a base with exactly these weights, they are read back,
    with the seconds measured when they were computed; otherwise each part is extracted, timed and
    saved (``features_<name>`` and ``seconds_extract_<name>``, plus ``<cache>.json``; see
    :func:`extraction_metadata`). Either way one line says which, with the images per second.
    Returns ``(features, seconds)``, two dicts keyed by the part names. For ResNet50 with train and
    test, the fingerprint is :func:`resnet50_features_fingerprint`'s.
    """
    from .fmt import decimal, thousands

    images = [x for x, _ in parts.values()]
    n_images = sum(len(x) for x in images)
    recipe = RESNET50_RECIPE if model == "resnet50" else model
    key = fingerprint(*images, *base_model.get_weights(), recipe)
    path = features_path(model, source=source, weights=weights, n=n_images)
    out_shape = tuple(base_model.output.shape[1:])
    cached = load_features(path, fingerprint=key, quiet=True,
                           shapes={f"features_{name}": (len(x), *out_shape) for name, (x, _) in parts.items()})
    if cached is not None:
        features = {name: cached[f"features_{name}"] for name in parts}
        seconds = {name: cached[f"seconds_extract_{name}"] for name in parts}
        total = sum(seconds.values())
        print(f"Reutilizamos las características guardadas en {shown(path)}: calcularlas costó "
              f"{_seconds(total)} ({decimal(n_images / total, 0)} imágenes/s).")
        return features, seconds
    features, seconds = {}, {}
    for name, (x, y) in parts.items():
        start = time.perf_counter()
        features[name] = extract(base_model, x, y)
        seconds[name] = time.perf_counter() - start
    save_features(path, fingerprint=key, quiet=True, **{f"features_{name}": f for name, f in features.items()},
                  **{f"seconds_extract_{name}": s for name, s in seconds.items()})
    _write_metadata(path, model=model, parts={name: (len(x), seconds[name]) for name, (x, _) in parts.items()},
                    source=source, weights=weights)
    from .throughput import record_throughput   # for benchmarks/full_series.py: images/s of this pass

    total = sum(seconds.values())
    record_throughput(f"{model}_extraction", images=n_images, seconds=total)
    print(f"Características de {thousands(n_images)} imágenes calculadas en {_seconds(total)} "
          f"({decimal(n_images / total, 0)} imágenes/s) y guardadas en {shown(path)} ({_mib(path)}).")
    return features, seconds


def head_accuracy(features, labels, *, epochs: int, validation: float = 0.2, batch_size: int = 128,
                  seed: int = 42, n_classes: int = 47) -> tuple[float, int]:
    """Validation accuracy of a new head (``Flatten`` + ``Dense(n_classes, softmax)``) on a base's features.

    The last ``validation`` fraction of the rows is held out (as ``validation_split`` would take it);
    the head is trained on the rest for ``epochs`` epochs with Adam, shuffled, from weights drawn with
    ``seed``. Two calls on the features of the same images through two bases (two input sizes,
    ImageNet against random weights) therefore differ only in the features. Returns the accuracy
    after the last epoch and the number of validation images.
    """
    import keras

    n_val = max(1, int(round(len(features) * validation)))
    keras.utils.set_random_seed(seed)
    head = keras.Sequential([keras.Input(shape=features.shape[1:]), keras.layers.Flatten(),
                             keras.layers.Dense(n_classes, activation="softmax")])
    head.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = head.fit(batches(features[:-n_val], labels[:-n_val], batch_size=batch_size, shuffle=True, seed=seed),
                       validation_data=batches(features[-n_val:], labels[-n_val:], batch_size=1024),
                       epochs=epochs, verbose=0)
    return float(history.history["val_accuracy"][-1]), n_val


def first_loss(loss: float, features, kernel, n_classes: int = 47) -> str:
    """A Spanish sentence on a head's first-epoch loss against ``ln(n_classes)``, from the run's numbers.

    A head that spreads its probability evenly starts at ``ln(n_classes)`` (3.85 for 47 classes).
    ``kernel`` is the head's initial ``Dense`` kernel: with it, the spread of the logits across classes
    (their standard deviation, on up to 1,024 images) says how confident the softmax starts; the
    features' root mean square says why.
    """
    import math

    from .fmt import decimal

    even = math.log(n_classes)
    flat = np.asarray(features[:1024], dtype="float64").reshape(min(len(features), 1024), -1)
    logits_spread = float(np.mean(np.std(flat @ np.asarray(kernel, dtype="float64"), axis=1)))
    rms = float(np.sqrt(np.mean(np.square(flat))))
    where = "muy por encima de" if loss > even + 1 else ("por encima de" if loss > even + 0.1 else "cerca de")
    sentence = (f"La pérdida de la primera época ({decimal(loss, 2)}) está {where} ln {n_classes} = {decimal(even, 2)}, "
                "la de una cabeza que reparte la probabilidad por igual. ")
    if logits_spread > 1:
        return sentence + (f"Las características son grandes (valor cuadrático medio {decimal(rms, 2)}), y con los pesos "
                           "iniciales de Dense las salidas antes de la softmax difieren mucho entre clases (desviación "
                           f"típica {decimal(logits_spread, 1)}): la cabeza empieza muy segura de clases equivocadas.")
    return sentence + ("Con los pesos iniciales de Dense, las salidas antes de la softmax difieren poco entre clases "
                       f"(desviación típica {decimal(logits_spread, 1)}): la cabeza empieza casi sin preferencias.")


def _seconds(value: float) -> str:
    from .fmt import seconds

    return seconds(value)


def _write_metadata(path: Path, *, model: str, parts: dict, source: str, weights: str) -> None:
    images = sum(n for n, _ in parts.values())
    seconds = sum(s for _, s in parts.values())
    info = {"model": model, "images": images, "seconds": round(seconds, 3),
            "images_per_second": round(images / seconds, 1) if seconds > 0 else None,
            "parts": {name: {"images": n, "seconds": round(s, 3)} for name, (n, s) in parts.items()},
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "") != "0", "cpus": os.cpu_count(),
            "load_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,   # what ran beside
            "source": source, "weights": weights, "quick": get_config().quick,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    with atomic_path(metadata_path(path)) as tmp:
        Path(tmp).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def extraction_metadata(cache: Path) -> dict | None:
    """What :func:`features_once` wrote next to ``cache``: ``images``, ``seconds``, ``images_per_second``,
    ``parts`` (per set of images), ``onednn``, ``cpus``, ``load_1min`` (the machine's load average when
    the extraction ended; None on Windows), ``source``, ``weights``, ``quick``, ``created``;
    None if there is none. The seconds are those of the run that computed the features."""
    path = metadata_path(cache)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def batches(x, y, *, batch_size: int = 1024, shuffle: bool = False, seed: int = 0, rows=None):
    """A ``keras.utils.PyDataset`` of ``(x, y)`` batches read from the arrays, for ``fit``/``evaluate``.

    ``model.fit(x, y)`` first turns the whole of ``x`` into a TensorFlow tensor and a dataset built
    on it (measured: about 1.7 times the size of ``x`` on top of ``x`` itself); with a gigabyte of
    features that is what breaks a 4 GiB budget. This reads one batch at a time instead. In order
    when ``shuffle`` is false; otherwise in a new seeded random order every epoch. Note that
    ``fit`` shuffles the *order of the batches* of a PyDataset unless given ``shuffle=False``: with
    ``fit(batches(x, y), shuffle=False)`` the batches are exactly those of ``fit(x, y, shuffle=False)``.
    ``rows`` (optional) is a list of row indices, repetitions allowed: the batches are then those of
    ``x[rows]``, ``y[rows]``, in that order, without ever building that copy.
    """
    import keras

    if len(x) != len(y):
        raise ValueError(f"x e y tienen longitudes distintas: {len(x)} y {len(y)}")
    if rows is not None:
        if shuffle:
            raise ValueError("rows ya fija el orden: no lo combines con shuffle=True")
        rows = np.asarray(rows)

        class RowBatches(keras.utils.PyDataset):
            def __len__(self):
                return -(-len(rows) // batch_size)

            def __getitem__(self, index):
                part = rows[index * batch_size:(index + 1) * batch_size]   # the indices of this batch
                return x[part], y[part]

        return RowBatches()

    class ArrayBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(x)) if shuffle else None

        def __len__(self):
            return -(-len(x) // batch_size)

        def __getitem__(self, index):
            part = slice(index * batch_size, (index + 1) * batch_size)
            if self.order is None:
                return x[part], y[part]
            rows = np.sort(self.order[part])   # sorted: reads memory in order; a batch is a set anyway
            return x[rows], y[rows]

        def on_epoch_end(self):
            if shuffle:
                self.order = self.rng.permutation(len(x))

    return ArrayBatches()
