"""Accounts, sessions and API tokens on the registry's database.

Passwords are hashed with argon2id (``argon2-cffi``, its default parameters). Session
and API tokens are 256-bit random strings; only their sha256 is stored, so a copy of the
database gives no usable credential. Nothing here logs a password or a token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..errors import InputError
from ..record.model import Record
from ..record.registry import BUSY_TIMEOUT_S, Registry
from . import events
from .tables import ROLES, api_tokens, metadata, sessions, users
from .tables import events as event_rows

SESSION_HOURS = 12
_hasher = PasswordHasher()
#: verified against when the user does not exist, so a login takes as long either way
_DUMMY_HASH = _hasher.hash("modelclear-no-such-user")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")


def _sqlite_reader(url: str) -> Engine:
    """A second SQLite engine for reads: deferred BEGIN, so readers share the database
    with the one writer instead of queueing for its lock."""
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:  # the raw sqlite3 objects
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


class Conflict(Exception):
    """A state change lost a race or does not apply to the current state (HTTP 409)."""


class Forbidden(Exception):
    """The user's role or the workflow's rules do not allow this (HTTP 403)."""


class NotFound(Exception):
    """No such request, decision or user (HTTP 404)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Roles are ordered: each includes the rights of those before it."""
        return ROLES.index(self.role) >= ROLES.index(role)


def sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 64 or not set(name) <= NAME_CHARS:
        raise ValueError("a user name is 1-64 letters, digits or . _ - @")
    return name


class Store:
    """The server's database: the registry's engine plus the server's own tables."""

    def __init__(self, url: str | None = None) -> None:
        self.registry = Registry(url)
        self.engine = self.registry.engine
        self.display_url = self.registry.display_url
        self.read_engine = (_sqlite_reader(self.registry.url)
                            if self.engine.dialect.name == "sqlite" else self.engine)
        self._records: dict[str, Record] = {}
        try:
            with self.engine.begin() as conn:
                metadata.create_all(conn)
        except SQLAlchemyError as exc:
            raise InputError(self.display_url, f"cannot create the server tables: {exc}") from None

    def close(self) -> None:
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
        self.registry.close()

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """A writing transaction (on SQLite it holds the write lock from its start)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A reading transaction: one consistent snapshot; on SQLite it does not queue
        behind writers (WAL), which the registry's ``BEGIN IMMEDIATE`` would make it do."""
        with self.read_engine.begin() as conn:
            yield conn

    def record(self, record_id: str) -> Record:
        """A stored record, loaded (validated, hash-checked) once: records are append-only."""
        found = self._records.get(record_id)
        if found is None:
            found = self._records[record_id] = self.registry.get(record_id)
            if len(self._records) > 256:
                self._records.pop(next(iter(self._records)))
        return found

    # -- users ----------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str, actor: str = "cli") -> User:
        name = check_name(name)
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        row = {"name": name, "role": role, "password_hash": _hasher.hash(password),
               "active": True, "created_at": events.now()}
        try:
            with self.tx() as conn:
                uid = conn.execute(users.insert().returning(users.c.id), row).scalar_one()
                events.append(conn, actor, "user.added", None, {"user": name, "role": role})
        except IntegrityError:
            raise ValueError(f"user {name!r} exists already") from None
        return User(int(uid), name, role)

    def users(self) -> list[User]:
        with self.read() as conn:
            return [User(r.id, r.name, r.role) for r in
                    conn.execute(select(users).order_by(users.c.name))]

    def user(self, user_id: int) -> User | None:
        with self.read() as conn:
            r = conn.execute(select(users).where(users.c.id == user_id,
                                                 users.c.active.is_(True))).first()
        return User(r.id, r.name, r.role) if r else None

    def authenticate(self, name: str, password: str) -> User | None:
        with self.read() as conn:
            r = conn.execute(select(users).where(users.c.name == name,
                                                 users.c.active.is_(True))).first()
        try:
            _hasher.verify(r.password_hash if r else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(r.id, r.name, r.role) if r else None

    def login_failed(self, name: str, address: str, throttled: bool) -> None:
        """Log a failed sign-in without the password, and without the typed name unless it
        is an account's (a password typed into the name field must not be kept)."""
        with self.tx() as conn:
            known = conn.execute(select(users.c.name).where(users.c.name == name)).scalar()
            data = {"account": known or "(unknown name)", "client": address[:64]}
            events.append(conn, "anonymous", "login.failed", None, data)
            if throttled:
                events.append(conn, "anonymous", "login.throttled", None, data)

    # -- sessions ---------------------------------------------------------------------
    def new_session(self, user: User) -> tuple[str, str]:
        """(session token for the cookie, CSRF token for the forms)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        created = datetime.now(UTC)
        with self.tx() as conn:
            conn.execute(sessions.insert(), {
                "token_hash": sha(token), "user_id": user.id, "csrf": csrf,
                "created_at": created.isoformat(),
                "expires_at": (created + timedelta(hours=SESSION_HOURS)).isoformat()})
            events.append(conn, user.name, "session.login", None, {})
        return token, csrf

    def session(self, token: str) -> tuple[User, str] | None:
        """The user and CSRF token of a live session, or None."""
        with self.read() as conn:
            r = conn.execute(
                select(sessions.c.csrf, sessions.c.expires_at, users.c.id, users.c.name,
                       users.c.role)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.token_hash == sha(token), users.c.active.is_(True))
            ).first()
        if r is None or r.expires_at <= datetime.now(UTC).isoformat():
            return None
        return User(r.id, r.name, r.role), r.csrf

    def end_session(self, token: str) -> None:
        with self.tx() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == sha(token)))

    # -- API tokens -------------------------------------------------------------------
    def new_token(self, user_name: str, label: str, actor: str = "cli") -> str:
        """A new API token for ``user_name``; shown once, stored only as its hash."""
        token = "mc_" + secrets.token_urlsafe(32)
        with self.tx() as conn:
            r = conn.execute(select(users.c.id).where(users.c.name == user_name)).first()
            if r is None:
                raise ValueError(f"no user {user_name!r}")
            conn.execute(api_tokens.insert(), {
                "user_id": r.id, "token_hash": sha(token), "label": label[:120],
                "created_at": events.now(), "revoked": False})
            events.append(conn, actor, "token.created", None,
                          {"user": user_name, "label": label[:120]})
        return token

    def token_user(self, token: str) -> User | None:
        with self.read() as conn:
            r = conn.execute(
                select(users.c.id, users.c.name, users.c.role)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == sha(token),
                       api_tokens.c.revoked.is_(False), users.c.active.is_(True))
            ).first()
        return User(r.id, r.name, r.role) if r else None

    def tokens(self, user: User) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(select(api_tokens).where(api_tokens.c.user_id == user.id)
                                .order_by(api_tokens.c.id))
            return [{"id": r.id, "label": r.label, "created_at": r.created_at,
                     "revoked": r.revoked} for r in rows]

    def revoke_token(self, user: User, token_id: int) -> None:
        with self.tx() as conn:
            n = conn.execute(update(api_tokens).where(
                api_tokens.c.id == token_id, api_tokens.c.user_id == user.id
            ).values(revoked=True)).rowcount
            if not n:
                raise NotFound(f"no token {token_id}")
            events.append(conn, user.name, "token.revoked", None, {"token_id": token_id})

    # -- the log ----------------------------------------------------------------------
    def verify_log(self) -> events.ChainReport:
        with self.read() as conn:
            return events.verify_chain(conn)

    def log(self, limit: int = 200, request_id: int | None = None) -> list[dict[str, Any]]:
        q = select(event_rows).order_by(event_rows.c.seq.desc()).limit(limit)
        if request_id is not None:
            q = q.where(event_rows.c.request_id == request_id)
        with self.read() as conn:
            return [events.event_json(r) for r in conn.execute(q)]
