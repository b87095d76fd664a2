"""The registry: append-only, atomic, concurrent-safe SQLite (and PostgreSQL when given)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import test_record_support as support
from test_record_support import build_record

from modelclear.errors import InputError
from modelclear.record.model import Record, RecordError, seal
from modelclear.record.registry import PAUSE_ENV, Registry, resolve_url

isolated = support.isolated
release_dir = support.release_dir

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


PG_URL = os.environ.get("MODELCLEAR_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="MODELCLEAR_TEST_PG_URL not set (no PostgreSQL server)")),
]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, isolated: Path) -> str:
    """A fresh, empty registry database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(isolated / "registry-test.sqlite3")
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"mc_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def test_add_get_prefix_history_latest(release_dir: Path, isolated: Path) -> None:
    with Registry() as reg:
        a = build_record(release_dir, reviewer="A")
        b = build_record(release_dir, reviewer="B")
        reg.add(a)
        reg.add(b)
        assert reg.count() == 2
        assert reg.get(a.id[:8]).data == a.data
        assert reg.latest("example-7b").id == b.id
        assert reg.latest("nope") is None
        hist = reg.history("example-7b")
        assert [h.record_id for h in hist] == [a.id, b.id]
        assert [h.reviewer for h in hist] == ["A", "B"]
        weights = a.files["model-00001-of-00002.safetensors"]["sha256"]
        assert sorted(reg.containing(weights)) == sorted(
            [(a.id, "model-00001-of-00002.safetensors"), (b.id, "model-00001-of-00002.safetensors")]
        )
        with pytest.raises(InputError, match="no such record"):
            reg.get("ffffffff")
        with pytest.raises(InputError, match="not a record id"):
            reg.get("xyz")
        with pytest.raises(InputError, match="write record"):
            reg.add(a)  # same id twice: refused, append-only


def test_ambiguous_prefix(release_dir: Path) -> None:
    base = build_record(release_dir).to_json()
    with Registry() as reg:
        for tail in ("0" * 28, "1" * 28):
            reg.add(Record.load(seal(dict(base, record_id="abcd" + tail))))
        with pytest.raises(InputError, match="ambiguous"):
            reg.get("abcd")
        assert reg.get("abcd1").id == "abcd" + "1" * 28


def test_append_only_enforced_by_database(release_dir: Path, isolated: Path) -> None:
    rec = build_record(release_dir)
    with Registry() as reg:
        reg.add(rec)
    db = sqlite3.connect(isolated / "registry.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for stmt in ("UPDATE records SET reviewer='x'", "DELETE FROM records",
                 "DELETE FROM record_files", "UPDATE record_files SET size=0"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(stmt)
    db.close()


def test_corrupt_row_is_refused_on_read(release_dir: Path, isolated: Path) -> None:
    """A row written around modelclear (edited body) fails the self-hash on read."""
    rec = build_record(release_dir)
    with Registry() as reg:
        reg.add(rec)
    db = sqlite3.connect(isolated / "registry.sqlite3")
    body = json.loads(db.execute("SELECT body FROM records").fetchone()[0])
    body["reviewer"] = "someone else"
    forged = dict(body, record_id="a" * 32)
    db.execute(
        "INSERT INTO records (record_id, model_id, location, revision, created_at, reviewer,"
        " overall, record_hash, file_count, body) SELECT ?, model_id, location, revision,"
        " created_at, reviewer, overall, record_hash, 0, ? FROM records",
        ("a" * 32, json.dumps(forged)),
    )
    db.commit()
    db.close()
    with Registry() as reg, pytest.raises(RecordError, match="self-hash mismatch"):
        reg.get("aaaa")


def test_url_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELCLEAR_REGISTRY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_url().startswith("sqlite:///") and resolve_url().endswith("registry.sqlite3")
    monkeypatch.setenv("MODELCLEAR_REGISTRY", "sqlite:////env/path.db")
    assert resolve_url() == "sqlite:////env/path.db"
    assert resolve_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(InputError, match="no SQLAlchemy dialect"):
        Registry("nosuchdb://host/db")
    with pytest.raises(InputError, match="not a database URL"):
        Registry("::::://")


def test_unwritable_location_is_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError):
        Registry(str(blocker / "sub" / "reg.db"))


# The release is analysed once, in the test; each writer process then makes its records
# as `record` does after analysis: fresh id, time and note, sealed, schema-validated and
# written in its own transaction. (Re-running the analyzers 400 times would only measure
# the license engine on a shared 2-core machine, not the registry.)
WRITER = r"""
import sys, uuid
from pathlib import Path
from modelclear.record.builder import _now
from modelclear.record.model import Record, seal
from modelclear.record.registry import Registry

base = Record.from_json(Path(sys.argv[1]).read_bytes()).to_json()
reg = Registry(sys.argv[2])
for i in range(int(sys.argv[3])):
    data = dict(base, record_id=uuid.uuid4().hex, created_at=_now(), note=f"{sys.argv[4]}-{i}")
    reg.add(Record.load(seal(data)))
reg.close()
"""


def test_eight_processes_fifty_records_each(release_dir: Path, backend_url: str) -> None:
    url = backend_url
    Registry(url).close()  # created once; the writers then race on inserts only
    base = release_dir.parent / "base-record.json"
    base.write_bytes(build_record(release_dir).canonical())
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(base), url, "50", f"p{n}"],
                         env=_env(), stderr=subprocess.PIPE)
        for n in range(8)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    with Registry(url) as reg:
        records = reg.all()  # every one schema-validated, hash-checked, file rows complete
    assert len(records) == 400
    assert len({r.id for r in records}) == 400
    notes = sorted(r.data["note"] for r in records)
    assert notes == sorted(f"p{n}-{i}" for n in range(8) for i in range(50))
    _check_database(url, records=400)


def _check_database(url: str, records: int) -> None:
    """Row counts straight from the database, and SQLite's own integrity check."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url if "://" in url else f"sqlite:///{url}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar_one() == records
        assert conn.execute(text("SELECT count(*) FROM record_files")).scalar_one() == records * 5
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    engine.dispose()


KILLED = r"""
import sys
from pathlib import Path
from modelclear.record.model import Record
from modelclear.record.registry import Registry

record = Record.from_json(Path(sys.argv[1]).read_bytes())
Registry(sys.argv[2]).add(record)
"""


def test_killed_mid_write_leaves_no_partial_record(release_dir: Path, isolated: Path,
                                                   backend_url: str) -> None:
    url = backend_url
    first = build_record(release_dir, note="before")
    with Registry(url) as reg:
        reg.add(first)
    doomed = build_record(release_dir, note="doomed")
    rec_file = isolated / "doomed.json"
    rec_file.write_bytes(doomed.canonical())
    marker = isolated / "in-transaction"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(rec_file), url],
                            env=_env({PAUSE_ENV: str(marker)}), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "writer never reached the pause"
        time.sleep(0.05)
    # The record row and half its file rows are written, uncommitted: kill it there.
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Registry(url) as reg:
        assert reg.count() == 1
        assert [r.id for r in reg.all()] == [first.id]
        with pytest.raises(InputError, match="no such record"):
            reg.get(doomed.id)
        reg.add(doomed)  # the registry is writable again, and the record goes in whole
        assert reg.get(doomed.id).data == doomed.data
    _check_database(url, records=2)


@pytest.mark.skipif(not PG_URL, reason="MODELCLEAR_TEST_PG_URL not set (no PostgreSQL server)")
def test_postgresql_round_trip_and_append_only(release_dir: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    rec = build_record(release_dir, note="pg")
    with Registry(PG_URL) as reg:
        reg.add(rec)
        assert reg.get(rec.id).data == rec.data
        assert rec.id in {h.record_id for h in reg.history("example-7b")}
        for stmt in ("DELETE FROM records", "UPDATE record_files SET size = 0"):
            with pytest.raises(DBAPIError, match="append-only"), reg.engine.begin() as conn:
                conn.execute(text(stmt))
