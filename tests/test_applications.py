"""The keras.applications catalogue of notebook 07 (tlcourse.applications), measured in the installed Keras."""

from __future__ import annotations

import pandas as pd
import pytest

from tlcourse import applications


def test_families_and_variants_of_every_architecture():
    names = applications.architectures()
    assert len(names) >= 30 and "ResNet50" in names
    families = {applications.family(n) for n in names}
    # Versions stay in the family name; sizes go to the variant.
    assert {"ResNet", "ResNetV2", "MobileNet", "MobileNetV2", "MobileNetV3", "EfficientNet", "EfficientNetV2",
            "InceptionV3", "ConvNeXt", "VGG"} <= families
    assert not families & {"InceptionV", "MobileNetV", "EfficientNetV", ""}
    expected = {"ResNet101V2": ("ResNetV2", "101"), "EfficientNetB3": ("EfficientNet", "B3"),
                "EfficientNetV2L": ("EfficientNetV2", "L"), "ConvNeXtXLarge": ("ConvNeXt", "XLarge"),
                "NASNetMobile": ("NASNet", "Mobile"), "MobileNetV3Small": ("MobileNetV3", "Small"),
                "InceptionV3": ("InceptionV3", ""), "VGG16": ("VGG", "16")}
    for name, (family, variant) in expected.items():
        assert (applications.family(name), applications.variant(name)) == (family, variant), name
    # A name is its family plus its variant, so the two together say which model it is.
    assert len({(applications.family(n), applications.variant(n)) for n in names}) == len(names)


def test_minimum_input_sizes_read_from_keras():
    # Keras rejects a too small input with "Input size must be at least 32x32": the message is pinned here.
    assert applications.minimum_input_size("ResNet50") == 32
    assert applications.minimum_input_size("InceptionV3") == 75
    assert applications.minimum_input_size("Xception") == 71


def test_catalogue_is_measured_once_and_read_back(capsys):
    first = applications.catalogue(["VGG16", "ResNet50"])
    said = capsys.readouterr().out
    assert "2 de los" in said and "medido en" in said
    assert list(first["modelo"]) == ["ResNet50", "VGG16"]                      # sorted by parameters
    resnet = first.set_index("modelo").loc["ResNet50"]
    assert (resnet["entrada por defecto"], resnet["entrada mínima"], resnet["parámetros"]) == (224, 32, 25_636_712)
    again = applications.catalogue(["ResNet50", "VGG16"])
    assert "ejecución anterior" in capsys.readouterr().out
    pd.testing.assert_frame_equal(first, again)


def test_quick_mode_measures_the_quick_models(monkeypatch, capsys):
    monkeypatch.setattr(applications, "describe", lambda name: {
        "familia": applications.family(name), "modelo": name, "entrada por defecto": 224, "parámetros": 1,
        "entrada mínima": 32})
    monkeypatch.setenv("TL_QUICK", "1")
    assert sorted(applications.catalogue()["modelo"]) == sorted(applications.QUICK_MODELS)


def test_by_family_is_readable_and_spanish():
    table = pd.DataFrame([
        {"familia": "ResNet", "modelo": "ResNet152", "entrada por defecto": 224, "entrada mínima": 32,
         "parámetros": 60_419_944},
        {"familia": "ResNet", "modelo": "ResNet50", "entrada por defecto": 224, "entrada mínima": 32,
         "parámetros": 25_636_712},
        {"familia": "MobileNetV3", "modelo": "MobileNetV3Small", "entrada por defecto": pd.NA,
         "entrada mínima": 32, "parámetros": 2_554_968},
    ]).astype({"entrada por defecto": "Int64", "entrada mínima": "Int64"})
    families = applications.catalogue_by_family(table)
    assert list(families.index) == ["MobileNetV3", "ResNet"]                   # the smallest first
    assert families.loc["ResNet"].to_dict() == {"variantes de tamaño": "50 · 152", "entrada por defecto": "224",
                                                "entrada mínima": "32", "parámetros (millones)": "25,6–60,4"}
    assert families.loc["MobileNetV3", "entrada por defecto"] == "cualquiera"
    alt = applications.catalogue_alt(table)
    assert "2,6 millones (MobileNetV3Small)" in alt and "60,4 millones (ResNet152)" in alt and "25,6" in alt
    fig = applications.plot_catalogue(table)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["MobileNetV3", "ResNet"]
    import matplotlib.pyplot as plt
    plt.close(fig)


@pytest.mark.parametrize("name", ["ResNet50"])
def test_parameters_without_creating_the_weights(name):
    assert applications.parameters(name, include_top=False) == 23_587_712
