"""compare on a release and a bare license file written by the test (no shared corpus)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modelclear.cli import main
from modelclear.demo import build_demo

OWN_LICENSE = """EXAMPLE RESEARCH LICENSE

1. Grant. You may use, copy and modify the Model for non-commercial research only.
Commercial use of any kind is not permitted.

2. Outputs. You may not use the Model or its outputs to train or improve any other
large language model.
"""


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("cmp")
    demo = build_demo(root)
    lic = root / "research-license.txt"
    lic.write_text(OWN_LICENSE, encoding="utf-8")
    return [str(demo), str(lic)]


def test_compare_json_rows(targets: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *targets, "--profile", "internal-tool", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] and data["profile"] == "internal-tool"
    assert [r["target"] for r in data["rows"]] == [targets[0], "research-license.txt"]
    keys = [c["key"] for c in data["columns"]]
    assert keys == ["license", "commercial", "scale", "fine_tuning", "outputs", "attribution",
                    "territory", "aup", "law", "verdict"]
    for row in data["rows"]:
        assert set(row["cells"]) == set(keys)
        assert row["cells"]["verdict"]["value"] in ("CLEAR", "REVIEW", "BLOCKED")
    clauses = {c["n"] for c in data["clauses"]}
    for row in data["rows"]:
        for cell in row["cells"].values():
            assert cell["clause"] is None or cell["clause"] in clauses


def test_compare_without_profile_has_no_verdict(targets: list[str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *targets, "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| Verdict |" not in md and "Clauses:" in md


def test_compare_html(targets: list[str], tmp_path: Path) -> None:
    out = tmp_path / "c.html"
    assert main(["compare", *targets, "-p", "prototype", "-f", "html", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    refs = set(re.findall(r'href="#clause-(\d+)"', html))
    assert refs <= set(re.findall(r'id="clause-(\d+)"', html))
    assert not re.search(r"<(script|link|img)\b", html)


def test_compare_terminal_and_errors(targets: list[str], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *targets]) == 0
    assert "License comparison" in capsys.readouterr().out
    assert main(["compare", targets[1], str(tmp_path / "nope.txt")]) == 2
