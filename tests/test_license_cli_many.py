"""``modelclear license`` with several targets, and on a folder of license texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_license_cli import OWN

from modelclear.cli import main
from modelclear.schemas import VERSIONS

MIT_LIKE = """\
Permission is hereby granted, free of charge, to any person obtaining a copy of these
weights, to deal in them without restriction, including the rights to use, copy, modify and
sell copies, provided that this notice is included in all copies.
"""


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out


def test_several_files_make_a_license_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "A-LICENSE", tmp_path / "B-LICENSE"
    a.write_text(OWN)
    b.write_text(MIT_LIKE)
    data = json.loads(_run(capsys, ["license", str(a), str(b), "--json"]))
    assert data["schema_version"] == VERSIONS["license-set"]
    assert [r["target"] for r in data["reports"]] == ["A-LICENSE", "B-LICENSE"]
    assert all("schema_version" not in r for r in data["reports"])
    first = data["reports"][0]["licenses"][0]["terms"]
    assert first["commercial_use"]["value"] == "no"


def test_one_file_keeps_the_license_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "LICENSE"
    f.write_text(OWN)
    data = json.loads(_run(capsys, ["license", str(f), "--json"]))
    assert data["schema_version"] == VERSIONS["license"] and "licenses" in data


def test_a_folder_of_texts_reads_every_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one.txt").write_text(OWN)
    (tmp_path / "two.md").write_text(MIT_LIKE)
    (tmp_path / "README.md").write_text("These are license texts.\n")
    (tmp_path / "labels.jsonl").write_text("{}\n")
    data = json.loads(_run(capsys, ["license", str(tmp_path), "--json"]))
    assert [Path(r["target"]).name for r in data["reports"]] == ["one.txt", "two.md"]
    out = _run(capsys, ["license", str(tmp_path)])
    assert "one.txt" in out and "two.md" in out


def test_a_folder_with_a_model_is_a_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "LICENSE").write_text(OWN)
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    data = json.loads(_run(capsys, ["license", str(tmp_path), "--json"]))
    assert data["schema_version"] == VERSIONS["license"]
    assert data["licenses"][0]["file"] == "LICENSE"


def test_a_bad_target_among_many_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "LICENSE"
    f.write_text(OWN)
    bad = tmp_path / "NOTICE"
    bad.write_bytes(b"\xff\xfe\x00bad")
    capsys.readouterr()
    assert main(["license", str(f), str(bad), "--json"]) == 2
    err = capsys.readouterr().err
    assert "NOTICE" in err and "Traceback" not in err
