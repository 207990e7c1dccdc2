"""``tmp/results.csv``: one row per (notebook, approach), shared by notebooks 03–05."""

from __future__ import annotations

import math

import pandas as pd

from .config import tmp_path
from .files import atomic_path, file_lock

COLUMNS = ["notebook", "approach", "data", "weights", "n_train", "epochs", "trainable_params",
           "train_seconds", "seconds_per_epoch", "test_accuracy"]
# How the columns read in tables and figures shown to students (the CSV keeps the names above).
SPANISH_COLUMNS = {"notebook": "notebook", "approach": "enfoque", "data": "datos", "weights": "pesos",
                   "n_train": "imágenes de entrenamiento", "epochs": "épocas",
                   "trainable_params": "parámetros entrenables", "train_seconds": "segundos de entrenamiento",
                   "seconds_per_epoch": "segundos por época", "test_accuracy": "exactitud en test"}
DATA_VALUES = ("real", "synthetic")
WEIGHT_VALUES = ("imagenet", "random", "mnist", "none")


def results_path():
    return tmp_path("results.csv")


def _results_lock(timeout: float = 60.0, stale_after: float = 120.0):
    """Only one process at a time reads, changes and rewrites ``tmp/results.csv``.

    Two notebooks run at once (two kernels, or tests in parallel) would otherwise both read the
    old table and the second rename would drop the first one's row.
    """
    return file_lock(results_path(), timeout=timeout, stale_after=stale_after)


def read_results() -> pd.DataFrame:
    """The results so far (an empty table if no notebook has written any)."""
    path = results_path()
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    table = pd.read_csv(path, dtype={"notebook": str})
    return table.reindex(columns=COLUMNS)   # a table from an older version gains an empty n_train


def record_result(*, notebook: str, approach: str, data: str, weights: str, n_train: int, epochs: int,
                  trainable_params: int, train_seconds: float, test_accuracy: float,
                  seconds_per_epoch: float | None = None) -> pd.DataFrame:
    """Add or replace the row of ``(notebook, approach)`` and return the whole table.

    A re-run replaces its own row instead of adding a duplicate. The file is written to a
    temporary name and renamed, so an interrupted run never leaves half a table, and under a
    lock, so two notebooks writing at once do not lose each other's rows.
    """
    if data not in DATA_VALUES:
        raise ValueError(f"data={data!r}: debe ser uno de {DATA_VALUES}")
    if weights not in WEIGHT_VALUES:
        raise ValueError(f"weights={weights!r}: debe ser uno de {WEIGHT_VALUES}")
    if not 0.0 <= test_accuracy <= 1.0 or math.isnan(test_accuracy):
        raise ValueError(f"test_accuracy={test_accuracy!r}: debe estar entre 0 y 1")
    if int(n_train) < 1:
        raise ValueError(f"n_train={n_train!r}: el número de imágenes de entrenamiento usadas debe ser al menos 1")
    if int(epochs) < 1:
        raise ValueError(f"epochs={epochs!r}: debe ser al menos 1")
    if seconds_per_epoch is None:
        seconds_per_epoch = train_seconds / epochs
    row = dict(notebook=str(notebook), approach=approach, data=data, weights=weights, n_train=int(n_train),
               epochs=int(epochs),
               trainable_params=int(trainable_params), train_seconds=round(float(train_seconds), 2),
               seconds_per_epoch=round(float(seconds_per_epoch), 3),
               test_accuracy=float(test_accuracy))   # unrounded: rounded once, where it is shown
    with _results_lock():
        table = read_results()
        keep = ~((table["notebook"] == row["notebook"]) & (table["approach"] == approach))
        table = pd.concat([table[keep], pd.DataFrame([row])], ignore_index=True)[COLUMNS]
        table = table.sort_values(["notebook"], kind="stable").reset_index(drop=True)
        with atomic_path(results_path()) as tmp:
            table.to_csv(tmp, index=False)
    return table


def against_chance(accuracy: float, n_images: int, n_classes: int) -> str:
    """A Spanish clause saying whether ``accuracy`` on ``n_images`` images can be told apart from chance.

    Chance is ``1 / n_classes``; the margin is two standard errors of an accuracy measured on
    ``n_images`` images at that level (binomial), about a 95 % interval. E.g. 1.6 % on 1,024 images
    with 47 classes: «no se distingue del azar (2,1 % ± 0,9 puntos con 1.024 imágenes)».
    """
    from .fmt import decimal, percent, thousands

    chance = 1 / n_classes
    margin = 2 * math.sqrt(chance * (1 - chance) / n_images)
    where = f"{percent(chance)} ± {decimal(100 * margin)} puntos con {thousands(n_images)} imágenes"
    if abs(accuracy - chance) <= margin:
        return f"no se distingue del azar ({where})"
    return f"{'por encima' if accuracy > chance else 'por debajo'} del azar ({where})"


def save_history(history, name: str):
    """Save a Keras ``History`` (loss and metrics per epoch) as ``tmp/<name>``, atomically."""
    frame = pd.DataFrame(getattr(history, "history", history))
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
    path = tmp_path(name)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp)
    return path


def load_history(name: str) -> dict | None:
    """The history saved by :func:`save_history` as a ``{metric: [values]}`` dict, or None."""
    path = tmp_path(name)
    if not path.exists():
        return None
    return pd.read_csv(path, index_col="epoch").to_dict(orient="list")
