"""Output plumbing for the CLI layer: consoles, progress bars, JSON.

Consoles are made when a command runs, never at import: rich decides colours when a
console is created, so a console made at import in a terminal kept writing colour
codes after tests (or a caller) swapped ``sys.stdout`` for a pipe. A console made per
run looks at the stdout/stderr of that moment and honours ``NO_COLOR``.
Progress bars appear on a TTY and disappear with ``--quiet`` or ``--json`` so
machine output is never mixed with decoration.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from .progress import SILENT, ProgressSink


def stdout_console() -> Console:
    """A console on the current ``sys.stdout`` (no soft wrapping: tables keep their width)."""
    return Console(file=sys.stdout, soft_wrap=False)


def stderr_console() -> Console:
    """A console on the current ``sys.stderr``, for errors and progress."""
    return Console(file=sys.stderr)


class RichProgress:
    """:class:`~modelclear.progress.ProgressSink` drawn as rich progress bars."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, key: str, description: str, total: float | None,
              bytes_: bool = False) -> None:
        self._tasks[key] = self._progress.add_task(description, total=total)

    def advance(self, key: str, amount: float) -> None:
        if key in self._tasks:
            self._progress.advance(self._tasks[key], amount)


@contextmanager
def progress(show: bool, transfer: bool = False) -> Iterator[ProgressSink]:
    """Progress bars on stderr when asked for and stderr is a terminal; else silence."""
    err = stderr_console()
    if not show or not err.is_terminal:
        yield SILENT
        return
    columns: list[ProgressColumn] = [TextColumn("{task.description}"), BarColumn(),
                                     TaskProgressColumn()]
    if transfer:
        columns += [DownloadColumn(), TransferSpeedColumn()]
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as prog:
        yield RichProgress(prog)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
