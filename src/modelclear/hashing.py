"""sha256 of release files: streamed, parallel across files, cached.

``hashlib`` releases the GIL while digesting large buffers, so threads give real
parallelism across files; one big ``readinto`` buffer per worker keeps syscall and
copy overhead at ``sha256sum``'s level. The cache is keyed by (path, size,
mtime_ns, inode): a second run over unchanged files reads nothing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from platformdirs import user_cache_dir

from .errors import InputError
from .progress import SILENT, ProgressSink
from .release import ReleaseFile

BUFFER = 8 * 1024 * 1024


def cache_path() -> Path:
    base = os.environ.get("MODELCLEAR_CACHE_DIR") or user_cache_dir("modelclear")
    return Path(base) / "hashes.sqlite"


class HashCache:
    """A tiny sqlite table; safe for concurrent processes (WAL, busy timeout)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sha256_v2 (path BLOB, size INTEGER, mtime_ns INTEGER,"
            " inode INTEGER, ctime_ns INTEGER, sha256 TEXT,"
            " PRIMARY KEY (path, size, mtime_ns, inode, ctime_ns))"
        )

    @staticmethod
    def _key(f: ReleaseFile) -> tuple[bytes, int, int, int, int]:
        # Paths as bytes: a file name that is not valid UTF-8 is still a valid key.
        return (os.fsencode(f.abspath), f.size, f.mtime_ns, f.inode, f.ctime_ns)

    def get(self, f: ReleaseFile) -> str | None:
        row = self._db.execute(
            "SELECT sha256 FROM sha256_v2 WHERE path=? AND size=? AND mtime_ns=? AND inode=?"
            " AND ctime_ns=?",
            self._key(f),
        ).fetchone()
        return row[0] if row else None

    def put(self, f: ReleaseFile, digest: str) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO sha256_v2 VALUES (?, ?, ?, ?, ?, ?)",
                (*self._key(f), digest),
            )

    def close(self) -> None:
        self._db.close()


def sha256_file(f: ReleaseFile, progress: ProgressSink = SILENT, key: str = "hash") -> str:
    h = hashlib.sha256()
    buf = bytearray(BUFFER)
    view = memoryview(buf)
    try:
        with open(f.abspath, "rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                h.update(view[:n])
                progress.advance(key, n)
    except OSError as exc:
        raise InputError(f.path, f"cannot read: {exc.strerror or exc}") from None
    return h.hexdigest()


def hash_files(
    files: Sequence[ReleaseFile],
    progress: ProgressSink = SILENT,
    use_cache: bool = True,
    workers: int | None = None,
) -> dict[str, str]:
    """Release path → sha256 hex, for every file."""
    cache = HashCache() if use_cache else None
    out: dict[str, str] = {}
    todo: list[ReleaseFile] = []
    try:
        for f in files:
            hit = cache.get(f) if cache else None
            if hit:
                out[f.path] = hit
            else:
                todo.append(f)
        if todo:
            progress.start("hash", "hashing", total=sum(f.size for f in todo), bytes_=True)
            n = workers or min(len(todo), os.cpu_count() or 2, 8)
            with ThreadPoolExecutor(max_workers=max(1, n)) as pool:
                # Largest first so one big file does not start last and run alone.
                ordered = sorted(todo, key=lambda f: f.size, reverse=True)
                for f, digest in zip(
                    ordered, pool.map(lambda f: sha256_file(f, progress), ordered), strict=True
                ):
                    out[f.path] = digest
                    if cache:
                        cache.put(f, digest)
    finally:
        if cache:
            cache.close()
    return {f.path: out[f.path] for f in files}
