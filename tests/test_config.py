"""Configuration from the environment (tlcourse.config): TL_DATA, TL_QUICK, TL_DATA_DIR.

conftest.py sets TL_DATA_DIR to a temporary folder and unsets TL_DATA / TL_QUICK for every
test; the tests below change them with ``monkeypatch`` (undone after each test).
"""

import pytest

import tlcourse.config as config
from conftest import REPO
from tlcourse import ConfigError, data_path, get_config


@pytest.fixture
def real_repo(monkeypatch):
    """Undo conftest's redirection of REPO_DIR (get_config only reads it, writes nothing)."""
    monkeypatch.setattr(config, "REPO_DIR", REPO)
    monkeypatch.delenv("TL_DATA_DIR", raising=False)
    return REPO


def test_repo_dir_comes_from_the_package_location():
    """REPO_DIR is computed from the package file: notebooks/tlcourse/ → two levels up."""
    assert config.PACKAGE_DIR == REPO / "notebooks" / "tlcourse"
    assert config.PACKAGE_DIR.parent.parent == REPO


def test_defaults(real_repo):
    """Nothing set: data 'auto', complete (not quick) mode, cache in <repo>/data, results in <repo>/tmp."""
    cfg = get_config()
    assert cfg.data_mode == "auto"
    assert cfg.quick is False
    assert cfg.data_dir == real_repo / "data"
    assert cfg.tmp_dir == real_repo / "tmp"


def test_paths_do_not_depend_on_cwd(real_repo, tmp_path, monkeypatch):
    """From another working directory (a notebook runs in notebooks/, a test elsewhere) the paths are the same."""
    expected = get_config()
    for folder in (tmp_path, real_repo / "notebooks", real_repo / "tests"):
        monkeypatch.chdir(folder)
        cfg = get_config()
        assert (cfg.data_dir, cfg.tmp_dir) == (expected.data_dir, expected.tmp_dir)


@pytest.mark.parametrize("value, quick", [
    ("1", True), ("true", True), ("yes", True), ("sí", True), ("ON", True),
    ("0", False), ("", False), ("no", False), ("false", False),
])
def test_tl_quick(monkeypatch, value, quick):
    """TL_QUICK=1 (or true/yes/sí) turns the quick mode on; 0, empty or no leaves it off."""
    monkeypatch.setenv("TL_QUICK", value)
    assert get_config().quick is quick


def test_invalid_tl_quick(monkeypatch):
    """An unknown TL_QUICK value is refused (a typo should not silently run the long mode)."""
    monkeypatch.setenv("TL_QUICK", "rapido")
    with pytest.raises(ConfigError, match="TL_QUICK"):
        get_config()


@pytest.mark.parametrize("value, mode", [
    ("real", "real"), ("synthetic", "synthetic"), ("auto", "auto"), ("REAL", "real"), (" synthetic ", "synthetic"),
    ("", "auto"),
])
def test_tl_data_values(monkeypatch, value, mode):
    """TL_DATA accepts auto, real and synthetic (any case, spaces ignored; empty means auto)."""
    monkeypatch.setenv("TL_DATA", value)
    assert get_config().data_mode == mode


def test_invalid_tl_data(monkeypatch):
    """An invalid TL_DATA raises ConfigError (a ValueError) with a Spanish message listing the valid values."""
    monkeypatch.setenv("TL_DATA", "sintetico")
    with pytest.raises(ConfigError) as info:
        get_config()
    message = str(info.value)
    assert "TL_DATA='sintetico' no es válido" in message
    assert "usa uno de auto, real, synthetic" in message
    assert isinstance(info.value, ValueError)


def test_tl_data_dir_is_respected(tmp_path, monkeypatch):
    """TL_DATA_DIR moves the data cache; data_path() builds paths inside it and creates the folder."""
    folder = tmp_path / "otra-cache"
    monkeypatch.setenv("TL_DATA_DIR", str(folder))
    assert get_config().data_dir == folder.resolve()
    path = data_path("mnist", "train-images-idx3-ubyte.gz")
    assert path == folder.resolve() / "mnist" / "train-images-idx3-ubyte.gz"
    assert path.parent.is_dir() and not path.exists()


def test_describe_mentions_the_settings(monkeypatch):
    """The one-line summary printed by each notebook's setup names the mode and the data source."""
    monkeypatch.setenv("TL_QUICK", "1")
    monkeypatch.setenv("TL_DATA", "synthetic")
    text = get_config().describe()
    assert "TL_QUICK=1" in text and "synthetic" in text


def test_shown_path_is_never_absolute(tmp_path, monkeypatch):
    import tlcourse.config as config

    repo = tmp_path / "repo"
    monkeypatch.setattr(config, "REPO_DIR", repo)
    monkeypatch.setenv("HOME", str(tmp_path / "casa"))
    assert config.shown_path(repo / "tmp" / "supermodel.h5") == "tmp/supermodel.h5"
    assert config.shown_path(repo) == "."
    assert config.shown_path(tmp_path / "casa" / ".keras" / "models" / "w.h5") == "~/.keras/models/w.h5"
    assert config.shown_path(tmp_path / "otra" / "x.npz") == str(tmp_path / "otra" / "x.npz")   # chosen by the user
    monkeypatch.setenv("TL_DATA_DIR", str(repo / "data"))
    assert str(tmp_path) not in config.get_config().describe()
