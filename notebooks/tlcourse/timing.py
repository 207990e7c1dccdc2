"""Measuring without cluttering the lesson: the seconds of each training batch, and the kernel's peak memory.

``batch_clock()`` is a Keras callback for ``fit`` that notes how long each training batch takes, so a
notebook can tell the one-off preparation of TensorFlow's graph (paid in the first batch) from the
steady cost of a batch, and extrapolate an epoch measured on a slice of the data.

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
