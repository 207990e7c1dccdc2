"""MNIST and EMNIST balanced: real when possible, synthetic when not, and always saying which.

``TL_DATA`` decides: ``real`` uses the cache or the network and fails with a clear message;
``synthetic`` never touches the network; ``auto`` (default) tries real data and falls back to
the synthetic stand-in with a loud banner. A cached file that fails its check is never used.
"""

from __future__ import annotations

import warnings
import zlib
import zipfile
from pathlib import Path

import numpy as np

from . import synthetic
from .config import get_config, shown_path
from .files import DataError, atomic_path, download, md5sum
from .idx import read_idx
from .fmt import thousands
from .sources import LoadedData, banner

# --------------------------------------------------------------------------------------- MNIST
MNIST_FILES = {  # name in data/mnist/ -> md5 of the uncompressed content (the official sums)
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}
MNIST_CLASSES = synthetic.DIGITS

# -------------------------------------------------------------------------------------- EMNIST
EMNIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
EMNIST_ZIP_SIZE = 561_753_746
EMNIST_ZIP_MD5 = "58c8d27c78d21e728a6bc7b3cc06412e"
EMNIST_BALANCED_CLASSES = synthetic.BALANCED_CHARS   # label i is the character BALANCED_CLASSES[i]
EMNIST_SIZES = {"train": 112_800, "test": 18_800}

# Quick mode (TL_QUICK=1): same code path, fewer samples.
QUICK_SIZES = {"mnist": (12_000, 2_000), "emnist": (9_400, 1_880)}
SYNTHETIC_VERSION = 1     # bump when the generator changes, so old caches are not reused


_n = thousands


def _quick_subset(x, y, n, seed):
    """A seeded random subset of ``n`` samples (the same on every run)."""
    if n >= len(x):
        return x, y
    keep = np.sort(np.random.default_rng(seed).permutation(len(x))[:n])
    return x[keep], y[keep]


def _finish(name, train, test, source, description, classes, quick_key):
    cfg = get_config()
    if cfg.quick:
        n_train, n_test = QUICK_SIZES[quick_key]
        train = _quick_subset(*train, n_train, seed=1)
        test = _quick_subset(*test, n_test, seed=2)
    data = LoadedData(train, test, name=name, source=source, description=description, classes=classes)
    (x_train, _), (x_test, _) = data
    quick = " (submuestra del modo rápido)" if cfg.quick else ""
    if source == "synthetic":
        banner([f"{name}: DATOS SINTÉTICOS, no el conjunto real.",
                description,
                "Los números que salgan de aquí no dicen nada sobre datos reales."])
    print(f"{name}: {_n(len(x_train))} imágenes de entrenamiento y {_n(len(x_test))} de test{quick}. "
          f"Fuente: {description}.")
    return data


def _synthetic_cached(kind: str, classes: str, sizes: tuple[int, int]):
    """Generate (or reuse from the cache) a synthetic stand-in of the given sizes."""
    cfg = get_config()
    n_train, n_test = sizes
    path = cfg.data_dir / "synthetic" / f"{kind}-v{SYNTHETIC_VERSION}-{n_train}-{n_test}.npz"
    if path.exists():
        try:
            with np.load(path) as f:
                arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
            if len(arrays["x_train"]) == n_train and len(arrays["x_test"]) == n_test:
                return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
        except Exception as error:   # a damaged cache is regenerated, never used
            print(f"La copia sintética guardada en {shown_path(path)} está dañada ({error}); se genera de nuevo.")
    print(f"Generando {_n(n_train + n_test)} imágenes sintéticas de {kind}…")
    seed = {"mnist": 10, "emnist-balanced": 47}[kind]
    x_train, y_train = synthetic.generate(classes, n_train, seed=seed)
    x_test, y_test = synthetic.generate(classes, n_test, seed=seed + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return (x_train, y_train), (x_test, y_test)


def _fallback_or_raise(name: str, problems: list[str], howto: str):
    """In ``real`` mode stop with the reasons; in ``auto`` mode say them and go on."""
    cfg = get_config()
    reasons = "\n".join(f"  - {p}" for p in problems)
    if cfg.data_mode == "real":
        raise DataError(f"No hay {name} real disponible (TL_DATA=real):\n{reasons}\n"
                        f"Qué hacer: {howto}, o usa TL_DATA=auto para seguir con datos sintéticos.")
    print(f"No se pudo usar {name} real; seguimos con datos sintéticos. Motivos:\n{reasons}")


def mnist_files_problem(folder: Path) -> str | None:
    """None if the four MNIST files in ``folder`` are present and pass their md5; else why not."""
    missing = [n for n in MNIST_FILES if not (folder / n).exists()]
    if len(missing) == len(MNIST_FILES):
        return f"{shown_path(folder)} no contiene los ficheros de MNIST"
    if missing:
        return f"faltan en {shown_path(folder)}: {', '.join(missing)}"
    for name, expected in MNIST_FILES.items():
        try:
            actual = md5sum(folder / name, gunzip=True)
        except (OSError, EOFError, zlib.error) as error:
            return f"{folder / name} no se puede descomprimir ({error}): fichero dañado o truncado"
        if actual != expected:
            return (f"{folder / name} no supera la comprobación md5 del contenido descomprimido "
                    f"(esperado {expected}, obtenido {actual})")
    return None


def load_mnist() -> LoadedData:
    """MNIST as ``keras.datasets.mnist.load_data()`` returns it (uint8), with its source.

    Order: the four official files in ``data/mnist/`` (md5-checked), then Keras' downloader,
    then (per ``TL_DATA``) a synthetic stand-in.
    """
    cfg = get_config()
    name = "MNIST"
    if cfg.data_mode != "synthetic":
        problems = []
        folder = cfg.data_dir / "mnist"
        problem = mnist_files_problem(folder)
        if problem is None:
            train = (read_idx(folder / "train-images-idx3-ubyte.gz"), read_idx(folder / "train-labels-idx1-ubyte.gz"))
            test = (read_idx(folder / "t10k-images-idx3-ubyte.gz"), read_idx(folder / "t10k-labels-idx1-ubyte.gz"))
            return _finish(name, train, test, "real", f"ficheros IDX oficiales en {shown_path(folder)} (md5 verificado)",
                           MNIST_CLASSES, "mnist")
        problems.append(problem)
        try:
            import keras
            train, test = keras.datasets.mnist.load_data()
            return _finish(name, train, test, "real", "keras.datasets.mnist.load_data()", MNIST_CLASSES, "mnist")
        except Exception as error:   # no network, or a bad download: Keras says which
            problems.append(f"keras.datasets.mnist.load_data() falló: {str(error).splitlines()[0][:200]}")
        _fallback_or_raise(name, problems, "copia los cuatro ficheros .gz oficiales en "
                           f"{shown_path(folder)} o ejecuta `python -m tlcourse.prefetch` con red")
    sizes = QUICK_SIZES["mnist"] if cfg.quick else (60_000, 10_000)
    train, test = _synthetic_cached("mnist", MNIST_CLASSES, sizes)
    return _finish(name, train, test, "synthetic",
                   "generador sintético de tlcourse (dígitos de fuentes tipográficas deformados)",
                   MNIST_CLASSES, "mnist")


# -------------------------------------------------------------------------------------- EMNIST
def emnist_zip_path() -> Path:
    return get_config().data_dir / "emnist" / "emnist.zip"


def emnist_zip_problem(path: Path, full_check: bool = False) -> str | None:
    """None if the EMNIST zip at ``path`` looks right; else why not.

    The size is always checked (cheap); the md5 of 562 MB only when ``full_check``.
    """
    if not path.exists():
        return f"{shown_path(path)} no existe"
    size = path.stat().st_size
    if size != EMNIST_ZIP_SIZE:
        return (f"{shown_path(path)} mide {thousands(size)} bytes y debería medir {thousands(EMNIST_ZIP_SIZE)} "
                "(descarga truncada o dañada)")
    if full_check and (actual := md5sum(path)) != EMNIST_ZIP_MD5:
        return f"{shown_path(path)} no supera la comprobación md5 (esperado {EMNIST_ZIP_MD5}, obtenido {actual})"
    return None


def download_emnist_zip() -> Path:
    """Download NIST's EMNIST zip into the cache (progress bar, temporary name, md5 check)."""
    path = emnist_zip_path()
    return download(EMNIST_URL, path, md5=EMNIST_ZIP_MD5, size=EMNIST_ZIP_SIZE, desc="EMNIST gzip.zip")


def extract_with_emnist_package(zip_path: Path, dataset: str = "balanced"):
    """Read a split through the ``emnist`` package, with its cache pointed at ``zip_path``."""
    import emnist
    emnist.CACHE_FILE_PATH = str(zip_path)
    with warnings.catch_warnings():
        # emnist 0.0 converts 1-element arrays to int, which numpy 2.3 deprecates (and 2.4 rejects).
        warnings.simplefilter("ignore", DeprecationWarning)
        train = emnist.extract_training_samples(dataset)
        test = emnist.extract_test_samples(dataset)
    return train, test


def _compact_cache_path() -> Path:
    return get_config().data_dir / "emnist" / "emnist-balanced.npz"


def _read_compact_cache(path: Path):
    with np.load(path) as f:
        train = (f["x_train"], f["y_train"])
        test = (f["x_test"], f["y_test"])
    if len(train[0]) != EMNIST_SIZES["train"] or len(test[0]) != EMNIST_SIZES["test"] \
            or train[0].shape[1:] != (28, 28) or int(train[1].max()) != 46:
        raise ValueError("formas o etiquetas inesperadas")
    return train, test


def load_emnist(dataset: str = "balanced") -> LoadedData:
    """EMNIST balanced as the ``emnist`` package returns it (uint8, upright), with its source.

    Order: the compact cache ``data/emnist/emnist-balanced.npz``; NIST's zip in ``data/emnist/``
    (downloaded when missing, unless ``TL_DATA=synthetic``); then the synthetic stand-in.
    """
    if dataset != "balanced":
        raise ValueError(f"Este curso solo usa EMNIST 'balanced' (47 clases), no {dataset!r}.")
    cfg = get_config()
    name = "EMNIST balanced"
    if cfg.data_mode != "synthetic":
        problems = []
        compact = _compact_cache_path()
        if compact.exists():
            try:
                train, test = _read_compact_cache(compact)
                return _finish(name, train, test, "real", f"caché compacta {compact} (extraída del zip de NIST)",
                               EMNIST_BALANCED_CLASSES, "emnist")
            except Exception as error:
                problems.append(f"{compact} está dañada ({error}); no la uso")
        zip_path = emnist_zip_path()
        problem = emnist_zip_problem(zip_path)
        if problem is not None and zip_path.exists():
            problems.append(problem + "; no se usa")
        if problem is not None:
            try:
                download_emnist_zip()
                problem = None
            except DataError as error:
                problems.append(str(error))
        if problem is None:
            try:
                train, test = extract_with_emnist_package(zip_path)
                with atomic_path(compact) as tmp:
                    with open(tmp, "wb") as f:
                        np.savez(f, x_train=train[0], y_train=train[1], x_test=test[0], y_test=test[1])
                return _finish(name, train, test, "real", f"zip de NIST {shown_path(zip_path)} leído con el paquete emnist",
                               EMNIST_BALANCED_CLASSES, "emnist")
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError, KeyError, EOFError) as error:
                problems.append(f"{shown_path(zip_path)} no se pudo leer ({error})")
        _fallback_or_raise(name, problems, f"descarga {EMNIST_URL} en {shown_path(zip_path)} "
                           "o ejecuta `python -m tlcourse.prefetch` con red")
    sizes = QUICK_SIZES["emnist"] if cfg.quick else (EMNIST_SIZES["train"], EMNIST_SIZES["test"])
    train, test = _synthetic_cached("emnist-balanced", EMNIST_BALANCED_CLASSES, sizes)
    return _finish(name, train, test, "synthetic",
                   "generador sintético de tlcourse (caracteres de fuentes tipográficas deformados)",
                   EMNIST_BALANCED_CLASSES, "emnist")
