"""Whether a string can be written as UTF-8.

File names that are not valid UTF-8 reach Python as strings with lone surrogates
(``surrogateescape``), and a model server may answer with them too; such a string
cannot go into a JSON record, a report or a request as it is. The scan, the record
builder and the serving probes each ask this one question.
"""

from __future__ import annotations


def encodes(text: str) -> bool:
    """True when ``text`` has no lone surrogate, so it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
