"""Figures and Keras output that every reader can follow: alternative text, Spanish numbers.

- ``show_figure(fig, alt)`` shows a matplotlib figure with its alternative text. The output carries
  three versions: an HTML ``<img alt="…">`` (what JupyterLab, ``jupyter nbconvert --to html``, the
  slides and the website show, and what a screen reader announces), the PNG itself, and the text
  alone (``text/plain``) for readers without images. Before drawing, every axis gets Spanish tick
  labels: ``0,5`` and ``50 %``, not ``0.5`` and ``50%``.
- ``model_summary(model)``: what ``model.summary()`` says, in Spanish and with Spanish numbers.
- ``EpochLog``: a Keras callback that prints one short Spanish line per epoch.
"""

from __future__ import annotations

import base64
import html
import io
import re

import matplotlib.pyplot as plt
from matplotlib import ticker

from .fmt import decimal, percent, thousands

_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_PERCENT = re.compile(r"(?<=\d)%")
# Formatters whose text is plain numbers; FuncFormatter and categorical axes are left alone (their
# text is whatever the caller wrote, usually already Spanish).
_NUMERIC_FORMATTERS = (ticker.ScalarFormatter, ticker.FormatStrFormatter, ticker.StrMethodFormatter,
                       ticker.PercentFormatter)


def spanish_number_text(text: str) -> str:
    """``'0.5'`` -> ``'0,5'``, ``'50%'`` -> ``'50 %'``; anything else is left as it is."""
    return _PERCENT.sub(" %", _DECIMAL_POINT.sub(",", text))


class _Spanish:
    """Mixed into a tick formatter's own class: the same ticks, written the Spanish way."""

    def __call__(self, x, pos=None):
        return spanish_number_text(super().__call__(x, pos))

    def get_offset(self):
        return spanish_number_text(super().get_offset())


_spanish_classes: dict[type, type] = {}


def _spanish(formatter):
    cls = type(formatter)
    if issubclass(cls, _Spanish) or not isinstance(formatter, _NUMERIC_FORMATTERS):
        return formatter
    if cls not in _spanish_classes:
        _spanish_classes[cls] = type(f"Spanish{cls.__name__}", (_Spanish, cls), {})
    formatter.__class__ = _spanish_classes[cls]   # keeps its settings (offset, decimals, locations)
    return formatter


def spanish_ticks(fig) -> None:
    """Every numeric tick label of ``fig`` with a decimal comma (and ``50 %`` for percentages)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            _spanish(axis.get_major_formatter())
            _spanish(axis.get_minor_formatter())


def figure_bundle(fig, alt: str) -> dict:
    """The output of a figure: HTML ``<img>`` with ``alt``, the PNG, and the alternative text alone."""
    alt = " ".join(str(alt).split())
    if not alt:
        raise ValueError("Falta el texto alternativo de la figura: una o dos frases que digan qué muestra.")
    spanish_ticks(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    img = f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt, quote=True)}" style="max-width: 100%">'
    return {"text/html": img, "image/png": png, "text/plain": f"[Figura] {alt}"}


def show_figure(fig, alt: str) -> None:
    """Show ``fig`` with its alternative text (one or two sentences: what it shows, key numbers) and close it."""
    try:
        bundle = figure_bundle(fig, alt)
    finally:
        plt.close(fig)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:   # a plain script: the text is all we can show
        print(bundle["text/plain"])
        return
    if get_ipython() is None:
        print(bundle["text/plain"])
    else:
        display(bundle, raw=True)


# ----------------------------------------------------------------------------- Keras, in Spanish
def _output_shape(layer) -> str:
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return "sin construir"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _count(weights) -> int:
    return int(sum(int(w.numpy().size) for w in weights))


def _trainable(layer) -> str:
    if not layer.weights:
        return "—"
    trainable, total = _count(layer.trainable_weights), _count(layer.weights)
    return "sí" if trainable == total else ("no" if trainable == 0 else "en parte")


def model_summary(model) -> None:
    """Print, in Spanish, what ``model.summary()`` prints: layers, output shapes and parameters.

    One row per layer of ``model`` (a nested model is one row: its name, its type, its parameters),
    then the totals with Spanish thousands. «¿entrenable?» says whether ``fit`` would change that
    layer's weights: «sí», «no», «en parte» (a nested model with some layers frozen) or «—» (no weights).
    """
    rows = [(layer.name, type(layer).__name__, _output_shape(layer),
             thousands(_count(layer.weights)) if layer.weights else "0", _trainable(layer))
            for layer in model.layers]
    header = ("capa", "tipo", "forma de salida", "parámetros", "¿entrenable?")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join
    print(f"Modelo «{model.name}» ({type(model).__name__})")
    print(line(h.ljust(w) if i != 3 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
    for row in rows:
        print(line(c.ljust(w) if i != 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    total, trainable = _count(model.weights), _count(model.trainable_weights)
    print(f"Total: {thousands(total)} parámetros · entrenables: {thousands(trainable)} · "
          f"no entrenables: {thousands(total - trainable)}")


_METRICS = (("loss", "pérdida", lambda v: decimal(v, 3)), ("accuracy", "exactitud", percent))


def epoch_line(epoch: int, epochs: int | None, logs: dict) -> str:
    """``época 3/10 · pérdida 0,492 · exactitud 86,1 % · validación: pérdida 0,511, exactitud 85,0 %``."""
    parts = [f"época {epoch}" + (f"/{epochs}" if epochs else "")]
    parts += [f"{name} {fmt(logs[key])}" for key, name, fmt in _METRICS if key in logs]
    validation = [f"{name} {fmt(logs['val_' + key])}" for key, name, fmt in _METRICS if "val_" + key in logs]
    if validation:
        parts.append("validación: " + ", ".join(validation))
    return " · ".join(parts)


_epoch_log_class = None


def EpochLog(every: int = 1):  # noqa: N802 (used like a Keras callback class)
    """A Keras callback: one short Spanish line every ``every`` epochs (and after the last one).

    ``model.fit(..., verbose=0, callbacks=[tlcourse.EpochLog()])`` prints
    ``época 1/10 · pérdida 0,492 · exactitud 86,1 % · validación: pérdida 0,511, exactitud 85,0 %``.
    (The class is made on first use, so that importing tlcourse does not import Keras before
    ``tlcourse.setup`` has quieted TensorFlow's start-up.)
    """
    global _epoch_log_class
    if every < 1:
        raise ValueError(f"every debe ser 1 o más (cada cuántas épocas se escribe una línea), no {every}")
    if _epoch_log_class is None:
        import keras

        class _EpochLog(keras.callbacks.Callback):
            def __init__(self, every):
                super().__init__()
                self.every = every

            def on_epoch_end(self, epoch, logs=None):
                epochs = self.params.get("epochs") if self.params else None
                if (epoch + 1) % self.every == 0 or (epochs and epoch + 1 == epochs):
                    print(epoch_line(epoch + 1, epochs, logs or {}))

        _epoch_log_class = _EpochLog
    return _epoch_log_class(every)
