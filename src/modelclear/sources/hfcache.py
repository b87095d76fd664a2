"""A model in the local Hugging Face cache, named ``org/name`` or ``org/name@revision``.

Resolution is offline and goes through ``huggingface_hub``'s own cache scanner so
the layout (``models--org--name/snapshots/<commit>``, ``refs/``, ``blobs/``) is
read the way the hub client writes it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import InputError
from ..release import Release, SourceInfo
from .local import walk_files

REPO_RE = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.\-]*/[\w.\-]+)(?:@(?P<rev>[\w.\-/]+))?$")


def cache_dir() -> Path:
    """The hub cache, honouring the same environment variables as huggingface_hub."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(home).expanduser() / "hub"


@dataclass(frozen=True)
class HFCacheSource:
    kind: str = "hf-cache"

    def matches(self, target: str) -> bool:
        return REPO_RE.match(target) is not None and not Path(target).exists()

    def open(self, target: str) -> Release:
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound

        m = REPO_RE.match(target)
        assert m is not None
        repo_id, wanted = m["repo"], m["rev"]
        cdir = cache_dir()
        try:
            info = scan_cache_dir(cdir)
        except CacheNotFound:
            raise InputError(
                target, f"not a local path, and no Hugging Face cache at {cdir}"
            ) from None
        repo = next(
            (r for r in info.repos if r.repo_type == "model" and r.repo_id == repo_id), None
        )
        if repo is None:
            raise InputError(target, f"not a local path, and not in the Hugging Face cache {cdir}")
        revisions = sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)
        if not revisions:
            raise InputError(target, f"{repo_id} is in the cache but has no downloaded snapshot")
        if wanted:
            rev = next(
                (r for r in revisions if wanted in r.refs or r.commit_hash.startswith(wanted)),
                None,
            )
            if rev is None:
                known = ", ".join(sorted({*(x for r in revisions for x in r.refs)})) or "none"
                raise InputError(
                    target, f"revision {wanted!r} is not in the cache (refs: {known})"
                )
        else:
            rev = next((r for r in revisions if "main" in r.refs), revisions[0])
        files = walk_files(Path(rev.snapshot_path))
        if not files:
            raise InputError(target, f"snapshot {rev.commit_hash} is empty")
        newest = max((f.mtime_ns for f in files), default=0)
        retrieved = datetime.fromtimestamp(newest / 1e9, UTC).isoformat(timespec="seconds")
        return Release(
            source=SourceInfo(
                kind=self.kind,
                location=str(rev.snapshot_path),
                model_id=repo_id,
                revision=rev.commit_hash,
                refs=tuple(sorted(rev.refs)),
                retrieved_at=retrieved,
                other_revisions=tuple(r.commit_hash for r in revisions if r is not rev),
            ),
            root=Path(rev.snapshot_path),
            files=tuple(files),
        )


SOURCE = HFCacheSource()


def open_cached(model_id: str) -> Release | None:
    """``model_id``'s snapshot when the local cache holds it, else None.

    For lookups that are a bonus (a base model's license): a model that is not
    cached is the common case there, not an error to report.
    """
    if not SOURCE.matches(model_id):
        return None
    try:
        return SOURCE.open(model_id)
    except InputError:
        return None
