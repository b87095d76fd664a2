"""`verify`: exactly what changed since the record, and nothing else."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import test_record_support as support
from test_record_support import build_record
from typer.testing import CliRunner

from modelclear.record.registry import Registry
from modelclear.record.verify import verify
from modelclear.sources import open_release

isolated = support.isolated
release_dir = support.release_dir

WEIGHTS = "model-00002-of-00002.safetensors"


def _codes(report) -> list[str]:
    return [f.code for f in report.findings]


def _flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0x01]))


def test_unchanged_release_reads_nothing(release_dir: Path) -> None:
    rec = build_record(release_dir)
    report = verify(open_release(str(release_dir)), rec)
    assert not report.drifted and report.findings == ()
    assert report.files_checked == 5
    assert report.files_read == 0  # every hash came from the cache


def test_one_byte_in_one_weights_file(release_dir: Path) -> None:
    rec = build_record(release_dir)
    target = release_dir / WEIGHTS
    _flip_byte(target, target.stat().st_size - 3)
    report = verify(open_release(str(release_dir)), rec)
    assert [(c.path, c.status) for c in report.files] == [(WEIGHTS, "changed")]
    assert _codes(report) == ["MC180"]
    change = report.files[0]
    assert change.old_sha256 == rec.files[WEIGHTS]["sha256"]
    assert change.new_sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    assert change.old_size == change.new_size
    assert report.documents == () and report.card == ()
    assert report.files_read == 1  # only the touched file was read again


def test_license_clause_edit_shows_diff_and_term(release_dir: Path) -> None:
    rec = build_record(release_dir)
    lic = release_dir / "LICENSE"
    lic.write_text(lic.read_text().replace("more than 5 million monthly active users",
                                           "more than 50 million monthly active users"))
    report = verify(open_release(str(release_dir)), rec)
    assert [(c.path, c.status) for c in report.files] == [("LICENSE", "changed")]
    [doc] = report.documents
    assert doc.path == "LICENSE" and doc.status == "changed"
    removed = [ln for ln in doc.diff if ln.startswith("-") and not ln.startswith("---")]
    added = [ln for ln in doc.diff if ln.startswith("+") and not ln.startswith("+++")]
    assert removed == ["-2. Scale. If your products had more than 5 million monthly active users"
                       " in the"]
    assert added == ["+2. Scale. If your products had more than 50 million monthly active users"
                     " in the"]
    assert doc.diff[0] == "--- recorded/LICENSE" and doc.diff[1] == "+++ now/LICENSE"
    codes = _codes(report)
    assert codes[:2] == ["MC180", "MC183"]
    assert doc.terms_compared
    assert "mau_threshold" in {t.term for t in doc.terms}, doc.terms
    mau = next(t for t in doc.terms if t.term == "mau_threshold")
    assert (mau.old, mau.new) == (5_000_000, 50_000_000)
    assert "MC184" in codes


def test_added_and_removed_files(release_dir: Path) -> None:
    rec = build_record(release_dir)
    (release_dir / "extra_model.bin").write_bytes(b"\x80\x02}q\x00.")
    (release_dir / "config.json").unlink()
    report = verify(open_release(str(release_dir)), rec)
    assert sorted((c.path, c.status) for c in report.files) == [
        ("config.json", "removed"), ("extra_model.bin", "added")]
    assert sorted(_codes(report)) == ["MC181", "MC182"]
    added = next(c for c in report.files if c.status == "added")
    assert added.new_size == 6 and added.old_sha256 is None


def test_added_license_document(release_dir: Path) -> None:
    rec = build_record(release_dir)
    (release_dir / "NOTICE").write_text("Portions copyright Example Labs.\n")
    report = verify(open_release(str(release_dir)), rec)
    assert [(d.path, d.kind, d.status) for d in report.documents] == [
        ("NOTICE", "notice", "added")]
    assert _codes(report) == ["MC181"]


def test_removed_license_document(release_dir: Path) -> None:
    rec = build_record(release_dir)
    (release_dir / "LICENSE").unlink()
    report = verify(open_release(str(release_dir)), rec)
    assert [(d.path, d.status) for d in report.documents] == [("LICENSE", "removed")]
    assert _codes(report) == ["MC182"]


def test_card_license_field_changed(release_dir: Path) -> None:
    rec = build_record(release_dir)
    card = release_dir / "README.md"
    card.write_text(card.read_text().replace("license: other", "license: apache-2.0"))
    report = verify(open_release(str(release_dir)), rec)
    assert [(c.field, c.old, c.new, c.line) for c in report.card] == [
        ("license", "other", "apache-2.0", 2)]
    assert sorted(_codes(report)) == ["MC180", "MC185"]


def test_unreadable_card_is_drift_not_a_crash(release_dir: Path) -> None:
    rec = build_record(release_dir)
    (release_dir / "README.md").write_bytes(b"---\nlicense: mit\n---\n\xff\xfe bad")
    report = verify(open_release(str(release_dir)), rec)
    assert [(c.field, c.old) for c in report.card] == [("card", "readable")]
    assert "not valid UTF-8" in report.card[0].new
    assert sorted(_codes(report)) == ["MC180", "MC185"]


def _snapshot(cache: Path, repo: str, commit: str, files: dict[str, bytes],
              refs: tuple[str, ...] = (), mtime: float | None = None) -> None:
    """Lay out a snapshot the way huggingface_hub writes it (blobs + symlinks + refs)."""
    base = cache / f"models--{repo.replace('/', '--')}"
    for name, data in files.items():
        blob = base / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        if mtime is not None:
            os.utime(blob, (mtime, mtime))
        link = base / "snapshots" / commit / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    for ref in refs:
        (base / "refs").mkdir(parents=True, exist_ok=True)
        (base / "refs" / ref).write_text(commit)


def test_newer_revision_in_hf_cache(isolated: Path) -> None:
    cache = isolated / "hf"
    old, new = "a" * 40, "b" * 40
    files = {"config.json": b'{"model_type": "llama"}', "LICENSE": b"Example license v1\n",
             "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "}
    _snapshot(cache, "example/model", old, files, mtime=1_700_000_000)
    rec = build_record("example/model@" + old)
    assert rec.revision == old and rec.data["model"]["source_kind"] == "hf-cache"
    assert rec.data["model"]["retrieved_at_basis"] == "hf-cache-file-times"
    report = verify(open_release("example/model@" + old), rec)
    assert not report.drifted

    newer = dict(files, **{"LICENSE": b"Example license v2\n"})
    _snapshot(cache, "example/model", new, newer, refs=("main",), mtime=1_800_000_000)
    report = verify(open_release("example/model@" + old), rec)
    assert _codes(report) == ["MC186"]
    assert report.revision.newer_in_cache == (new,)
    assert report.revision.refs == {"main": new}

    # verifying the new main against the old record: revision differs, license changed
    report = verify(open_release("example/model"), rec)
    codes = _codes(report)
    assert codes[0] == "MC187"
    assert "MC180" in codes and "MC183" in codes and "MC186" not in codes
    assert report.revision.current == new


def test_cli_record_verify_exit_codes(release_dir: Path, isolated: Path) -> None:
    from modelclear.cli import app, main

    runner = CliRunner()
    res = runner.invoke(app, ["record", str(release_dir), "-q", "--reviewer", "Ann"])
    assert res.exit_code == 0, res.output
    assert "record " in res.output
    res = runner.invoke(app, ["verify", str(release_dir), "-q"])
    assert res.exit_code == 0, res.output
    assert "no drift" in res.output
    _flip_byte(release_dir / WEIGHTS, 100)
    res = runner.invoke(app, ["verify", str(release_dir), "-q"])
    assert res.exit_code == 1, res.output
    assert WEIGHTS in res.output and "CHANGED" in res.output
    res = runner.invoke(app, ["verify", str(release_dir), "--fail-on", "critical", "-q"])
    assert res.exit_code == 0  # MC180 is high, below critical
    res = runner.invoke(app, ["verify", str(release_dir), "--json"])
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data["schema_version"] == 1 and data["drifted"] is True
    assert [f["path"] for f in data["files"]] == [WEIGHTS]
    # --record picks an explicit record; a model never recorded is an input error (exit 2)
    with Registry() as reg:
        rid = reg.history()[0].record_id
    res = runner.invoke(app, ["verify", str(release_dir), "--record", rid[:6], "--json"])
    assert json.loads(res.output)["record_id"] == rid
    other = support.write_release(isolated / "never-recorded")
    assert main(["verify", str(other), "-q"]) == 2
    assert main(["verify", str(release_dir), "--fail-on", "sometimes"]) == 2


def test_cli_history_show(release_dir: Path) -> None:
    from modelclear.cli import app, main

    runner = CliRunner()
    for who in ("Ann", "Bo"):
        assert runner.invoke(app, ["record", str(release_dir), "-q", "--reviewer", who]
                             ).exit_code == 0
    res = runner.invoke(app, ["history", "example-7b", "--json"])
    data = json.loads(res.output)
    assert data["schema_version"] == 1
    assert [r["reviewer"] for r in data["records"]] == ["Ann", "Bo"]
    res = runner.invoke(app, ["history", str(release_dir)])
    assert res.exit_code == 0 and "Ann" in res.output
    rid = data["records"][1]["record_id"]
    res = runner.invoke(app, ["show", rid[:8], "--json"])
    assert json.loads(res.output)["record_id"] == rid
    res = runner.invoke(app, ["show", rid[:8]])
    assert res.exit_code == 0 and rid in res.output
    assert main(["show", "0000dead"]) == 2


def test_cli_verify_honours_configuration(release_dir: Path, isolated: Path) -> None:
    from modelclear.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["record", str(release_dir), "-q"]).exit_code == 0
    _flip_byte(release_dir / WEIGHTS, 200)
    (release_dir / "extra.txt").write_text("x")
    cfg = isolated / "modelclear.toml"
    cfg.write_text('ignore = ["MC180"]\n[severity]\nMC181 = "critical"\n')
    res = runner.invoke(app, ["verify", str(release_dir), "--config", str(cfg), "--json",
                              "--fail-on", "critical"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.output)
    assert [(f["code"], f["severity"]) for f in data["findings"]] == [("MC181", "critical")]
    assert data["ignored"] == ["MC180"]
    cfg.write_text('ignore = ["MC18"]\n')
    res = runner.invoke(app, ["verify", str(release_dir), "--config", str(cfg)])
    assert res.exit_code == 0 and "ignored by configuration: MC180, MC181" in res.output
