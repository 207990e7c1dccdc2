"""``tmp/throughput.csv``: images per second of the ResNet50 passes, for the benchmark of the series.

A notebook that runs a pass over many images (the feature extraction of notebook 04, for
instance) calls ``record_throughput("resnet50_extraction_32px", images=n, seconds=s)`` once the
pass ends. ``benchmarks/full_series.py`` reads the rows each notebook added and puts the images
per second, and the extraction's distance from the FLOP floor, into its table. The rows only
add up; nothing in the lessons reads them.

``timed_extraction`` measures images per second of a frozen base the way notebook 04 compares
input sizes: the notebook's own extraction function, after one warm-up call on the first batch
(TensorFlow builds the graph on a model's first call: a one-off cost that would make a small
subset look slower than it is).
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

from .config import get_config, tmp_path
from .files import file_lock

COLUMNS = ["name", "images", "seconds", "images_per_second", "quick", "pid", "unix_time"]


def throughput_path() -> Path:
    return tmp_path("throughput.csv")


def record_throughput(name: str, images: int, seconds: float, path: Path | None = None) -> dict:
    """Append one row (``name``, images, seconds, images/s) to ``tmp/throughput.csv`` and return it.

    The row is written whole under a lock (with the header if the file is new), so two
    notebooks recording at once never interleave or lose a row.
    """
    if int(images) < 1 or not seconds > 0:
        raise ValueError(f"images={images!r}, seconds={seconds!r}: hacen falta imágenes y un tiempo positivo")
    path = Path(path) if path else throughput_path()
    row = {"name": str(name), "images": int(images), "seconds": round(float(seconds), 3),
           "images_per_second": round(int(images) / float(seconds), 1), "quick": int(get_config().quick),
           "pid": os.getpid(), "unix_time": round(time.time(), 1)}
    with file_lock(path, timeout=30.0, stale_after=60.0):
        new = not path.exists() or path.stat().st_size == 0
        with open(path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())
    return row


def timed_extraction(extract, base, x, y, *, batch_size: int = 256, name: str | None = None, **kwargs):
    """``extract(base, x, y, batch_size=batch_size, **kwargs)`` timed after a warm-up: ``(features, images/s)``.

    The warm-up is ``extract`` on the first ``batch_size`` images: one batch of the shape the timed
    pass uses, so nothing is traced again inside it (make ``len(x)`` a multiple of ``batch_size``:
    a smaller last batch would be traced too). ``name`` also appends the row to
    ``tmp/throughput.csv`` (:func:`record_throughput`).
    """
    extract(base, x[:batch_size], y[:batch_size], batch_size=batch_size, **kwargs)
    start = time.perf_counter()
    features = extract(base, x, y, batch_size=batch_size, **kwargs)
    seconds = time.perf_counter() - start
    if name:
        record_throughput(name, images=len(x), seconds=seconds)
    return features, len(x) / seconds


def read_throughput(path: Path | None = None) -> list[dict]:
    """Every row recorded so far (an empty list if there is no file), numbers as numbers."""
    path = Path(path) if path else throughput_path()
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["images"] = int(row["images"])
        for key in ("seconds", "images_per_second", "unix_time"):
            row[key] = float(row[key])
        row["quick"] = bool(int(row["quick"]))
        row["pid"] = int(row["pid"])
    return rows
