"""Prepare a classroom for working offline: download, check, pack and unpack the data cache.

Run from ``notebooks/``::

    python -m tlcourse.prefetch              # download what is missing (progress bars, checksums)
    python -m tlcourse.prefetch --check      # offline: what is cached and valid
    python -m tlcourse.prefetch --pack cache.tar      # everything valid, in one archive (USB stick)
    python -m tlcourse.prefetch --unpack cache.tar    # on another machine: unpack and check

Every download goes to a ``.part`` name and is renamed only once it passes its check, so an
interrupted run never leaves a file that a later run would trust.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import datasets
from .config import get_config, shown_path
from .files import DataError, atomic_path, download, md5sum
from .pretrained import RESNET50_NOTOP, RESNET50_NOTOP_MD5, RESNET50_NOTOP_URL

MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
RESNET50_URL = RESNET50_NOTOP_URL
KERAS_HOME_MODELS = Path("~/.keras/models")


@dataclass
class Item:
    group: str                               # "mnist", "emnist" or "resnet50"
    relpath: str                             # path inside the data cache
    urls: list[str]
    check: Callable[[Path], str | None]      # None if the file is valid, else why not
    size: int | None = None

    def path(self) -> Path:
        return get_config().data_dir / self.relpath


def _md5_check(expected: str, gunzip: bool = False):
    def check(path: Path) -> str | None:
        try:
            actual = md5sum(path, gunzip=gunzip)
        except Exception as error:   # a damaged gzip raises OSError, EOFError or zlib.error
            return f"no se puede leer ({type(error).__name__}): fichero dañado o truncado"
        if actual != expected:
            what = "del contenido descomprimido " if gunzip else ""
            return f"md5 {what}incorrecto (esperado {expected}, obtenido {actual})"
        return None
    return check


def _emnist_check(path: Path) -> str | None:
    return datasets.emnist_zip_problem(path, full_check=True)


def items() -> list[Item]:
    """Everything the series needs, in the order it is downloaded."""
    found = [Item("mnist", f"mnist/{name}", [mirror + name for mirror in MNIST_MIRRORS],
                  _md5_check(md5, gunzip=True))
             for name, md5 in datasets.MNIST_FILES.items()]
    found.append(Item("emnist", "emnist/emnist.zip", [datasets.EMNIST_URL], _emnist_check,
                      size=datasets.EMNIST_ZIP_SIZE))
    found.append(Item("resnet50", f"keras/models/{RESNET50_NOTOP}", [RESNET50_URL],
                      _md5_check(RESNET50_NOTOP_MD5)))
    return found


def status(item: Item) -> str | None:
    """None if the item is cached and valid, else what is wrong (no network used)."""
    path = item.path()
    if not path.exists():
        return "falta"
    return item.check(path)


def _install_for_keras(item: Item) -> None:
    """Keras looks for application weights in ~/.keras/models/: put a checked copy there too."""
    if item.group != "resnet50":
        return
    target = KERAS_HOME_MODELS.expanduser() / RESNET50_NOTOP
    if target.exists() and item.check(target) is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        shutil.copyfile(item.path(), tmp)


def fetch(item: Item) -> str | None:
    """Download an item (first mirror that works). None on success, else the reasons."""
    reasons = []
    for url in item.urls:
        try:
            download(url, item.path(), size=item.size, verify=item.check, desc=Path(item.relpath).name)
            return None
        except DataError as error:
            reasons.append(str(error))
    if all("sin conexión" in r for r in reasons):
        return f"sin conexión con {' ni con '.join(sorted({u.split('/')[2] for u in item.urls}))}"
    return " / ".join(reasons)


HOWTO = ("Cómo conseguirlo: conecta este equipo a la red y repite `python -m tlcourse.prefetch`, o trae de un "
         "equipo que ya lo tenga un paquete hecho con `python -m tlcourse.prefetch --pack cache.tar` y ábrelo "
         "aquí con `python -m tlcourse.prefetch --unpack cache.tar`.")


def _selected(only: list[str] | None) -> list[Item]:
    chosen = items()
    if only:
        unknown = set(only) - {i.group for i in chosen}
        if unknown:
            raise SystemExit(f"--only: grupos desconocidos {sorted(unknown)}; usa mnist, emnist o resnet50.")
        chosen = [i for i in chosen if i.group in only]
    return chosen


def run_check(chosen: list[Item]) -> int:
    bad = 0
    for item in chosen:
        problem = status(item)
        mark = "OK " if problem is None else "-- "
        print(f"{mark} {item.relpath:<62} {'válido' if problem is None else problem}")
        bad += problem is not None
    print(f"\n{len(chosen) - bad} de {len(chosen)} ficheros en caché y válidos ({shown_path(get_config().data_dir)}/).")
    return 0 if bad == 0 else 1


def run_fetch(chosen: list[Item]) -> int:
    missing = []
    for item in chosen:
        problem = status(item)
        if problem is None:
            print(f"Ya está y es válido: {item.relpath}")
        else:
            if problem != "falta":
                print(f"{item.relpath}: {problem}; se descarga de nuevo.")
            why = fetch(item)
            if why is not None:
                missing.append((item, why))
                continue
            print(f"Descargado y comprobado: {item.relpath}")
        _install_for_keras(item)
    if missing:
        print("\nNo se pudo conseguir:", file=sys.stderr)
        for item, why in missing:
            print(f"  - {item.relpath}: {why}", file=sys.stderr)
        print(HOWTO, file=sys.stderr)
        return 1
    print("\nTodo listo: la serie puede trabajar sin red.")
    return 0


def run_pack(chosen: list[Item], archive: Path) -> int:
    valid = [i for i in chosen if status(i) is None]
    if not valid:
        print("No hay nada válido en la caché que empaquetar. " + HOWTO, file=sys.stderr)
        return 1
    with atomic_path(archive) as tmp:
        with tarfile.open(tmp, "w:gz" if archive.name.endswith(".gz") else "w") as tar:
            for item in valid:
                tar.add(item.path(), arcname=item.relpath)
    print(f"Empaquetados {len(valid)} ficheros en {archive} ({archive.stat().st_size / 2**20:.0f} MiB).")
    skipped = [i.relpath for i in chosen if i not in valid]
    if skipped:
        print("No incluidos (faltan o no son válidos):", ", ".join(skipped))
    return 0


def run_unpack(chosen: list[Item], archive: Path) -> int:
    if not archive.exists():
        print(f"No existe {archive}.", file=sys.stderr)
        return 1
    known = {i.relpath: i for i in chosen}
    data_dir = get_config().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    bad = 0
    try:
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".unpack-") as staging, tarfile.open(archive) as tar:
            for member in tar:   # one at a time: the files before a cut in the archive are still installed
                name = member.name.removeprefix("./")
                item = known.get(name)
                if item is None or not member.isfile():
                    if name not in ("", "."):
                        print(f"Se ignora {member.name}: no es un fichero de la caché del curso.")
                    continue
                member.name = name
                tar.extract(member, staging, filter="data")
                staged = Path(staging) / name
                problem = item.check(staged)
                if problem is not None:
                    print(f"{name}: {problem}; no se usa.", file=sys.stderr)
                    bad += 1
                    continue
                item.path().parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, item.path())
                _install_for_keras(item)
                print(f"Instalado y comprobado: {name}")
    except (tarfile.TarError, OSError) as error:
        print(f"No se puede leer {archive} ({error}): paquete dañado o incompleto; "
              "rehazlo con `python -m tlcourse.prefetch --pack`.", file=sys.stderr)
        return 1
    return run_check(chosen) if bad == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlcourse.prefetch",
                                     description="Descarga y comprueba los datos y pesos de la serie.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="solo comprobar la caché (sin red)")
    action.add_argument("--pack", metavar="ARCHIVO.tar", type=Path, help="empaquetar la caché válida")
    action.add_argument("--unpack", metavar="ARCHIVO.tar", type=Path, help="desempaquetar y comprobar")
    parser.add_argument("--only", help="solo estos grupos, separados por comas: mnist,emnist,resnet50")
    args = parser.parse_args(argv)
    chosen = _selected(args.only.split(",") if args.only else None)
    if args.check:
        return run_check(chosen)
    if args.pack:
        return run_pack(chosen, args.pack)
    if args.unpack:
        return run_unpack(chosen, args.unpack)
    return run_fetch(chosen)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrumpido: no queda ningún fichero a medias.", file=sys.stderr)
        sys.exit(130)
