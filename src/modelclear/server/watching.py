"""``modelclear watch --server``: a watch result reopens the approvals it affects.

The issue's rule is that "a newer revision or a drifted verify/watch result reopens the
review". ``watch`` runs where the hub or the cache is (cron, CI) and posts its
per-model results to ``POST /api/watch``. For each model whose status is ``changed`` the
server finds the *approved* requests it affects — those decided on the watched record,
and those of the same model at a revision other than the current one — appends a
``watch.changed`` event naming why (new revision, a license or notice text changed, a
new code file, a card license field changed) and reopens each exactly as the drift
button does (state ``queued``, the decision no longer in force, a fresh audit queued).

Idempotent: the reasons and revisions are hashed into a fingerprint kept in the event,
and a request that already has a ``watch.changed`` event with that fingerprint is left
alone, so cron posting the same result every hour reopens a review once, and a reviewer
who re-approves after looking is not overruled by the same old news.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import and_, or_, select

from ..record.model import canonical_json
from . import events
from .store import Conflict, User
from .tables import events as event_rows
from .tables import requests
from .workflow import Workflow


def reasons(result: dict[str, Any]) -> list[str]:
    """Why a watched model changed, one line each, from ``WatchResult.to_json``."""
    out: list[str] = []
    old, new = result.get("recorded_revision"), result.get("current_revision")
    if new and new != old:
        out.append(f"new revision {str(old or '?')[:12]} -> {str(new)[:12]}")
    drift = result.get("drift") or {}
    docs, cards = drift.get("documents"), drift.get("card")
    for doc in docs if isinstance(docs, list) else []:
        if isinstance(doc, dict):
            what = "license" if doc.get("kind") == "license" else str(doc.get("kind"))[:20]
            out.append(f"{what} text {str(doc.get('status'))[:10]}: {str(doc.get('path'))[:200]}")
    for card in cards if isinstance(cards, list) else []:
        if isinstance(card, dict):
            out.append(f"card field {str(card.get('field'))[:60]} changed")
    for path in result.get("new_code_files") or []:
        out.append(f"new code file {str(path)[:200]}")
    return out[:50]


def fingerprint(result: dict[str, Any], why: list[str]) -> str:
    body = {"record_id": result.get("record_id"), "model_id": result.get("model_id"),
            "current_revision": result.get("current_revision"), "reasons": why}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _affected(workflow: Workflow, result: dict[str, Any]) -> list[int]:
    cond = [requests.c.record_id == result.get("record_id")]
    model, current = result.get("model_id"), result.get("current_revision")
    if model and current:
        cond.append(and_(requests.c.model_key == model, requests.c.revision != current))
    with workflow.store.read() as conn:
        return [r.id for r in conn.execute(select(requests.c.id).where(
            requests.c.state == "approved", or_(*cond)).order_by(requests.c.id))]


def _reopen(workflow: Workflow, rid: int, actor: User, result: dict[str, Any],
            why: list[str], print_: str) -> bool:
    """One request: the event and the reopen in one transaction; False when it is no
    longer approved or this same result reopened it before."""
    with workflow.store.tx() as conn:
        row = workflow._row(conn, rid)  # noqa: SLF001 - the workflow's own row access
        if row.state != "approved":
            return False
        seen = conn.execute(select(event_rows.c.data).where(
            event_rows.c.request_id == rid, event_rows.c.kind == "watch.changed")).all()
        if any(json.loads(e.data).get("fingerprint") == print_ for e in seen):
            return False
        events.append(conn, actor.name, "watch.changed", rid, {
            "fingerprint": print_, "model": result.get("model_id"),
            "record_id": result.get("record_id"), "via": result.get("via"),
            "current_revision": result.get("current_revision"), "reasons": why})
        reason = ("watch: " + "; ".join(why))[:500]
        workflow._move(conn, row, state="queued", progress="reopened",  # noqa: SLF001
                       decision_id=None, reopen_reason=reason)
        events.append(conn, actor.name, "review.reopened", rid, {"reason": reason})
    return True


def apply(workflow: Workflow, actor: User, results: list[dict[str, Any]]
          ) -> list[dict[str, Any]]:
    """Per model: its status, reasons, the requests reopened now and those this same
    result had reopened already (or that are no longer approved)."""
    out = []
    for result in results:
        entry: dict[str, Any] = {"model": result.get("model_id"),
                                 "record_id": result.get("record_id"),
                                 "status": result.get("status"), "reasons": [],
                                 "reopened": [], "unchanged": []}
        if result.get("status") == "changed":
            why = reasons(result) or ["watch reported a change it did not itemize"]
            entry["reasons"] = why
            mark = fingerprint(result, why)
            for rid in _affected(workflow, result):
                try:
                    done = _reopen(workflow, rid, actor, result, why, mark)
                except Conflict:  # decided or reopened meanwhile: no longer what we saw
                    done = False
                entry["reopened" if done else "unchanged"].append(rid)
        out.append(entry)
    return out
