"""The review server's tables, beside the registry's ``records`` in the same database.

Users, API tokens and sessions are ordinary mutable rows (a password changes, a token is
revoked). Requests carry their current state and a ``version`` bumped by every state
change, so a decision is a compare-and-set: of two reviewers approving at once exactly
one update matches. Decisions and events are append-only, enforced by database triggers
as the registry enforces it for records; events are also hash-chained (``events.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from ..record.registry import _append_only

metadata = MetaData()

ROLES = ("viewer", "requester", "reviewer", "admin")

users = Table(
    "serve_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", String(40), nullable=False),
)

api_tokens = Table(
    "serve_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("serve_users.id"), nullable=False),
    # sha256 of a 256-bit random token: a slow hash adds nothing at that entropy
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(120), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

sessions = Table(
    "serve_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("serve_users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)

requests = Table(
    "serve_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", Text, nullable=False),
    Column("model_key", Text, nullable=True, index=True),
    Column("revision", String(64), nullable=True),
    Column("profile", String(120), nullable=False),
    Column("use", Text, nullable=False),
    Column("teams", Text, nullable=False),  # JSON list
    Column("requester_id", Integer, ForeignKey("serve_users.id"), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("progress", Text, nullable=False),
    Column("record_id", String(32), nullable=True),
    Column("verdict", String(16), nullable=True),
    Column("audit_view", Text, nullable=True),  # JSON: reports.audit.view() of the run
    Column("error", Text, nullable=True),
    Column("reopen_reason", Text, nullable=True),
    Column("decision_id", Integer, nullable=True),  # the decision in force, if any
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

decisions = Table(
    "serve_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("serve_requests.id"), nullable=False, index=True),
    Column("reviewer_id", Integer, ForeignKey("serve_users.id"), nullable=False),
    Column("kind", String(24), nullable=False),  # approve | approve_with_conditions | reject
    Column("final", Boolean, nullable=False),  # False: first of two approvals
    Column("owner", String(64), nullable=False),
    Column("profile", String(120), nullable=False),
    Column("use", Text, nullable=False),
    Column("teams", Text, nullable=False),  # JSON list
    Column("expires_on", String(10), nullable=False),  # ISO date
    Column("obligations", Text, nullable=False),  # JSON list of strings
    Column("conditions", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("record_id", String(32), nullable=True),
    Column("request_version", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
)

events = Table(
    "serve_events",
    metadata,
    # assigned by the writer under the chain lock (not autoincrement): order == chain order
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("request_id", Integer, nullable=True, index=True),
    Column("data", Text, nullable=False),  # canonical JSON
    # unique: two writers that read the same head cannot both extend it (a fork)
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
)

#: bench, probe and drift documents posted for a model (``POST /api/models/results``);
#: kept whole so the model page can show the latest of each kind and a reviewer can
#: fetch the exact document a summary came from
serving_results = Table(
    "serve_serving_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_key", Text, nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # bench | probe | drift
    Column("document", Text, nullable=False),  # the JSON as posted
    Column("sha256", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
)

_append_only(decisions)
_append_only(events)
_append_only(serving_results)
