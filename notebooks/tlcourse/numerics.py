"""The same numbers on a GPU runtime (Colab, Kaggle) as on a laptop's CPU.

Several notebooks compare two computations that should agree: a model and its reloaded copy
(bit for bit), ``training=True`` and ``training=False`` on a frozen base (bit for bit), the full
model and the head on precomputed features (to 1e-4). On a CPU, TensorFlow gives the same bits
for the same operations, and float32 rounding stays near 1e-6 relative. On a GPU two things
change: cuDNN picks convolution algorithms by timing them and some kernels add with atomics, so
the same operation can round differently from one call to the next; and on Ampere or newer
GPUs (Colab's A100 and L4) float32 matrix products run in TensorFloat-32, with a 10-bit
mantissa, about 1e-3 relative error, far above those tolerances.

:func:`deterministic_gpu` turns on TensorFlow's documented switches for both
(``tf.config.experimental.enable_op_determinism`` and
``tf.config.experimental.enable_tensor_float_32_execution(False)``) when a GPU is visible, and
does nothing on a CPU, where they are not needed and op determinism would only slow ``tf.data``.
"""

from __future__ import annotations


def deterministic_gpu(tf=None) -> str | None:
    """On a GPU, make repeated operations give the same bits and keep float32 as float32.

    Returns a sentence for the setup output (in Spanish), or None when there is no GPU. Call it
    right after importing TensorFlow, before any model is built.
    """
    if tf is None:
        import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    tf.config.experimental.enable_op_determinism()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    return (f"GPU ({len(gpus)}): operaciones deterministas y float32 sin TF32, para que las comprobaciones "
            "de igualdad valgan aquí como en una CPU (algo más lento).")
