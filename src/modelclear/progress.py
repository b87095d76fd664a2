"""How long-running work reports progress, without knowing who (if anyone) watches.

Analyzers, the pipeline, the record builder and hashing take a :class:`ProgressSink`
and default to :data:`SILENT`. The terminal implementation (rich progress bars)
lives in the CLI layer (:mod:`modelclear.console`), so nothing in the core imports
a UI library or decides whether output is a terminal.
"""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    """Named tasks that start with a total and advance; ``bytes_`` marks byte counts."""

    def start(self, key: str, description: str, total: float | None,
              bytes_: bool = False) -> None: ...

    def advance(self, key: str, amount: float) -> None: ...


class _Silent:
    """Used when nobody watches: library calls, tests, ``--quiet`` and ``--json``."""

    def start(self, key: str, description: str, total: float | None,
              bytes_: bool = False) -> None:
        return None

    def advance(self, key: str, amount: float) -> None:
        return None


SILENT: ProgressSink = _Silent()
