"""The ``keras.applications`` catalogue, measured in the installed Keras (notebook 07).

Notebook 07 shows one table and one figure: families of architectures, their input sizes and
their order of magnitude in parameters. The measuring is kept here, out of the lesson:

- each model is built with ``weights=None`` inside ``keras.StatelessScope(initialize_variables=False)``:
  Keras lays out the architecture and records every weight's shape without allocating or
  initialising the weights, the slow part (ConvNeXtXLarge alone would be 1.4 GB of ``float32``);
- the minimum input size of a model without its top (``include_top=False``) is asked of Keras
  itself: it checks the size before building anything and rejects a 1×1 image with
  ``"Input size must be at least 32x32; ..."``, which we read (a test pins the message);
- the family of a model is its name without the size variant (``ResNet101V2`` → ``ResNetV2``,
  variant ``101``; ``EfficientNetB3`` → ``EfficientNet``, ``B3``).

Quick mode measures six models that span the sizes and the three minimum sizes; full mode all
of them (about a minute on two cores). The table is kept in ``tmp/`` under Keras' version, so a
second run reads it back.
"""

from __future__ import annotations

import re
import time

import pandas as pd

from .config import get_config, tmp_path
from .files import atomic_path
from .fmt import decimal, millions, seconds

# Quick mode: from 2.6 to 138 million parameters, minimum sizes 32, 71 and 75, ResNet50 of notebook 04.
QUICK_MODELS = ("MobileNetV3Small", "MobileNetV2", "ResNet50", "Xception", "InceptionV3", "VGG16")

# What a size variant looks like at the end or in the middle of a name: digits not after a "V"
# (the 2 of "V2" is a version), B0…B7, and the size words.
_VARIANT = re.compile(r"(?<!V)\d+|B\d$|(?:Tiny|Small|Base|XLarge|Large|Mobile|S|M|L)$")
_MINIMUM = re.compile(r"at least (\d+)x\d+")

COLUMNS = ["familia", "modelo", "entrada por defecto", "entrada mínima", "parámetros"]


def architectures() -> list[str]:
    """The model constructors of ``keras.applications`` (``ResNet50``, ``MobileNetV2``…), sorted."""
    import keras
    return sorted(name for name, fn in vars(keras.applications).items() if callable(fn) and name[0].isupper())


def family(name: str) -> str:
    """The architecture family: the name without its size variant (``ResNet101V2`` → ``ResNetV2``)."""
    return _VARIANT.sub("", name)


def variant(name: str) -> str:
    """The size variant within the family (``ResNet101V2`` → ``101``; ``InceptionV3`` → ``""``)."""
    return "".join(_VARIANT.findall(name))


def _constructor(name: str):
    import keras
    return getattr(keras.applications, name)


def parameters(name: str, **kwargs) -> int:
    """Parameters of ``keras.applications.<name>(weights=None, **kwargs)``, without creating the weights."""
    import keras
    with keras.StatelessScope(initialize_variables=False):
        model = _constructor(name)(weights=None, **kwargs)
    count = model.count_params()
    keras.backend.clear_session()
    return count


def minimum_input_size(name: str) -> int | None:
    """The smallest side Keras accepts for ``name`` without its top, or None if it declares none."""
    import keras
    try:
        _constructor(name)(weights=None, include_top=False, input_shape=(1, 1, 3))
    except ValueError as error:
        match = _MINIMUM.search(str(error))
        return int(match.group(1)) if match else None
    finally:
        keras.backend.clear_session()
    return None


def describe(name: str) -> dict:
    """One row of the catalogue: family, model, default and minimum input side, parameters with the top."""
    import keras
    with keras.StatelessScope(initialize_variables=False):
        full_model = _constructor(name)(weights=None)        # with ImageNet's 1000-class head
    row = {"familia": family(name), "modelo": name, "entrada por defecto": full_model.input_shape[1],
           "parámetros": full_model.count_params()}
    keras.backend.clear_session()
    row["entrada mínima"] = minimum_input_size(name)
    return row


def _cache_path(names) -> "Path":  # noqa: F821 (pathlib.Path, only for the annotation)
    import keras
    return tmp_path(f"catalogo_keras_{keras.__version__}_{len(names)}_modelos.csv")


def catalogue(names=None, *, verbose: bool = True) -> pd.DataFrame:
    """The catalogue, one row per model, sorted by parameters; Spanish column names.

    ``names``: the models to measure; by default :data:`QUICK_MODELS` in quick mode and every
    architecture in full mode. A table measured before with the same Keras and the same models
    is read back from ``tmp/``. Prints one line saying what it measured.
    """
    every = architectures()
    if names is None:
        names = list(QUICK_MODELS) if get_config().quick else every
    names = sorted(names)
    path = _cache_path(names)
    start = time.perf_counter()
    table = None
    if path.exists():
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError):
            table = None
        if table is not None and (list(table.columns) != COLUMNS or sorted(table["modelo"]) != names):
            table = None                       # another set of models, or an older layout: measure again
    how = "guardado de una ejecución anterior"
    if table is None:
        table = pd.DataFrame([describe(name) for name in names], columns=COLUMNS)
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
        how = f"medido en {seconds(time.perf_counter() - start)}"
    table = table.astype({"entrada por defecto": "Int64", "entrada mínima": "Int64"})
    table = table.sort_values(["parámetros", "modelo"], ignore_index=True)
    if verbose:
        scope = (f"los {len(names)} modelos" if len(names) == len(every)
                 else f"{len(names)} de los {len(every)} modelos (el modo completo los mide todos)")
        print(f"Catálogo de keras.applications: {scope}, {how}.")
    return table


def _span(values, fmt=str, empty="cualquiera") -> str:
    values = [v for v in values if not pd.isna(v)]
    if not values:
        return empty
    low, high = min(values), max(values)
    return fmt(low) if low == high else f"{fmt(low)}–{fmt(high)}"


def catalogue_by_family(table: pd.DataFrame) -> pd.DataFrame:
    """One row per family, readable when projected: its size variants, input sides and parameters (millions).

    A default input side "cualquiera" means the full model accepts any size (MobileNetV3, which also
    carries its own preprocessing); a minimum "—" means Keras declares none.
    """
    rows = []
    for name, group in table.sort_values("parámetros").groupby("familia", sort=False):
        variants = [variant(m) for m in group["modelo"]]
        rows.append({
            "familia": name,
            "variantes de tamaño": " · ".join(variants) if any(variants) else "—",
            "entrada por defecto": _span(group["entrada por defecto"]),
            "entrada mínima": _span(group["entrada mínima"], empty="—"),
            "parámetros (millones)": _span(group["parámetros"], lambda p: decimal(p / 1e6, 1)),
        })
    return pd.DataFrame(rows).set_index("familia")


def plot_catalogue(table: pd.DataFrame, highlight: str = "ResNet50", note: str = "notebook 04"):
    """Parameters of every model, one row per family, on a logarithmic axis; returns the figure.

    Each family has its own row, so models of different families never overlap; within a row
    the size variants are labelled, alternately above and below their point.
    """
    import matplotlib.pyplot as plt

    order = table.groupby("familia", sort=False)["parámetros"].min().sort_values().index.tolist()
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(order) + 1.6))
    for row, name in enumerate(order):
        group = table[table["familia"] == name].sort_values("parámetros")
        millions_ = group["parámetros"] / 1e6
        ax.plot(millions_, [row] * len(group), color="0.75", linewidth=1, zorder=1)
        ax.scatter(millions_, [row] * len(group), marker="o", s=36, color="tab:blue", zorder=2)
        for k, (model, value) in enumerate(zip(group["modelo"], millions_)):
            label = variant(model)
            if label:
                lift = 10 if model == highlight else 7                 # clear of the highlight's star
                ax.annotate(label, (value, row), xytext=(0, lift if k % 2 == 0 else -12),
                            textcoords="offset points", ha="center", fontsize=7)
    if highlight in set(table["modelo"]):
        spot = table.set_index("modelo").loc[highlight]
        y = order.index(spot["familia"])
        ax.scatter([spot["parámetros"] / 1e6], [y], marker="*", s=220, color="tab:orange",
                   edgecolor="black", zorder=3, label=f"{highlight} ({note})")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_yticks(range(len(order)), labels=order)
    ax.set_ylim(len(order) - 0.4, -0.6)                       # the smallest family on top
    ax.set_xscale("log")
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500) if table["parámetros"].min() / 2e6 <= t
             <= table["parámetros"].max() / 5e5]
    ax.set_xticks(ticks, labels=[str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(table["parámetros"].min() / 1e6 / 1.6, table["parámetros"].max() / 1e6 * 1.6)
    ax.set_xlabel("parámetros con la cabeza de ImageNet (millones, escala logarítmica)")
    ax.grid(True, axis="x", alpha=0.3)
    n_all = len(architectures())
    shown = f"sus {n_all} modelos" if len(table) == n_all else f"{len(table)} de sus {n_all} modelos"
    ax.set_title(f"keras.applications: parámetros de {shown}, por familia (contados con weights=None)")
    fig.tight_layout()
    return fig


def catalogue_alt(table: pd.DataFrame, highlight: str = "ResNet50", note: str = "notebook 04") -> str:
    """The figure's alternative text, from the table: what it shows and its extremes."""
    small, large = table.loc[table["parámetros"].idxmin()], table.loc[table["parámetros"].idxmax()]
    text = (f"Parámetros de {len(table)} modelos de keras.applications en {table['familia'].nunique()} familias, "
            f"una fila por familia, en escala logarítmica: de {millions(small['parámetros'])} "
            f"({small['modelo']}) a {millions(large['parámetros'])} ({large['modelo']}).")
    if highlight in set(table["modelo"]):
        spot = table.set_index("modelo").loc[highlight]
        text += f" {highlight}, la del {note}, tiene {millions(spot['parámetros'])}."
    return text


def show_catalogue(table: pd.DataFrame, highlight: str = "ResNet50", note: str = "notebook 04") -> None:
    """Draw :func:`plot_catalogue` and show it with its alternative text."""
    from .figures import show_figure
    show_figure(plot_catalogue(table, highlight, note), alt=catalogue_alt(table, highlight, note))
