"""A local directory laid out like a Hugging Face snapshot."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..release import Release, ReleaseFile, SourceInfo, stat_file

#: Directories that are tooling state, not part of the release.
SKIP_DIRS = {".git", ".cache", "__pycache__", ".ipynb_checkpoints"}
MAX_FILES = 100_000


def walk_files(root: Path) -> list[ReleaseFile]:
    """Every regular file under ``root`` (symlinked files followed, symlinked dirs not)."""
    out: list[ReleaseFile] = []

    def onerror(exc: OSError) -> None:
        raise InputError(str(exc.filename or root), f"cannot list: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink() or full.is_file() or not full.exists():
                rf = stat_file(full, rel, claimed_sha256=_blob_name(full))
                out.append(rf)
            if len(out) > MAX_FILES:
                raise InputError(str(root), f"more than {MAX_FILES} files: not a model release")
    return out


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
