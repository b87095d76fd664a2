"""Output plumbing shared by commands: consoles, progress, JSON.

Only the CLI and reports print. Progress bars appear on a TTY and disappear with
``--quiet`` or ``--json`` so machine output is never mixed with decoration.
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
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

stdout = Console(soft_wrap=False)
stderr = Console(stderr=True)


class ProgressSink:
    """What analyzers are handed to report progress; silent unless shown."""

    def __init__(self, progress: Progress | None = None) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}

    def start(self, key: str, description: str, total: float | None, bytes_: bool = False) -> None:
        if self._progress is not None:
            self._tasks[key] = self._progress.add_task(description, total=total)

    def advance(self, key: str, amount: float) -> None:
        if self._progress is not None and key in self._tasks:
            self._progress.advance(self._tasks[key], amount)


SILENT = ProgressSink()


@contextmanager
def progress(show: bool, transfer: bool = False) -> Iterator[ProgressSink]:
    if not show or not stderr.is_terminal:
        yield SILENT
        return
    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
    if transfer:
        columns += [DownloadColumn(), TransferSpeedColumn()]
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as prog:
        yield ProgressSink(prog)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
