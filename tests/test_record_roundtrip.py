"""Records: contents, schema validation on write and read, self-hash, canonical JSON."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
import test_record_support as support
from hypothesis import given, settings
from hypothesis import strategies as st
from test_record_support import LICENSE_TEXT, build_record, write_release

from modelclear.errors import InputError
from modelclear.record.model import Record, RecordError, canonical_json, content_hash, seal
from modelclear.record.registry import Registry

isolated = support.isolated
release_dir = support.release_dir


def test_record_contents(release_dir: Path) -> None:
    rec = build_record(release_dir, reviewer="Ann Lee", note="cleared for the pilot")
    d = rec.data
    assert d["schema_version"] == 1
    assert d["model"]["id"] == "example-7b"
    assert d["model"]["source_kind"] == "local-dir"
    assert d["model"]["retrieved_at_basis"] == "file-times"
    paths = [f["path"] for f in d["files"]]
    assert paths == sorted(paths) and len(paths) == 5
    for f in d["files"]:
        data = (release_dir / f["path"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest()
        assert f["size"] == len(data)
    [doc] = d["documents"]
    assert doc["path"] == "LICENSE" and doc["kind"] == "license"
    assert doc["text"] == LICENSE_TEXT
    assert doc["sha256"] == hashlib.sha256(LICENSE_TEXT.encode()).hexdigest()
    card = d["card"]
    assert card["license"] == "other" and card["license_name"] == "example-open-model-license"
    assert card["datasets"] == ["example/pretraining-mix"]
    assert card["base_model"] == ["example/base-7b"]
    assert card["fine_tuning"]["text"].startswith("## Training data")
    assert card["evaluation"] == [{"type": "accuracy", "name": "MMLU (5-shot)", "value": 61.5,
                                   "dataset": "MMLU", "task": "text-generation"}]
    assert d["architecture"] == {"file": "config.json", "architectures": ["LlamaForCausalLM"],
                                 "model_type": "llama"}
    assert d["reviewer"] == "Ann Lee" and d["note"] == "cleared for the pilot"
    assert d["tool"]["name"] == "modelclear"
    assert set(d["analyses"]) == {"card", "architecture", "license", "policy", "security",
                                  "sizing"}
    assert d["analyses"]["policy"]["status"] == "absent"
    assert d["catalog"]["entries"] > 0 and len(d["catalog"]["digest"]) == 64
    assert d["analyses"]["license"]["status"] == "analysed"
    assert d["license"]["licenses"][0]["file"] == "LICENSE"


def test_round_trip_through_registry(release_dir: Path) -> None:
    rec = build_record(release_dir, reviewer="Ann")
    with Registry() as reg:
        reg.add(rec)
        back = reg.get(rec.id)
    assert back.data == rec.data
    assert back.record_hash == content_hash(back.data)
    # and through a JSON file, as `record -o` writes it
    again = Record.from_json(rec.canonical())
    assert again.data == rec.data


def test_self_hash_detects_any_change(release_dir: Path) -> None:
    rec = build_record(release_dir)
    tampered = copy.deepcopy(rec.to_json())
    tampered["documents"][0]["text"] = tampered["documents"][0]["text"].replace("5 million",
                                                                                "50 million")
    with pytest.raises(RecordError, match="self-hash mismatch"):
        Record.load(tampered)
    # re-sealing makes it consistent again (the hash proves integrity, not authorship)
    Record.load(seal(tampered))


def test_schema_violation_is_refused_on_read(release_dir: Path) -> None:
    rec = build_record(release_dir)
    bad = rec.to_json()
    bad["files"][0]["sha256"] = "not-a-hash"
    with pytest.raises(RecordError, match=r"\$\.files\[0\]\.sha256"):
        Record.load(seal(bad))
    extra = rec.to_json()
    extra["surprise"] = 1
    with pytest.raises(RecordError, match="schema"):
        Record.load(seal(extra))
    newer = rec.to_json()
    newer["schema_version"] = 2
    with pytest.raises(RecordError, match="schema_version 2: this modelclear reads version 1"):
        Record.load(seal(newer))
    with pytest.raises(RecordError, match="not valid JSON"):
        Record.from_json(b"{not json")


def test_canonical_json_is_order_independent_and_compact() -> None:
    a = {"b": [1, {"y": "é", "x": None}], "a": 0.5}
    b = {"a": 0.5, "b": [1, {"x": None, "y": "é"}]}
    assert canonical_json(a) == canonical_json(b) == '{"a":0.5,"b":[1,{"x":null,"y":"é"}]}'.encode()
    with pytest.raises(RecordError, match="nan"):
        canonical_json({"x": float("nan")})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_json_round_trips(value: object) -> None:
    raw = canonical_json(value)
    assert canonical_json(json.loads(raw)) == raw


def test_undecodable_and_oversized_documents(isolated: Path, monkeypatch) -> None:
    root = write_release(isolated / "rel")
    (root / "LICENSE").write_bytes(b"caf\xe9 license\n")
    (root / "NOTICE").write_text("notice text\n")
    rec = build_record(root)
    docs = {d["path"]: d for d in rec.data["documents"]}
    assert docs["LICENSE"]["text"] is None
    assert "not valid UTF-8 at byte 3" in docs["LICENSE"]["text_omitted"]
    assert docs["NOTICE"]["kind"] == "notice" and docs["NOTICE"]["text"] == "notice text\n"
    from modelclear.record import builder

    monkeypatch.setattr(builder, "MAX_DOCUMENT_BYTES", 5)
    rec = build_record(root)
    assert all(d["text"] is None and "more than the 5" in d["text_omitted"]
               for d in rec.data["documents"])


def test_retrieved_at_given_and_invalid(release_dir: Path) -> None:
    rec = build_record(release_dir, retrieved_at="2025-01-20T10:00:00")
    assert rec.data["model"]["retrieved_at"] == "2025-01-20T10:00:00+00:00"
    assert rec.data["model"]["retrieved_at_basis"] == "given"
    with pytest.raises(InputError, match="not an ISO 8601 time"):
        build_record(release_dir, retrieved_at="last tuesday")


def test_missing_and_failing_analyzers_never_crash(release_dir: Path, monkeypatch) -> None:
    """Each section is optional: a broken pipeline or license analyzer leaves it null."""
    import modelclear.analyzers.license.analyze as license_analyze
    from modelclear.analyzers import security
    from modelclear.record import builder

    def scan(*args, **kwargs):
        raise RuntimeError("boom")

    def analyze(release, **kwargs):
        raise ValueError("license engine bug")

    monkeypatch.setattr(security, "analyze", scan)
    monkeypatch.setattr(license_analyze, "analyze", analyze)
    rec = builder.build(
        __import__("modelclear.sources", fromlist=["open_release"]).open_release(
            str(release_dir)),
        profile=None,
    )
    a = rec.data["analyses"]
    assert a["license"]["status"] == "failed" and "license engine bug" in a["license"]["detail"]
    assert a["security"]["status"] == "failed" and "boom" in a["security"]["detail"]
    assert rec.data["license"] is None and rec.data["security"] is None
    assert rec.data["files"] and rec.data["documents"]  # the core of the record is intact


def test_record_changed_while_recording_is_refused(release_dir: Path) -> None:
    from modelclear.hashing import hash_files
    from modelclear.record.builder import build
    from modelclear.sources import open_release

    release = open_release(str(release_dir))
    hashes = hash_files(release.files, use_cache=False)
    hashes["LICENSE"] = "0" * 64  # as if the file changed between hashing and reading
    with pytest.raises(InputError, match="changed while the record was being made"):
        build(release, hashes=hashes, run_pipeline=False)


def test_cli_record_output_file_and_show_it(release_dir: Path, isolated: Path) -> None:
    from typer.testing import CliRunner

    from modelclear.cli import app, main

    out = isolated / "rec.json"
    runner = CliRunner()
    res = runner.invoke(app, ["record", str(release_dir), "-q", "--note", "n1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rec = Record.from_json(out.read_bytes(), str(out))
    assert rec.data["note"] == "n1"
    res = runner.invoke(app, ["show", str(out), "--json"])
    assert json.loads(res.output)["record_hash"]["value"] == rec.record_hash
    data = json.loads(out.read_text())
    data["note"] = "edited"
    out.write_text(json.dumps(data))
    assert main(["show", str(out)]) == 2  # self-hash mismatch: refused, one-line error


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_input_is_refused_cleanly(raw: bytes) -> None:
    """Anything that is not a sealed, schema-valid record is a RecordError, never a crash."""
    with pytest.raises(RecordError):
        Record.from_json(raw, "fuzz.json")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_single_edit_of_a_record_is_detected(fuzz_base: Record,
                                                 data: st.DataObject) -> None:
    """Change one value anywhere in a valid record: refused on read."""
    base = fuzz_base.to_json()
    paths: list[tuple] = []

    def walk(node: object, path: tuple) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(base, ())
    path = data.draw(st.sampled_from(paths[1:]))
    parent = base
    for key in path[:-1]:
        parent = parent[key]
    old = parent[path[-1]]
    new = data.draw(json_values.filter(lambda v: v != old or type(v) is not type(old)))
    parent[path[-1]] = new
    with pytest.raises(RecordError):
        Record.load(base)


@pytest.fixture(scope="module")
def fuzz_base(tmp_path_factory: pytest.TempPathFactory) -> Record:
    """One record for the mutation fuzz (hashed without the user's hash cache)."""
    from modelclear.hashing import hash_files
    from modelclear.sources import open_release

    root = write_release(tmp_path_factory.mktemp("fuzz") / "rel")
    hashes = hash_files(open_release(str(root)).files, use_cache=False)
    return build_record(root, reviewer="fuzz", hashes=hashes)


def test_registry_on_a_file_that_is_not_a_database(isolated: Path) -> None:
    bogus = isolated / "not-a-db.sqlite3"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="cannot open registry"):
        Registry(str(bogus))


def test_license_found_under_an_unusual_name_is_kept(release_dir: Path, monkeypatch) -> None:
    """A file the license analyzer identified is a document even if its name says nothing."""
    import modelclear.analyzers.license.analyze as license_analyze
    from modelclear.analyzers.license.model import LicenseMatch, LicenseReport

    (release_dir / "terms.txt").write_text("Permission is hereby granted, free of charge\n")
    fake = lambda release, **kwargs: LicenseReport(licenses=(  # noqa: E731
        LicenseMatch(id="MIT", title="MIT License", kind="license", match="exact",
                     confidence=1.0, file="terms.txt"),
        LicenseMatch(id="MIT", title="MIT License", kind="license", match="partial",
                     confidence=0.5, file="README.md"),
    ))
    monkeypatch.setattr(license_analyze, "analyze", fake)
    rec = build_record(release_dir)
    docs = {d["path"]: d["kind"] for d in rec.data["documents"]}
    assert docs == {"LICENSE": "license", "terms.txt": "license"}  # not the model card


def test_undecodable_file_name_is_an_input_error(release_dir: Path) -> None:
    import os

    from modelclear.record.verify import verify
    from modelclear.sources import open_release

    rec = build_record(release_dir)
    try:
        (release_dir / os.fsdecode(b"weights-\xff.bin")).write_bytes(b"x")
    except (OSError, UnicodeError):
        pytest.skip("filesystem refuses non-UTF-8 names")
    with pytest.raises(InputError, match="not valid UTF-8"):
        build_record(release_dir)
    with pytest.raises(InputError, match="not valid UTF-8"):
        verify(open_release(str(release_dir)), rec)


def test_show_prints_a_dash_for_missing_term_values(release_dir: Path) -> None:
    """``show`` prints absence as ``license`` does: a dash, never Python's None."""
    import io

    from rich.console import Console

    from modelclear.reports.record import record_details

    rec = build_record(release_dir)
    assert any(t.get("value") is None for m in rec.data["license"]["licenses"]
               for t in (m.get("terms") or {}).values())
    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(record_details(rec))
    table = buf.getvalue().split("license terms", 1)[1]
    assert "None" not in table and "—" in table
