"""Sources turn what the user named into a :class:`~modelclear.release.Release`.

Order matters: an existing path always wins over a hub-style ``org/name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..release import Release
from . import hfcache, local, single
from .base import HUB_KIND, HUB_PREFIX, Source


@dataclass(frozen=True)
class _Hub:
    """The hub source, its module (HTTP client, range reader, hub library) imported only
    for an ``hf://`` target: a local scan does not pay for it at start-up."""

    kind: str = HUB_KIND

    def matches(self, target: str) -> bool:
        return target.startswith(HUB_PREFIX)

    def open(self, target: str) -> Release:
        from . import hub

        return hub.SOURCE.open(target)


SOURCES: tuple[Source, ...] = (_Hub(), single.SOURCE, local.SOURCE, hfcache.SOURCE)


def open_release(target: str) -> Release:
    for source in SOURCES:
        if source.matches(target):
            return source.open(target)
    if Path(target).exists() or Path(target).is_symlink():
        raise InputError(target, "not a directory, a weights file or a GGUF file")
    raise InputError(
        target,
        "does not exist (expected a directory, a weights/GGUF file, an org/name[@revision] "
        "in the Hugging Face cache, or hf://org/name[@revision] on the hub)",
    )


__all__ = ["open_release", "SOURCES"]
