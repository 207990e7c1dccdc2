"""Figures for notebook 00: what a convolutional layer has learned (its filters and activation maps).

The lesson (reading ``layer.get_weights()``, building a model that stops at a layer and calling
``predict``) stays in the notebook; these functions only draw the arrays they are given, titled
and labelled, and find ResNet50's ImageNet weights *on this machine* without downloading them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .figures import show_figure
from .fmt import decimal
from .plots import _title
from .pretrained import resnet50_weights_candidates, weights_file_problem


def _grid(n: int, cols: int):
    rows = int(np.ceil(n / cols))
    width = 1.4 if cols <= 10 else 0.85   # many filters (ResNet50's 64): smaller panels
    fig, axes = plt.subplots(rows, cols, figsize=(cols * width + 0.8, rows * (width + 0.3) + 0.8), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.axis("off")
    return fig, axes.ravel()


def _rgb(kernel: np.ndarray, bgr: bool = False) -> np.ndarray:
    """A (h, w, 3) filter rescaled to [0, 1] for display (0 stays mid-grey).

    ``bgr=True`` for networks whose input channels come in the order blue, green, red (Keras'
    ResNet50 and VGG, «caffe» preprocessing): the channels are reversed so that what the filter
    looks for in blue is drawn in blue.
    """
    if bgr:
        kernel = kernel[:, :, ::-1]
    limit = np.abs(kernel).max() or 1.0
    return 0.5 + 0.5 * kernel / limit


def show_filters(kernels: dict, title: str, data=None, cols: int | None = None, bgr: bool = False,
                 alt: str | None = None):
    """Draw the filters of a Conv2D layer, one row per entry of ``kernels``, with alternative text.

    ``kernels`` maps a row label (e.g. "antes de entrenar") to the layer's weight array of shape
    (height, width, channels, filters), as ``layer.get_weights()[0]`` returns it. Each filter is drawn
    on its own scale, so its shape shows whatever its size. One input channel: red = positive weight,
    blue = negative, white = 0. Three channels: grey = 0, in RGB; ``bgr=True`` when the network takes
    its channels as BGR (Keras' ResNet50). The alternative text gives, per row, how alike
    neighbouring weights are (``neighbour_correlation``: 0 for noise).
    """
    rows = list(kernels.items())
    height, width, channels, n_filters = rows[0][1].shape
    cols = cols or n_filters
    per_row = int(np.ceil(n_filters / cols))
    fig, axes = _grid(len(rows) * per_row * cols, cols)
    for r, (label, kernel) in enumerate(rows):
        for f in range(n_filters):
            limit = np.abs(kernel[..., f]).max() or 1.0
            ax = axes[r * per_row * cols + f]
            ax.axis("on")
            ax.set_xticks([])
            ax.set_yticks([])
            if kernel.shape[2] == 1:
                ax.imshow(kernel[:, :, 0, f], cmap="bwr", vmin=-limit, vmax=limit)
            else:
                ax.imshow(_rgb(kernel[:, :, :3, f], bgr=bgr))
            if f == 0:
                ax.set_ylabel(label.replace(" ", "\n", 1) if len(label) > 10 else label, fontsize=9)
            if r == 0 and n_filters <= 16:
                ax.set_title(f"filtro {f}", fontsize=9)
    if channels == 1:
        legend = "rojo: peso positivo · azul: peso negativo · blanco: 0 (cada filtro con su propia escala)"
        colours = "rojo, peso positivo; azul, negativo; blanco, cero"
    else:
        legend = "cada filtro reescalado por separado; gris: peso 0"
        colours = "en color, gris para el peso 0" + (" (canales BGR de la red pasados a RGB)" if bgr else "")
    fig.supxlabel(legend, fontsize=9)
    full_title = _title(title, data)
    fig.suptitle(full_title)
    smooth = "; ".join(f"{_correlation_text(neighbour_correlation(kernel))} ({label})" for label, kernel in rows)
    show_figure(fig, alt or f"{full_title}. {n_filters} filtros de {height}×{width} por fila, "
                            f"{len(rows)} fila{'s' if len(rows) > 1 else ''} ({colours}). Parecido entre pesos "
                            f"vecinos (correlación; 0 es ruido): {smooth}.")


def _correlation_text(value: float) -> str:
    return decimal(value, 2) if np.isfinite(value) else "sin definir, pesos constantes"


def show_activations(image: np.ndarray, maps: np.ndarray, title: str, data=None, label: str = "", cols: int = 9,
                     alt: str | None = None):
    """One input image and the activation map of each filter of a layer for it, with a colour scale.

    ``image`` is (28, 28) or (28, 28, 1); ``maps`` is what ``predict`` returns for that one image,
    shape (1, h, w, filters) or (h, w, filters). Every map is drawn on the same scale, from 0 to the
    largest activation (dark = strong), shown by the colour bar. The alternative text names the most
    active filter and how many maps are all zero.
    """
    maps = maps[0] if maps.ndim == 4 else maps
    n = maps.shape[-1]
    top = float(max(maps.max(), 1e-6))
    fig, axes = _grid(n + 1, min(n + 1, cols))
    axes[0].axis("on")
    axes[0].imshow(np.squeeze(image), cmap="gray_r")
    axes[0].set_title(f"entrada {label}".strip(), fontsize=9)
    for f in range(n):
        ax = axes[f + 1]
        ax.axis("on")
        drawn = ax.imshow(maps[:, :, f], cmap="gray_r", vmin=0, vmax=top)
        ax.set_title(f"filtro {f}", fontsize=9)
    for ax in axes[: n + 1]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(drawn, ax=list(axes), shrink=0.8, label="activación (escala común)")
    full_title = (_title(title, data) + f" · entrada de {image.shape[0]}×{image.shape[1]} píxeles, "
                  f"mapas de {maps.shape[0]}×{maps.shape[1]}")
    fig.suptitle(full_title)
    means = maps.mean(axis=(0, 1))
    silent = int((maps.max(axis=(0, 1)) == 0).sum())
    strongest = int(means.argmax())
    show_figure(fig, alt or f"{full_title}. La imagen de entrada {label} y un mapa por cada uno de los {n} filtros, "
                            f"todos en la misma escala, de 0 a {decimal(top, 2)}: más oscuro, más activación. El "
                            f"más activo es el filtro {strongest} (media {decimal(means[strongest], 2)}); "
                            f"{silent} de los {n} mapas están apagados (todo cero).")


def local_resnet50_weights() -> str | None:
    """The checked ImageNet weights file for ResNet50 (no top) if it is on this machine, else None.

    Unlike ``resnet50_weights()`` this never downloads: notebook 00 only *shows* the filters when
    they are already here (``python -m tlcourse.prefetch`` puts them there).
    """
    for path in resnet50_weights_candidates():
        if weights_file_problem(path) is None:
            return str(path)
    return None


LETTERS = "ABCEGKMRSWXZ"   # a dozen capitals with straight, curved and diagonal strokes (fewer to draw: faster)


def letters_from_fonts(n: int, seed: int = 0, letters: str = LETTERS):
    """``n`` capital letters drawn from matplotlib's fonts (randomly warped), in MNIST's format.

    28×28 uint8, white strokes on black, labels as indices into ``letters``. They are typeset, not
    handwritten, and MNIST has no letter at all: images a digit network has never seen.
    """
    from .synthetic import generate

    return generate(letters, n, seed=seed)


def neighbour_correlation(kernel: np.ndarray) -> float:
    """How alike neighbouring weights of a Conv2D layer's filters are (0: noise; near 1: smooth).

    The correlation between each weight and its right and lower neighbour, over all filters and
    channels of ``kernel`` (shape (height, width, channels, filters)); nan when the weights are constant.
    """
    pairs = [(kernel[:, :-1], kernel[:, 1:]), (kernel[:-1], kernel[1:])]
    left = np.concatenate([a.ravel() for a, _ in pairs])
    right = np.concatenate([b.ravel() for _, b in pairs])
    with np.errstate(invalid="ignore", divide="ignore"):   # constant weights: no correlation (nan)
        return float(np.corrcoef(left, right)[0, 1])
