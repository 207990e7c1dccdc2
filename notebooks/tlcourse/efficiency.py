"""Notebook 06's plumbing: when transfer learning pays off, measured with k labelled images per class.

The lesson (building the CNN, freezing its base, a new head, fine-tuning, the random-base control
and the experiment's loop) is in the notebook. This module keeps out of its way:

- the destination tasks (:class:`Task`) and one measurement per run (:meth:`Task.measure`);
- k labelled images per class, seeded and nested across k (:func:`sample_per_class`);
- training a fixed number of steps (:func:`train_steps`): like ``compile`` + ``fit``, but reusing
  the TensorFlow graph already traced for an identical model, so that the eighty-odd short runs
  of the experiment do not each pay for their own (and TensorFlow does not warn about retracing);
- a frozen base's outputs computed once (:func:`features`) and predictions (:func:`predict_classes`);
- ``tmp/data_efficiency.csv`` written atomically;
- the analysis: paired differences per seed, a Spanish table, the figure with its alternative
  text, and conclusions printed from the numbers, whichever way they fall.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import get_config, shown_path, tmp_path
from .figures import show_figure
from .files import DataError, atomic_path
from .fmt import decimal, percent, thousands

CSV_NAME = "data_efficiency.csv"
CSV_COLUMNS = ["task", "k", "approach", "seed", "n_train", "test_accuracy", "test_accuracy_letters",
               "train_seconds", "data", "weights"]
TASKS = {"mnist_0-4_to_5-9": "dígitos 5–9 de MNIST", "emnist_balanced": "EMNIST balanced"}
APPROACHES = ("scratch", "mnist_frozen", "mnist_finetuned", "random_frozen", "resnet50_frozen")
# How the approaches read in sentences and legends (the CSV keeps the names above)…
SPANISH_APPROACHES = {
    "scratch": "desde cero",
    "mnist_frozen": "base MNIST congelada",
    "mnist_finetuned": "base MNIST + ajuste fino",
    "random_frozen": "base aleatoria congelada (control)",
    "resnet50_frozen": "ResNet50 congelada (ImageNet)",
}
# …and as short table headers, so that a table fits on a slide.
SHORT_APPROACHES = {"scratch": "desde cero", "mnist_frozen": "congelada", "mnist_finetuned": "ajuste fino",
                    "random_frozen": "aleatoria", "resnet50_frozen": "ResNet50"}
LETTERS_FROM = 10       # EMNIST balanced: labels 0–9 are the digits, 10–46 the 37 letter classes


# ------------------------------------------------------------------------------ the tasks
@dataclass
class Task:
    """A destination task: a pool of labelled images to draw k per class from, and a fixed test set.

    ``name`` is the CSV's ``task`` (``mnist_0-4_to_5-9`` or ``emnist_balanced``); ``data`` is what
    ``load_mnist``/``load_emnist`` returned (its ``source`` and ``tag`` say whether it is real).
    Images are float32 in [0, 1] with a channel axis; labels are 0 … n_classes − 1. When
    ``letters_from`` is set, the test accuracy is also measured on the classes from that label on
    (EMNIST's 37 letter classes, which no MNIST base ever saw).
    """

    name: str
    x_pool: np.ndarray
    y_pool: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: str
    data: object = None
    letters_from: int | None = None
    _letters: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.name not in TASKS:
            raise ValueError(f"tarea desconocida {self.name!r}: {list(TASKS)}")
        if len(self.x_pool) != len(self.y_pool) or len(self.x_test) != len(self.y_test):
            raise ValueError("imágenes y etiquetas de distinta longitud")
        self.y_pool, self.y_test = np.asarray(self.y_pool, "int64"), np.asarray(self.y_test, "int64")
        if self.letters_from is not None:
            self._letters = self.y_test >= self.letters_from

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def label(self) -> str:
        """The task in Spanish: ``dígitos 5–9 de MNIST``, ``EMNIST balanced``."""
        return TASKS[self.name]

    @property
    def title(self) -> str:
        """The label, with « (datos sintéticos)» when so."""
        return f"{self.label}{self.tag}"

    @property
    def source(self) -> str:
        return getattr(self.data, "source", "real")

    @property
    def tag(self) -> str:
        return getattr(self.data, "tag", "")

    def describe(self) -> str:
        """One line: what the pool and the test set hold."""
        line = (f"{self.title}: {self.n_classes} clases · reserva de "
                f"{thousands(len(self.x_pool))} imágenes etiquetadas (la clase más escasa tiene "
                f"{max_k(self.y_pool, self.n_classes)}) · test: {thousands(len(self.x_test))}")
        if self._letters is not None:
            line += f", {thousands(self._letters.sum())} de ellas letras"
        return line

    def measure(self, approach: str, k: int, seed: int, rows, predicted, seconds: float, weights: str) -> dict:
        """One row of the CSV: the test accuracy of ``predicted`` (and on the letters, if any)."""
        predicted = np.asarray(predicted)
        if predicted.shape != self.y_test.shape:
            raise ValueError(f"hacen falta {len(self.y_test)} predicciones, una por imagen de test")
        hits = predicted == self.y_test
        letters = float(hits[self._letters].mean()) if self._letters is not None else math.nan
        return dict(task=self.name, k=int(k), approach=approach, seed=int(seed), n_train=len(rows),
                    test_accuracy=round(float(hits.mean()), 4), test_accuracy_letters=round(letters, 4),
                    train_seconds=round(float(seconds), 3), data=self.source, weights=weights)


# ------------------------------------------------------------------------------ the subsets
def sample_per_class(y, k: int, seed: int, n_classes: int | None = None) -> np.ndarray:
    """Indices of ``k`` images of every class of ``y``, drawn at random with ``seed``, sorted.

    For one seed the subsets are nested: the 5 images per class are among the 20, which are among
    the 100, so the curves against k compare more data, not other data. Raises ``ValueError`` if a
    class has fewer than ``k`` images.
    """
    y = np.asarray(y)
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    if k < 1:
        raise ValueError(f"k={k}: hace falta al menos una imagen por clase")
    rng = np.random.default_rng([seed, 7])   # the same draw for every k of one seed
    rows = []
    for label in range(n_classes):
        members = np.flatnonzero(y == label)
        if len(members) < k:
            raise ValueError(f"la clase {label} solo tiene {len(members)} imágenes: no se pueden tomar k={k}")
        rows.append(rng.permutation(members)[:k])
    return np.sort(np.concatenate(rows))


def max_k(y, n_classes: int | None = None) -> int:
    """The largest k that :func:`sample_per_class` can take from ``y`` (its rarest class's count)."""
    counts = np.bincount(np.asarray(y), minlength=n_classes or 0)
    return int(counts.min())


# ---------------------------------------------------------------------------- the schedule
def training_steps(n_train: int, *, epochs: float, batch_size: int, max_steps: int) -> int:
    """How many minibatches a run trains: ``epochs`` passes over its ``n_train`` images, at most ``max_steps``.

    Minibatches hold ``min(batch_size, n_train)`` images (:func:`train_steps`), so every k gets the
    same number of epochs until the cap: with 5 images, 20 epochs are 20 steps of 5 images.
    """
    if n_train < 1 or batch_size < 1 or epochs <= 0 or max_steps < 1:
        raise ValueError("hacen falta al menos una imagen, lotes de al menos una imagen y épocas positivas")
    batch = min(batch_size, n_train)
    return int(min(max(1, round(epochs * n_train / batch)), max_steps))


def schedule(n_classes: int, ks, *, epochs: float, batch_size: int, max_steps: int) -> pd.DataFrame:
    """The training of each k, as students read it: images, minibatch, steps and the epochs they make."""
    out = []
    for k in ks:
        n = n_classes * k
        steps = training_steps(n, epochs=epochs, batch_size=batch_size, max_steps=max_steps)
        batch = min(batch_size, n)
        out.append({"k": k, "imágenes": thousands(n), "minilote": batch, "pasos": thousands(steps),
                    "épocas": decimal(steps * batch / n, 1)})
    return pd.DataFrame(out).set_index("k")


def cap_note(n_classes: int, ks, *, epochs: float, batch_size: int, max_steps: int) -> str:
    """One sentence: which k the cap on steps cut short, and what that means for the comparison."""
    cut = []
    for k in ks:
        n = n_classes * k
        batch = min(batch_size, n)
        if round(epochs * n / batch) > max_steps:
            cut.append((k, max_steps * batch / n))
    if not cut:
        return (f"Todos los k entrenaron {decimal(epochs, 0)} épocas: el tope de {thousands(max_steps)} pasos "
                "no recortó ninguno.")
    which = " y ".join(f"k = {k} en {decimal(done, 1)} épocas" for k, done in cut)
    return (f"El tope de {thousands(max_steps)} pasos dejó {which}, en lugar de {decimal(epochs, 0)}. Ahí todos "
            "entrenan menos; desde cero, que tiene que aprender toda la red, suele ser el más perjudicado: su "
            "exactitud en esos k es una estimación por lo bajo.")


def repeat_rows(rows, *, steps: int, batch_size: int, seed: int) -> np.ndarray:
    """``rows`` in a new random order each pass, repeated until ``steps`` minibatches of ``batch_size``.

    With it every run trains its number of steps in a single ``fit`` epoch (one epoch of 5 images
    repeated 20 times would cost Keras 20 times its per-epoch overhead).
    """
    rows = np.asarray(rows)
    need = steps * batch_size
    rng = np.random.default_rng([seed, 11])
    passes = [rng.permutation(rows) for _ in range(-(-need // len(rows)))]
    return np.concatenate(passes)[:need]


# --------------------------------------------------------------------- fresh weights, no retrace
def restart(model, weights) -> None:
    """Give a compiled ``model`` the given ``weights`` and its optimizer the state ``compile`` left it in.

    Same result as building and compiling the model again, without paying again for TensorFlow's
    preparation of the training step: the step already traced is reused. The optimizer's variables
    (step counter, Adam's moments, learning rate) are put back to the values they had before its
    first step.
    """
    optimizer = model.optimizer
    if optimizer is None:
        raise ValueError(f"{model.name} no está compilado: llama antes a model.compile(...)")
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    initial = getattr(optimizer, "_tlcourse_initial", None)
    if initial is None:
        initial = [np.array(v.numpy()) for v in optimizer.variables]
        if int(optimizer.iterations.numpy()) != 0:
            raise ValueError(f"el optimizador de {model.name} ya ha dado pasos: llama a restart antes del primer fit")
        optimizer._tlcourse_initial = initial
    for variable, value in zip(optimizer.variables, initial):
        variable.assign(value)
    model.set_weights(weights)


_TWINS: dict = {}
STEPS_PER_EXECUTION = 25   # 25 steps per call into TensorFlow: small networks spend more on the call than on the step


def _architecture_key(model) -> str:
    """What makes two models train alike: their layers (configuration and ``trainable``) and their input."""
    layers = []
    for layer in model.layers:
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        layers.append([type(layer).__name__, config, bool(layer.trainable)])
    return json.dumps([layers, list(model.input_shape)], sort_keys=True, default=str)


def _twin(model):
    """A compiled copy of ``model``'s architecture, made once per architecture, then reused."""
    import keras

    key = _architecture_key(model)
    twin = _TWINS.get(key)
    if twin is None:
        twin = keras.models.clone_model(model)
        for mine, theirs in zip(twin.layers, model.layers):
            mine.trainable = theirs.trainable
        twin.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                     steps_per_execution=STEPS_PER_EXECUTION)
        _TWINS[key] = twin
    return twin


def train_steps(model, x, y, *, steps: int, learning_rate: float, seed: int, batch_size: int = 64):
    """Train ``model`` for ``steps`` minibatches of the images ``x`` with labels ``y``; return ``model``.

    The same as ``model.compile(optimizer=Adam(learning_rate), loss="sparse_categorical_crossentropy")``
    followed by ``model.fit`` on ``x``, ``y`` repeated and reshuffled (seeded) for as many passes as
    ``steps`` needs, in minibatches of ``min(batch_size, len(x))``. What the layers' ``trainable``
    says is respected. Underneath, a compiled copy of the architecture is kept and restarted with
    ``model``'s weights and a fresh Adam, so the graph TensorFlow traces for it is reused.
    """
    import tensorflow as tf

    if len(x) != len(y) or len(x) < 1:
        raise ValueError(f"x e y deben tener la misma longitud, al menos 1 (tienen {len(x)} y {len(y)})")
    batch = min(batch_size, len(x))
    twin = _twin(model)
    restart(twin, model.get_weights())
    twin.optimizer.learning_rate.assign(learning_rate)
    order = repeat_rows(np.arange(len(x)), steps=steps, batch_size=batch, seed=seed)
    x_all, y_all = tf.constant(np.asarray(x, "float32")), tf.constant(np.asarray(y, "int64"))
    dataset = (tf.data.Dataset.from_tensor_slices(order).batch(batch)
               .map(lambda i: (tf.gather(x_all, i), tf.gather(y_all, i))))
    twin.fit(dataset, epochs=1, shuffle=False, verbose=0)
    model.set_weights(twin.get_weights())
    return model


def predict_classes(model, x, batch_size: int = 1024) -> np.ndarray:
    """The class ``model`` gives each image of ``x`` (the largest output), in minibatches.

    The model is called directly (``model(batch)``), which traces no graph: calling ``predict``
    on each of the experiment's fresh models would trace one each.
    """
    out = [np.asarray(model(x[i:i + batch_size], training=False)).argmax(axis=1)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros(0, "int64")


_FEATURES: OrderedDict = OrderedDict()
_FEATURES_KEPT = 8


def features(base, x, batch_size: int = 1024) -> np.ndarray:
    """The outputs of the frozen ``base`` for the images ``x``, computed once per base weights and images.

    A second call with the same weights and the same array returns what was computed (the last
    few results are kept), so a frozen base costs one pass over the images, as in notebook 04.
    """
    digest = hashlib.sha1()
    for weights in base.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    key = (digest.hexdigest(), id(x), x.shape)
    if key in _FEATURES:
        _FEATURES.move_to_end(key)
        return _FEATURES[key][1]
    out = np.concatenate([np.asarray(base(x[i:i + batch_size], training=False))
                          for i in range(0, len(x), batch_size)])
    _FEATURES[key] = (x, out)            # x is kept so that its id is not reused by another array
    while len(_FEATURES) > _FEATURES_KEPT:
        _FEATURES.popitem(last=False)
    return out


# -------------------------------------------------------------------------- the saved base
def reusable_model(path, *, input_shape: tuple, n_outputs: int, notebook: str = "06") -> bool:
    """True if ``path`` is a Keras model with that input and number of outputs, to be loaded and reused.

    Otherwise it must be built and trained again: False, after saying why. A damaged file with
    ``TL_DATA=real`` stops instead (the same rule as the other notebooks' saved models).
    """
    from .models import model_file_problem

    path = Path(path)
    problem = model_file_problem(path, input_shape, n_outputs)
    if problem is None:
        print(f"Se reutiliza {shown_path(path)}, guardado en una ejecución anterior (bórralo para entrenarlo otra vez).")
        return True
    if path.exists() and get_config().data_mode == "real":
        raise DataError(f"{problem}.\nQué hacer: borra ese fichero y vuelve a ejecutar el notebook {notebook}.")
    print(f"{problem[0].upper()}{problem[1:]}: la entrenamos ahora y la guardamos.")
    return False


# ------------------------------------------------------------------------------ the CSV
def save_csv(table: pd.DataFrame, name: str = CSV_NAME) -> Path:
    """Write the measurements to ``tmp/<name>`` (atomically: never half a table) and return its path."""
    missing = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"faltan columnas en la tabla: {missing}")
    if not table["test_accuracy"].between(0, 1).all():
        raise ValueError("test_accuracy debe estar entre 0 y 1")
    if not (table["test_accuracy_letters"].isna() | table["test_accuracy_letters"].between(0, 1)).all():
        raise ValueError("test_accuracy_letters debe estar entre 0 y 1 (o vacía)")
    if (table["n_train"] < 1).any():
        raise ValueError("n_train debe ser al menos 1")
    unknown = set(table["task"]) - set(TASKS)
    if unknown:
        raise ValueError(f"tareas desconocidas: {sorted(unknown)}")
    path = tmp_path(name)
    with atomic_path(path) as tmp:
        table[CSV_COLUMNS].to_csv(tmp, index=False)
    return path


def read_csv(name: str = CSV_NAME) -> pd.DataFrame:
    """What :func:`save_csv` wrote."""
    return pd.read_csv(tmp_path(name))


# ----------------------------------------------------------------------------- the analysis
def _one_task(table: pd.DataFrame) -> pd.DataFrame:
    if "task" in table.columns and table["task"].nunique() > 1:
        raise ValueError("la tabla mezcla tareas: filtra una (table[table['task'] == …])")
    return table


def has_letters(table: pd.DataFrame) -> bool:
    return "test_accuracy_letters" in table.columns and table["test_accuracy_letters"].notna().any()


def summary(table: pd.DataFrame, metric: str = "test_accuracy") -> pd.DataFrame:
    """Mean and spread (standard deviation across seeds) of ``metric``, one row per k and approach."""
    table = _one_task(table)
    grouped = table.groupby(["k", "approach"], sort=False)[metric]
    out = grouped.agg(mean="mean", std="std", seeds="count").reset_index()
    out["std"] = out["std"].fillna(0.0)
    order = {name: i for i, name in enumerate(APPROACHES)}
    return out.sort_values(["k", "approach"], key=lambda c: c.map(order) if c.name == "approach" else c,
                           kind="stable").reset_index(drop=True)


def paired(table: pd.DataFrame, a: str, b: str, metric: str = "test_accuracy") -> pd.DataFrame:
    """``a − b`` seed by seed (both trained on the same images), per k: mean, spread and a verdict.

    Columns: ``mean``, ``std``, ``low``, ``high`` (the extreme seeds), ``n`` (seeds), ``se`` (standard
    error, std/√n) and ``verdict``: ``a`` or ``b`` if that one wins in every seed and the mean is
    more than two standard errors from zero, else ``"="`` (not distinguished with these seeds). It is
    a rule of thumb for a classroom, not a hypothesis test.
    """
    table = _one_task(table)
    wide = table.pivot_table(index=["k", "seed"], columns="approach", values=metric)
    if a not in wide.columns or b not in wide.columns:
        raise ValueError(f"faltan {a} o {b} en la tabla")
    diff = (wide[a] - wide[b]).dropna()
    out = diff.groupby(level="k").agg(mean="mean", std="std", low="min", high="max", n="count")
    out["std"] = out["std"].fillna(0.0)
    out["se"] = out["std"] / np.sqrt(out["n"])
    same_sign_a = diff.groupby(level="k").apply(lambda d: bool((d > 0).all()))
    same_sign_b = diff.groupby(level="k").apply(lambda d: bool((d < 0).all()))
    clear = (out["n"] >= 2) & (out["mean"].abs() > 2 * out["se"])
    out["verdict"] = np.where(clear & same_sign_a, "a", np.where(clear & same_sign_b, "b", "="))
    return out


def _points(value: float) -> str:
    """A difference of accuracies in percentage points with its sign: ``+4,4``, ``−2,0`` or ``0,0``."""
    rounded = round(100 * value, 1)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else ""
    return f"{sign}{decimal(abs(rounded), 1)}"


def _cell(mean: float, std: float) -> str:
    return f"{percent(mean)} ± {decimal(100 * std, 1)}"


def spanish_table(table: pd.DataFrame) -> pd.DataFrame:
    """Mean ± spread across seeds, one row per k (and per group of classes), one column per approach."""
    table = _one_task(table)
    metrics = [("test_accuracy", "todas")] + ([("test_accuracy_letters", "letras")] if has_letters(table) else [])
    parts = []
    for metric, group in metrics:
        stats = summary(table, metric)
        stats["cell"] = [_cell(m, s) for m, s in zip(stats["mean"], stats["std"])]
        wide = stats.pivot(index="k", columns="approach", values="cell")
        wide = wide[[a for a in APPROACHES if a in wide.columns]]
        wide.insert(0, "imágenes", [thousands(n) for n in table.groupby("k")["n_train"].first().loc[wide.index]])
        if len(metrics) > 1:
            wide.insert(0, "clases", group)
        parts.append(wide)
    wide = pd.concat(parts)
    if len(metrics) > 1:
        wide = wide.reset_index().sort_values(["k", "clases"], key=lambda c: c.map({"todas": 0, "letras": 1})
                                              if c.name == "clases" else c, kind="stable")
        wide = wide.set_index(["k", "clases"])
    wide = wide.rename(columns=SHORT_APPROACHES)
    wide.columns.name = None
    return wide


STYLES = {   # told apart without colour: line style and marker
    "scratch": dict(color="tab:gray", linestyle="-", marker="o"),
    "mnist_frozen": dict(color="tab:blue", linestyle="-", marker="s"),
    "mnist_finetuned": dict(color="tab:green", linestyle="--", marker="^"),
    "random_frozen": dict(color="tab:red", linestyle=":", marker="x"),
    "resnet50_frozen": dict(color="tab:purple", linestyle="-.", marker="D"),
}
DODGE = {"scratch": 0.91, "mnist_frozen": 0.97, "mnist_finetuned": 1.03, "random_frozen": 1.09, "resnet50_frozen": 1.15}


def _n_classes(table: pd.DataFrame) -> int:
    return int(round(table["n_train"].iloc[0] / table["k"].iloc[0]))


def alt_text(table: pd.DataFrame) -> str:
    """The figure's alternative text: what it shows and its numbers at one k (5 if measured)."""
    table = _one_task(table)
    ks = sorted(table["k"].unique())
    k = 5 if 5 in ks else ks[0]
    seeds = int(table.groupby(["k", "approach"]).size().min())
    task = TASKS.get(table["task"].iloc[0], "") if "task" in table.columns else ""
    if task and "data" in table.columns and (table["data"] == "synthetic").any():
        task += " (datos sintéticos)"
    stats = summary(table).set_index(["k", "approach"])["mean"]
    approaches = [a for a in APPROACHES if (k, a) in stats.index]
    numbers = ", ".join(f"{SPANISH_APPROACHES[a]} {percent(stats[k, a])}" for a in approaches)
    text = (f"Exactitud en test{' en ' + task if task else ''} según las imágenes etiquetadas por clase "
            f"(k de {ks[0]} a {ks[-1]}), media de {seeds} semillas con barras de ± 1 desviación típica. "
            f"Con k = {k}: {numbers}.")
    if has_letters(table):
        letters = summary(table, "test_accuracy_letters").set_index(["k", "approach"])["mean"]
        text += (" A la derecha, solo las letras: " +
                 ", ".join(f"{SPANISH_APPROACHES[a]} {percent(letters[k, a])}" for a in approaches) + ".")
    return text


def plot_efficiency(table: pd.DataFrame, title: str, *, data=None, path=None, alt: str | None = None, show=True):
    """Test accuracy against k (log axis): the mean over seeds with ± one standard deviation.

    One panel, or two (all classes, letters only) when the table measured the letters. Lines differ
    in style and marker as well as colour, and are shifted a little sideways so that they do not hide
    each other. Saved to ``path`` if given; shown with its alternative text (built from the table
    unless ``alt`` is given). With ``show=False`` the figure is returned instead of shown.
    """
    import matplotlib.pyplot as plt

    table = _one_task(table)
    metrics = [("test_accuracy", "todas las clases")]
    if has_letters(table):
        metrics.append(("test_accuracy_letters", f"solo las letras (etiquetas ≥ {LETTERS_FROM})"))
    n_classes = _n_classes(table)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics) + 1.6, 5.2), squeeze=False, sharey=True)
    seeds = int(table.groupby(["k", "approach"]).size().min())
    ks = sorted(table["k"].unique())
    for ax, (metric, subtitle) in zip(axes[0], metrics):
        stats = summary(table, metric)
        for approach in [a for a in APPROACHES if a in set(stats["approach"])]:
            part = stats[stats["approach"] == approach]
            ax.errorbar(part["k"] * DODGE[approach], part["mean"], yerr=part["std"], capsize=3, markersize=6,
                        linewidth=1.6, label=SPANISH_APPROACHES[approach], **STYLES[approach])
        ax.axhline(1 / n_classes, color="black", linewidth=0.8, linestyle=(0, (1, 3)), label=f"al azar (1/{n_classes})")
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{round(100 * v)} %"))
        ax.set_xlabel("imágenes etiquetadas por clase, k (escala logarítmica)")
        ax.grid(alpha=0.3)
        if len(metrics) > 1:
            ax.set_title(subtitle, fontsize=10)
    axes[0][0].set_ylabel("exactitud en test")
    handles, labels = axes[0][0].get_legend_handles_labels()
    chance = [i for i, text in enumerate(labels) if text.startswith("al azar")]
    order = [i for i in range(len(labels)) if i not in chance] + chance       # the approaches first
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    tag = getattr(data, "tag", "")
    fig.suptitle(f"{title}{tag}\nmedia de {seeds} semillas; barras: ± 1 desviación típica")
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100)
    if not show:
        return fig
    show_figure(fig, alt or alt_text(table))
    return None


# ----------------------------------------------------------------------------- conclusions
def k_to_reach(stats: pd.DataFrame, approach: str, accuracy: float) -> float | None:
    """The k (interpolated on a log scale) at which ``approach``'s mean first reaches ``accuracy``; None if never."""
    part = stats[stats["approach"] == approach].sort_values("k")
    ks, means = part["k"].to_numpy(float), part["mean"].to_numpy(float)
    for i, (k, m) in enumerate(zip(ks, means)):
        if m >= accuracy:
            if i == 0:
                return float(k)
            k0, m0 = ks[i - 1], means[i - 1]
            fraction = (accuracy - m0) / (m - m0)
            return float(np.exp(np.log(k0) + fraction * (np.log(k) - np.log(k0))))
    return None


QUESTIONS = {   # (a, b): the question, and what each verdict answers
    ("mnist_frozen", "scratch"): ("¿Compensa transferir?", "sí, gana la base aprendida",
                                  "no, gana desde cero"),
    ("mnist_frozen", "random_frozen"): ("¿Lo aprendido o la arquitectura?", "lo aprendido: gana a la base aleatoria",
                                        "la arquitectura: la base aleatoria gana"),
    ("random_frozen", "scratch"): ("¿Y la base aleatoria frente a desde cero?", "gana la base aleatoria",
                                   "gana desde cero"),
}


def _name(approach: str) -> str:
    """The approach's name inside a sentence (the control's role is said by the question)."""
    return "base aleatoria" if approach == "random_frozen" else SPANISH_APPROACHES[approach]


def question_lines(table: pd.DataFrame, a: str, b: str, metric: str = "test_accuracy") -> list[str]:
    """The question that ``a − b`` answers, and one line per k with the paired difference and its verdict."""
    diff = paired(table, a, b, metric)
    question, yes, no = QUESTIONS.get((a, b), (f"{SPANISH_APPROACHES[a]} frente a {SPANISH_APPROACHES[b]}",
                                               f"gana {SPANISH_APPROACHES[a]}", f"gana {SPANISH_APPROACHES[b]}"))
    first = _name(a)
    lines = [f"{question} {first[0].upper()}{first[1:]} − {_name(b)}, semilla a semilla:"]
    for k, row in diff.iterrows():
        answer = {"a": yes, "b": no}.get(row["verdict"], f"no se distingue con {int(row['n'])} semillas")
        spread = (f" (de {_points(row['low'])} a {_points(row['high'])})" if row["n"] > 1 else "")
        lines.append(f"  k = {k}: {_points(row['mean'])} puntos{spread} → {answer}")
    return lines


def reading_lines(table: pd.DataFrame, transfer: str = "mnist_frozen", baseline: str = "scratch",
                  metric: str = "test_accuracy") -> list[str]:
    """Where transfer stops paying (by the same rule), and a rough reading of the labels it saves."""
    diff = paired(table, transfer, baseline, metric)
    wins = diff.index[diff["verdict"] == "a"].to_list()
    ks = diff.index.to_list()
    name_a, name_b = f"«{SPANISH_APPROACHES[transfer]}»", f"«{SPANISH_APPROACHES[baseline]}»"
    if not wins:
        lines = [f"Con esta regla, {name_a} no supera a {name_b} en ningún k medido ({ks[0]} a {ks[-1]})."]
    elif wins == ks:
        lines = [f"Con esta regla, {name_a} supera a {name_b} en todos los k medidos (hasta {ks[-1]})."]
    else:
        after = [k for k in ks if k > wins[-1]]
        lines = [f"Con esta regla, {name_a} supera a {name_b} con k = {', '.join(map(str, wins))}"
                 + (f"; a partir de k = {after[0]} ya no." if after else ".")]
    if wins:
        stats = summary(table, metric)
        k = 5 if 5 in wins else wins[0]
        target = stats[(stats["approach"] == transfer) & (stats["k"] == k)]["mean"].iloc[0]
        needed = k_to_reach(stats, baseline, target)
        if needed is None:
            lines.append(f"Con k = {k}, {name_a} llega a {percent(target)}; {name_b} no llega a tanto con ningún "
                         f"k medido (hasta {ks[-1]}).")
        elif needed >= k * 1.2:
            lines.append(f"Lectura aproximada (interpolando entre los k medidos): lo que {name_a} logra con k = {k} "
                         f"({percent(target)}), {name_b} lo logra con unas {decimal(needed, 0)} imágenes por clase, "
                         f"{decimal(needed / k, 1)} veces más etiquetas.")
    return lines


def conclusions(table: pd.DataFrame, metric: str = "test_accuracy", budget: dict | None = None,
                brief: bool = False) -> list[str]:
    """Everything the notebook concludes from one task's table, as lines to print.

    The two questions (transfer against from scratch; learned base against random base), then,
    unless ``brief``, the random base against from scratch for the record and where transfer stops
    paying; with ``budget`` (``epochs``, ``batch_size``, ``max_steps``), what the cap on steps did.
    """
    table = _one_task(table)
    approaches = set(table["approach"])
    pairs = [("mnist_frozen", "scratch"), ("mnist_frozen", "random_frozen")]
    lines = []
    for a, b in pairs + ([] if brief else [("random_frozen", "scratch")]):
        if {a, b} <= approaches:
            lines += question_lines(table, a, b, metric)
    if not brief and {"mnist_frozen", "scratch"} <= approaches:
        lines += reading_lines(table, "mnist_frozen", "scratch", metric)
    if budget is not None:
        lines.append(cap_note(_n_classes(table), sorted(table["k"].unique()), **budget))
    return lines


# ------------------------------------------------------------------ notebook 04's ResNet50 cache
def resnet50_cached_features(emnist, x_pool, x_test):
    """Notebook 04's ResNet50 features of ``x_pool`` and ``x_test`` with ImageNet weights, if cached; else None.

    Notebook 04 saves the features of its first N training and M test images (quick mode: a prefix
    of the quick subset) in ``tmp/features/``. They serve here if those prefixes contain our images,
    if the base had ImageNet weights, and if the fingerprint (images and base weights) matches.
    Features of a base with random weights are not used: offline, ResNet50 has no ImageNet weights
    and its random base, at 32×32, answers at chance (notebook 04 showed it), which teaches nothing
    here. ``emnist`` is what :func:`load_emnist` returned (``x_pool`` and ``x_test`` are prefixes of
    its arrays). Returns ``(features_pool, features_test)``, flattened to 2048 per image.
    """
    import keras

    from . import pretrained

    source = emnist.source
    mode = "quick" if get_config().quick else "full"
    caches = sorted(tmp_path("features").glob(f"resnet50_{source}_imagenet_{mode}_*.npz"))
    local = [path for path in pretrained.resnet50_weights_candidates() if pretrained.weights_file_problem(path) is None]
    if not caches or not local:   # 04 only writes an ImageNet cache when it had the weights
        print("ResNet50 queda fuera: hacen falta sus características con los pesos de ImageNet, que guarda el "
              "notebook 04 cuando tiene esos pesos. Sin ellos su base sería aleatoria y, a 32×32, acierta lo "
              "mismo que el azar (lo vimos en el 04): no enseñaría nada aquí.")
        return None
    for path in caches:
        try:
            shapes = pretrained.saved_shapes(path)   # from the headers: the arrays stay on disk
            n_train, n_test = shapes["features_train"][0], shapes["features_test"][0]
        except Exception as error:   # a damaged cache is never used
            print(f"La caché {shown_path(path)} no vale ({error}).")
            continue
        if n_train < len(x_pool) or n_test < len(x_test):
            continue
        base = keras.applications.ResNet50(include_top=False, weights=str(local[0]), input_shape=(32, 32, 3))
        loaded = _load_resnet50_cache(pretrained, path, base, emnist, n_train, n_test, x_pool, x_test)
        del base
        if loaded is None:
            continue
        features_train, features_test = loaded          # only the rows of our images were read
        print("ResNet50 entra en la comparación: características del notebook 04, con pesos de ImageNet.")
        return features_train.reshape(len(x_pool), -1), features_test.reshape(len(x_test), -1)
    print("ResNet50 queda fuera: las características que guardó el notebook 04 no son de estas imágenes "
          "(ejecútalo en el mismo modo para añadirla).")
    return None


def _load_resnet50_cache(pretrained, path, base, emnist, n_train, n_test, x_pool, x_test):
    """04's cache checked against its own fingerprint, rebuilt from 04's images (ours are their prefix)."""
    (x_train_all, _), (x_test_all, _) = emnist
    x_train_04, x_test_04 = x_train_all[:n_train], x_test_all[:n_test]
    if not (np.array_equal(x_train_04[:len(x_pool)], x_pool) and np.array_equal(x_test_04[:len(x_test)], x_test)):
        return None
    key = pretrained.resnet50_features_fingerprint(base, x_train_04, x_test_04)   # as notebook 04 computes it
    cached = pretrained.load_features(path, fingerprint=key, shapes={"features_train": (n_train, 1, 1, 2048),
                                                                     "features_test": (n_test, 1, 1, 2048)},
                                      rows={"features_train": len(x_pool), "features_test": len(x_test)})
    if cached is None:
        return None
    return cached["features_train"], cached["features_test"]
