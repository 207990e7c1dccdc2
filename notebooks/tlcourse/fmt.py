"""Numbers as a Spanish reader expects them: ``88,6 %``, ``96.303``, ``25,6 millones``.

The notebooks print through these helpers, so every output agrees with the prose. The RAE
recommends a space before ``%`` and a comma as decimal separator; for thousands we use the dot,
as the course's text does (``96.303``).
"""

from __future__ import annotations

import math


def thousands(number: float) -> str:
    """An integer with the thousands separator: ``15072303`` -> ``'15.072.303'``."""
    return f"{int(round(number)):,}".replace(",", ".")


def decimal(number: float, digits: int = 1) -> str:
    """A decimal number with a comma and thousands dots: ``1234.56`` -> ``'1.234,6'``, ``-0.5`` -> ``'−0,5'``.

    Negative numbers take the minus sign (U+2212), as typeset Spanish writes them, not a hyphen.
    """
    if not math.isfinite(number):
        return str(number)
    text = f"{number:,.{digits}f}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return "−" + text[1:] if text.startswith("-") else text


def percent(fraction: float, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.8856`` -> ``'88,6 %'``."""
    return f"{decimal(100 * fraction, digits)} %"


def millions(number: float, digits: int = 1) -> str:
    """A large count in millions: ``25636712`` -> ``'25,6 millones'``."""
    return f"{decimal(number / 1e6, digits)} millones"


def seconds(value: float) -> str:
    """A duration for people: ``4.2`` -> ``'4,2 s'``, ``754`` -> ``'12 min 34 s'``."""
    if value < 60:
        return f"{decimal(value, 1)} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"
