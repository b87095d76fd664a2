"""The audit log: every event appended once, each row chained to the one before.

A row stores ``hash = sha256(prev_hash + canonical JSON of the event)`` where the event
is its sequence number, time, actor, kind, request and data. Editing any stored field of
any row, deleting a row or inserting one changes a hash that a later row (or the stored
hash itself) no longer matches, which :func:`verify_chain` reports with the row.

Appends are serialized: on PostgreSQL by a transaction-scoped advisory lock taken before
the head is read, on SQLite by the registry's ``BEGIN IMMEDIATE``. ``prev_hash`` is
unique as well, so even a writer that skipped the lock could not fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from ..record.model import canonical_json
from .tables import events

GENESIS = "0" * 64
#: arbitrary constant naming the chain's advisory lock on PostgreSQL
CHAIN_LOCK = 0x6D63_6C72


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


def _body(seq: int, at: str, actor: str, kind: str, request_id: int | None,
          data: Any) -> dict[str, Any]:
    return {"seq": seq, "at": at, "actor": actor, "kind": kind, "request_id": request_id,
            "data": data}


def append(conn: Connection, actor: str, kind: str, request_id: int | None,
           data: dict[str, Any]) -> int:
    """Append one event inside the caller's transaction (so it commits with the change it
    describes, or not at all); returns its sequence number."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    head = conn.execute(
        select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    ).first()
    seq = 1 if head is None else head.seq + 1
    prev = GENESIS if head is None else head.hash
    at = now()
    body = _body(seq, at, actor, kind, request_id, data)
    conn.execute(events.insert(), {
        "seq": seq, "at": at, "actor": actor, "kind": kind, "request_id": request_id,
        "data": canonical_json(data).decode("utf-8"), "prev_hash": prev,
        "hash": event_hash(prev, body),
    })
    return seq


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: rows checked, and the first broken row if any."""

    rows: int
    ok: bool
    broken_seq: int | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "ok": self.ok, "broken_seq": self.broken_seq,
                "problem": self.problem}


def verify_chain(conn: Connection) -> ChainReport:
    """Recompute every hash from the genesis; the first mismatch is reported."""
    prev = GENESIS
    expected_seq = 1
    n = 0
    for row in conn.execute(select(events).order_by(events.c.seq)):
        n += 1
        if row.seq != expected_seq:
            return ChainReport(n, False, row.seq, f"sequence gap: expected {expected_seq}")
        if row.prev_hash != prev:
            return ChainReport(n, False, row.seq, "prev_hash does not match the row before")
        try:
            data = json.loads(row.data)
        except ValueError:
            return ChainReport(n, False, row.seq, "data is not JSON")
        body = _body(row.seq, row.at, row.actor, row.kind, row.request_id, data)
        if event_hash(prev, body) != row.hash:
            return ChainReport(n, False, row.seq, "hash does not match the row's content")
        prev = row.hash
        expected_seq += 1
    return ChainReport(n, True)


def event_json(row: Any) -> dict[str, Any]:
    return {"seq": row.seq, "at": row.at, "actor": row.actor, "kind": row.kind,
            "request_id": row.request_id, "data": json.loads(row.data),
            "prev_hash": row.prev_hash, "hash": row.hash}
