"""python -m tlcourse.prefetch: download, check, pack and unpack the data cache, without real network.

The network is off (conftest.py) and each test has its own data cache (``data_dir``). Downloads
go to a tiny HTTP server on 127.0.0.1 (``server``, in conftest.py) that serves small fake files whose
md5 the tests compute: the module constants (``MNIST_MIRRORS``, ``datasets.MNIST_FILES``,
``RESNET50_URL``…) are patched so that :func:`tlcourse.prefetch.items` points at it. The real
MNIST files (shared folder) are used for ``--check``, ``--pack`` and ``--unpack``.

Keras' own folder (``KERAS_HOME_MODELS``, normally ``~/.keras/models``) is always redirected to a
folder of the test, so nothing is ever written to the home directory.
"""

import gzip
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

import tlcourse.datasets as datasets
import tlcourse.prefetch as prefetch
from conftest import REPO, SHARED_MNIST
from tlcourse.prefetch import main

needs_mnist = pytest.mark.skipif(not all((SHARED_MNIST / n).exists() for n in datasets.MNIST_FILES),
                                 reason=f"no están los ficheros de MNIST en {SHARED_MNIST}")


# ------------------------------------------------------------------------------------ helpers
def files_under(folder: Path) -> list[str]:
    """Every file (not folder) below ``folder``, as sorted relative paths."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def fake_gz(seed: int, size: int = 100_000) -> tuple[bytes, bytes]:
    """(raw, gzip of raw): an incompressible fake 'MNIST' file, so the body spans many chunks."""
    raw = random.Random(seed).randbytes(size)
    return raw, gzip.compress(raw, mtime=0)


def tar_with(path: Path, members: dict[str, bytes]) -> Path:
    """Write an uncompressed tar at ``path`` with the given name -> content regular files."""
    with tarfile.open(path, "w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return path


def real_mnist_members() -> dict[str, bytes]:
    """The four real MNIST files as archive members (``mnist/<name>`` -> bytes)."""
    return {f"mnist/{name}": (SHARED_MNIST / name).read_bytes() for name in datasets.MNIST_FILES}


def staging_dirs(data_dir: Path) -> list[str]:
    """The '.unpack-*' staging folders left in the cache (there should be none)."""
    return sorted(p.name for p in data_dir.glob(".unpack-*")) if data_dir.exists() else []


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(autouse=True)
def keras_home(tmp_path, monkeypatch):
    """``KERAS_HOME_MODELS`` points at a folder of this test, never at ``~/.keras/models``."""
    folder = tmp_path / "keras-home" / "models"
    monkeypatch.setattr(prefetch, "KERAS_HOME_MODELS", folder)
    return folder


@pytest.fixture
def mnist_cache(data_dir):
    """``<data>/mnist/`` with copies of the four real MNIST files (writable copies)."""
    if not all((SHARED_MNIST / n).exists() for n in datasets.MNIST_FILES):
        pytest.skip(f"no están los ficheros de MNIST en {SHARED_MNIST}")
    folder = data_dir / "mnist"
    folder.mkdir(parents=True)
    for name in datasets.MNIST_FILES:
        shutil.copyfile(SHARED_MNIST / name, folder / name)
    return folder


@pytest.fixture
def no_download(monkeypatch):
    """Make any download attempt fail the test (for commands that must work offline)."""
    def download(url, *args, **kwargs):
        raise AssertionError(f"no debería descargar nada, pero pidió {url}")
    monkeypatch.setattr(prefetch, "download", download)


@pytest.fixture
def fake_mnist(server, monkeypatch):
    """MNIST reduced to two fake files, fetched from two local mirrors ``/m1/`` and ``/m2/``.

    ``datasets.MNIST_FILES`` holds the md5 of their uncompressed content, as for the real ones.
    Returns ``{name: (raw, gz)}``; the test decides what each mirror serves.
    """
    files = {"fake-a-idx1-ubyte.gz": fake_gz(1), "fake-b-idx1-ubyte.gz": fake_gz(2)}
    monkeypatch.setattr(datasets, "MNIST_FILES", {name: md5(raw) for name, (raw, _) in files.items()})
    monkeypatch.setattr(prefetch, "MNIST_MIRRORS", [f"{server.base}/m1/", f"{server.base}/m2/"])
    return files


@pytest.fixture
def fake_resnet(server, monkeypatch):
    """The ResNet50 weights replaced by 64 KiB of fake bytes at ``/weights.h5`` (md5 patched)."""
    body = random.Random(3).randbytes(64 * 1024)
    monkeypatch.setattr(prefetch, "RESNET50_URL", f"{server.base}/weights.h5")
    monkeypatch.setattr(prefetch, "RESNET50_NOTOP_MD5", md5(body))
    return body


# ------------------------------------------------------------------------- offline, nothing cached
def test_offline_nothing_cached_fails_fast_and_clearly(data_dir, capsys):
    """Offline and with an empty cache: non-zero, fast, every file named in Spanish, nothing left."""
    start = time.monotonic()
    code = main([])
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code != 0
    assert elapsed < 10
    assert "No se pudo conseguir" in err
    for item in prefetch.items():
        assert item.relpath in err, f"{item.relpath} no aparece en el mensaje de error"
    assert "sin conexión" in err
    assert "Cómo conseguirlo" in err
    assert "--unpack" in err                      # the offline way out is explained
    assert "Traceback" not in out + err
    assert files_under(data_dir) == []             # no *.part, no data file (empty folders at most)


def test_offline_subprocess_fails_fast_without_traceback(tmp_path):
    """The real command, in a subprocess (not covered by the conftest block: the machine is offline).

    It must exit non-zero quickly, with the Spanish explanation and no traceback, writing no file.
    """
    cache = tmp_path / "subprocess-data"
    env = {k: v for k, v in os.environ.items() if k not in ("TL_DATA", "TL_QUICK")}
    env["TL_DATA_DIR"] = str(cache)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "tlcourse.prefetch"], cwd=REPO / "notebooks", env=env,
                          capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Cómo conseguirlo" in proc.stderr
    assert elapsed < 30
    assert files_under(cache) == []


def test_unknown_group_is_refused():
    """``--only`` with a group that does not exist stops with a message naming the valid groups."""
    with pytest.raises(SystemExit, match="desconocidos.*mnist, emnist o resnet50"):
        main(["--only", "mnist,fotos"])


# -------------------------------------------------------------------------------------- --check
def test_check_valid_mnist(mnist_cache, no_download, capsys):
    """``--check --only mnist`` with the four real files: 0 and every file 'válido' (no network)."""
    assert main(["--check", "--only", "mnist"]) == 0
    out = capsys.readouterr().out
    for name in datasets.MNIST_FILES:
        assert any(name in line and "válido" in line for line in out.splitlines()), out
    assert "4 de 4" in out


def test_check_truncated_file(mnist_cache, no_download, capsys):
    """A truncated file makes ``--check`` return 1 and the problem is reported on its own line."""
    bad = mnist_cache / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:1000])
    assert main(["--check", "--only", "mnist"]) == 1
    out = capsys.readouterr().out
    lines = {name: next(line for line in out.splitlines() if name in line) for name in datasets.MNIST_FILES}
    assert "válido" not in lines[bad.name] and "dañado o truncado" in lines[bad.name]
    assert all("válido" in line for name, line in lines.items() if name != bad.name)
    assert "3 de 4" in out


def test_check_nothing_cached(data_dir, no_download, capsys):
    """With an empty cache ``--check`` returns 1 and says 'falta' for every file."""
    assert main(["--check", "--only", "mnist"]) == 1
    out = capsys.readouterr().out
    for name in datasets.MNIST_FILES:
        assert any(name in line and "falta" in line for line in out.splitlines()), out
    assert "0 de 4" in out
    assert files_under(data_dir) == []


def test_fetch_when_everything_is_cached_downloads_nothing(mnist_cache, no_download, capsys):
    """Running the download with a valid cache only says so: 0, and no request at all."""
    assert main(["--only", "mnist"]) == 0
    out = capsys.readouterr().out
    assert out.count("Ya está y es válido") == 4
    assert "Todo listo" in out


# -------------------------------------------------------------------- download (local server)
def test_download_good_files(fake_mnist, server, data_dir, capsys):
    """Good content from the first mirror: installed, ``--check`` passes, no '.part' left."""
    for name, (_, gz) in fake_mnist.items():
        server.serve(f"/m1/{name}", gz)
    assert main(["--only", "mnist"]) == 0
    assert files_under(data_dir) == sorted(f"mnist/{name}" for name in fake_mnist)
    for name, (_, gz) in fake_mnist.items():
        assert (data_dir / "mnist" / name).read_bytes() == gz
    assert "Descargado y comprobado" in capsys.readouterr().out
    assert main(["--check", "--only", "mnist"]) == 0


def test_download_wrong_md5_leaves_nothing(fake_mnist, server, data_dir, capsys):
    """Both mirrors serve another (valid gzip) content: non-zero, md5 named, no file nor '.part'."""
    _, other = fake_gz(99)
    for mirror in ("m1", "m2"):
        for name in fake_mnist:
            server.serve(f"/{mirror}/{name}", other)
    assert main(["--only", "mnist"]) != 0
    err = capsys.readouterr().err
    assert "md5" in err and "Cómo conseguirlo" in err
    assert files_under(data_dir) == []


def test_download_not_gzip_leaves_nothing(fake_mnist, server, data_dir, capsys):
    """A mirror that answers 200 with something that is not gzip (a captive portal page) is refused."""
    for name in fake_mnist:
        server.serve(f"/m1/{name}", b"<html>Acepta las condiciones de la red</html>")
    assert main(["--only", "mnist"]) != 0
    assert "no se puede leer" in capsys.readouterr().err
    assert files_under(data_dir) == []


def test_download_falls_back_to_second_mirror(fake_mnist, server, data_dir):
    """The first mirror answers 404, the second one is good: success, after trying both in order."""
    for name, (_, gz) in fake_mnist.items():
        server.serve(f"/m2/{name}", gz)
    assert main(["--only", "mnist"]) == 0
    assert files_under(data_dir) == sorted(f"mnist/{name}" for name in fake_mnist)
    for name in fake_mnist:
        assert server.requested.index(f"/m1/{name}") < server.requested.index(f"/m2/{name}")
    assert main(["--check", "--only", "mnist"]) == 0


def test_download_bad_first_mirror_good_second(fake_mnist, server, data_dir):
    """A first mirror with wrong content does not stop the second, good one from being used."""
    _, other = fake_gz(99)
    for name, (_, gz) in fake_mnist.items():
        server.serve(f"/m1/{name}", other)
        server.serve(f"/m2/{name}", gz)
    assert main(["--only", "mnist"]) == 0
    for name, (_, gz) in fake_mnist.items():
        assert (data_dir / "mnist" / name).read_bytes() == gz


def test_download_interrupted_leaves_nothing(fake_mnist, server, data_dir, capsys, monkeypatch):
    """The server announces the size and hangs up halfway: non-zero, and no file nor '.part' left."""
    monkeypatch.setattr(prefetch, "MNIST_MIRRORS", [f"{server.base}/m1/"])
    for name, (_, gz) in fake_mnist.items():
        server.serve(f"/m1/{name}", gz, cut=True)
    assert main(["--only", "mnist"]) != 0
    err = capsys.readouterr().err
    assert all(f"mnist/{name}" in err for name in fake_mnist)
    assert "Traceback" not in err
    assert files_under(data_dir) == []


def test_download_replaces_a_damaged_cached_file(fake_mnist, server, data_dir, capsys):
    """A cached file that fails its check is downloaded again and replaced by the good one."""
    for name, (_, gz) in fake_mnist.items():
        server.serve(f"/m1/{name}", gz)
    damaged = data_dir / "mnist" / "fake-a-idx1-ubyte.gz"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(fake_mnist[damaged.name][1][:500])
    assert main(["--only", "mnist"]) == 0
    assert "se descarga de nuevo" in capsys.readouterr().out
    assert damaged.read_bytes() == fake_mnist[damaged.name][1]
    assert files_under(data_dir) == sorted(f"mnist/{name}" for name in fake_mnist)


def test_download_resnet50_also_installed_for_keras(fake_resnet, server, data_dir, keras_home):
    """The ResNet50 weights are checked, put in the cache and copied to Keras' models folder."""
    server.serve("/weights.h5", fake_resnet)
    assert main(["--only", "resnet50"]) == 0
    assert (data_dir / "keras" / "models" / prefetch.RESNET50_NOTOP).read_bytes() == fake_resnet
    assert (keras_home / prefetch.RESNET50_NOTOP).read_bytes() == fake_resnet
    assert files_under(data_dir) == [f"keras/models/{prefetch.RESNET50_NOTOP}"]
    assert files_under(keras_home) == [prefetch.RESNET50_NOTOP]
    assert main(["--check", "--only", "resnet50"]) == 0


def test_resnet50_keras_copy_repaired_when_cache_is_valid(fake_resnet, data_dir, keras_home, no_download):
    """Cache valid but Keras' copy damaged: the copy is replaced from the cache, without network."""
    cached = data_dir / "keras" / "models" / prefetch.RESNET50_NOTOP
    cached.parent.mkdir(parents=True)
    cached.write_bytes(fake_resnet)
    keras_home.mkdir(parents=True)
    (keras_home / prefetch.RESNET50_NOTOP).write_bytes(b"a medias")
    assert main(["--only", "resnet50"]) == 0
    assert (keras_home / prefetch.RESNET50_NOTOP).read_bytes() == fake_resnet
    assert files_under(keras_home) == [prefetch.RESNET50_NOTOP]


def test_download_resnet50_wrong_md5_installs_nothing(fake_resnet, server, data_dir, keras_home, capsys):
    """Wrong ResNet50 weights: non-zero, nothing in the cache and nothing in Keras' folder."""
    server.serve("/weights.h5", fake_resnet[::-1])
    assert main(["--only", "resnet50"]) != 0
    assert "md5" in capsys.readouterr().err
    assert files_under(data_dir) == []
    assert files_under(keras_home) == []


def test_download_emnist_checks_size_and_md5(server, data_dir, monkeypatch):
    """EMNIST's zip (made tiny here) is downloaded and accepted only with its size and md5."""
    body = random.Random(4).randbytes(50_000)
    monkeypatch.setattr(datasets, "EMNIST_URL", server.serve("/gzip.zip", body))
    monkeypatch.setattr(datasets, "EMNIST_ZIP_SIZE", len(body))
    monkeypatch.setattr(datasets, "EMNIST_ZIP_MD5", md5(body))
    assert main(["--only", "emnist"]) == 0
    assert (data_dir / "emnist" / "emnist.zip").read_bytes() == body
    assert main(["--check", "--only", "emnist"]) == 0

    monkeypatch.setattr(datasets, "EMNIST_ZIP_MD5", "0" * 32)      # the same bytes are now "wrong"
    (data_dir / "emnist" / "emnist.zip").unlink()
    assert main(["--only", "emnist"]) != 0
    assert files_under(data_dir) == []


# ------------------------------------------------------------------------------ --pack / --unpack
def test_pack_unpack_round_trip(mnist_cache, data_dir, tmp_path, no_download, capsys):
    """Pack the valid cache, empty it, unpack: the four files come back identical and valid."""
    archive = tmp_path / "usb" / "cache.tar"
    assert main(["--only", "mnist", "--pack", str(archive)]) == 0
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted(f"mnist/{name}" for name in datasets.MNIST_FILES)
    assert files_under(archive.parent) == ["cache.tar"]            # no temporary name left

    shutil.rmtree(data_dir)
    assert main(["--only", "mnist", "--unpack", str(archive)]) == 0
    for name in datasets.MNIST_FILES:
        assert (data_dir / "mnist" / name).read_bytes() == (SHARED_MNIST / name).read_bytes()
    assert files_under(data_dir) == sorted(f"mnist/{name}" for name in datasets.MNIST_FILES)
    assert staging_dirs(data_dir) == []
    capsys.readouterr()
    assert main(["--check", "--only", "mnist"]) == 0


def test_pack_skips_invalid_files(mnist_cache, tmp_path, capsys):
    """Only valid files are packed; the others are listed as not included."""
    bad = mnist_cache / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(b"basura")
    archive = tmp_path / "cache.tar"
    assert main(["--only", "mnist", "--pack", str(archive)]) == 0
    with tarfile.open(archive) as tar:
        assert f"mnist/{bad.name}" not in tar.getnames() and len(tar.getnames()) == 3
    assert f"mnist/{bad.name}" in capsys.readouterr().out


def test_pack_with_nothing_valid(data_dir, tmp_path, capsys):
    """With nothing valid to pack: 1, the explanation on stderr, and no archive created."""
    archive = tmp_path / "cache.tar"
    assert main(["--only", "mnist", "--pack", str(archive)]) == 1
    assert "Cómo conseguirlo" in capsys.readouterr().err
    assert not archive.exists()


def test_unpack_missing_archive(tmp_path, capsys):
    """Unpacking an archive that does not exist: 1 and a message naming it."""
    assert main(["--only", "mnist", "--unpack", str(tmp_path / "no-existe.tar")]) == 1
    assert "no-existe.tar" in capsys.readouterr().err


@needs_mnist
def test_unpack_corrupted_member_not_installed(data_dir, tmp_path, capsys):
    """A member with garbage (train-labels) is not installed; the good ones are; staging is cleaned."""
    members = real_mnist_members()
    members["mnist/train-labels-idx1-ubyte.gz"] = gzip.compress(b"esto no son etiquetas de MNIST")
    archive = tar_with(tmp_path / "cache.tar", members)
    assert main(["--only", "mnist", "--unpack", str(archive)]) != 0
    assert "train-labels-idx1-ubyte.gz" in capsys.readouterr().err
    assert not (data_dir / "mnist" / "train-labels-idx1-ubyte.gz").exists()
    assert files_under(data_dir) == sorted(f"mnist/{name}" for name in datasets.MNIST_FILES
                                           if name != "train-labels-idx1-ubyte.gz")
    assert staging_dirs(data_dir) == []


def test_unpack_corrupted_member_keeps_existing_good_copy(mnist_cache, data_dir, tmp_path):
    """A garbage member never overwrites a valid file already in the cache."""
    good = (mnist_cache / "train-labels-idx1-ubyte.gz").read_bytes()
    archive = tar_with(tmp_path / "cache.tar", {"mnist/train-labels-idx1-ubyte.gz": b"\x1f\x8b basura"})
    assert main(["--only", "mnist", "--unpack", str(archive)]) != 0
    assert (mnist_cache / "train-labels-idx1-ubyte.gz").read_bytes() == good
    assert staging_dirs(data_dir) == []
    assert main(["--check", "--only", "mnist"]) == 0


@needs_mnist
def test_unpack_ignores_path_traversal(data_dir, tmp_path, capsys):
    """Members named '../evil.txt' (or hiding '..' inside) are ignored: nothing is written outside."""
    members = real_mnist_members()
    members["../evil.txt"] = b"fuera de la cache"
    members["mnist/../../evil2.txt"] = b"fuera de la cache"
    archive = tar_with(tmp_path / "cache.tar", members)
    outside_before = files_under(tmp_path)
    assert main(["--only", "mnist", "--unpack", str(archive)]) == 0
    assert "Se ignora ../evil.txt" in capsys.readouterr().out
    assert files_under(data_dir) == sorted(f"mnist/{name}" for name in datasets.MNIST_FILES)
    assert [f for f in files_under(tmp_path) if not f.startswith("data/")] == \
           [f for f in outside_before if not f.startswith("data/")]
    assert not list(tmp_path.parent.glob("evil*.txt"))


def test_unpack_ignores_symlink_with_a_cache_name(data_dir, tmp_path, capsys):
    """A symlink member named like a cache file (pointing outside) is ignored, not installed."""
    archive = tmp_path / "cache.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("mnist/train-labels-idx1-ubyte.gz")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../secreto"
        tar.addfile(info)
    assert main(["--only", "mnist", "--unpack", str(archive)]) != 0
    assert "Se ignora mnist/train-labels-idx1-ubyte.gz" in capsys.readouterr().out
    assert not (data_dir / "mnist" / "train-labels-idx1-ubyte.gz").is_symlink()
    assert files_under(data_dir) == []


@needs_mnist
def test_unpack_damaged_archive_leaves_no_staging(data_dir, tmp_path):
    """Whatever else happens with a truncated archive, no '.unpack-*' folder is left in the cache."""
    archive = tar_with(tmp_path / "cache.tar", real_mnist_members())
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    try:
        main(["--only", "mnist", "--unpack", str(archive)])
    except tarfile.ReadError:          # the bug reported by the next test; the cleanup still happens
        pass
    assert staging_dirs(data_dir) == []


@needs_mnist
@pytest.mark.parametrize("damage", ["truncated", "not a tar"])
def test_unpack_damaged_archive_is_reported_not_raised(damage, data_dir, tmp_path, capsys):
    """An archive cut short (a USB copy that did not finish) or not a tar at all: 1 and a message.

    Like every other failure of the command, it should be a clear message, not a traceback.
    """
    archive = tar_with(tmp_path / "cache.tar", real_mnist_members())
    if damage == "truncated":
        archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    else:
        archive.write_bytes(b"esto no es un tar")
    assert main(["--only", "mnist", "--unpack", str(archive)]) == 1
    assert str(archive) in capsys.readouterr().err
    assert staging_dirs(data_dir) == []
