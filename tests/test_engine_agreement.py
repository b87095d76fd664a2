"""One engine: inspect, audit, check, record and export agree on one release's findings.

Before the engine, each command sequenced analyzers itself and they drifted: a wrong
``total_size`` in the shard index was MC130 in ``inspect`` and absent from ``audit``.
These tests run the real commands and compare what they say.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modelclear.cli import main
from modelclear.demo import build_demo
from modelclear.engine import Engine, RunOptions, StageState
from modelclear.engine import stages as st
from modelclear.sources import open_release


def _key(f: dict) -> tuple:
    return (f["code"], f.get("file"), f.get("line"), f.get("offset"), f["message"])


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr().out
    assert code in (0, 1), out
    return json.loads(out)


def _findings_by_command(target: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> dict[str, set[tuple]]:
    registry = str(tmp_path / "registry.db")
    inspect = _json(["inspect", str(target), "--json"], capsys)
    audit = _json(["audit", str(target), "--format", "json", "-p", "internal-tool"], capsys)
    record = _json(["record", str(target), "--json", "-p", "internal-tool", "--registry",
                    registry], capsys)
    return {
        "inspect": {_key(f) for f in inspect["findings"]},
        "audit": {_key(f) for f in audit["findings"]},
        "record": {_key(f) for f in record["findings"]},
    }


def _assert_agree(found: dict[str, set[tuple]]) -> None:
    assert found["inspect"] <= found["audit"], found["inspect"] - found["audit"]
    assert found["audit"] == found["record"], found["audit"] ^ found["record"]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return build_demo(tmp_path / "demo")


def test_commands_agree_on_the_demo_with_a_wrong_index_total(
        demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = next(demo.glob("*.safetensors.index.json"))
    data = json.loads(index.read_text())
    data["metadata"]["total_size"] += 4096
    index.write_text(json.dumps(data))
    found = _findings_by_command(demo, tmp_path, capsys)
    _assert_agree(found)
    for command, keys in found.items():
        assert "MC130" in {k[0] for k in keys}, command


def test_configuration_applies_to_every_command(
        demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    index = next(demo.glob("*.safetensors.index.json"))
    data = json.loads(index.read_text())
    data["metadata"]["total_size"] += 4096
    index.write_text(json.dumps(data))
    (tmp_path / "modelclear.toml").write_text('ignore = ["MC130"]\n')
    monkeypatch.chdir(tmp_path)
    found = _findings_by_command(demo, tmp_path, capsys)
    _assert_agree(found)
    for command, keys in found.items():
        assert "MC130" not in {k[0] for k in keys}, command


def test_each_stage_runs_once_per_engine(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    from modelclear.analyzers import card

    real = card.analyze

    def counting(release):  # type: ignore[no-untyped-def]
        calls.append("card")
        return real(release)

    monkeypatch.setattr(card, "analyze", counting)
    from modelclear.analyzers.policy import load_profile
    from modelclear.record.builder import build

    build(open_release(str(demo)), profile=load_profile("internal-tool"))
    assert calls == ["card"]


def test_a_stage_must_declare_what_it_reads(demo: Path) -> None:
    sneaky = st.Stage("sneaky", (), lambda e: e.need(st.INVENTORY))
    engine = Engine(open_release(str(demo)), RunOptions())
    assert engine.get(sneaky) is None
    outcome = engine.outcome(sneaky)
    assert outcome is not None and outcome.state is StageState.FAILED
    assert "without declaring" in (outcome.detail or "")


def test_a_failed_dependency_skips_with_its_reason(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(release):  # type: ignore[no-untyped-def]
        raise RuntimeError("config reader bug")

    from modelclear.analyzers import architecture

    monkeypatch.setattr(architecture, "analyze", broken)
    engine = Engine(open_release(str(demo)), RunOptions())
    assert engine.get(st.SIZING) is None
    sizing = engine.outcome(st.SIZING)
    assert sizing is not None and sizing.state is StageState.SKIPPED
    assert sizing.text == "skipped: architecture failed (RuntimeError: config reader bug)"


def _corpus_models(shared_root: Path) -> list[Path]:
    models = shared_root / "corpus" / "models"
    return sorted(p for p in models.iterdir() if (p / "config.json").is_file())


def test_commands_agree_on_corpus_configs(
        shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    licenses = sorted((shared / "corpus" / "licenses").glob("*.txt"))
    for i, model in enumerate(_corpus_models(shared)):
        release = tmp_path / model.name
        release.mkdir()
        shutil.copy(model / "config.json", release / "config.json")
        shutil.copy(licenses[i % len(licenses)], release / "LICENSE")
        _assert_agree(_findings_by_command(release, tmp_path / f"reg-{i}", capsys))


def _versions(value: object, path: str = "") -> list[str]:
    """Every place a schema_version appears in a JSON value."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            where = f"{path}/{k}"
            if k == "schema_version":
                found.append(where)
            found += _versions(v, where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _versions(v, f"{path}/{i}")
    return found


@pytest.mark.parametrize(("kind", "argv"), [
    ("inspect", ["inspect", "{t}", "--json"]),
    ("audit", ["audit", "{t}", "--format", "json", "-p", "customer-saas"]),
    ("check", ["check", "{t}", "--json", "-p", "customer-saas"]),
    ("license", ["license", "{t}", "--json"]),
    ("scan", ["scan", "{t}", "--json", "--fail-on", "never"]),
    ("plan", ["plan", "{t}", "--json"]),
    ("codes", ["codes", "--json"]),
])
def test_each_document_has_one_schema_version(
        kind: str, argv: list[str], demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from modelclear.schemas import VERSIONS

    doc = _json([a.replace("{t}", str(demo)) for a in argv], capsys)
    assert _versions(doc) == ["/schema_version"]
    assert doc["schema_version"] == VERSIONS[kind]
