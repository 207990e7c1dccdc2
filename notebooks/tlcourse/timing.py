"""Measuring without cluttering the lesson: how long ``fit`` takes per epoch, and the kernel's peak memory.

``fit_clock(warm_up)`` is a Keras callback for ``fit`` (notebook 04's direct way) that tells the
one-off preparation of TensorFlow's graphs from the steady cost of an epoch, and scales an epoch
measured on a subset to the whole training set (:meth:`estimate`). It builds the validation graph
*before* its clock starts, by evaluating the model once on ``warm_up`` (a small dataset shaped like
the validation data): otherwise that one-off cost would fall inside the first epoch's validation
pass and be multiplied by every epoch of the estimate. The training graph is built in the first
training batch; what that batch costs beyond a typical one is counted once, as preparation.
``batch_clock()`` is the same clock without the warm-up or the estimate (training batches only).

``plot_training_times`` draws notebook 04's comparison of the two ways, in seconds or minutes.

``peak_memory_gib()`` is the most resident memory this process (the notebook's kernel) has used
since it started, on Linux, macOS and Windows.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def batch_clock():
    """A ``keras.callbacks.Callback`` that notes the seconds of each training batch in ``.seconds``.

    ``.first()`` is the first batch (it includes building the training graph), ``.typical()`` the
    median of the others, leaving out the last one (it may be a smaller batch), and
    ``.preparation()`` what the first batch cost beyond a typical one: the graph's one-off price.
    """
    import keras

    class BatchClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self._start = 0.0

        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

        def first(self) -> float:
            if not self.seconds:
                raise ValueError("no se ha medido ningún lote: pasa este reloj en callbacks=[...] de fit")
            return self.seconds[0]

        def typical(self) -> float:
            steady = self.seconds[1:-1] or self.seconds[1:] or self.seconds
            return float(np.median(steady))

        def preparation(self) -> float:
            return max(self.first() - self.typical(), 0.0)

    return BatchClock()


def fit_clock(warm_up=None):
    """A ``keras.callbacks.Callback`` that times one ``fit``: see the module's docstring.

    After ``fit``: ``.seconds`` (each training batch), ``.validation_seconds`` (each validation
    batch), ``.warm_up_seconds``, ``.wall_seconds`` (from the end of the warm-up to the end of
    training), ``.epochs``; ``.preparation()`` (the graphs' one-off seconds), ``.epoch_seconds()``
    (an epoch without them) and ``.estimate(epochs=, images=, measured_images=)``.
    """
    import keras

    class FitClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self.validation_seconds: list[float] = []
            self.warm_up_seconds = 0.0
            self.wall_seconds = 0.0
            self.epochs = 0
            self._start = self._fit_start = 0.0

        def on_train_begin(self, logs=None):
            self.seconds, self.validation_seconds, self.epochs = [], [], 0
            if warm_up is not None:   # traces the test function that fit's validation will reuse
                start = time.perf_counter()
                self.model.evaluate(warm_up, verbose=0)
                self.warm_up_seconds = time.perf_counter() - start
            self._fit_start = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

        def on_test_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_test_batch_end(self, batch, logs=None):
            self.validation_seconds.append(time.perf_counter() - self._start)

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

        def on_train_end(self, logs=None):
            self.wall_seconds = time.perf_counter() - self._fit_start

        def _training_graph(self) -> float:
            if not self.seconds:
                raise ValueError("no se ha medido ningún lote: pasa este reloj en callbacks=[...] de fit")
            steady = self.seconds[1:-1] or self.seconds[1:] or self.seconds
            return max(self.seconds[0] - float(np.median(steady)), 0.0)

        def preparation(self) -> float:
            return self.warm_up_seconds + self._training_graph()

        def epoch_seconds(self) -> float:
            return (self.wall_seconds - self._training_graph()) / max(self.epochs, 1)

        def estimate(self, *, epochs: int, images: int, measured_images: int) -> float:
            """Seconds for ``epochs`` epochs over ``images`` images: the graphs once, then the measured
            epoch (over ``measured_images`` images) scaled by ``images / measured_images``."""
            return self.preparation() + epochs * self.epoch_seconds() * images / measured_images

    return FitClock()


def plot_training_times(direct: float, extraction: float, head: float, *, epochs: int, n_images: int,
                        data=None, base: str = ""):
    """Notebook 04's figure: ``epochs`` epochs of the direct way against extracting once + the head's epochs.

    ``base`` names the base's weights in the title (e.g. ``"pesos ALEATORIOS"``). Bars told apart by
    hatching as well as colour; the axis in seconds, or in minutes when the
    longest bar passes two minutes. Shown through :func:`tlcourse.show_figure`, with an alternative
    text built from the numbers.
    """
    import matplotlib.pyplot as plt

    from . import show_figure
    from .fmt import decimal, seconds, thousands
    from .plots import _title

    unit, scale = ("minutos", 1 / 60) if max(direct, extraction + head) > 120 else ("segundos", 1.0)
    fast = "forma rápida"
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.barh(["forma directa"], [direct * scale], color="#d55e00", hatch="//", edgecolor="black",
            label=f"{epochs} épocas del modelo completo")
    ax.barh([fast], [extraction * scale], color="#0072b2", hatch="..", edgecolor="black",
            label="extraer las características (una pasada)")
    ax.barh([fast], [head * scale], left=[extraction * scale], color="#009e73", hatch="xx", edgecolor="black",
            label=f"{epochs} épocas de la cabeza")
    ax.invert_yaxis()
    ax.set_xlabel(f"tiempo de entrenamiento ({unit})")
    ax.set_title(_title(f"ResNet50 congelada{f' ({base})' if base else ''}: tiempo para {epochs} épocas con "
                        f"{thousands(n_images)} imágenes de EMNIST", data))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False, fontsize="small")
    fig.tight_layout()
    alt = (f"Barras horizontales del tiempo de entrenamiento, {epochs} épocas con {thousands(n_images)} imágenes: "
           f"la forma directa tarda {seconds(direct)}; la forma rápida, {seconds(extraction + head)} "
           f"({seconds(extraction)} para extraer las características y {seconds(head)} para la cabeza), "
           f"{decimal(direct / (extraction + head))} veces menos.")
    show_figure(fig, alt=alt)


def peak_memory_gib() -> float:
    """Peak resident memory of this process since it started, in GiB (Linux, macOS and Windows).

    ``resource`` gives it on Linux (KiB) and macOS (bytes); it does not exist on Windows, where
    ``psutil`` reads the peak working set instead.
    """
    try:
        import resource
    except ImportError:                                   # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**30
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20
