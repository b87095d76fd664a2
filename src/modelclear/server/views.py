"""Plain data for the server's pages, prepared here so templates only lay it out.

The model page's record history is the registry's records of that model; between two
consecutive records each document (license, notice, card) that changed is shown as a
unified diff of the texts the records kept. Every string reaches the page through
Jinja's autoescape: license texts and file names are attacker-controlled.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select

from ..record.model import Record
from ..record.registry import Summary, records
from .store import Store

MAX_DIFF_LINES = 400


def _texts(record: Record) -> dict[str, str | None]:
    return {d["path"]: d.get("text") for d in record.documents}


def document_diffs(old: Record, new: Record) -> list[dict[str, Any]]:
    """Changed, added and removed documents between two records of one model."""
    a, b = _texts(old), _texts(new)
    out = []
    for path in sorted(set(a) | set(b)):
        before, after = a.get(path), b.get(path)
        if before == after:
            continue
        lines = list(difflib.unified_diff(
            (before or "").splitlines(), (after or "").splitlines(),
            f"{old.id[:12]}/{path}", f"{new.id[:12]}/{path}", lineterm="", n=2))
        status = "added" if path not in a else "removed" if path not in b else "changed"
        out.append({"path": path, "status": status,
                    "lines": [{"text": ln, "kind": ln[:1] if ln[:1] in "+-@" else " "}
                              for ln in lines[:MAX_DIFF_LINES]],
                    "cut": max(0, len(lines) - MAX_DIFF_LINES)})
    return out


def record_history(store: Store, key: str, limit: int = 20) -> list[dict[str, Any]]:
    """The newest records of a model (by hub id or location), oldest first, each with
    the document diffs against the one before it."""
    cols = [c for c in records.c if c.name not in ("body", "seq")]
    with store.read() as conn:
        rows = conn.execute(
            select(*cols).where(or_(records.c.model_id == key, records.c.location == key))
            .order_by(records.c.seq.desc()).limit(limit + 1)).all()
    out: list[dict[str, Any]] = []
    previous: Record | None = None
    for i, row in enumerate(reversed(rows)):
        record = store.record(row.record_id)
        if i or len(rows) <= limit:  # the extra oldest row only gives the first diff
            out.append({"summary": Summary(**row._mapping).to_json(),
                        "diffs": document_diffs(previous, record) if previous else []})
        previous = record
    return out


def expiry(decision: dict[str, Any] | None) -> str:
    if decision is None:
        return "—"
    if decision["expired"]:
        return f"expired {decision['expires_on']}"
    days = (datetime.fromisoformat(decision["expires_on"]).date()
            - datetime.now(UTC).date()).days
    return f"{decision['expires_on']} ({days} days)"


def drift(req: dict[str, Any], log: list[dict[str, Any]]) -> str:
    """The newest drift fact about a request: a reopen reason, else the last verify."""
    if req.get("reopen_reason") and req["state"] in ("queued", "running", "ready"):
        return "reopened: " + str(req["reopen_reason"])
    for e in log:
        if e["kind"] == "verify.drifted":
            return "drifted " + str(e["at"])[:16]
        if e["kind"] == "verify.clean":
            return "verified " + str(e["at"])[:16]
    return "not verified"
