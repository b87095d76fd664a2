"""The registry: records stored append-only in any SQLAlchemy database.

SQLite in the user data directory is the default (WAL mode, so readers never block the
writer). A record is one row in ``records`` plus one row per file in ``record_files``
(so "which records contain this blob?" is one indexed query); both are written in one
transaction, so a killed ``record`` leaves either the whole record or nothing.
Append-only is enforced by the database itself (triggers refuse UPDATE and DELETE), not
just by this module offering no update method.

SQLite detail: every transaction starts with ``BEGIN IMMEDIATE``. With the driver's
default deferred BEGIN, two processes that both read and then write can deadlock, and
SQLite answers one of them "database is locked" at once instead of waiting out the busy
timeout; taking the write lock up front makes concurrent writers queue instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from ..errors import InputError
from .model import Record, RecordError

REGISTRY_ENV = "MODELCLEAR_REGISTRY"
#: Test hook: when set to a path, ``add`` creates that file in the middle of its
#: transaction (after the record row and half its file rows) and then sleeps, so a test
#: can SIGKILL the process there and prove no partial record survives.
PAUSE_ENV = "MODELCLEAR_TEST_PAUSE_IN_WRITE"
BUSY_TIMEOUT_S = 60
MIN_PREFIX = 4

metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("record_id", String(32), nullable=False, unique=True),
    Column("model_id", Text, nullable=True, index=True),
    Column("location", Text, nullable=False),
    Column("revision", String(64), nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("reviewer", Text, nullable=True),
    Column("overall", String(32), nullable=True),
    Column("record_hash", String(64), nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

record_files = Table(
    "record_files",
    metadata,
    Column("record_id", String(32), ForeignKey("records.record_id"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
)

def _ddl(statement: str, dialect: str) -> DDL:
    """DDL run only on ``dialect``, so one schema serves SQLite and PostgreSQL."""
    # SQLAlchemy 2.x leaves DDL.__init__ unannotated; the statement is a plain string.
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


def _append_only(table: Table) -> None:
    """Attach triggers refusing UPDATE and DELETE on ``table`` when it is created."""
    name = table.name
    for op in ("UPDATE", "DELETE"):
        event.listen(table, "after_create", _ddl(
            f"CREATE TRIGGER IF NOT EXISTS {name}_no_{op.lower()} BEFORE {op} ON {name} "
            "BEGIN SELECT RAISE(ABORT, 'modelclear registry is append-only'); END",
            "sqlite",
        ))
    event.listen(table, "after_create", _ddl(
        "CREATE OR REPLACE FUNCTION modelclear_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'modelclear registry is append-only'; END; $$ LANGUAGE plpgsql",
        "postgresql",
    ))
    event.listen(table, "after_create", _ddl(
        f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
        "FOR EACH ROW EXECUTE FUNCTION modelclear_append_only()",
        "postgresql",
    ))


_append_only(records)
_append_only(record_files)


def default_url() -> str:
    folder = Path(user_data_dir("modelclear"))
    return f"sqlite:///{folder / 'registry.sqlite3'}"


def resolve_url(url: str | None = None) -> str:
    """``--registry`` beats ``MODELCLEAR_REGISTRY`` beats the default; a bare path is SQLite."""
    raw = url or os.environ.get(REGISTRY_ENV) or default_url()
    if "://" not in raw:
        raw = f"sqlite:///{Path(raw).expanduser().resolve()}"
    return raw


@dataclass(frozen=True)
class Summary:
    """One line of ``history``: enough to choose a record without loading it."""

    record_id: str
    model_id: str | None
    revision: str | None
    created_at: str
    reviewer: str | None
    overall: str | None
    record_hash: str
    file_count: int
    location: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _sqlite_engine(url: str) -> Engine:
    u = make_url(url)
    if u.database and u.database != ":memory:":
        try:
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(u.database, f"cannot create the registry folder: {exc}") from None
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:  # the raw sqlite3 driver objects
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module doc)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Registry:
    """Append-only store of records. ``Registry(url)``; use as a context manager."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise InputError(self.url, "not a database URL") from None
        self.display_url = parsed.render_as_string(hide_password=True)
        try:
            if parsed.get_backend_name() == "sqlite":
                self.engine = _sqlite_engine(self.url)
            else:
                self.engine = create_engine(self.url, pool_pre_ping=True)
            with self.engine.begin() as conn:
                metadata.create_all(conn)
        except NoSuchModuleError:
            raise InputError(self.display_url, "no SQLAlchemy dialect for this URL") from None
        except ModuleNotFoundError as exc:
            raise InputError(
                self.display_url, f"database driver {exc.name!r} is not installed"
            ) from None
        except SQLAlchemyError as exc:
            raise InputError(self.display_url, f"cannot open registry: {_short(exc)}") from None

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    # -- writing --------------------------------------------------------------------
    def add(self, record: Record) -> str:
        """Store a record (re-validated first) in one transaction; returns its id."""
        record = Record.load(record.to_json(), "record")
        data = record.data
        files = data["files"]
        policy = data.get("policy") or {}
        row = {
            "record_id": record.id,
            "model_id": record.model_id,
            "location": data["model"]["location"],
            "revision": record.revision,
            "created_at": record.created_at,
            "reviewer": data.get("reviewer"),
            "overall": policy.get("overall"),
            "record_hash": record.record_hash,
            "file_count": len(files),
            "body": record.canonical().decode("utf-8"),
        }
        file_rows = [
            {"record_id": record.id, "path": f["path"], "size": f["size"], "sha256": f["sha256"]}
            for f in files
        ]
        pause = os.environ.get(PAUSE_ENV)
        try:
            with self.engine.begin() as conn:
                conn.execute(records.insert(), row)
                half = len(file_rows) // 2
                if file_rows[:half]:
                    conn.execute(record_files.insert(), file_rows[:half])
                if pause:
                    Path(pause).write_text(str(os.getpid()))
                    time.sleep(600)
                if file_rows[half:]:
                    conn.execute(record_files.insert(), file_rows[half:])
        except SQLAlchemyError as exc:
            raise InputError(self.display_url, f"cannot write record: {_short(exc)}") from None
        return record.id

    # -- reading --------------------------------------------------------------------
    def _load(self, conn: Connection, row: Row[Any]) -> Record:
        origin = f"registry record {row.record_id}"
        record = Record.from_json(row.body, origin)
        stored = conn.execute(
            select(func.count()).select_from(record_files)
            .where(record_files.c.record_id == row.record_id)
        ).scalar_one()
        if record.id != row.record_id or record.record_hash != row.record_hash:
            raise RecordError(origin, "row columns disagree with the stored record")
        if not (stored == row.file_count == len(record.data["files"])):
            raise RecordError(
                origin, f"incomplete: {stored} file rows for {row.file_count} files recorded"
            )
        return record

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            raise InputError(self.display_url, f"cannot read registry: {_short(exc)}") from None

    def get(self, ref: str) -> Record:
        """A record by id or unique id prefix (at least 4 hex digits)."""
        ref = ref.strip().lower()
        if len(ref) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in ref):
            raise InputError(ref, f"not a record id (give at least {MIN_PREFIX} hex digits)")
        with self._read() as conn:
            rows = conn.execute(
                select(records).where(records.c.record_id.startswith(ref, autoescape=True))
                .limit(2)
            ).all()
            if not rows:
                raise InputError(ref, f"no such record in {self.display_url}")
            if len(rows) > 1:
                raise InputError(ref, "ambiguous record id prefix; give more digits")
            return self._load(conn, rows[0])

    def find(self, ref: str) -> Record | None:
        """Like :meth:`get`, but None when ``ref`` names no record."""
        try:
            return self.get(ref)
        except RecordError:
            raise
        except InputError:
            return None

    def latest(self, model_id: str | None, location: str | None = None) -> Record | None:
        """The newest record of a model; a record of the same location wins over others
        (two local folders may share a name without being the same release)."""
        match = (records.c.model_id == model_id if model_id is not None
                 else records.c.location == location)
        with self._read() as conn:
            # Choose by the small columns first; only the chosen body is read.
            rows = conn.execute(
                select(records.c.seq, records.c.location).where(match)
                .order_by(records.c.seq.desc())
            ).all()
            if not rows:
                return None
            same = [r for r in rows if location is not None and r.location == location]
            seq = (same or rows)[0].seq
            row = conn.execute(select(records).where(records.c.seq == seq)).one()
            return self._load(conn, row)

    def history(self, model_id: str | None = None) -> list[Summary]:
        cols = [c for c in records.c if c.name not in ("body", "seq")]
        q = select(*cols).order_by(records.c.seq)
        if model_id is not None:
            q = q.where(records.c.model_id == model_id)
        with self._read() as conn:
            return [Summary(**row._mapping) for row in conn.execute(q)]

    def count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(records)).scalar_one())

    def all(self) -> list[Record]:
        """Every record, validated and hash-checked (oldest first)."""
        with self._read() as conn:
            rows = conn.execute(select(records).order_by(records.c.seq)).all()
            return [self._load(conn, r) for r in rows]

    def containing(self, sha256: str) -> list[tuple[str, str]]:
        """(record id, path) of every recorded file with this content hash."""
        with self._read() as conn:
            q = select(record_files.c.record_id, record_files.c.path).where(
                record_files.c.sha256 == sha256.lower()
            )
            return [(r.record_id, r.path) for r in conn.execute(q)]


def _short(exc: SQLAlchemyError) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) else None  # the driver's own message
    return " ".join(str(orig or exc).split())[:300]
