"""Requests and decisions: the review workflow as compare-and-set state changes.

States of a request::

    queued -> running -> ready -> approved | rejected
                     \\-> failed            (audit could not run: the error is kept)
    approved | rejected | ready -> queued    (reopened: drift, newer revision, or by hand)

Every state change bumps ``version`` with ``UPDATE … WHERE id = ? AND version = ?`` in
the transaction that inserts the decision and appends the event, so when two reviewers
decide at once exactly one update matches and the other transaction rolls back whole
(HTTP 409). Under the two-reviewer rule a first approval is a non-final decision that
also bumps the version; the second must come from another reviewer, never the requester.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from . import events
from .store import Conflict, Forbidden, NotFound, Store, User
from .tables import decisions, requests, users

KINDS = ("approve", "approve_with_conditions", "reject")
OPEN_STATES = ("queued", "running")


@dataclass(frozen=True)
class DecisionInput:
    """What a reviewer submits; validated by the page or API model before it gets here."""

    kind: str
    owner: str
    use: str
    teams: tuple[str, ...]
    expires_on: date
    obligations: tuple[str, ...] = ()
    conditions: str = ""
    note: str = ""
    expected_version: int | None = None


@dataclass
class Workflow:
    store: Store
    #: profiles whose approvals need two reviewers, neither of them the requester
    two_reviewer_profiles: frozenset[str] = field(default_factory=frozenset)

    # -- requests ---------------------------------------------------------------------
    def create(self, user: User, target: str, revision: str | None, model_key: str | None,
               profile: str, use: str, teams: list[str]) -> int:
        if not user.can("requester"):
            raise Forbidden("viewers cannot request a clearance")
        stamp = events.now()
        with self.store.tx() as conn:
            rid = conn.execute(requests.insert().returning(requests.c.id), {
                "target": target, "model_key": model_key, "revision": revision,
                "profile": profile, "use": use, "teams": json.dumps(teams),
                "requester_id": user.id, "state": "queued", "version": 1,
                "progress": "queued", "created_at": stamp, "updated_at": stamp,
            }).scalar_one()
            events.append(conn, user.name, "request.created", int(rid), {
                "target": target, "revision": revision, "profile": profile, "use": use,
                "teams": teams})
        return int(rid)

    def _row(self, conn: Connection, rid: int) -> Any:
        row = conn.execute(select(requests).where(requests.c.id == rid)).first()
        if row is None:
            raise NotFound(f"no request {rid}")
        return row

    def _move(self, conn: Connection, row: Any, **values: Any) -> None:
        """Compare-and-set on ``version``: a concurrent change makes this a Conflict."""
        n = conn.execute(
            update(requests).where(requests.c.id == row.id, requests.c.version == row.version)
            .values(version=row.version + 1, updated_at=events.now(), **values)
        ).rowcount
        if n != 1:
            raise Conflict(f"request {row.id} changed meanwhile; reload and try again")

    def get(self, rid: int) -> dict[str, Any]:
        with self.store.read() as conn:
            return request_json(conn, self._row(conn, rid))

    def set_progress(self, rid: int, text: str) -> None:
        """Progress is display only: no version bump, no event."""
        with self.store.tx() as conn:
            conn.execute(update(requests).where(requests.c.id == rid)
                         .values(progress=text[:200]))

    def start(self, rid: int) -> dict[str, Any]:
        with self.store.tx() as conn:
            row = self._row(conn, rid)
            if row.state not in ("queued", "running"):
                raise Conflict(f"request {rid} is {row.state}")
            self._move(conn, row, state="running", progress="opening the release", error=None)
            events.append(conn, "worker", "audit.started", rid, {"target": row.target})
            return request_json(conn, self._row(conn, rid))

    def finish(self, rid: int, *, record_id: str, verdict: str | None, view: dict[str, Any],
               model_key: str | None, revision: str | None) -> list[int]:
        """The audit's result; returns the older requests a newer revision reopened."""
        with self.store.tx() as conn:
            row = self._row(conn, rid)
            self._move(conn, row, state="ready", progress="audit complete", record_id=record_id,
                       verdict=verdict, audit_view=json.dumps(view, default=str),
                       model_key=model_key, revision=revision)
            events.append(conn, "worker", "audit.completed", rid, {
                "record_id": record_id, "verdict": verdict, "revision": revision})
            return self._supersede(conn, row, model_key, revision)

    def _supersede(self, conn: Connection, row: Any, model_key: str | None,
                   revision: str | None) -> list[int]:
        """A newer revision of a model reopens the approvals of older ones (same profile)."""
        if model_key is None or revision is None:
            return []
        older = conn.execute(select(requests).where(
            requests.c.model_key == model_key, requests.c.profile == row.profile,
            requests.c.id != row.id, requests.c.state == "approved",
            requests.c.revision != revision)).all()
        for other in older:
            reason = f"newer revision {revision} requested (request {row.id})"
            self._move(conn, other, state="queued", progress="reopened", decision_id=None,
                       reopen_reason=reason)
            events.append(conn, "worker", "review.reopened", other.id, {"reason": reason})
        return [o.id for o in older]

    def fail(self, rid: int, error: str) -> None:
        with self.store.tx() as conn:
            row = self._row(conn, rid)
            self._move(conn, row, state="failed", progress="audit failed", error=error[:500])
            events.append(conn, "worker", "audit.failed", rid, {"error": error[:500]})

    def reopen(self, rid: int, reason: str, actor: User | str) -> None:
        name = actor if isinstance(actor, str) else actor.name
        if isinstance(actor, User) and not actor.can("reviewer"):
            raise Forbidden("only reviewers reopen a review")
        with self.store.tx() as conn:
            row = self._row(conn, rid)
            if row.state in OPEN_STATES:
                raise Conflict(f"request {rid} is {row.state} already")
            self._move(conn, row, state="queued", progress="reopened", decision_id=None,
                       reopen_reason=reason[:500])
            events.append(conn, name, "review.reopened", rid, {"reason": reason[:500]})

    def note_verify(self, rid: int, clean: bool, summary: list[str]) -> None:
        with self.store.tx() as conn:
            events.append(conn, "worker", "verify.clean" if clean else "verify.drifted", rid,
                          {"findings": summary[:50]})

    # -- decisions --------------------------------------------------------------------
    def decide(self, user: User, rid: int, d: DecisionInput) -> dict[str, Any]:
        """One reviewer's decision; returns the request as it is after it."""
        if not user.can("reviewer"):
            raise Forbidden("only reviewers decide")
        if d.kind not in KINDS:
            raise ValueError(f"decision must be one of {', '.join(KINDS)}")
        with self.store.tx() as conn:
            row = self._row(conn, rid)
            if row.state != "ready":
                raise Conflict(f"request {rid} is {row.state}, not awaiting review")
            if d.expected_version is not None and d.expected_version != row.version:
                raise Conflict(f"request {rid} changed meanwhile; reload and try again")
            final = self._is_final(conn, user, row, d)
            did = conn.execute(decisions.insert().returning(decisions.c.id), {
                "request_id": rid, "reviewer_id": user.id, "kind": d.kind, "final": final,
                "owner": d.owner, "profile": row.profile, "use": d.use,
                "teams": json.dumps(list(d.teams)), "expires_on": d.expires_on.isoformat(),
                "obligations": json.dumps(list(d.obligations)), "conditions": d.conditions,
                "note": d.note, "record_id": row.record_id, "request_version": row.version,
                "created_at": events.now()}).scalar_one()
            if final:
                state = "rejected" if d.kind == "reject" else "approved"
                self._move(conn, row, state=state, decision_id=did, reopen_reason=None)
            else:
                self._move(conn, row)  # a first approval also claims this version
            events.append(conn, user.name, f"decision.{d.kind}", rid, {
                "decision_id": did, "final": final, "owner": d.owner, "use": d.use,
                "teams": list(d.teams), "expires_on": d.expires_on.isoformat(),
                "obligations": list(d.obligations), "conditions": d.conditions,
                "note": d.note, "record_id": row.record_id})
            return request_json(conn, self._row(conn, rid))

    def _is_final(self, conn: Connection, user: User, row: Any, d: DecisionInput) -> bool:
        if row.profile not in self.two_reviewer_profiles:
            return True
        if row.requester_id == user.id:
            raise Forbidden("two-reviewer rule: the requester cannot decide their own request")
        if d.kind == "reject":
            return True
        earlier = conn.execute(select(decisions.c.reviewer_id).where(
            decisions.c.request_id == row.id, decisions.c.final.is_(False),
            decisions.c.record_id == row.record_id)).all()
        firsts = {r.reviewer_id for r in earlier}
        if user.id in firsts:
            raise Forbidden("two-reviewer rule: the second approval must come from another "
                            "reviewer")
        return len(firsts) >= 1

    def decisions(self, rid: int) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(
                select(decisions, users.c.name.label("reviewer"))
                .join(users, users.c.id == decisions.c.reviewer_id)
                .where(decisions.c.request_id == rid).order_by(decisions.c.id)).all()
            return [decision_json(r) for r in rows]

    # -- lists ------------------------------------------------------------------------
    def listing(self, state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        q = select(requests).order_by(requests.c.id.desc()).limit(limit)
        if state is not None:
            q = q.where(requests.c.state == state)
        with self.store.read() as conn:
            return [request_json(conn, r, brief=True) for r in conn.execute(q).all()]

    def models(self) -> list[dict[str, Any]]:
        """The newest request per (model, profile), with its decision in force."""
        with self.store.read() as conn:
            newest = (select(func.max(requests.c.id).label("id"))
                      .group_by(requests.c.model_key, requests.c.target, requests.c.profile)
                      .subquery())
            rows = conn.execute(select(requests).join(newest, newest.c.id == requests.c.id)
                                .order_by(requests.c.model_key, requests.c.profile)).all()
            return [request_json(conn, r, brief=True) for r in rows]

    def approved(self, model_key: str, revision: str | None,
                 profile: str | None) -> dict[str, Any] | None:
        """The newest approved request for this model (and revision, profile if given)."""
        cond = [requests.c.model_key == model_key, requests.c.state == "approved"]
        if revision:
            cond.append(requests.c.revision == revision)
        if profile:
            cond.append(requests.c.profile == profile)
        with self.store.read() as conn:
            row = conn.execute(select(requests).where(and_(*cond))
                               .order_by(requests.c.id.desc()).limit(1)).first()
            return request_json(conn, row) if row is not None else None


def decision_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "request_id": r.request_id, "reviewer": r.reviewer, "kind": r.kind,
        "final": r.final, "owner": r.owner, "profile": r.profile, "use": r.use,
        "teams": json.loads(r.teams), "expires_on": r.expires_on,
        "expired": r.expires_on < datetime.now(UTC).date().isoformat(),
        "obligations": json.loads(r.obligations), "conditions": r.conditions,
        "note": r.note, "record_id": r.record_id, "created_at": r.created_at,
    }


def request_json(conn: Connection, r: Any, brief: bool = False) -> dict[str, Any]:
    requester = conn.execute(select(users.c.name).where(users.c.id == r.requester_id)).scalar()
    decision = None
    if r.decision_id is not None:
        d = conn.execute(select(decisions, users.c.name.label("reviewer"))
                         .join(users, users.c.id == decisions.c.reviewer_id)
                         .where(decisions.c.id == r.decision_id)).first()
        decision = decision_json(d) if d is not None else None
    out: dict[str, Any] = {
        "id": r.id, "target": r.target, "model_key": r.model_key, "revision": r.revision,
        "profile": r.profile, "use": r.use, "teams": json.loads(r.teams),
        "requester": requester, "state": r.state, "version": r.version,
        "progress": r.progress, "record_id": r.record_id, "verdict": r.verdict,
        "error": r.error, "reopen_reason": r.reopen_reason, "decision": decision,
        "created_at": r.created_at, "updated_at": r.updated_at,
    }
    if not brief:
        out["audit"] = json.loads(r.audit_view) if r.audit_view else None
    return out
