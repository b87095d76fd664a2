"""Errors that reach the user as one line and exit code 2.

Parsers and sources raise :class:`InputError` for anything wrong with what the
user gave us (a malformed header, a missing shard, an unreadable file). The CLI
catches it and prints ``<file>: <problem>``; nothing else may print a traceback.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad input: names the file and what is wrong with it."""

    def __init__(self, file: str | None, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}" if file else problem)


class UnreadError(InputError):
    """The bytes could not be fetched (a remote source refused, broke off or lied about
    sizes). Commands that need the bytes stop on it as on any input error; the security
    scan reports the file ``unsupported`` (MC341, high), never ``malformed``: nothing is
    known about bytes we never saw."""


class UsageError(InputError):
    """Bad command-line usage (unknown profile, conflicting options)."""

    def __init__(self, problem: str) -> None:
        super().__init__(None, problem)
