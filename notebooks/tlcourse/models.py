"""Models that later notebooks need from earlier ones, rebuilt when a notebook runs alone."""

from __future__ import annotations

import time
from pathlib import Path

from .config import get_config, tmp_path
from .files import DataError, atomic_path
from .results import save_history

SUPERMODEL = "supermodel.h5"
SUPERMODEL_HISTORY = "supermodel_history.csv"


def model_file_problem(path: Path, input_shape: tuple, n_outputs: int) -> str | None:
    """None if ``path`` loads as a Keras model with that input shape and number of outputs."""
    import keras
    if not path.exists():
        return f"no encuentro {path}"
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:   # h5py/Keras raise several types for a damaged file
        return f"{path} no se puede cargar ({type(error).__name__}: {str(error).splitlines()[0][:120]})"
    if tuple(model.input_shape[1:]) != tuple(input_shape) or model.output_shape[-1] != n_outputs:
        return (f"{path} no es el modelo esperado (entrada {model.input_shape}, salida {model.output_shape}; "
                f"se esperaba entrada (None, {', '.join(map(str, input_shape))}) y {n_outputs} salidas)")
    return None


def build_mnist_mlp():
    """The MLP of notebook 01: 28×28 → Dense 8 → Dense 4 → Dense 10 (softmax)."""
    import keras
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(4, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ], name="mlp_mnist")


def ensure_supermodel() -> Path:
    """Path of ``tmp/supermodel.h5``, rebuilt with notebook 01's final recipe if missing or damaged.

    Contract: the model takes 28×28 float inputs scaled to [0, 1] and outputs 10 probabilities.
    A damaged file is never used: with ``TL_DATA=real`` it stops with the reason, otherwise it is
    rebuilt (and the notebook says so).
    """
    import keras
    from .datasets import load_mnist

    path = tmp_path(SUPERMODEL)
    problem = model_file_problem(path, (28, 28), 10)
    if problem is None:
        print(f"Uso {path}, el modelo que guardó el notebook 01.")
        return path
    if path.exists() and get_config().data_mode == "real":
        raise DataError(f"{problem}.\nQué hacer: borra ese fichero y vuelve a ejecutar el notebook 01.")
    print(f"Aviso: {problem}. Lo reconstruyo ahora con la receta final del notebook 01 "
          "(entradas /255, lotes de 128, 10 épocas, Adam).")
    (x_train, y_train), (x_test, y_test) = load_mnist()
    keras.backend.clear_session()   # as notebook 01 does: layer names start again at dense, dense_1…
    keras.utils.set_random_seed(42)
    model = build_mnist_mlp()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train / 255.0, y_train, batch_size=128, epochs=10, validation_split=0.1, verbose=0)
    _, accuracy = model.evaluate(x_test / 255.0, y_test, verbose=0)
    with atomic_path(path) as tmp:
        model.save(tmp)
    save_history(history, SUPERMODEL_HISTORY)
    keras.backend.clear_session()   # the notebook starts afresh: its first new Dense will be "dense"
    print(f"Reconstruido en {time.perf_counter() - start:.0f} s: exactitud en test {accuracy:.3f}; "
          f"guardado en {path}.")
    return path
