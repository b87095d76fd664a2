"""CycloneDX 1.6 ML-BOM export, validated with cyclonedx-python-lib's JSON validator."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import test_record_support as support
from conftest import SHARED
from test_record_support import build_record
from typer.testing import CliRunner

from modelclear.reports import cyclonedx as cx

isolated = support.isolated
release_dir = support.release_dir


def _model(doc: dict) -> dict:
    model = doc["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["bom-ref"] == "model"
    assert all(c["type"] == "file" for c in doc["components"])
    return model


def test_fixture_release_bom(release_dir: Path) -> None:
    rec = build_record(release_dir, reviewer="Ann")
    doc = cx.to_cyclonedx(rec)
    assert cx.validate(doc) is None
    assert doc["specVersion"] == "1.6" and doc["bomFormat"] == "CycloneDX"
    assert doc["serialNumber"] == "urn:uuid:" + str(__import__("uuid").UUID(hex=rec.id))
    model = _model(doc)
    assert model["name"] == "example-7b" and "version" not in model  # no hub revision
    # the model hash is sha256sum's output over all files, sorted by path
    lines = "".join(
        f"{hashlib.sha256((release_dir / p).read_bytes()).hexdigest()}  {p}\n"
        for p in sorted(f["path"] for f in rec.data["files"])
    )
    assert model["hashes"] == [{"alg": "SHA-256",
                                "content": hashlib.sha256(lines.encode()).hexdigest()}]
    files = {c["name"]: c for c in doc["components"]}
    assert set(files) == {f["path"] for f in rec.data["files"]}
    assert all(c["type"] == "file" for c in files.values())
    assert files["LICENSE"]["hashes"][0]["content"] == rec.files["LICENSE"]["sha256"]
    refs = {(r["type"], r["url"].rsplit("/", 1)[-1]) for r in model["externalReferences"]}
    assert ("model-card", "README.md") in refs and ("license", "LICENSE") in refs
    card = model["modelCard"]
    params = card["modelParameters"]
    assert params["task"] == "text-generation"
    assert params["modelArchitecture"] == "LlamaForCausalLM"
    assert params["architectureFamily"] == "llama"
    names = [d["name"] for d in params["datasets"]]
    assert names == ["example/pretraining-mix", "base model: example/base-7b"]
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "MMLU (5-shot)", "value": "61.5", "slice": "MMLU"}]
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["modelclear:record-id"] == rec.id and props["modelclear:reviewer"] == "Ann"
    # a license is always present: analysed, declared by the card, or the file's text
    assert model["licenses"]


def test_validator_rejects_a_broken_model_card(release_dir: Path) -> None:
    doc = cx.to_cyclonedx(build_record(release_dir))
    _model(doc)["modelCard"]["modelParameters"]["task"] = ["not", "a", "string"]
    assert cx.validate(doc) is not None


def test_hub_revision_is_the_version(isolated: Path) -> None:
    from test_verify_drift import _snapshot

    commit = "c" * 40
    _snapshot(isolated / "hf", "example/model", commit,
              {"config.json": b"{}", "LICENSE": b"MIT-ish\n"}, refs=("main",))
    rec = build_record("example/model")
    doc = cx.to_cyclonedx(rec)
    assert cx.validate(doc) is None
    model = _model(doc)
    assert model["version"] == commit and model["group"] == "example"
    assert model["purl"] == f"pkg:huggingface/example/model@{commit}"
    urls = [r["url"] for r in model["externalReferences"]]
    assert f"https://huggingface.co/example/model/blob/{commit}/LICENSE" in urls


def test_demo_release_bom_validates(isolated: Path) -> None:
    from modelclear.demo import build_demo

    root = build_demo(isolated / "demo")
    rec = build_record(root)
    doc = cx.to_cyclonedx(rec)
    assert cx.validate(doc) is None, cx.validate(doc)
    model = _model(doc)
    assert model["modelCard"]["modelParameters"]["modelArchitecture"] == "MixtralForCausalLM"
    assert len(doc["components"]) == len(rec.data["files"])
    # the demo license is not a standard one: its full text travels in the BOM
    texts = [lic["license"].get("text", {}).get("content", "") for lic in model["licenses"]
             if "license" in lic]
    assert any("ACME DEMO MODEL LICENSE" in t for t in texts)


@pytest.mark.skipif(not (SHARED / "corpus" / "licenses").is_dir(), reason="no ../shared corpus")
@pytest.mark.parametrize("license_file,aup,hub_id", [
    ("llama-3.1-community-license.txt", "llama-3.1-acceptable-use-policy.txt", "llama3.1"),
    ("apache-2.0-qwen.txt", None, "apache-2.0"),
    ("tongyi-qianwen-license.txt", None, "other"),
])
def test_corpus_license_release_bom_validates(isolated: Path, license_file: str,
                                              aup: str | None, hub_id: str) -> None:
    corpus = SHARED / "corpus" / "licenses"
    root = support.write_release(isolated / "corpus-model")
    shutil.copy(corpus / license_file, root / "LICENSE")
    if aup:
        shutil.copy(corpus / aup, root / "USE_POLICY.md")
    card = root / "README.md"
    card.write_text(card.read_text().replace("license: other", f"license: {hub_id}"))
    rec = build_record(root)
    doc = cx.to_cyclonedx(rec)
    assert cx.validate(doc) is None, cx.validate(doc)
    model = _model(doc)
    licenses = [lic["license"] for lic in model["licenses"]]
    if hub_id == "apache-2.0":
        assert {"id": "Apache-2.0", "acknowledgement": "declared"} in licenses or any(
            lic.get("id") == "Apache-2.0" for lic in licenses)
    if hub_id != "apache-2.0":
        attached = [lic for lic in licenses if lic.get("text")]
        assert attached and all(lic["name"].startswith("LicenseRef-") for lic in attached)
        assert model["modelCard"]["considerations"]["ethicalConsiderations"]
    if aup:
        kinds = {d["path"]: d["kind"] for d in rec.data["documents"]}
        assert kinds == {"LICENSE": "license", "USE_POLICY.md": "acceptable-use-policy"}


def test_cli_export_cyclonedx_to_file_and_stdout(release_dir: Path, isolated: Path) -> None:
    from modelclear.cli import app, main

    runner = CliRunner()
    res = runner.invoke(app, ["record", str(release_dir), "--json"])
    rid = json.loads(res.output)["record_id"]
    out = isolated / "bom.json"
    res = runner.invoke(app, ["export", rid[:8], "--format", "cyclonedx", "-o", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert cx.validate(doc) is None
    assert {p["value"] for p in _model(doc)["properties"]
            if p["name"] == "modelclear:record-id"} == {rid}
    # a release that was never recorded exports from a record made on the fly
    res = runner.invoke(app, ["export", str(release_dir), "--format", "cyclonedx", "-q"])
    assert res.exit_code == 0 and cx.validate(res.output) is None
    assert main(["export", str(release_dir), "--format", "spdx"]) == 2


def test_single_gguf_file_bom(isolated: Path) -> None:
    """A bare GGUF file: architecture and declared license come from its metadata."""
    from modelclear.demo import build_demo

    root = build_demo(isolated / "demo")
    [gguf] = sorted(root.glob("*.gguf"))
    rec = build_record(gguf, run_pipeline=True)
    assert rec.data["model"]["source_kind"] == "gguf"
    assert [f["path"] for f in rec.data["files"]] == [gguf.name]
    doc = cx.to_cyclonedx(rec)
    assert cx.validate(doc) is None
    model = _model(doc)
    assert model["modelCard"]["modelParameters"]["architectureFamily"] == "llama"
    declared = rec.data["license"]["declared"]["gguf_license"]
    assert {"license": {"acknowledgement": "declared", "name": f"LicenseRef-gguf-{declared}"}
            } in model["licenses"]


def test_restrictions_and_obligations_in_model_card(release_dir: Path) -> None:
    rec = build_record(release_dir)
    restrictions, obligations = cx.restrictions_and_obligations(rec)
    assert any("mau threshold: 5000000" in r and "LICENSE:7" in r for r in restrictions)
    assert any("attribution required: yes (Built with Example)" in o for o in obligations)
    risks = _model(cx.to_cyclonedx(rec))["modelCard"]["considerations"]["ethicalConsiderations"]
    assert {r["name"] for r in risks} == (
        {f"Use restriction: {r}" for r in restrictions}
        | {f"Obligation: {o}" for o in obligations})


def _code_and_model_release(root: Path, readme: str) -> Path:
    from test_policy_governing import MIT_TEXT, release

    from modelclear.demo import LICENSE as MODEL_TEXT

    return Path(release(root, {"LICENSE": MIT_TEXT, "MODEL_LICENSE": MODEL_TEXT}, readme))


def test_only_the_governing_license_is_the_models(isolated: Path) -> None:
    """A code license beside a model license: the model carries only the model license,
    the code license sits on its own file component (issue 17)."""
    root = _code_and_model_release(
        isolated / "r", "The code is licensed under the MIT License (LICENSE).\n"
        "The model weights are licensed under the Acme Demo Model License "
        "(see MODEL_LICENSE).\n")
    rec = build_record(root)
    gov = rec.data["license"]["governing"]
    assert gov["sure"] and gov["file"] == "MODEL_LICENSE" and "README" in gov["basis"]
    doc = cx.to_cyclonedx(rec)
    assert cx.validate(doc) is None, cx.validate(doc)
    model = _model(doc)
    names = [lic["license"].get("name") or lic["license"].get("id") for lic in model["licenses"]]
    assert names == [gov["id"]]
    assert "ACME DEMO MODEL LICENSE" in model["licenses"][0]["license"]["text"]["content"]
    files = {c["name"]: c for c in doc["components"]}
    assert [lic["license"]["id"] for lic in files["LICENSE"]["licenses"]] == ["MIT"]
    assert "licenses" not in files["MODEL_LICENSE"]
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["modelclear:governing-license"] == gov["id"]
    assert "modelclear:governing-license-undecided" not in props
    # the card's "license: apache-2.0" is not the weights' license either
    assert {p["value"] for p in model["properties"]
            if p["name"] == "modelclear:not-governing-license"} == {"MIT", "Apache-2.0"}
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert set(deps["model"]) == {c["bom-ref"] for c in doc["components"]}


def test_undecided_governing_license_keeps_all_and_says_so(isolated: Path) -> None:
    """Nothing sets one license apart: every license stays on the model (as before) and
    a property says the governing license was not decided; so does an older record."""
    root = _code_and_model_release(isolated / "r", "Nothing about licenses here.\n")
    rec = build_record(root)
    gov = rec.data["license"]["governing"]
    doc = cx.to_cyclonedx(rec)
    assert cx.validate(doc) is None
    props = {p["name"]: p["value"] for p in _model(doc)["properties"]}
    if gov["sure"]:  # the file name MODEL_LICENSE alone may settle it
        assert props["modelclear:governing-license"] == gov["id"]
    else:
        assert props["modelclear:governing-license-undecided"].startswith("not decided")
        assert len(_model(doc)["licenses"]) >= 2
    # a record made before the decision existed: today's behaviour, plus the property
    data = json.loads(json.dumps(rec.data))
    del data["license"]["governing"]
    old = cx.Record(data)
    doc = cx.to_cyclonedx(old)
    assert cx.validate(doc) is None
    model = _model(doc)
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert "predates" in props["modelclear:governing-license-undecided"]
    ids = {lic["license"].get("id") or lic["license"].get("name") for lic in model["licenses"]}
    assert {"MIT", "Apache-2.0"} <= ids and len(ids) >= 3
