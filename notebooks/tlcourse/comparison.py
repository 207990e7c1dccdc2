"""Notebook 05's final comparison as a Spanish student reads it, and its once-computed stage outputs.

``tmp/results.csv`` keeps stable English identifiers (``cnn_scratch``, ``resnet50_finetuned``…);
what a student sees goes through :data:`APPROACH_NAMES` and
:data:`tlcourse.results.SPANISH_COLUMNS`, with numbers in Spanish format.

A comparison is only fair between approaches trained on the same data and the same number of
training images (``n_train``): :func:`like_with_like` groups the rows that way and says plainly
which rows have no partner. Rows written before ``n_train`` existed have it empty (NaN): they are
shown as such and left out of the comparison.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from .fmt import decimal, percent, thousands
from .results import SPANISH_COLUMNS

# How each approach of results.csv reads in tables and figures (the CSV keeps the identifiers).
APPROACH_NAMES = {
    "mlp_retarget_frozen": "MLP de MNIST congelada, salida nueva",
    "mlp_retarget_unfrozen": "MLP de MNIST, después ajustada entera",
    "mlp_scratch": "MLP desde cero",
    "resnet50_frozen_direct": "ResNet50 congelada, forma directa",
    "resnet50_frozen_cached_features": "ResNet50 congelada, características precalculadas",
    "resnet50_finetuned": "ResNet50 con conv5 ajustada (fine-tuning)",
    "cnn_scratch": "CNN pequeña desde cero",
}
DATA_NAMES = {"real": "reales", "synthetic": "sintéticos"}
WEIGHT_NAMES = {"imagenet": "ImageNet", "random": "aleatorios", "mnist": "de MNIST", "none": "ninguno"}
NO_N_TRAIN = "sin dato"


def approach_name(approach: str) -> str:
    """The Spanish name of an approach; an unknown identifier is shown readable, not hidden."""
    return APPROACH_NAMES.get(approach, str(approach).replace("_", " "))


def _has_n_train(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def images(n_train) -> str:
    """``101520`` -> ``'101.520 imágenes'``; an empty value (a row from an older run) -> ``'sin dato'``."""
    return f"{thousands(n_train)} imágenes" if _has_n_train(n_train) else NO_N_TRAIN


def scientific(value: float, digits: int = 1) -> str:
    """A small number as a Spanish reader writes it: ``3.2e-07`` -> ``'3,2·10⁻⁷'``; 0 -> ``'0'``."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    superscript = str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mantissa.replace('.', ',')}·10{superscript}"


def comparison_table(results: pd.DataFrame) -> pd.DataFrame:
    """The results as a student reads them: Spanish column names, approach names and numbers."""
    table = results.sort_values(["notebook"], kind="stable").reset_index(drop=True)
    shown = pd.DataFrame({
        SPANISH_COLUMNS["notebook"]: table["notebook"].astype(str),
        SPANISH_COLUMNS["approach"]: table["approach"].map(approach_name),
        SPANISH_COLUMNS["data"]: table["data"].map(lambda d: DATA_NAMES.get(d, d)),
        SPANISH_COLUMNS["weights"]: table["weights"].map(lambda w: WEIGHT_NAMES.get(w, w)),
        SPANISH_COLUMNS["n_train"]: table["n_train"].map(
            lambda n: thousands(n) if _has_n_train(n) else NO_N_TRAIN),
        SPANISH_COLUMNS["epochs"]: table["epochs"].map(lambda e: thousands(e)),
        SPANISH_COLUMNS["trainable_params"]: table["trainable_params"].map(thousands),
        SPANISH_COLUMNS["train_seconds"]: table["train_seconds"].map(lambda s: decimal(s, 1)),
        SPANISH_COLUMNS["test_accuracy"]: table["test_accuracy"].map(percent),
    })
    shown.index = pd.RangeIndex(1, len(shown) + 1)
    return shown


def like_with_like(results: pd.DataFrame) -> list[str]:
    """Sentences that compare only what is comparable: same data and same number of training images.

    Each group of two or more rows is listed from best to worst test accuracy; rows alone in their
    group are named as not directly comparable; rows without ``n_train`` are named apart.
    """
    if results.empty:
        return ["Todavía no hay resultados en tmp/results.csv."]
    missing = results[~results["n_train"].map(_has_n_train)]
    known = results[results["n_train"].map(_has_n_train)]
    lines, alone = [], []
    for (data, n_train), group in known.groupby(["data", "n_train"], sort=True):
        group = group.sort_values("test_accuracy", ascending=False)
        if len(group) == 1:
            alone.append(group.iloc[0])
            continue
        ranking = " > ".join(f"{approach_name(r.approach)} ({r.notebook}) {percent(r.test_accuracy)}"
                             for r in group.itertuples())
        lines.append(f"- Datos {DATA_NAMES.get(data, data)}, {images(n_train)}: {ranking}")
    if lines:
        lines.insert(0, "Comparables (mismos datos y mismo número de imágenes de entrenamiento):")
    else:
        lines.append("Ningún par de enfoques usó los mismos datos y el mismo número de imágenes de entrenamiento.")
    if alone:
        lines.append("Sin pareja con el mismo número de imágenes (su exactitud no se compara de igual a igual):")
        lines += [f"- {approach_name(r.approach)} ({r.notebook}): {percent(r.test_accuracy)} con "
                  f"{images(r.n_train)}, datos {DATA_NAMES.get(r.data, r.data)}" for r in alone]
    if len(missing):
        lines.append("Sin número de imágenes (filas de una ejecución anterior; vuelve a ejecutar su notebook):")
        lines += [f"- {approach_name(r.approach)} ({r.notebook})" for r in missing.itertuples()]
    return lines


def predict_once(model, dataset, *, name: str, images, source: str, weights: str):
    """``model.predict(dataset)``, computed once and then read from ``tmp/features/``.

    ``dataset`` yields batches of images or ``(images, labels)`` in the order of ``images``.

    The file is reused only if its fingerprint (the images, the model's weights and last layer) and
    shape match, so another subset, other data or other weights never reuse stale outputs.
    Returns the outputs and the seconds the prediction took when it was computed.
    """
    from .pretrained import features_path, fingerprint, load_features, save_features

    key = fingerprint(np.asarray(images), *model.get_weights(), model.layers[-1].name)
    path = features_path(name, source=source, weights=weights, n=len(images))
    shape = (len(images), *model.output_shape[1:])
    cached = load_features(path, fingerprint=key, shapes={"features": shape})
    if cached is not None:
        return cached["features"], cached["seconds"]
    # Batch by batch into an array allocated once: ``predict`` would keep every batch and then join them,
    # two copies of the outputs at the peak (notebook 05, full mode: 0.6 GB of conv4 outputs; the kernel grew 1.2 GB).
    outputs = np.empty(shape, dtype="float32")
    start, done = time.perf_counter(), 0
    for batch in dataset:
        images_batch = batch[0] if isinstance(batch, tuple) else batch
        outputs[done:done + len(images_batch)] = model.predict_on_batch(images_batch)
        done += len(images_batch)
    elapsed = time.perf_counter() - start
    if done != len(outputs):
        raise ValueError(f"el dataset dio {done} imágenes y se esperaban {len(outputs)}")
    save_features(path, fingerprint=key, features=outputs, seconds=elapsed)
    return outputs, elapsed


__all__ = ["APPROACH_NAMES", "approach_name", "comparison_table", "images", "like_with_like", "predict_once", "scientific"]
