"""Sources turn what the user named into a :class:`~modelclear.release.Release`.

Order matters: an existing path always wins over a hub-style ``org/name``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..release import Release
from . import hfcache, hub, local, single
from .base import Source

SOURCES: tuple[Source, ...] = (hub.SOURCE, single.SOURCE, local.SOURCE, hfcache.SOURCE)


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
