"""Background work: audits and drift checks run on worker threads, never in a request.

A request is answered at once; the audit runs here and reports progress into the
request row (shown by the request page, which refreshes itself while work is pending).
A server restarted mid-audit finds its queued or running requests and runs them again.
Errors become the request's ``failed`` state with their one-line message; a bug is
kept as its type and message, never a traceback on a page.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..config import Config
from ..errors import InputError
from ..release import Release
from ..sources import SOURCES, open_release
from .tables import requests
from .workflow import Workflow


def open_target(target: str) -> Release:
    """The release a request names, with a clear error for what the sources cannot read.

    ``hf://`` is accepted only when a source understands it (hub mode); a web user cannot
    name a profile file, only built-in profiles (checked by the caller).
    """
    target = target.strip()
    if not target:
        raise InputError("target", "empty: give a local path or an org/name in the HF cache")
    if target.startswith("hf://") and not any(s.matches(target) for s in SOURCES):
        raise InputError(target, "hf:// targets are not supported by this modelclear yet; "
                         "download the model into the HF cache and give org/name[@revision]")
    return open_release(target)


def model_key(release: Release) -> str:
    return release.source.model_id or release.source.location


class _RowProgress:
    """A ProgressSink writing 'what, how far' into the request row, at most twice a second."""

    def __init__(self, workflow: Workflow, rid: int) -> None:
        self.workflow, self.rid = workflow, rid
        self.tasks: dict[str, list[Any]] = {}
        self.last = 0.0

    def start(self, key: str, description: str, total: float | None,
              bytes_: bool = False) -> None:
        self.tasks[key] = [description, total, 0.0]
        self._write(key, force=True)

    def advance(self, key: str, amount: float) -> None:
        if key in self.tasks:
            self.tasks[key][2] += amount
            self._write(key)

    def _write(self, key: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        desc, total, done = self.tasks[key]
        text = f"{desc}: {done / total:.0%}" if total else str(desc)
        self.workflow.set_progress(self.rid, text)


def run_audit(workflow: Workflow, rid: int) -> list[int]:
    """Audit and record a request's release; the record goes into the registry.
    Returns the requests this newer revision reopened (they are due an audit too)."""
    from ..analyzers.policy.profile import load_profile
    from ..engine import Engine, RunOptions, stages
    from ..pipeline import audit_result
    from ..record.builder import check_names, from_audit
    from ..reports.audit import view

    req = workflow.start(rid)
    release = open_target(req["target"])
    check_names(release)
    sink = _RowProgress(workflow, rid)
    engine = Engine(release, RunOptions(profile=load_profile(req["profile"]), config=Config()),
                    progress=sink)
    hashes = engine.get(stages.HASHES)
    if hashes is None:
        raise InputError(req["target"], "could not hash the release")
    audit = audit_result(engine, target=req["target"])
    record = from_audit(release, audit, hashes)
    workflow.store.registry.add(record)
    shown = view(audit)
    shown["source"] = dataclasses.asdict(audit.source)
    return workflow.finish(rid, record_id=record.id,
                    verdict=str(audit.policy.verdict) if audit.policy else None,
                           view=shown, model_key=model_key(release),
                           revision=release.source.revision)


def run_verify(workflow: Workflow, rid: int) -> bool:
    """Compare the release now with the request's record; drift reopens the review.
    Returns whether it drifted (then a new audit is due)."""
    from ..record.verify import verify

    req = workflow.get(rid)
    if not req["record_id"]:
        raise InputError(f"request {rid}", "has no record to verify against yet")
    record = workflow.store.registry.get(req["record_id"])
    try:
        report = verify(open_target(req["target"]), record)
    except InputError as exc:  # the release is gone or unreadable: that is drift too
        workflow.note_verify(rid, False, [str(exc)])
        workflow.reopen(rid, f"verify could not read the release: {exc}", "worker")
        return True
    summary = [f"{f.code} {f.message}" for f in report.findings]
    workflow.note_verify(rid, not report.drifted, summary)
    if report.drifted:
        workflow.reopen(rid, "verify: " + "; ".join(summary)[:480], "worker")
    return report.drifted


@dataclass
class Worker:
    workflow: Workflow
    threads: int = 2

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="mc-audit")
        self.lock = threading.Lock()

    def audit(self, rid: int) -> Future[None]:
        return self.pool.submit(self._guard, rid, self._audit, True)

    def _audit(self, workflow: Workflow, rid: int) -> None:
        for other in run_audit(workflow, rid):
            self.audit(other)

    def verify(self, rid: int) -> Future[None]:
        return self.pool.submit(self._guard, rid, self._verify_then_audit, False)

    def _verify_then_audit(self, workflow: Workflow, rid: int) -> None:
        if run_verify(workflow, rid):
            self._audit(workflow, rid)

    def _guard(self, rid: int, job: Any, fails_request: bool) -> None:
        try:
            job(self.workflow, rid)
        except InputError as exc:
            self._failed(rid, str(exc), fails_request)
        except Exception as exc:  # noqa: BLE001 - one request fails, the server goes on
            self._failed(rid, f"internal error: {type(exc).__name__}: {exc}", fails_request)

    def _failed(self, rid: int, message: str, fails_request: bool) -> None:
        try:
            if fails_request or self.workflow.get(rid)["state"] in ("queued", "running"):
                self.workflow.fail(rid, message)
            else:
                self.workflow.note_verify(rid, False, [message])
        except Exception:  # noqa: BLE001, S110 - the row may be gone; nothing else to tell
            pass

    def resume(self) -> list[int]:
        """Requests a stopped server left queued or running, queued again."""
        with self.workflow.store.read() as conn:
            ids = [r.id for r in conn.execute(
                select(requests.c.id).where(requests.c.state.in_(("queued", "running"))))]
        for rid in ids:
            self.audit(rid)
        return ids

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
