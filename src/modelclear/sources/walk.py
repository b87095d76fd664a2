"""The one directory walk every source uses: iterative, bounded, never opens odd files.

Why its own module: a release folder is input an attacker may shape. ``os.walk`` recurses
(Python < 3.12), so ~1,000 nested folders end in ``RecursionError``; a symlink to
``/dev/zero``, a FIFO or a socket looks like a file to ``is_file()``-free checks and hangs
whoever reads it; a sparse 1 TB "shard" keeps a hasher busy for hours. Here the walk is a
loop with a depth limit, anything whose target is not a regular file is refused before it
is opened, and one size limit applies to every file of every command (each refusal is
one clear line naming the file, exit 2). Names that are not UTF-8 are kept as Python
decodes them (surrogate escapes); the CLI writes them escaped so output stays UTF-8.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ..release import ReleaseFile, stat_file

#: Directories that are tooling state, not part of the release.
SKIP_DIRS = frozenset({".git", ".cache", "__pycache__", ".ipynb_checkpoints"})
#: more files than this is not a model release
MAX_FILES = 100_000
#: folders nested deeper than this are refused (HF repositories use a handful of levels)
MAX_DEPTH = 64
#: the one size rule of every command (inspect, scan, record, verify...): a file larger
#: than this is refused before anything reads or hashes it. The Hugging Face Hub caps a
#: file at 50 GB; five times that leaves room for local merges, and a sparse 1 TB "shard"
#: cannot make ``record`` hash holes for hours.
MAX_FILE_BYTES = 256 << 30

_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _kind(mode: int) -> str | None:
    for test, what in _KINDS:
        if test(mode):
            return what
    return None if stat.S_ISREG(mode) else "not a regular file"


def release_file(path: Path, rel: str, claimed_sha256: str | None = None) -> ReleaseFile:
    """Stat one file of a release, refusing (unopened) what no command should read.

    Devices, FIFOs and sockets, directly or through a symlink, are never opened (a read
    of /dev/zero or a FIFO never ends); a file over :data:`MAX_FILE_BYTES` is refused.
    Either is one clear line naming the file (exit 2).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # broken link or loop: stat_file names the problem
    what = _kind(mode) if mode is not None else None
    if what is not None:
        link = path.is_symlink()
        target = f" ({os.readlink(path)})" if link else ""
        raise InputError(rel, f"{'symlink to ' if link else ''}{what}{target}: not a regular "
                         "file, so it was not opened")
    rf = stat_file(path, rel, claimed_sha256=claimed_sha256)
    if rf.size > MAX_FILE_BYTES:
        raise InputError(rel, f"{rf.size} bytes is over the {MAX_FILE_BYTES >> 30} GiB limit "
                         "on one file (the Hugging Face Hub stops at 50 GB); not read")
    return rf


def _links_to_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False  # a loop: release_file reports it


def walk_files(root: Path, claim: Callable[[Path], str | None] | None = None
               ) -> list[ReleaseFile]:
    """Every regular file under ``root``, sorted by folder then name.

    Symlinked files are followed (HF snapshots link to blobs), symlinked folders are not.
    ``claim`` maps a path to the sha256 its storage claims (HF blob names), if any.
    """
    out: list[ReleaseFile] = []
    todo: list[tuple[str, str, int]] = [(str(root), "", 0)]
    while todo:
        folder, prefix, depth = todo.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise InputError(prefix.rstrip("/") or str(root),
                             f"cannot list: {exc.strerror or exc}") from None
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIP_DIRS:
                    continue
                if depth + 1 > MAX_DEPTH:
                    raise InputError(rel, f"folders nested more than {MAX_DEPTH} levels deep: "
                                     "not a model release")
                subdirs.append((entry.path, rel + "/", depth + 1))
                continue
            if entry.is_symlink() and _links_to_dir(entry):
                continue  # symlinked folders are not followed
            full = Path(entry.path)
            out.append(release_file(full, rel, claim(full) if claim else None))
            if len(out) > MAX_FILES:
                raise InputError(str(root), f"more than {MAX_FILES} files: not a model release")
        todo.extend(reversed(subdirs))
    return out
