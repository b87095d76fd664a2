"""Output plumbing for the CLI layer: consoles, progress bars, JSON.

Consoles are made when a command runs, never at import: rich decides colours when a
console is created, so a console made at import in a terminal kept writing colour
codes after tests (or a caller) swapped ``sys.stdout`` for a pipe. A console made per
run looks at the stdout/stderr of that moment and honours ``NO_COLOR``.
Progress bars appear on a TTY once work has run for :data:`PROGRESS_DELAY` seconds, and
never with ``--quiet`` or ``--json``, so machine output is never mixed with decoration.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console

from .progress import SILENT, ProgressSink

if TYPE_CHECKING:
    from rich.progress import Progress

#: seconds of work before a progress bar is drawn: shorter work would only flash one
#: (the bars are transient), and importing rich's progress machinery costs ~30 ms
PROGRESS_DELAY = 0.3


def stdout_console() -> Console:
    """A console on the current ``sys.stdout`` (no soft wrapping: tables keep their width)."""
    return Console(file=sys.stdout, soft_wrap=False)


def stderr_console() -> Console:
    """A console on the current ``sys.stderr``, for errors and progress."""
    return Console(file=sys.stderr)


class DeferredProgress:
    """:class:`~modelclear.progress.ProgressSink` drawn as rich progress bars once the
    work has run for :data:`PROGRESS_DELAY` seconds.

    Until then it only counts. A timer draws the bars at the delay even when the
    analyzer is inside one long file and calls nothing, so a slow scan shows progress
    as before; a fast one never imports rich's progress module. Calls come from the
    worker and the timer thread, hence the lock.
    """

    def __init__(self, console: Console, transfer: bool = False,
                 delay: float = PROGRESS_DELAY) -> None:
        self._console = console
        self._transfer = transfer
        self._lock = threading.Lock()
        #: key -> [description, total, completed]
        self._tasks: dict[str, list[Any]] = {}
        self._progress: Progress | None = None
        self._ids: dict[str, Any] = {}
        self._closed = False
        self._timer = threading.Timer(delay, self._show)
        self._timer.daemon = True
        self._timer.start()

    def start(self, key: str, description: str, total: float | None,
              bytes_: bool = False) -> None:
        with self._lock:
            self._tasks[key] = [description, total, 0.0]
            if self._progress is not None:
                self._ids[key] = self._progress.add_task(description, total=total)

    def advance(self, key: str, amount: float) -> None:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                return
            task[2] += amount
            if self._progress is not None:
                self._progress.advance(self._ids[key], amount)

    def _show(self) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            ProgressColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        columns: list[ProgressColumn] = [TextColumn("{task.description}"), BarColumn(),
                                         TaskProgressColumn()]
        if self._transfer:
            columns += [DownloadColumn(), TransferSpeedColumn()]
        columns.append(TimeRemainingColumn())
        with self._lock:
            if self._closed:
                return
            self._progress = Progress(*columns, console=self._console, transient=True)
            self._progress.start()
            for key, (description, total, done) in self._tasks.items():
                self._ids[key] = self._progress.add_task(description, total=total,
                                                         completed=done)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._progress is not None:
                self._progress.stop()


@contextmanager
def progress(show: bool, transfer: bool = False) -> Iterator[ProgressSink]:
    """Progress bars on stderr when asked for and stderr is a terminal; else silence."""
    err = stderr_console()
    if not show or not err.is_terminal:
        yield SILENT
        return
    sink = DeferredProgress(err, transfer)
    try:
        yield sink
    finally:
        sink.close()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
