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
# OPIUM is the reference model of the paper that introduced EMNIST (Cohen et al., 2017, table II: 78.02 %).
EMNIST_ANCHORS = [
    (0.78, "OPIUM, modelo de referencia del artículo de EMNIST (Cohen et al., 2017)"),
    (0.91, "mejores resultados publicados"),
]
MAX_FIGURE_HEIGHT = 6.0   # inches: at 11 inches wide, what fits a 16:9 slide


def _bar_label(row) -> str:
    """The bar's name (Spanish, with its notebook) and, under it, its images and epochs (and random weights)."""
    from .comparison import approach_name, epochs_text, images

    label = (f"{approach_name(row['approach'])} ({row['notebook']})\n"
             f"{images(row['n_train'])} · {epochs_text(row['epochs'])}")
    if row["weights"] == "random":
        label += " · pesos aleatorios"
    return label


def _comparison_title(table, title: str) -> str:
    notes = []
    if len(table) and (table["data"] == "synthetic").all():
        notes.append("datos sintéticos")
    elif (table["data"] == "synthetic").any():
        notes.append("rayadas: datos sintéticos")
    if (table["weights"] == "random").any():
        notes.append("ResNet50 con pesos aleatorios")
    return title + (f"\n({'; '.join(notes)})" if notes else "")


def comparison_figure(results, title: str):
    """The figure of :func:`plot_comparison`, returned open (the tests measure where its texts fall).

    One bar per row, in the table's order; each bar's name, images, epochs (and «pesos aleatorios»)
    go in its y-axis label, its accuracy at its end, the legend below the axes, so no text is cut or
    hidden whatever the numbers. At most :data:`MAX_FIGURE_HEIGHT` inches tall: it fits a slide.
    """
    from .comparison import _shown_order

    table = _shown_order(results)
    anchors = len(table) > 0 and (table["data"] == "real").all()
    height = min(MAX_FIGURE_HEIGHT, 0.5 * len(table) + (2.7 if anchors else 2.2))
    fig, ax = plt.subplots(figsize=(11, height))
    colours = {nb: plt.cm.tab10(i) for i, nb in enumerate(sorted(table["notebook"].unique()))}
    for i, row in table.iterrows():
        synthetic = row["data"] == "synthetic"
        ax.barh(i, row["test_accuracy"], height=0.7, color=colours[row["notebook"]],
                hatch="//" if synthetic else None, edgecolor="white" if synthetic else None)
        ax.text(row["test_accuracy"] + 0.01, i, percent(row["test_accuracy"]), va="center", fontsize=9)
    ax.set_yticks(range(len(table)), [_bar_label(row) for _, row in table.iterrows()], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xticks(np.linspace(0, 1, 6), [percent(x, 0) for x in np.linspace(0, 1, 6)])
    ax.set_xlabel("exactitud en test")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[nb], label=f"notebook {nb}") for nb in colours]
    ax.axvline(1 / 47, color="grey", linestyle=":", linewidth=1)
    handles.append(plt.Line2D([], [], color="grey", linestyle=":", label="azar (1/47)"))
    if anchors:
        for (value, label), style in zip(EMNIST_ANCHORS, ("--", "-.")):
            ax.axvline(value, color="black", linestyle=style, linewidth=0.8, alpha=0.6)
            handles.append(plt.Line2D([], [], color="black", linestyle=style, alpha=0.6,
                                      label=f"{percent(value, 0)}: {label}"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.5 / (height - 1.2)),
              ncol=2 if anchors else min(len(handles), 5), fontsize=8, frameon=False)
    ax.set_title(_comparison_title(table, title), fontsize=11)
    fig.tight_layout()
    return fig


def comparison_alt(results, title: str) -> str:
    """The alternative text of the comparison figure: each bar with its accuracy, images and epochs."""
    from .comparison import _shown_order, approach_name, epochs_text, images

    table = _shown_order(results)
    bars = "; ".join(f"{approach_name(row['approach'])} (notebook {row['notebook']}): "
                     f"{percent(row['test_accuracy'])} con {images(row['n_train'])} y {epochs_text(row['epochs'])}"
                     for _, row in table.iterrows())
    return (f"{_comparison_title(table, title).replace(chr(10), ' ')}. Una barra horizontal por enfoque con su "
            f"exactitud en test: {bars}.")


def plot_comparison(results, title: str, path=None, alt: str | None = None):
    """One horizontal bar per (notebook, approach): test accuracy, labelled in Spanish with the training
    images and epochs (and «pesos aleatorios» when so); hatched when the data was synthetic.
    Saved to ``path`` (if given) and shown with its alternative text."""
    from .files import atomic_path

    fig = comparison_figure(results, title)
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
    show_figure(fig, alt or comparison_alt(results, title))
    return path
