"""The figures and helpers of notebook 00 (tlcourse.intro).

conftest.py gives every test its own data cache and no network; ``HOME`` also goes to
``tmp_path`` here, so ``~/.keras/models/`` is the test's own (empty) folder.
"""

import matplotlib
import numpy as np
import pytest

import tlcourse
import tlcourse.pretrained as pretrained

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)


def test_neighbour_correlation_tells_noise_from_smooth_filters():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(5, 5, 1, 64))
    ramp = np.linspace(-1, 1, 5)
    smooth = np.broadcast_to((ramp[:, None] + ramp[None, :])[..., None, None], (5, 5, 1, 64))
    # 64 filters × 40 neighbour pairs of independent noise: |r| stays well under 0.1
    assert abs(tlcourse.neighbour_correlation(noise)) < 0.1
    assert tlcourse.neighbour_correlation(smooth) > 0.5


def test_letters_are_in_mnist_format_and_not_digits():
    x, y = tlcourse.letters_from_fonts(24, seed=0)
    assert x.shape == (24, 28, 28) and x.dtype == np.uint8
    assert set(y) <= set(range(len(tlcourse.intro.LETTERS)))
    assert not set(tlcourse.intro.LETTERS) & set("0123456789")


def test_resnet50_weights_are_only_looked_for_never_downloaded(monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("local_resnet50_weights no debe descargar nada")

    monkeypatch.setattr(pretrained, "download", no_download)
    assert tlcourse.local_resnet50_weights() is None


def test_a_checked_local_weights_file_is_found(tmp_path, monkeypatch):
    path = tmp_path / "home" / ".keras" / "models" / pretrained.RESNET50_NOTOP
    path.parent.mkdir(parents=True)
    path.write_bytes(b"pesos de prueba\n")
    monkeypatch.setattr(pretrained, "RESNET50_NOTOP_MD5", tlcourse.md5sum(path))
    assert tlcourse.local_resnet50_weights() == str(path)


def test_figures_draw_one_and_three_channel_filters_and_maps(monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()._suptitle.get_text()))
    tlcourse.show_filters({"antes de entrenar": np.zeros((5, 5, 1, 8)), "después": np.ones((5, 5, 1, 8))},
                          title="gris")
    tlcourse.show_filters({"ImageNet": np.random.default_rng(0).normal(size=(7, 7, 3, 64))}, title="rgb", cols=16)
    tlcourse.show_activations(np.zeros((28, 28, 1)), np.zeros((1, 10, 10, 16)), title="mapas")
    assert shown[0] == "gris" and shown[1] == "rgb"
    assert shown[2].startswith("mapas") and "mapas de 10×10" in shown[2]
