"""Models that later notebooks need from earlier ones, rebuilt when a notebook runs alone."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .config import get_config, shown_path, tmp_path
from .files import DataError, atomic_path
from .results import save_history
from .fmt import seconds, thousands

SUPERMODEL = "supermodel.h5"
WEIGHTS_IN_SPANISH = {"imagenet": "base con pesos de ImageNet", "random": "base con pesos aleatorios"}
SUPERMODEL_HISTORY = "supermodel_history.csv"


def model_file_problem(path: Path, input_shape: tuple, n_outputs: int) -> str | None:
    """None if ``path`` loads as a Keras model with that input shape and number of outputs."""
    import keras
    if not path.exists():
        return f"no está {shown_path(path)}"
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:   # h5py/Keras raise several types for a damaged file
        return f"{shown_path(path)} no se puede cargar ({type(error).__name__}: {str(error).splitlines()[0][:120]})"
    if tuple(model.input_shape[1:]) != tuple(input_shape) or model.output_shape[-1] != n_outputs:
        return (f"{shown_path(path)} no es el modelo esperado (entrada {model.input_shape}, salida {model.output_shape}; "
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


def _usable_or_rebuild(path: Path, problem: str | None, *, notebook: str, recipe: str) -> bool:
    """The rule for a model saved by an earlier notebook: True if ``path`` can be used as it is.

    Otherwise it must be rebuilt: that is said (with ``recipe``) and False is returned, except that a
    damaged file with ``TL_DATA=real`` stops with the reason and what to do, instead of being replaced.
    """
    if problem is None:
        return True
    if path.exists() and get_config().data_mode == "real":
        raise DataError(f"{problem}.\nQué hacer: borra ese fichero y vuelve a ejecutar el notebook {notebook}.")
    print(f"Atención: {problem}. Se reconstruye {recipe}.")
    return False


def ensure_supermodel() -> Path:
    """Path of ``tmp/supermodel.h5``, rebuilt with notebook 01's final recipe if missing or damaged.

    Contract: the model takes 28×28 float inputs scaled to [0, 1] and outputs 10 probabilities.
    A damaged file is never used: with ``TL_DATA=real`` it stops with the reason, otherwise it is
    rebuilt (and the notebook says so).
    """
    import keras
    from .datasets import load_mnist
    from .fmt import percent, seconds

    path = tmp_path(SUPERMODEL)
    if _usable_or_rebuild(path, model_file_problem(path, (28, 28), 10), notebook="01",
                          recipe="ahora con la receta final del notebook 01 (entradas /255, lotes de 128, 10 épocas, "
                                 "Adam)"):
        print(f"Usamos {shown_path(path)}, el modelo que guardó el notebook 01.")
        return path
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
    print(f"Reconstruido en {seconds(time.perf_counter() - start)}: exactitud en test {percent(accuracy)}; "
          f"guardado en {shown_path(path)}.")
    return path


RESNET50_FROZEN = "resnet50_congelada.keras"
RESNET50_HEAD = "resnet50_head.keras"
RESNET50_HEAD_HISTORY = "resnet50_head_history.csv"


def resnet50_weights_kind(model_path: Path) -> str:
    """``"imagenet"`` or ``"random"``: what the base of a saved notebook-04 model started from.

    Notebook 04 (and :func:`ensure_resnet50_frozen`) write it next to the model, in a ``.json`` file.
    """
    info = Path(model_path).with_suffix(".json")
    try:
        kind = json.loads(info.read_text(encoding="utf-8"))["weights"]
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"No se sabe con qué pesos se creó {shown_path(model_path)}: falta o está dañado {shown_path(info)} "
                        f"({error}). Qué hacer: vuelve a ejecutar el notebook 04.") from error
    if kind not in ("imagenet", "random"):
        raise DataError(f"{info} dice weights={kind!r}; se esperaba 'imagenet' o 'random'.")
    return kind


def save_resnet50_info(model_path: Path, *, weights: str, data: str) -> Path:
    """Write ``<model>.json`` with the kind of base weights, the data source and the mode (atomically)."""
    info = Path(model_path).with_suffix(".json")
    mode = "quick" if get_config().quick else "full"
    with atomic_path(info) as tmp:
        tmp.write_text(json.dumps({"weights": weights, "data": data, "mode": mode}), encoding="utf-8")
    return info


def _resnet_problem(path: Path) -> str | None:
    problem = model_file_problem(path, (32, 32, 3), 47)
    if problem is None:
        try:
            resnet50_weights_kind(path)
        except DataError as error:
            return str(error).split(". Qué hacer")[0]
        # In full mode, a head trained in quick mode (a few thousand images) would make 05's full-mode numbers
        # start from a weaker model than notebook 04's: rebuild it. Quick mode may use a full-mode model.
        mode = json.loads(path.with_suffix(".json").read_text(encoding="utf-8")).get("mode")
        if mode == "quick" and not get_config().quick:
            return f"{shown_path(path)} se entrenó en modo rápido y estamos en modo completo"
    return problem


def ensure_resnet50_frozen() -> Path:
    """Path of ``tmp/resnet50_congelada.keras`` (notebook 04), rebuilt with its fast recipe if needed.

    The rebuild is notebook 04's cached-features way: ResNet50 (ImageNet weights if available, else
    random — said loudly), frozen; its features computed once; ``Flatten + Dense(47)`` trained for 10
    epochs on them; then the base and the head saved together, with the head and its history.
    """
    import keras
    import tensorflow as tf

    from .datasets import load_emnist
    from .pretrained import batches, resnet50_weights

    path = tmp_path(RESNET50_FROZEN)
    if _usable_or_rebuild(path, _resnet_problem(path), notebook="04",
                          recipe="con la receta rápida del notebook 04 (base congelada, características calculadas "
                                 "una vez, 10 épocas de la cabeza)"):
        print(f"Usamos {shown_path(path)}, el modelo que guardó el notebook 04 "
              f"({WEIGHTS_IN_SPANISH[resnet50_weights_kind(path)]}).")
        return path
    emnist = load_emnist("balanced")
    (x_train, y_train), _ = emnist
    if get_config().quick:
        # Half of notebook 04's quick-mode images: the rebuild only has to give 05 a trained head to start
        # from, and the pass through ResNet50 is most of its time.
        x_train, y_train = x_train[:2_350], y_train[:2_350]
    weights = resnet50_weights()
    kind = "imagenet" if weights is not None else "random"

    def to_resnet_input(images):
        images = tf.image.resize(tf.cast(images, "float32")[..., tf.newaxis], (32, 32))
        return keras.applications.resnet50.preprocess_input(tf.image.grayscale_to_rgb(images))

    start = time.perf_counter()
    keras.utils.set_random_seed(42)
    base_model = keras.applications.ResNet50(include_top=False, weights=weights, input_shape=(32, 32, 3))
    base_model.trainable = False
    # As notebook 04 does, to stay within its memory budget in full mode: the features go into an array
    # allocated once (``predict`` would keep every batch and then join them: two copies at the peak) and
    # the head reads them batch by batch (``fit`` on an array first copies all of it into a tensor).
    features = np.empty((len(x_train), 1, 1, 2048), dtype="float32")
    done = 0
    for images in tf.data.Dataset.from_tensor_slices(x_train).batch(1024).map(to_resnet_input).prefetch(1):
        features[done:done + len(images)] = base_model.predict_on_batch(images)
        done += len(images)
    n_val = len(x_train) // 10                         # the last 10 %, as validation_split=0.1 would take
    head = keras.Sequential([keras.Input(shape=(1, 1, 2048)), keras.layers.Flatten(),
                             keras.layers.Dense(47, activation="softmax", name="salida_emnist")], name="cabeza")
    head.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    # Batches of 256 rather than 04's 1024 (the course's size): more steps, so the head is trained enough
    # even on the smaller quick-mode subset.
    history = head.fit(batches(features[:-n_val], y_train[:-n_val], batch_size=256, shuffle=True), epochs=10,
                       validation_data=batches(features[-n_val:], y_train[-n_val:]), verbose=0)
    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), base_model, head], name="resnet50_congelada")
    for keras_model, name in ((head, RESNET50_HEAD), (model, RESNET50_FROZEN)):
        with atomic_path(tmp_path(name)) as tmp:
            keras_model.save(tmp)
    save_resnet50_info(path, weights=kind, data=emnist.source)
    save_history(history, RESNET50_HEAD_HISTORY)
    print(f"Reconstruido en {seconds(time.perf_counter() - start)} con {thousands(len(x_train))} imágenes "
          f"({WEIGHTS_IN_SPANISH[kind]}); guardado en {shown_path(path)}.")
    return path
