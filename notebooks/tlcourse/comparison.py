"""Notebook 05: its plumbing (ResNet50 inputs, stage costs, a training step timed, stage outputs
computed once) and the final comparison as a Spanish student reads it.

``tmp/results.csv`` keeps stable English identifiers (``cnn_scratch``, ``resnet50_finetuned``…);
what a student sees goes through :data:`APPROACH_NAMES` and Spanish number formats.

A ranking is only fair between approaches trained on the same data, with the same number of
training images (``n_train``) **and** the same number of epochs: :func:`like_with_like` groups the
rows that way, says which rows differ only in their epochs and which have no partner. Every row is a
single run (one seed), so a difference under :data:`MEASURABLE` is reported as «sin diferencia
medible». :func:`comparison_reading` says, from the rows themselves, what the numbers can and cannot
show in this run (random weights, synthetic data, how many more images a model saw).
"""

from __future__ import annotations

import math
import textwrap
import time

import numpy as np
import pandas as pd

from .fmt import decimal, percent, thousands

# How each approach of results.csv reads in tables and figures (the CSV keeps the identifiers).
APPROACH_NAMES = {
    "mlp_retarget_frozen": "MLP de MNIST congelada, salida nueva",
    "mlp_retarget_unfrozen": "MLP de MNIST, después ajustada entera",
    "mlp_scratch": "MLP desde cero",
    "resnet50_frozen_direct": "ResNet50 congelada, forma directa",
    "resnet50_frozen_cached_features": "ResNet50 congelada, características precalculadas",
    "resnet50_finetuned": "ResNet50, ajuste fino de conv5",
    "cnn_scratch": "CNN pequeña desde cero",
}
DATA_NAMES = {"real": "reales", "synthetic": "sintéticos"}
WEIGHT_NAMES = {"imagenet": "ImageNet", "random": "aleatorios", "mnist": "de MNIST", "none": "ninguno"}
NO_N_TRAIN = "sin dato"
# One seed per row: two accuracies closer than this are not told apart (notebook 06 measures the spread
# between seeds; on EMNIST it is of the order of one or two points).
MEASURABLE = 0.02
WIDTH = 110   # printed lines that fit a projected slide


def approach_name(approach: str) -> str:
    """The Spanish name of an approach; an unknown identifier is shown readable, not hidden."""
    return APPROACH_NAMES.get(approach, str(approach).replace("_", " "))


def _has_n_train(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def images(n_train) -> str:
    """``101520`` -> ``'101.520 imágenes'``; an empty value (a row from an older run) -> ``'sin dato'``."""
    return f"{thousands(n_train)} imágenes" if _has_n_train(n_train) else NO_N_TRAIN


def epochs_text(epochs) -> str:
    """``1`` -> ``'1 época'``, ``10`` -> ``'10 épocas'``."""
    return f"{thousands(epochs)} época" + ("" if int(epochs) == 1 else "s")


def scientific(value: float, digits: int = 1) -> str:
    """A small number as a Spanish reader writes it: ``3.2e-07`` -> ``'3,2·10⁻⁷'``; 0 -> ``'0'``."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    superscript = str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mantissa.replace('.', ',')}·10{superscript}"


# ----------------------------------------------------------------------------- ResNet50 in notebook 05
def resnet50_dataset(x, y, batch_size: int = 256):
    """Notebook 04's input pipeline, as a ``tf.data.Dataset`` of ``(images, labels)`` batches, in order.

    28×28 grey (0–255) → 32×32 → RGB → ``keras.applications.resnet50.preprocess_input`` (ImageNet's
    BGR, centred), batch by batch, so the enlarged images never sit in memory all at once.
    """
    import keras
    import tensorflow as tf

    def to_resnet_input(images, labels):
        images = tf.image.resize(tf.cast(images, "float32")[..., tf.newaxis], (32, 32))
        return keras.applications.resnet50.preprocess_input(tf.image.grayscale_to_rgb(images)), labels

    return (tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
            .map(to_resnet_input, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


RESNET50_STAGES = ("conv1", "conv2", "conv3", "conv4", "conv5")


def resnet50_stage_costs(base_model) -> pd.DataFrame:
    """Parameters and multiply-adds per image of each stage of a Keras ResNet50 (``conv1`` … ``conv5``).

    A convolution's multiply-adds per image are ``out_h · out_w · k_h · k_w · c_in · c_out``; the
    BatchNormalization layers, additions and activations add well under 1 % and are left out.
    Columns: ``params``, ``macs`` and their shares ``params_share``, ``macs_share`` (fractions of the
    base's totals). Since every feature map of ResNet50 shrinks by the same factor at every input
    size that is a multiple of 32, the shares are the same at 32×32 and at 224×224 (tested).
    """
    import keras

    rows = {stage: {"params": 0, "macs": 0} for stage in RESNET50_STAGES}
    for layer in base_model.layers:
        stage = layer.name.split("_")[0]
        if stage not in rows:
            continue
        rows[stage]["params"] += layer.count_params()
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, _ = layer.output.shape
            kh, kw, c_in, c_out = layer.kernel.shape
            rows[stage]["macs"] += height * width * kh * kw * c_in * c_out
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["params_share"] = table["params"] / base_model.count_params()
    table["macs_share"] = table["macs"] / table["macs"].sum()
    return table


def train_step_speeds(candidates: dict, y, batch_size: int = 64, repeats: int = 3) -> dict:
    """Images per second of one training step (``train_on_batch``) of each model, measured alternately.

    ``candidates`` maps a name to ``(model, x)``. Each model first takes one step that builds its
    training graph and is not counted; then ``repeats`` rounds, each timing one step of every model in
    turn, so that other programs slow them alike; of each model's steps the fastest is kept. The weights
    are restored afterwards, so measuring does not train the models (their optimizers do take those
    steps). Each ``x`` needs at least ``(repeats + 1) · batch_size`` rows.
    """
    for name, (_, x) in candidates.items():
        if len(x) < (repeats + 1) * batch_size:
            raise ValueError(f"{name}: hacen falta {(repeats + 1) * batch_size} imágenes para medir; hay {len(x)}")
    saved = {name: model.get_weights() for name, (model, _) in candidates.items()}
    times = {name: [] for name in candidates}
    try:
        for model, x in candidates.values():
            model.train_on_batch(x[:batch_size], y[:batch_size])
        for start in range(batch_size, (repeats + 1) * batch_size, batch_size):
            for name, (model, x) in candidates.items():
                tic = time.perf_counter()
                model.train_on_batch(x[start:start + batch_size], y[start:start + batch_size])
                times[name].append(time.perf_counter() - tic)
    finally:
        for name, (model, _) in candidates.items():
            model.set_weights(saved[name])
    return {name: batch_size / min(t) for name, t in times.items()}


def train_step_speed(model, x, y, batch_size: int = 64, repeats: int = 3) -> float:
    """Images per second of one training step of ``model``: :func:`train_step_speeds` for one model."""
    return train_step_speeds({"modelo": (model, x)}, y, batch_size=batch_size, repeats=repeats)["modelo"]


def predict_once(model, dataset, *, name: str, images, source: str, weights: str):
    """``model.predict(dataset)``, computed once and then read from ``tmp/features/``.

    ``dataset`` yields batches of images or ``(images, labels)`` in the order of ``images``.

    The file is reused only if its fingerprint (the images, the model's weights and last layer) and
    shape match, so another subset, other data or other weights never reuse stale outputs.
    One line says which happened. Returns the outputs and the seconds the prediction took when it
    was computed.
    """
    from .config import shown_path
    from .pretrained import features_path, fingerprint, load_features, save_features

    key = fingerprint(np.asarray(images), *model.get_weights(), model.layers[-1].name)
    path = features_path(name, source=source, weights=weights, n=len(images))
    shape = (len(images), *model.output_shape[1:])
    cached = load_features(path, fingerprint=key, shapes={"features": shape}, quiet=True)
    if cached is not None:
        print(f"Reutilizamos la salida guardada en {shown_path(path)}.")
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
    save_features(path, fingerprint=key, features=outputs, seconds=elapsed, quiet=True)
    print(f"Calculada en {decimal(elapsed, 1)} s y guardada en {shown_path(path)}.")
    return outputs, elapsed


# ----------------------------------------------------------------------------- the comparison
def _shown_order(results: pd.DataFrame) -> pd.DataFrame:
    """By notebook, and within a notebook in the order the rows were recorded."""
    return results.sort_values(["notebook"], kind="stable").reset_index(drop=True)


def comparison_table(results: pd.DataFrame) -> pd.DataFrame:
    """The results as projected in class: notebook, approach, weights, images, epochs, test accuracy
    and seconds, in Spanish. A «datos» column appears only when real and synthetic rows are mixed
    (otherwise the notebook says which once)."""
    table = _shown_order(results)
    columns = {"notebook": table["notebook"].astype(str), "enfoque": table["approach"].map(approach_name)}
    if table["data"].nunique() > 1:
        columns["datos"] = table["data"].map(lambda d: DATA_NAMES.get(d, d))
    columns.update({
        "pesos de la base": table["weights"].map(lambda w: WEIGHT_NAMES.get(w, w)),
        "imágenes": table["n_train"].map(lambda n: thousands(n) if _has_n_train(n) else NO_N_TRAIN),
        "épocas": table["epochs"].map(thousands),
        "exactitud en test": table["test_accuracy"].map(percent),
        "segundos": table["train_seconds"].map(lambda s: decimal(s, 1)),
    })
    shown = pd.DataFrame(columns)
    shown.index = pd.RangeIndex(1, len(shown) + 1)
    return shown


def _entry(row) -> str:
    return f"{approach_name(row.approach)} ({row.notebook}) {percent(row.test_accuracy)}"


def _ranking(group: pd.DataFrame) -> list[str]:
    """Best first; «≈» between neighbours closer than MEASURABLE, «>» otherwise."""
    rows = list(group.sort_values("test_accuracy", ascending=False).itertuples())
    lines = [f"    {_entry(rows[0])}"]
    for better, worse in zip(rows, rows[1:]):
        close = better.test_accuracy - worse.test_accuracy < MEASURABLE
        lines.append(f"  {'≈' if close else '>'} {_entry(worse)}" + ("  (sin diferencia medible)" if close else ""))
    return lines


def like_with_like(results: pd.DataFrame) -> list[str]:
    """Lines that rank only what is comparable: same data, same number of training images, same epochs.

    Rows with the same data and images but different epochs are listed, not ranked; rows alone are
    named with what they used; rows without ``n_train`` (an older run) are named apart. Every row is
    one seed: neighbours closer than :data:`MEASURABLE` are marked «sin diferencia medible».
    """
    if results.empty:
        return ["Todavía no hay resultados en tmp/results.csv."]
    known = results[results["n_train"].map(_has_n_train)]
    missing = results[~results["n_train"].map(_has_n_train)]
    ranked, other_epochs, alone = [], [], []
    for (data, n_train), same_images in known.groupby(["data", "n_train"], sort=True):
        groups = [g for _, g in same_images.groupby("epochs", sort=True)]
        for group in groups:
            if len(group) > 1:
                ranked.append(f"- Datos {DATA_NAMES.get(data, data)} · {images(n_train)} · "
                              f"{epochs_text(group['epochs'].iloc[0])}:")
                ranked += _ranking(group)
        if len(groups) > 1:
            other_epochs.append(f"- Datos {DATA_NAMES.get(data, data)} · {images(n_train)}:")
            other_epochs += [f"    {_entry(r)} en {epochs_text(r.epochs)}"
                             for r in same_images.sort_values("epochs", kind="stable").itertuples()]
        elif len(same_images) == 1:
            alone.append(same_images.iloc[0])
    lines = [f"Una ejecución (una semilla) por enfoque: menos de {decimal(100 * MEASURABLE, 0)} puntos de "
             "diferencia, sin diferencia medible."]
    if ranked:
        lines += ["Comparables (mismos datos, mismas imágenes y mismas épocas), de mejor a peor:", *ranked]
    else:
        lines.append("Ningún par de enfoques usó los mismos datos, las mismas imágenes y las mismas épocas.")
    if other_epochs:
        lines += ["Mismas imágenes pero distintas épocas (no se ordenan):", *other_epochs]
    if alone:
        lines.append("Sin pareja (no se comparan de igual a igual):")
        lines += [f"- {_entry(r)} con {images(r.n_train)} y {epochs_text(r.epochs)}" for r in alone]
    if len(missing):
        lines.append("Sin número de imágenes (vuelve a ejecutar su notebook):")
        lines += [f"- {approach_name(r.approach)} ({r.notebook})" for r in missing.itertuples()]
    return lines


def _row(results: pd.DataFrame, approach: str):
    rows = results[results["approach"] == approach]
    return rows.iloc[-1] if len(rows) else None


def comparison_reading(results: pd.DataFrame) -> list[str]:
    """What these rows can and cannot show, said from the rows themselves (never from a fixed text).

    Says whether the ResNet50 rows had random weights (then there is no transfer to measure) or
    ImageNet's at 32×32; whether the data were synthetic; how many more images the CNN from scratch
    saw than the fine-tuning, and where the fine-tuned model started from; and points to notebook 06,
    where transfer is measured with few labelled images against many.
    """
    if results.empty:
        return []
    lines = []
    resnet = results[results["approach"].str.startswith("resnet50")]
    if (resnet["weights"] == "random").any():
        lines.append("Atención: en esta ejecución la base de ResNet50 tiene pesos aleatorios (sin los de ImageNet): "
                     "no hay transferencia que medir. Sus filas dicen lo que cuesta cada forma y lo que aprende "
                     "una cabeza sobre características aleatorias.")
    elif len(resnet):
        lines.append("La base de ResNet50 trae pesos de ImageNet, pero a 32×32, el mínimo que acepta Keras y lejos "
                     "de los 224×224 con que se entrenó: estas filas subestiman lo que puede transferir.")
    if (results["data"] == "synthetic").all():
        lines.append("Todos los datos son sintéticos: los números muestran que el código funciona y lo que cuesta, "
                     "no cuánto acierta cada enfoque con letras manuscritas reales.")
    elif (results["data"] == "synthetic").any():
        lines.append("Hay filas de datos sintéticos: no se comparan con las de datos reales.")
    cnn, tuned, frozen = (_row(results, a) for a in ("cnn_scratch", "resnet50_finetuned",
                                                     "resnet50_frozen_cached_features"))
    if cnn is not None and tuned is not None and _has_n_train(cnn.n_train) and _has_n_train(tuned.n_train):
        ratio = cnn.n_train / tuned.n_train
        start = (f"; el ajuste fino partió de la cabeza del 04, entrenada con {images(frozen.n_train)}"
                 if frozen is not None and _has_n_train(frozen.n_train) else "")
        lines.append(f"La CNN desde cero ({percent(cnn.test_accuracy)}) vio {decimal(ratio, 1)} veces las imágenes "
                     f"del ajuste fino ({percent(tuned.test_accuracy)}): {thousands(cnn.n_train)} frente a "
                     f"{thousands(tuned.n_train)}{start}.")
    lines.append("Con muchas imágenes etiquetadas, una red pequeña desde cero es un rival difícil. La pregunta del "
                 "06 es la otra: con pocas imágenes por clase, ¿cuánto aporta partir de una base entrenada?")
    return [textwrap.fill(line, width=WIDTH, subsequent_indent="  ") for line in lines]


__all__ = ["APPROACH_NAMES", "MEASURABLE", "RESNET50_STAGES", "approach_name", "comparison_reading",
           "comparison_table", "epochs_text", "images", "like_with_like", "predict_once", "resnet50_dataset",
           "resnet50_stage_costs", "scientific", "train_step_speed", "train_step_speeds"]
