"""The one interface every source implements."""

from __future__ import annotations

from typing import Protocol

from ..release import Release


class Source(Protocol):
    @property
    def kind(self) -> str:
        """Which kind of source this is (``local-dir``, ``hf-cache``…), as records name it."""
        ...

    def matches(self, target: str) -> bool:
        """Whether this source understands ``target`` (cheap, no parsing)."""
        ...

    def open(self, target: str) -> Release:
        """Build the release; raise InputError for anything wrong with it."""
        ...
