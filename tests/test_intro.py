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


@pytest.fixture
def shown(monkeypatch):
    """The figures the intro functions show, as (figure, alternative text), instead of displaying them."""
    import tlcourse.intro as intro

    figures = []
    monkeypatch.setattr(intro, "show_figure", lambda fig, alt: figures.append((fig, alt)))
    return figures


def test_figures_draw_one_and_three_channel_filters_and_maps_with_alt_text(shown):
    rng = np.random.default_rng(0)
    tlcourse.show_filters({"antes de entrenar": rng.normal(size=(5, 5, 1, 8)), "después": np.ones((5, 5, 1, 8))},
                          title="gris")
    tlcourse.show_filters({"ImageNet": rng.normal(size=(7, 7, 3, 64))}, title="rgb", cols=16)
    maps = np.zeros((1, 10, 10, 16))
    maps[0, 2:5, 2:5, 3] = 0.5
    maps[0, :, :, 7] = 0.1
    tlcourse.show_activations(np.zeros((28, 28, 1)), maps, title="mapas", label="«2»")
    (gray, gray_alt), (rgb, rgb_alt), (activations, activations_alt) = shown
    assert gray._suptitle.get_text() == "gris" and rgb._suptitle.get_text() == "rgb"
    assert "mapas de 10×10" in activations._suptitle.get_text()
    # The alternative text is built from the data: sizes, rows, neighbour correlations, the most active map.
    assert gray_alt.startswith("gris. 8 filtros de 5×5 por fila, 2 filas") and "(antes de entrenar)" in gray_alt
    assert "(después)" in gray_alt and "nan" not in gray_alt
    assert "64 filtros de 7×7" in rgb_alt and "en color" in rgb_alt
    assert "filtro 7 (media 0,10)" in activations_alt and "14 de los 16 mapas están apagados" in activations_alt
    assert "de 0 a 0,5" in activations_alt
    # The activation maps share one scale, shown by a colour bar.
    limits = {im.get_clim() for ax in activations.axes[1:17] for im in ax.get_images()}
    assert limits == {(0.0, 0.5)}
    assert any(ax.get_ylabel() == "activación (escala común)" for ax in activations.axes)


def test_bgr_filters_are_drawn_with_blue_as_blue(shown):
    """Keras' ResNet50 takes BGR input (caffe mode): its kernel's channel 0 looks at blue."""
    kernel = np.zeros((7, 7, 3, 1))
    kernel[:, :, 0, 0] = 1.0                       # weights only on input channel 0
    tlcourse.show_filters({"BGR": kernel}, title="bgr", bgr=True)
    tlcourse.show_filters({"RGB": kernel}, title="rgb")
    (bgr_fig, bgr_alt), (rgb_fig, _) = shown
    bgr_image = bgr_fig.axes[0].get_images()[0].get_array()
    rgb_image = rgb_fig.axes[0].get_images()[0].get_array()
    assert bgr_image[..., 2].min() == 1.0 and bgr_image[..., 0].max() == 0.5   # blue, no red
    assert rgb_image[..., 0].min() == 1.0 and rgb_image[..., 2].max() == 0.5   # red, no blue
    assert "BGR" in bgr_alt
