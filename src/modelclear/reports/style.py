"""How every report looks: one table of colours and one set of number formats.

The terminal, Markdown and HTML renderers all read from here, so a severity is the
same colour in ``scan``, ``inspect`` and ``verify``, and "GB" means 10^9 bytes
everywhere (sizes and counts come from :mod:`modelclear.units`).
"""

from __future__ import annotations

from typing import Any

from ..units import human_bytes, human_count

__all__ = [
    "FILE_STATUS_STYLE", "SEVERITY_STYLE", "STATUS_ICON", "STATUS_STYLE", "TONE_STYLE",
    "gb", "human_bytes", "human_count", "ms", "pct", "plot_number", "round_count",
    "term_value",
]

#: finding severities (rich styles)
SEVERITY_STYLE = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "red",
                  "critical": "bold red"}
#: policy verdicts and check statuses
STATUS_STYLE = {"CLEAR": "green", "REVIEW": "yellow", "BLOCKED": "bold red"}
STATUS_ICON = {"CLEAR": "✔", "REVIEW": "⚠", "BLOCKED": "✖"}
#: what the security scan concluded about a file
FILE_STATUS_STYLE = {"clean": "green", "warning": "yellow", "unsafe": "bold red",
                     "malformed": "yellow", "unsupported": "magenta"}
#: comparison cells: the text carries the meaning, colour only helps the eye
TONE_STYLE = {"good": "green", "caution": "yellow", "bad": "red", "none": ""}


def gb(n: int) -> str:
    """GB (10^9 bytes) with enough decimals that a small model does not read as 0.0."""
    return f"{n / 1e9:,.1f}" if n >= 1e8 or n == 0 else f"{n / 1e9:.4f}"


def ms(v: float | None) -> str:
    """Milliseconds in a benchmark table: whole above 100, one decimal below."""
    if v is None:
        return "–"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def round_count(n: int) -> str:
    """A threshold as licenses state it: 700000000 → "700M", 1500000 → "1.5M"; an
    uneven number keeps every digit (a threshold is never rounded)."""
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size and n % (size // 100) == 0:
            return f"{n / size:g}{unit}"
    return f"{n:,}"


def term_value(value: Any) -> str:
    """A license term's value: numbers with separators, absence as a dash."""
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def plot_number(v: float) -> str:
    """A number on a chart axis or in an HTML cell: short, three significant digits."""
    if v == 0:
        return "0"
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}"
    return f"{v:.3g}"
