"""A local directory laid out like a Hugging Face snapshot."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..release import Release, ReleaseFile, SourceInfo
from . import walk


def walk_files(root: Path) -> list[ReleaseFile]:
    """Every regular file under ``root`` (the bounded walk of :mod:`.walk`)."""
    return walk.walk_files(root, claim=_blob_name)


def _blob_name(path: Path) -> str | None:
    """HF cache snapshots link LFS files to blobs named by their sha256."""
    if not path.is_symlink():
        return None
    name = os.readlink(path).rsplit("/", 1)[-1]
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        return name
    return None


@dataclass(frozen=True)
class LocalDirSource:
    kind: str = "local-dir"

    def matches(self, target: str) -> bool:
        return Path(target).is_dir()

    def open(self, target: str) -> Release:
        root = Path(target).resolve()
        files = walk_files(root)
        if not files:
            raise InputError(str(target), "empty directory: no files to inspect")
        model_id, revision = _guess_identity(root)
        return Release(
            source=SourceInfo(
                kind=self.kind, location=str(root), model_id=model_id, revision=revision
            ),
            root=root,
            files=tuple(files),
        )


def _guess_identity(root: Path) -> tuple[str | None, str | None]:
    """A snapshot folder inside an HF cache names its repo and commit."""
    parts = root.parts
    if len(parts) >= 3 and parts[-2] == "snapshots" and parts[-3].startswith("models--"):
        return parts[-3][len("models--") :].replace("--", "/"), parts[-1]
    return root.name, None


SOURCE = LocalDirSource()
