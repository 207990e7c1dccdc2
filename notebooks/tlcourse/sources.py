"""What a loader returns: the data in Keras' shape, plus where it came from."""

from __future__ import annotations

from .fmt import thousands

SYNTHETIC_TAG = " (datos sintéticos)"
BANNER_WIDTH = 72   # columns, frame included: fits an 80-column output, a slide or a Colab cell


class LoadedData(tuple):
    """``((x_train, y_train), (x_test, y_test))`` as Keras returns it, with provenance.

    ``source`` is ``"real"`` or ``"synthetic"``; ``description`` says exactly which files or
    generator were used. Unpacks like the tuple Keras' loaders return.
    """

    def __new__(cls, train, test, *, name, source, description, classes):
        self = super().__new__(cls, (train, test))
        self.name = name
        self.source = source
        self.description = description
        self.classes = classes
        return self

    @property
    def is_synthetic(self) -> bool:
        return self.source == "synthetic"

    @property
    def tag(self) -> str:
        """Suffix for figure titles: empty for real data, ' (datos sintéticos)' otherwise."""
        return SYNTHETIC_TAG if self.is_synthetic else ""

    def __repr__(self) -> str:
        (x_train, _), (x_test, _) = self
        kind = "sintéticos" if self.source == "synthetic" else "reales"
        return (f"<{self.name}: datos {kind}, {thousands(len(x_train))} de entrenamiento y "
                f"{thousands(len(x_test))} de test, {len(self.classes)} clases>")


def banner(lines: list[str], max_width: int = BANNER_WIDTH) -> None:
    """Print a loud, framed warning (used when data or weights are not the real thing).

    Notebook front-ends wrap long output lines instead of scrolling them (JupyterLab and the
    HTML/slides export style outputs with ``white-space: pre-wrap; word-break: break-all``), so a
    frame wider than the output area broke into a full row and a short tail: the box looked
    ragged, its closing row shorter than its opening one. The text is therefore wrapped so the
    frame is at most ``max_width`` columns wide. A single word longer than a row (a URL) is kept
    whole, so it can still be copied, on a row of its own that pokes out of the frame.
    """
    import textwrap

    inner = max_width - 4
    wrapped = []
    for line in lines:
        wrapped += textwrap.wrap(line, inner, break_long_words=False, break_on_hyphens=False) or [""]
    width = min(max(len(line) for line in wrapped), inner) + 4
    print("!" * width)
    for line in wrapped:
        print(f"! {line.ljust(width - 4)} !" if len(line) <= width - 4 else f"! {line}")
    print("!" * width)
