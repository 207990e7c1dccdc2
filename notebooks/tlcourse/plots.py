"""Plotting helpers: training histories and sample grids, always titled, labelled and with a legend."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .figures import show_figure
from .fmt import decimal, percent, seconds, thousands
from .sources import SYNTHETIC_TAG

NAMES = {"loss": "pérdida (entrenamiento)", "val_loss": "pérdida (validación)",
         "accuracy": "exactitud (entrenamiento)", "val_accuracy": "exactitud (validación)",
         "sparse_categorical_accuracy": "exactitud (entrenamiento)",
         "val_sparse_categorical_accuracy": "exactitud (validación)"}


def _title(title: str, data=None) -> str:
    if data is not None and getattr(data, "is_synthetic", False) and SYNTHETIC_TAG not in title:
        return title + SYNTHETIC_TAG
    return title


def _frame(history) -> pd.DataFrame:
    frame = pd.DataFrame(getattr(history, "history", history))
    frame.index = np.arange(1, len(frame) + 1)
    return frame




def history_alt(frame: pd.DataFrame, title: str, boundary: float | None = None, boundary_label: str = "") -> str:
    """The alternative text of a training history: what is drawn and where each curve ends."""
    n = len(frame)
    text = f"{title}. Dos gráficas a lo largo de {n} épocas: la pérdida a la izquierda y la exactitud a la derecha."
    ends = []
    for column in frame:
        values = frame[column].dropna()
        if values.empty:
            continue
        name = NAMES.get(column, column)
        if "acc" in column:
            ends.append(f"{name} de {percent(values.iloc[0])} a {percent(values.iloc[-1])}")
        else:
            ends.append(f"{name} de {decimal(values.iloc[0], 3)} a {decimal(values.iloc[-1], 3)}")
    if ends:
        text += " Primera y última época: " + "; ".join(ends) + "."
    if boundary is not None:
        text += f" Una línea vertical discontinua tras la época {int(boundary)} marca: {boundary_label}."
    return text


def _draw(frame: pd.DataFrame, title: str, boundary: float | None = None, boundary_label: str = "",
          alt: str | None = None):
    """Loss on the left, accuracy on the right (fixed [0, 1] axis so plots compare).

    Training curves are solid with round markers, validation curves dashed with square ones, so
    they are told apart without colour.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
    losses = [c for c in frame if "loss" in c]
    accs = [c for c in frame if "acc" in c]
    for ax, cols, ylabel in ((ax_loss, losses, "pérdida (entropía cruzada)"), (ax_acc, accs, "exactitud")):
        for col in cols:
            validation = col.startswith("val_")
            ax.plot(frame.index, frame[col], label=NAMES.get(col, col), linestyle="--" if validation else "-",
                    marker=("s" if validation else "o") if len(frame) <= 30 else None, markersize=4)
        ax.set_xlabel("época")
        ax.set_ylabel(ylabel)
        if boundary is not None:
            ax.axvline(boundary, color="black", linestyle="--", label=boundary_label)
        ax.legend()
        ax.grid(True, alpha=0.3)
    ax_acc.set_ylim(0, 1)
    fig.suptitle(title)
    fig.tight_layout()
    show_figure(fig, alt or history_alt(frame, title, boundary, boundary_label))


def plot_history(history, title: str, data=None, alt: str | None = None):
    """Plot a Keras ``History`` (or its ``.history`` dict): loss and accuracy per epoch, with alt text."""
    return _draw(_frame(history), _title(title, data), alt=alt)


def plot_continued(first, second, title: str, data=None, boundary_label: str = "se reanuda el entrenamiento",
                   alt: str | None = None):
    """Two training phases as one curve: the second continues where the first stopped."""
    a, b = _frame(first), _frame(second)
    b.index = b.index + len(a)
    frame = pd.concat([a, b])
    return _draw(frame, _title(title, data), boundary=len(a) + 0.5, boundary_label=boundary_label, alt=alt)


def show_samples(x, y, classes: str, title: str, data=None, n: int = 24, cols: int = 12, seed: int = 0,
                 alt: str | None = None):
    """A grid of ``n`` random images, each titled with its character (not its integer label)."""
    pick = np.random.default_rng(seed).choice(len(x), size=min(n, len(x)), replace=False)
    rows = int(np.ceil(len(pick) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.1))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, i in zip(np.ravel(axes), pick):
        ax.imshow(x[i], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"'{classes[int(y[i])]}'", fontsize=10)
    fig.suptitle(_title(title, data))
    fig.tight_layout()
    shown = ", ".join(f"«{classes[int(y[i])]}»" for i in pick)
    show_figure(fig, alt or f"{_title(title, data)}. Cuadrícula de {len(pick)} imágenes elegidas al azar, trazo "
                            f"oscuro sobre fondo claro, cada una con su carácter encima: {shown}.")


def plot_class_balance(y, classes: str, title: str, data=None, alt: str | None = None):
    """Bar chart of how many samples each class has."""
    counts = np.bincount(np.asarray(y, dtype=int), minlength=len(classes))
    fig, ax = plt.subplots(figsize=(11, 3))
    ax.bar(range(len(classes)), counts, color="tab:blue", label="imágenes por clase")
    ax.set_xticks(range(len(classes)), list(classes))
    ax.set_xlabel("clase (carácter)")
    ax.set_ylabel("número de imágenes")
    ax.set_title(_title(title, data))
    ax.set_ylim(0, counts.max() * 1.25)   # room for the legend above the bars
    ax.legend(loc="upper right")
    fig.tight_layout()
    show_figure(fig, alt or f"{_title(title, data)}. Una barra por cada una de las {len(classes)} clases con su "
                            f"número de imágenes: entre {thousands(counts.min())} y {thousands(counts.max())} "
                            f"por clase, {thousands(counts.sum())} en total.")


# Published EMNIST balanced results, drawn only when every result in the figure is on real data.
EMNIST_ANCHORS = [
    (0.78, "OPIUM, línea base del artículo de EMNIST (Cohen et al., 2017)"),
    (0.88, "CNN pequeña, datos reales (referencia habitual)"),
    (0.91, "mejores resultados publicados"),
]


def _bar_label(row) -> str:
    """The bar's name (Spanish) and, under it, what it cost: images, trainable parameters, seconds."""
    from .comparison import approach_name, images

    label = (f"{approach_name(row['approach'])} ({row['notebook']})\n"
             f"{images(row['n_train'])} · {thousands(row['trainable_params'])} parámetros entrenables · "
             f"{seconds(row['train_seconds'])}")
    if row["weights"] == "random":
        label += "\nbase con pesos aleatorios (sin preentrenar)"
    return label


def comparison_figure(results, title: str):
    """The figure of :func:`plot_comparison`, returned open (the tests measure where its texts fall).

    Each bar's name and cost go in its y-axis label (which the layout always makes room for), only the
    accuracy goes at the end of the bar, and the legend goes below the axes, so no text is cut or
    hidden whatever the numbers.
    """
    table = results.sort_values(["notebook", "approach"]).reset_index(drop=True)
    lines = sum(_bar_label(row).count("\n") + 1 for _, row in table.iterrows())
    fig, ax = plt.subplots(figsize=(11, 0.28 * lines + 0.35 * len(table) + 2.4))
    colours = {nb: plt.cm.tab10(i) for i, nb in enumerate(sorted(table["notebook"].unique()))}
    for i, row in table.iterrows():
        synthetic = row["data"] == "synthetic"
        ax.barh(i, row["test_accuracy"], color=colours[row["notebook"]], hatch="//" if synthetic else None,
                edgecolor="white" if synthetic else None)
        ax.text(row["test_accuracy"] + 0.01, i, percent(row["test_accuracy"]), va="center", fontsize=9)
    ax.set_yticks(range(len(table)), [_bar_label(row) for _, row in table.iterrows()], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xticks(np.linspace(0, 1, 6), [percent(x, 0) for x in np.linspace(0, 1, 6)])
    ax.set_xlabel("exactitud en test")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[nb], label=f"notebook {nb}") for nb in colours]
    if (table["data"] == "synthetic").any():
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="lightgrey", hatch="//", edgecolor="white",
                                     label="datos sintéticos"))
    ax.axvline(1 / 47, color="grey", linestyle=":", linewidth=1)
    handles.append(plt.Line2D([], [], color="grey", linestyle=":", label="azar (1/47)"))
    if len(table) > 0 and (table["data"] == "real").all():
        for value, label in EMNIST_ANCHORS:
            ax.axvline(value, color="black", linestyle="--", linewidth=0.8, alpha=0.6)
            handles.append(plt.Line2D([], [], color="black", linestyle="--", alpha=0.6,
                                      label=f"{percent(value, 0)}: {label}"))
    else:
        title += "\n(hay datos sintéticos: sin las referencias publicadas, que son de datos reales)"
    height = fig.get_figheight()
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.55 / (height - 1.6)),
              ncol=3 if len(handles) <= 6 else 2, fontsize=8, frameon=False)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_comparison(results, title: str, path=None):
    """One horizontal bar per (notebook, approach): test accuracy, labelled in Spanish with the
    training images, trainable parameters and training time; hatched when the data was synthetic.
    Saved to ``path`` (if given) and shown."""
    from .files import atomic_path

    fig = comparison_figure(results, title)
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
    table = results.sort_values(["notebook", "approach"])
    bars = "; ".join(f"{row['approach']} (notebook {row['notebook']}): {percent(row['test_accuracy'])}"
                     for _, row in table.iterrows())
    show_figure(fig, f"{title.splitlines()[0]}. Una barra horizontal por enfoque con su exactitud en test: {bars}.")
    return path
