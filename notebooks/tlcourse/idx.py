"""Reader for the IDX format of MNIST and EMNIST (http://yann.lecun.com/exdb/mnist/)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data: bytes, name: str = "datos") -> np.ndarray:
    """Parse IDX bytes into an array; raise ValueError naming ``name`` if they are not valid IDX."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES or data[3] == 0:
        raise ValueError(f"{name}: la cabecera no es IDX")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: cabecera IDX truncada")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_DTYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{name}: tamaño {len(data)} bytes, la cabecera anuncia {expected} (fichero truncado o dañado)")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file, gzip-compressed if its name ends in ``.gz``."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    return parse_idx(data, path.name)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of an array (used to build small test files)."""
    array = np.asarray(array)
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()
