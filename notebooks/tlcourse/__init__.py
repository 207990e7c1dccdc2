"""tlcourse: the plumbing of the transfer-learning course (data, caches, plots, results).

The lessons themselves (building, freezing, saving, loading and fitting models) live in the
notebooks; this package only keeps out of their way what is not the lesson.
"""

from .applications import catalogue, catalogue_by_family, show_catalogue
from .comparison import (APPROACH_NAMES, approach_name, comparison_reading, comparison_table, like_with_like,
                         predict_once, resnet50_dataset, resnet50_stage_costs, scientific, train_step_speed,
                         train_step_speeds)
from .config import (REPO_DIR, Config, ConfigError, data_path, get_config, native_stderr_silenced, shown_path,
                     tmp_path)
from .datasets import EMNIST_BALANCED_CLASSES, MNIST_CLASSES, load_emnist, load_mnist
from .efficiency import (SPANISH_APPROACHES, Task, conclusions, features, max_k, paired, plot_efficiency,
                         predict_classes, resnet50_cached_features, reusable_model, sample_per_class, save_csv,
                         schedule, spanish_table, summary, train_steps, training_steps)
from .figures import EpochLog, model_summary, show_figure
from .files import DataError, atomic_path, download, file_lock, md5sum
from .fmt import decimal, millions, percent, seconds, thousands
from .idx import read_idx
from .intro import letters_from_fonts, local_resnet50_weights, neighbour_correlation, show_activations, show_filters
from .models import (build_mnist_mlp, ensure_resnet50_frozen, ensure_supermodel, resnet50_weights_kind,
                     save_resnet50_info)
from .numerics import deterministic_gpu
from .online import ready_to_download
from .plots import plot_class_balance, plot_comparison, plot_continued, plot_history, show_samples
from .pretrained import (batches, extraction_metadata, features_once, features_path, fingerprint, load_features,
                         resnet50_features_fingerprint, resnet50_weights, save_features)
from .results import load_history, read_results, record_result, save_history
from .throughput import read_throughput, record_throughput
from .timing import batch_clock, peak_memory_gib

__all__ = [
    # configuration, data and files
    "REPO_DIR", "Config", "ConfigError", "DataError", "EMNIST_BALANCED_CLASSES", "MNIST_CLASSES", "atomic_path",
    "data_path", "download", "file_lock", "get_config", "load_emnist", "load_mnist", "md5sum",
    "native_stderr_silenced", "read_idx", "setup", "shown_path", "tmp_path",
    # Spanish numbers
    "decimal", "millions", "percent", "seconds", "thousands",
    # models, features and results
    "batches", "build_mnist_mlp", "ensure_resnet50_frozen", "ensure_supermodel", "extraction_metadata",
    "features_once", "features_path", "fingerprint", "load_features", "load_history", "read_results",
    "record_result", "resnet50_features_fingerprint", "resnet50_weights", "resnet50_weights_kind",
    "save_features", "save_history", "save_resnet50_info",
    # figures with alternative text; Keras output in Spanish
    "EpochLog", "model_summary", "show_figure",
    # plots
    "plot_class_balance", "plot_comparison", "plot_continued", "plot_history", "show_samples",
    # notebook 00
    "letters_from_fonts", "local_resnet50_weights", "neighbour_correlation", "show_activations", "show_filters",
    # notebook 04 and the benchmark
    "batch_clock", "peak_memory_gib", "read_throughput", "record_throughput",
    # notebook 05
    "APPROACH_NAMES", "approach_name", "comparison_reading", "comparison_table", "like_with_like", "predict_once",
    "resnet50_dataset", "resnet50_stage_costs", "scientific", "train_step_speed", "train_step_speeds",
    # notebook 07, Colab/Kaggle GPUs
    "catalogue", "catalogue_by_family", "deterministic_gpu", "ready_to_download", "show_catalogue",
    # notebook 06
    "SPANISH_APPROACHES", "Task", "conclusions", "features", "max_k", "paired", "plot_efficiency", "predict_classes",
    "resnet50_cached_features", "reusable_model", "sample_per_class", "save_csv", "schedule", "spanish_table",
    "summary", "train_steps", "training_steps",
]


def setup(seed: int = 42, *, onednn: bool = True) -> Config:
    """What every notebook's setup cell does, so that the cell itself is three lines.

    Quiets TensorFlow's start-up (its C++ log level, the oneDNN notice that no variable turns
    off, and Keras' "legacy .h5" notices through absl) *before* Keras is first imported, reads
    and prints the configuration and the versions, sets the seeds (Python, NumPy and TensorFlow,
    through Keras) and a readable plot style (a colour-blind-safe palette). Errors and warnings that matter still show.

    ``onednn=False`` sets ``TF_ENABLE_ONEDNN_OPTS=0`` before TensorFlow is imported, for a notebook
    whose heavy work measured faster without oneDNN (notebook 04: inference through a frozen
    ResNet50). TensorFlow reads it only once, at import: if it was already imported in this
    process with oneDNN on, this says so and changes nothing.
    """
    import logging
    import os
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # before TensorFlow's first import
    if not onednn:
        if "tensorflow" in sys.modules and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
            print("TensorFlow ya estaba importado con oneDNN activado: reinicia el kernel para desactivarlo.")
        else:
            os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    with native_stderr_silenced():
        import keras
        import tensorflow as tf
    logging.getLogger("absl").setLevel(logging.ERROR)
    # In Jupyter TensorFlow sets its own logger to INFO ("Assets written to: <absolute path>" on every
    # SavedModel export); WARNING is its default everywhere else, so warnings still show.
    logging.getLogger("tensorflow").setLevel(logging.WARNING)
    import matplotlib.pyplot as plt

    gpu_note = deterministic_gpu(tf)   # Colab/Kaggle GPUs: the notebooks' equality checks hold there too

    cfg = get_config()
    keras.utils.set_random_seed(seed)
    plt.style.use("tableau-colorblind10")   # a palette that colour-blind readers tell apart
    plt.rcParams.update({"figure.dpi": 80, "axes.titlesize": 11, "figure.titlesize": 12})
    print(cfg.describe())
    onednn_off = " · oneDNN desactivado" if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0" else ""
    print(f"Keras {keras.__version__} sobre TensorFlow {tf.__version__} · semilla {seed}{onednn_off}")
    if gpu_note:
        print(gpu_note)
    return cfg
