"""What a loader returns: the data in Keras' shape, plus where it came from."""

from __future__ import annotations

SYNTHETIC_TAG = " (datos sintéticos)"


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
        return (f"<{self.name}: {self.source}, {len(x_train)} train + {len(x_test)} test, "
                f"{len(self.classes)} clases>")


def banner(lines: list[str]) -> None:
    """Print a loud, framed warning (used when data is not the real thing)."""
    width = max(len(line) for line in lines) + 4
    print("!" * width)
    for line in lines:
        print(f"! {line.ljust(width - 4)} !")
    print("!" * width)
