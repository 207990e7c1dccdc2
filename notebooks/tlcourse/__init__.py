"""tlcourse: the plumbing of the transfer-learning course (data, caches, plots, results).

The lessons themselves (building, freezing, saving, loading and fitting models) live in the
notebooks; this package only keeps out of their way what is not the lesson.
"""

from .config import REPO_DIR, Config, ConfigError, data_path, get_config, native_stderr_silenced, tmp_path
from .datasets import EMNIST_BALANCED_CLASSES, MNIST_CLASSES, load_emnist, load_mnist
from .files import DataError, atomic_path, download, md5sum
from .idx import read_idx
from .models import (build_mnist_mlp, ensure_resnet50_frozen, ensure_supermodel, resnet50_weights_kind,
                     save_resnet50_info)
from .plots import plot_class_balance, plot_comparison, plot_continued, plot_history, show_samples
from .pretrained import batches, features_path, fingerprint, load_features, resnet50_weights, save_features
from .fmt import decimal, millions, percent, seconds, thousands
from .results import load_history, read_results, record_result, save_history

__all__ = [
    "REPO_DIR", "Config", "ConfigError", "DataError", "EMNIST_BALANCED_CLASSES", "MNIST_CLASSES",
    "atomic_path", "build_mnist_mlp", "ensure_resnet50_frozen", "resnet50_weights_kind", "save_resnet50_info", "data_path", "download", "ensure_supermodel", "get_config",
    "load_emnist", "load_mnist", "md5sum", "native_stderr_silenced", "plot_class_balance", "plot_comparison", "plot_continued", "plot_history",
    "load_history", "read_idx", "read_results", "record_result", "save_history", "setup", "show_samples", "thousands", "tmp_path",
    "batches", "decimal", "millions", "percent", "seconds", "features_path", "fingerprint", "load_features", "resnet50_weights", "save_features",
]


def setup(seed: int = 42) -> Config:
    """What every notebook's setup cell does, so that the cell itself is three lines.

    Quiets TensorFlow's start-up (its C++ log level, the oneDNN notice that no variable turns
    off, and Keras' "legacy .h5" notices through absl) *before* Keras is first imported, reads
    and prints the configuration and the versions, sets the seeds (Python, NumPy and TensorFlow,
    through Keras) and a readable plot style. Errors and warnings that matter still show.
    """
    import logging
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # before TensorFlow's first import
    with native_stderr_silenced():
        import keras
        import tensorflow as tf
    logging.getLogger("absl").setLevel(logging.ERROR)
    import matplotlib.pyplot as plt

    cfg = get_config()
    keras.utils.set_random_seed(seed)
    plt.rcParams.update({"figure.dpi": 80, "axes.titlesize": 11, "figure.titlesize": 12})
    print(cfg.describe())
    print(f"Keras {keras.__version__} sobre TensorFlow {tf.__version__} · semilla {seed}")
    return cfg
from .comparison import APPROACH_NAMES, approach_name, comparison_table, like_with_like, predict_once, scientific  # noqa: E402  (notebook 05)
