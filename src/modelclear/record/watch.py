"""Has a cleared model moved? New revisions, license text and term changes, card license
fields and new code files, for each recorded model, against its record.

A clearance describes one commit. Publishers push new commits to ``main`` — sometimes a
changed LICENSE, a new ``auto_map`` module, a different ``license:`` in the card — and a
team that cleared the old commit needs to hear about it. ``watch`` asks where the record
came from for the commit the record's ref points at now: the hub (records made from
``hf://``) with one ``model_info`` call, or the local Hugging Face cache (records made
from it). The ref is the tag or branch the record was taken from (``hf://org/name@v1.0``,
a cached snapshot that ``refs/v1.0`` names), else ``main``: a team that cleared a
tagged release is told when the tag moves, not each time ``main`` does. Only when
the commit moved is the new revision opened (on the hub: small files downloaded, weights
not) and compared with the record by ``verify``'s own comparison, so a license change
comes as the same unified diff and changed terms ``verify`` shows.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..release import Release
from .model import Record
from .verify import DriftReport, compare

_COMMIT = re.compile(r"[0-9a-f]{7,40}")

#: files that run when a loader honours ``trust_remote_code`` (or are run by users)
CODE_SUFFIXES = (".py",)


@dataclass(frozen=True)
class WatchResult:
    """One recorded model, checked."""

    record_id: str
    model_id: str | None
    via: str  # hub | cache | none
    recorded: str | None
    current: str | None
    status: str  # unchanged | changed | unchecked
    #: the branch or tag followed (see the module docstring); None when nothing is watched
    ref: str | None = None
    drift: DriftReport | None = None
    code_files: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        drift = self.drift.to_json() if self.drift is not None else None
        if drift is not None:
            drift.pop("schema_version", None)  # nested: the watch document carries it
        return {
            "record_id": self.record_id, "model_id": self.model_id, "via": self.via,
            "recorded_revision": self.recorded, "current_revision": self.current,
            "followed_ref": self.ref, "status": self.status,
            "new_code_files": list(self.code_files), "drift": drift,
            "findings": [f.to_json() for f in self.findings],
        }


def _unchecked(record: Record, via: str, why: str, ref: str | None = None) -> WatchResult:
    return WatchResult(record.id, record.model_id, via, record.revision, None, "unchecked", ref,
                       findings=(finding("MC190", f"{record.model_id or record.id}: {why}"),))


def followed_ref(record: Record) -> str:
    """The ref a record's commit was taken from: the tag or branch named when it was
    made (a hub record keeps the one asked for; a cache record every ref of its
    snapshot, ``main`` first when it is one of them), else ``main``. A commit asked for
    by its (short) hash is no ref: it never moves, so ``main`` is watched."""
    refs = [r for r in record.data["model"].get("refs") or ()
            if isinstance(r, str) and r and not _COMMIT.fullmatch(r)]
    return "main" if not refs or "main" in refs else refs[0]


def current_on_hub(model_id: str, ref: str = "main") -> str:
    """The commit ``ref`` points at on the hub (one ``model_info`` call)."""
    from huggingface_hub import HfApi

    from ..sources.hub import endpoint, hub_call

    target = f"hf://{model_id}@{ref}"
    info = hub_call(target, HfApi(endpoint=endpoint()).model_info, model_id, revision=ref)
    sha = getattr(info, "sha", None)
    if not isinstance(sha, str) or not sha:
        raise InputError(target, "the hub gave no commit sha")
    return sha


def current_in_cache(model_id: str, ref: str = "main") -> str:
    """The commit ``ref`` points at in the local cache (for ``main``: the newest snapshot
    when no ref names one)."""
    from ..sources.hfcache import SOURCE

    return str(SOURCE.open(model_id if ref == "main" else f"{model_id}@{ref}").source.revision)


def _open(model_id: str, via: str, commit: str) -> Release:
    from ..sources import hfcache, hub

    if via == "hub":
        return hub.SOURCE.open(f"hf://{model_id}@{commit}")
    return hfcache.SOURCE.open(f"{model_id}@{commit}")


def _hashes(release: Release) -> dict[str, str]:
    """The same hashes a record takes: read locally, declared for bytes on the hub."""
    from ..engine import Engine, RunOptions, stages

    hashes = Engine(release, RunOptions()).get(stages.HASHES)
    if hashes is None:
        raise InputError(release.source.location, "could not hash the new revision's files")
    return hashes


def watch_record(record: Record) -> WatchResult:
    """Check one record's model for a new revision and what changed in it."""
    model_id = record.model_id
    kind = record.data["model"].get("source_kind")
    if not model_id or "/" not in model_id or not record.revision:
        return _unchecked(record, "none", "the record names no hub model and commit "
                          "(made from a local folder): nothing to watch")
    via = "hub" if kind == "hf-hub" else "cache"
    ref = followed_ref(record)
    try:
        current = (current_on_hub(model_id, ref) if via == "hub"
                   else current_in_cache(model_id, ref))
        if current == record.revision:
            return WatchResult(record.id, model_id, via, record.revision, current, "unchanged",
                               ref)
        release = _open(model_id, via, current)
        drift = compare(release, record, _hashes(release), cache_revisions=False)
    except InputError as exc:
        return _unchecked(record, via, str(exc), ref)
    added = tuple(c.path for c in drift.files
                  if c.status == "added" and c.path.lower().endswith(CODE_SUFFIXES))
    found: list[Finding] = [finding(
        "MC188", f"{model_id}: {ref} is at a new revision {current} (recorded "
        f"{record.revision}), {len(drift.files)} file(s) differ", recorded=record.revision,
        current=current, ref=ref)]
    found += [f for f in drift.findings if f.code != "MC187"]
    found += [finding("MC189", f"{p}: new code file in revision {current}", file=p,
                      quote=posixpath.basename(p)) for p in added]
    return WatchResult(record.id, model_id, via, record.revision, current, "changed", ref,
                       drift, added, tuple(found))
