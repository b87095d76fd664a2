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


WRITER = r"""
import sys
from modelclear.hashing import hash_files
from modelclear.record.builder import build
from modelclear.record.registry import Registry
from modelclear.sources import open_release

release = open_release(sys.argv[1])
hashes = hash_files(release.files)
reg = Registry(sys.argv[2])
for i in range(int(sys.argv[3])):
    reg.add(build(release, hashes=hashes, run_pipeline=False, note=f"{sys.argv[4]}-{i}"))
reg.close()
"""


def test_eight_processes_fifty_records_each(release_dir: Path, isolated: Path) -> None:
    url = str(isolated / "concurrent.sqlite3")
    Registry(url).close()  # created once; the writers then race on inserts only
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(release_dir), url, "50", f"p{n}"],
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
    db = sqlite3.connect(url)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM record_files").fetchone()[0] == 400 * 5


KILLED = r"""
import sys
from pathlib import Path
from modelclear.record.model import Record
from modelclear.record.registry import Registry

record = Record.from_json(Path(sys.argv[1]).read_bytes())
Registry(sys.argv[2]).add(record)
"""


def test_killed_mid_write_leaves_no_partial_record(release_dir: Path, isolated: Path) -> None:
    url = str(isolated / "killed.sqlite3")
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
    db = sqlite3.connect(url)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM record_files").fetchone()[0] == 2 * 5


@pytest.mark.skipif(not os.environ.get("MODELCLEAR_TEST_PG_URL"),
                    reason="MODELCLEAR_TEST_PG_URL not set (no PostgreSQL server)")
def test_postgresql_round_trip_and_append_only(release_dir: Path) -> None:
    from sqlalchemy import text

    url = os.environ["MODELCLEAR_TEST_PG_URL"]
    rec = build_record(release_dir, note="pg")
    with Registry(url) as reg:
        reg.add(rec)
        assert reg.get(rec.id).data == rec.data
        assert reg.latest("example-7b").id in {h.record_id for h in reg.history("example-7b")}
        with pytest.raises(Exception, match="append-only"), reg.engine.begin() as conn:
            conn.execute(text("DELETE FROM records"))
