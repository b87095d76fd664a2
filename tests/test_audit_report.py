"""The pipeline and the audit report on a release the test builds (the demo release).

Every analyzer is optional; these tests hold whether or not a given analyzer is
installed, and check that what is missing shows up as "not analysed".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli as main

from modelclear.analyzers.policy import Status, load_profile
from modelclear.demo import build_demo
from modelclear.pipeline import run, run_target
from modelclear.reports.audit import render
from modelclear.schemas import VERSIONS
from modelclear.sources import open_release


@pytest.fixture(scope="module")
def result(demo: Path):
    return run(open_release(str(demo)), load_profile("customer-saas"))


def test_pipeline_runs_every_available_analyzer(result) -> None:
    assert result.policy is not None
    assert result.verdict in (Status.CLEAR, Status.REVIEW, Status.BLOCKED)
    for name in ("inventory", "card", "license", "security", "sizing"):
        assert name in result.analyzers
    for name, status in result.analyzers.items():
        assert status == "ok" or status.startswith(("unavailable", "failed", "skipped")), name
    # anything not analysed is a REVIEW item, never silently CLEAR
    if result.analyzers["license"] != "ok":
        assert result.policy.check("license-identified").code == "MC521"
    if result.analyzers["security"] != "ok":
        assert result.policy.check("security-scan").status is Status.REVIEW
    assert all(c.reason for c in result.policy.checks)


def test_audit_json_schema(result) -> None:
    data = json.loads(render(result, "json"))
    assert data["schema_version"] == VERSIONS["audit"]
    assert data["policy"]["verdict"] == result.verdict.value
    assert data["profile"]["name"] == "customer-saas"
    assert {f["path"] for f in data["files"]} >= {"config.json", "LICENSE", "README.md"}
    assert set(data) >= {"inventory", "card", "license", "security", "sizing", "analyzers"}


def test_markdown_is_a_pr_comment(result) -> None:
    md = render(result, "markdown")
    assert md.startswith("## modelclear audit")
    assert "**Verdict for profile `customer-saas`: " in md
    assert "| | Check | Reason | Evidence |" in md
    assert "<script" not in md and "<style" not in md
    # every table row has the same number of cells as its header
    for block in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        rows = block.strip("\n").split("\n")
        widths = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
        assert len(widths) == 1, rows[:3]


def test_html_is_self_contained(result) -> None:
    html = render(result, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "<style>" in html and "@media print" in html
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"""(src|href)=["']https?:""", html)
    assert result.verdict.value in html
    for c in result.policy.checks:
        assert f'id="check-{c.name}"' in html


def test_html_collapses_clear_checks_as_markdown_does(result) -> None:
    """A reviewer reads what is open first; the CLEAR rows are one click away (issue 17)."""
    html = render(result, "html")
    clear = [c for c in result.policy.checks if c.status.value == "CLEAR"]
    opened = [c for c in result.policy.checks if c.status.value != "CLEAR"]
    assert clear and opened
    folded = html.split('<details class="clear-checks">', 1)
    assert len(folded) == 2 and f"<summary>{len(clear)} clear checks</summary>" in folded[1]
    for c in clear:
        assert f'id="check-{c.name}"' in folded[1] and f'id="check-{c.name}"' not in folded[0]
    for c in opened:
        assert f'id="check-{c.name}"' in folded[0]


def test_html_escapes_release_text(tmp_path: Path) -> None:
    demo = build_demo(tmp_path)
    card = (demo / "README.md").read_text(encoding="utf-8")
    (demo / "README.md").write_text(card.replace("license: other",
                                                 "license: other\nbase_model: <b>x/y</b>"),
                                    encoding="utf-8")
    res = run(open_release(str(demo)), load_profile("prototype"))
    assert "<b>x/y</b>" not in render(res, "html")


def test_terminal_render(result) -> None:
    text = render(result, "terminal")
    assert "Verdict for customer-saas" in text


def test_no_profile_means_no_verdict(demo: Path) -> None:
    res = run(open_release(str(demo)))
    assert res.policy is None and res.verdict is None
    assert "No deployment profile given" in render(res, "markdown")


def test_unknown_format(result) -> None:
    with pytest.raises(ValueError):
        render(result, "pdf")


def test_cli_audit_formats(demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a.html"
    code = main(["audit", str(demo), "--profile", "customer-saas", "--format", "html", "-o",
                 str(out), "--fail-on", "never"])
    assert code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    code = main(["audit", str(demo), "--profile", "prototype", "--format", "json",
                 "--fail-on", "never"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["schema_version"] == VERSIONS["audit"]


def test_cli_check_exit_codes(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = run_target(str(demo), load_profile("customer-saas"))
    code = main(["check", str(demo), "--profile", "customer-saas", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] and data["verdict"] == res.verdict.value
    assert code == (1 if res.verdict is Status.BLOCKED else 0)
    code = main(["check", str(demo), "--profile", "customer-saas", "--fail-on", "review",
                 "--json"])
    capsys.readouterr()
    assert code == (0 if res.verdict is Status.CLEAR else 1)


def test_cli_check_needs_profile(demo: Path, tmp_path: Path, monkeypatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(demo)]) == 2
    assert "no profile" in capsys.readouterr().err
    (tmp_path / "modelclear.toml").write_text('profile = "prototype"\nignore = ["MC5"]\n')
    assert main(["check", str(demo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["profile"] == "prototype" and data["verdict"] == "CLEAR"  # everything ignored
    assert all(c["ignored"] for c in data["checks"])


def test_cli_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(tmp_path / "missing")]) == 2
    assert main(["check", str(tmp_path), "--profile", "no-such"]) == 2
    bad = tmp_path / "probes.json"
    bad.write_text("[1, 2")
    assert main(["audit", str(tmp_path), "--probe-results", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_probe_results_attach(demo: Path, tmp_path: Path) -> None:
    p = tmp_path / "probes.json"
    p.write_text(json.dumps({"schema_version": "1", "categories": [
        {"name": "harmful-refusal", "passed": True},
        {"name": "prompt-injection", "passed": False, "rate": 0.4}]}))
    from modelclear.pipeline import load_probe_results

    res = run(open_release(str(demo)), load_profile("prototype"),
              probe_results=load_probe_results(str(p)))
    c = res.policy.check("probes")
    assert c.status is Status.REVIEW and "prompt-injection" in c.reason


def test_probe_results_in_probe_command_format() -> None:
    from modelclear.analyzers.policy.checks import probe_failures

    doc = {"kind": "modelclear.probe-results", "schema_version": 1,
           "summary": {"failing_categories": []},
           "categories": [
               {"category": "harmful", "scored": 20, "passed": 19, "pass_rate": 0.95,
                "ci95": [0.76, 0.99], "below_threshold": False},
               {"category": "capability", "scored": 10, "passed": 10, "pass_rate": 1.0,
                "below_threshold": False},
               {"category": "sensitive-topics", "scored": 0, "passed": 0, "pass_rate": None,
                "below_threshold": False}]}
    fails = probe_failures(doc)
    assert fails == ["harmful: 19/20 passed (95%, 95% CI 76%–99%)"]
    doc["categories"][0]["below_threshold"] = True
    doc["summary"]["failing_categories"] = ["harmful"]
    assert probe_failures(doc) == ["harmful: pass rate 95%, below the run's threshold"]
    doc["categories"] = doc["categories"][1:]
    doc["summary"]["failing_categories"] = []
    assert probe_failures(doc) == []
    assert probe_failures({"something": "else"}) is None



@pytest.mark.parametrize("missing", ["license", "security", "sizing", "card", "inventory"])
def test_each_analyzer_can_fail_alone(demo: Path, monkeypatch, missing: str) -> None:
    import modelclear.analyzers.license.analyze as license_analyze
    from modelclear.analyzers import architecture, card, inventory, security

    def boom(*a, **k):
        raise RuntimeError(f"{missing} broke")

    module = {"license": license_analyze, "security": security,
              "sizing": architecture, "card": card, "inventory": inventory}[missing]
    monkeypatch.setattr(module, "analyze", boom)
    res = run(open_release(str(demo)), load_profile("regulated-onprem"))
    name = "architecture" if missing == "sizing" else missing
    assert res.analyzers[name].startswith("failed: RuntimeError")
    assert res.policy is not None and res.verdict is not Status.CLEAR
    expected = {"license": "license-identified", "security": "security-scan",
                "sizing": "hardware"}.get(missing)
    if expected:
        c = res.policy.check(expected)
        assert c.code == "MC521" and c.status is Status.REVIEW and "not analysed" in c.reason
    for fmt in ("json", "markdown", "html", "terminal"):
        assert render(res, fmt)


def test_failing_analyzer_is_reported_not_raised(demo: Path, monkeypatch) -> None:
    import modelclear.analyzers.security as security

    def boom(release, *a, **k):
        raise RuntimeError("scanner bug")

    monkeypatch.setattr(security, "analyze", boom)
    res = run(open_release(str(demo)), load_profile("prototype"))
    assert res.analyzers["security"].startswith("failed: RuntimeError: scanner bug")
    assert res.policy.check("security-scan").code == "MC521"


CHECK_SCHEMA = {
    "type": "object",
    "required": ["schema_version", "target", "profile", "scope", "license", "verdict", "counts",
                 "checks", "obligations", "notes", "analyzers"],
    "properties": {
        "verdict": {"enum": ["CLEAR", "REVIEW", "BLOCKED"]},
        "scope": {"enum": ["release", "license"]},
        "checks": {"type": "array", "items": {
            "type": "object",
            "required": ["code", "name", "title", "status", "reason", "ignored", "severity",
                         "evidence"],
            "properties": {
                "code": {"type": "string", "pattern": "^MC5[0-7][0-9]$"},
                "status": {"enum": ["CLEAR", "REVIEW", "BLOCKED"]},
                "evidence": {"type": "array", "items": {
                    "type": "object", "required": ["where", "quote", "note", "source"]}},
            }}},
        "obligations": {"type": "array", "items": {
            "type": "object", "required": ["code", "text", "applies", "condition", "evidence"]}},
    },
}


def test_check_json_schema(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    main(["check", str(demo), "--profile", "regulated-onprem", "--json"])
    jsonschema.validate(json.loads(capsys.readouterr().out), CHECK_SCHEMA)


def test_open_meanings(result) -> None:
    from modelclear.reports.audit import open_meanings

    got = {name: ok for name, ok, _ in open_meanings(result)}
    if result.inventory is not None:
        assert got["open weights"] is True  # the demo ships weights
        assert got["open source"] is False  # and no training code or data
    if result.analyzers["license"] == "ok":
        assert got["open license"] is False  # its own, non-OSI license


def test_view_sizing_matches_the_json_report(result) -> None:
    """The headline numbers come from the typed results; they must say what the JSON says."""
    from modelclear.reports.audit import view

    sizing = view(result)["sizing"]
    js = json.loads(render(result, "json"))
    if js["sizing"] is None:
        pytest.skip("sizing did not run")
    weights = js["sizing"]["weights_bytes"]
    assert sizing["weights"] == [(k, weights[k]) for k in ("native", "bf16", "fp8", "int8", "int4")
                                 if isinstance(weights.get(k), int)]
    assert sizing["native_format"] == weights["native_format"]
    assert sizing["kv_per_token"] == js["sizing"]["kv_cache_bytes_per_token"]
    assert sizing["total_params"] == js["params"]["total"]
    assert sizing["model_type"] == js["architecture"]["model_type"] == "mixtral"
    assert sizing["layers"] == 2
    assert sizing["grid"] and all(len(row) == len(sizing["precisions"])
                                  for _, row in sizing["grid"])


def test_view_lists_security_findings(demo: Path, tmp_path: Path) -> None:
    import os
    import pickle
    import shutil

    from modelclear.reports.audit import view

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    release = tmp_path / "evil"
    shutil.copytree(demo, release)
    (release / "evil.pkl").write_bytes(pickle.dumps(Evil()))
    v = view(run(open_release(str(release))))
    rows = [r for r in v["security"] if r["file"] == "evil.pkl"]
    assert rows and all(r["code"].startswith("MC3") for r in rows)
    assert rows[0]["status"] == "unsafe" and rows[0]["severity"]
    assert v["security_files"] >= 1
    assert v["card"]["file"] == "README.md" and v["card"]["base_model"] == []
