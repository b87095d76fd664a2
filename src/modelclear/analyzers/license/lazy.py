"""Regular expressions compiled on first use.

``re`` compiles a pattern in Python, 0.2-1 ms for one with many alternatives or a
large class, and every ``modelclear license`` process paid at import for patterns of
stages most texts never reach (the reference reader, the name reconciler, the
unknown-segment filter on a verbatim catalogued text). A :class:`LazyPattern` stands
where the compiled pattern stood, with the methods those stages call.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any


class LazyPattern:
    """A pattern compiled the first time it is used (then exactly ``re.compile``'s)."""

    __slots__ = ("_pattern", "_flags", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        return self.compiled.findall(string, pos, endpos)

    def sub(self, repl: str, string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)
