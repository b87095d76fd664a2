"""The one thing every analyzer reads: a release and its files.

A source builds a :class:`Release`; analyzers only ever read through
:class:`ReleaseFile`'s bounded readers, so no analyzer can accidentally slurp a
400 GB weights file or follow a path outside the release.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .errors import InputError

#: Files bigger than this are never read whole by ``read_text``/``read_bytes``.
MAX_WHOLE_READ = 64 * 1024 * 1024


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release with lazy, bounded access to its bytes."""

    path: str  # posix path relative to the release root, as the hub names it
    abspath: Path  # where the bytes are (a blob in an HF cache)
    size: int
    mtime_ns: int
    inode: int
    #: ctime cannot be set by users: it catches a same-size rewrite with a restored mtime
    ctime_ns: int = 0
    #: sha256 the storage claims for the content (HF cache LFS blob name), if any
    claimed_sha256: str | None = None
    #: sha256 of content that is not on this machine (a hub file read by range requests):
    #: hashing takes it instead of downloading the bytes, and a record keeps it
    remote_sha256: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        name = self.name.lower()
        return name[name.rfind(".") :] if "." in name else ""

    def _open(self) -> BinaryIO:
        try:
            return open(self.abspath, "rb")
        except OSError as exc:
            raise InputError(self.path, f"cannot open: {exc.strerror or exc}") from None

    def read_at(self, offset: int, length: int) -> bytes:
        """Read exactly ``length`` bytes at ``offset``; a short file is an input error."""
        if offset < 0 or length < 0:
            raise InputError(self.path, f"invalid read at offset {offset} length {length}")
        if offset + length > self.size:
            raise InputError(
                self.path,
                f"truncated: needs bytes {offset}..{offset + length} but the file has {self.size}",
            )
        with self._open() as fh:
            fh.seek(offset)
            data = fh.read(length)
        if len(data) != length:
            raise InputError(self.path, f"truncated while reading at offset {offset}")
        return data

    def head(self, length: int) -> bytes:
        """Up to ``length`` first bytes (fewer if the file is shorter)."""
        with self._open() as fh:
            return fh.read(max(0, min(length, self.size)))

    def read_bytes(self, limit: int = MAX_WHOLE_READ) -> bytes:
        if self.size > limit:
            raise InputError(self.path, f"file is {self.size} bytes, more than the {limit} allowed")
        with self._open() as fh:
            return fh.read(limit + 1)[:limit]

    def read_text(self, limit: int = MAX_WHOLE_READ) -> str:
        """Whole file as text; UTF-8 (with or without BOM), else a clear error."""
        data = self.read_bytes(limit)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                self.path, f"not valid UTF-8 at byte {exc.start}: {exc.reason}"
            ) from None

    def open(self) -> BinaryIO:
        """A binary file handle, for streaming (hashing, zip reading)."""
        return self._open()


@dataclass(frozen=True)
class SourceInfo:
    kind: str  # local-dir | hf-cache | hf-hub | gguf | weights-file
    location: str  # absolute path of what was read
    model_id: str | None = None
    revision: str | None = None  # HF commit hash
    refs: tuple[str, ...] = ()
    retrieved_at: str | None = None  # ISO time the files were fetched, when known
    other_revisions: tuple[str, ...] = ()
    #: the hub's gating mode (``auto``/``manual``) when the repository is gated
    gated: str | None = None

    @property
    def whole_release(self) -> bool:
        """A folder or cache snapshot, expected to carry config, tokenizer, license, card;
        a single weights file is not."""
        return self.kind in ("local-dir", "hf-cache", "hf-hub")


@dataclass(frozen=True)
class Release:
    source: SourceInfo
    root: Path
    files: tuple[ReleaseFile, ...]
    _by_path: dict[str, ReleaseFile] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_path.update({f.path: f for f in self.files})

    def get(self, path: str) -> ReleaseFile | None:
        return self._by_path.get(path)

    def find(self, name: str) -> ReleaseFile | None:
        """The file called ``name`` at the top level, else the shallowest one."""
        hit = self._by_path.get(name)
        if hit is not None:
            return hit
        matches = [f for f in self.files if f.name == name]
        return min(matches, key=lambda f: f.path.count("/")) if matches else None


def stat_file(path: Path, rel: str, claimed_sha256: str | None = None) -> ReleaseFile:
    """Stat a path (following symlinks) into a ReleaseFile, with clear errors."""
    try:
        real = path.resolve(strict=True)
        st = os.stat(real)
    except RuntimeError:
        raise InputError(rel, "symlink loop") from None
    except FileNotFoundError:
        raise InputError(rel, "missing (broken symlink or removed while reading)") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise InputError(rel, "symlink loop") from None
        raise InputError(rel, f"cannot stat: {exc.strerror or exc}") from None
    if not os.access(real, os.R_OK):
        raise InputError(rel, "not readable (permission denied)")
    return ReleaseFile(
        path=rel,
        abspath=real,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        inode=st.st_ino,
        ctime_ns=st.st_ctime_ns,
        claimed_sha256=claimed_sha256,
    )
