"""Quotes shortened for a line of a report, cut between words.

A quote is evidence a reviewer reads and may search for in the license text; a quote
cut mid-word ("… the Licensee sha…") can be neither read nor found. Every place that
shortens a quote uses :func:`excerpt`, so all cut the same way and mark the cut with "…".
"""

from __future__ import annotations


def excerpt(text: str, limit: int, *, around: int = 0) -> str:
    """``text`` on one line, at most ``limit`` characters plus the "…" marks.

    ``around`` is a character offset the excerpt should keep in view (where a clause
    matched); the excerpt starts about a third of ``limit`` before it.
    """
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    start = max(0, around - limit // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < around else start
    end = start + limit
    if end < len(flat):
        space = flat.rfind(" ", start, end + 1)
        end = space if space > start else end
    return ("…" if start else "") + flat[start:end].rstrip() + ("…" if end < len(flat) else "")
