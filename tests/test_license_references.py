"""Documents that only point at a license: references, resolution, text absent (MC215/216).

The notices here are our own one-line wording; the license texts come from the shared
corpus (skipped when absent).
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from conftest import SHARED

from modelclear.analyzers.license.analyze import analyze, analyze_text
from modelclear.analyzers.license.catalog import load_catalog
from modelclear.analyzers.license.consistency import document_findings
from modelclear.analyzers.license.reference import entries_named, whole_quote
from modelclear.sources import open_release

CORPUS = SHARED / "corpus" / "licenses"
NOTICE_NC = "The weights in this folder are licensed under CC BY-NC 4.0.\n"
NOTICE_APACHE = "Acme-7B is released under the Apache License, Version 2.0.\n"


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("CC BY-NC 4.0", {"CC-BY-NC-4.0"}),
        ("the Creative Commons Attribution-NonCommercial 4.0 International License", {
            "CC-BY-NC-4.0"}),
        ("Apache License, Version 2.0 (the \"License\")", {"Apache-2.0"}),
        ("the MIT License", {"MIT"}),
        ("some license we never heard of", set()),
    ],
)
def test_license_names_resolve_to_catalog_entries(name: str, want: set[str]) -> None:
    assert {e.id for e in entries_named(name, load_catalog())} == want


def test_a_one_line_notice_is_a_reference_with_the_text_absent() -> None:
    report = analyze_text(NOTICE_NC, "NOTICE")
    (m,) = report.licenses
    assert (m.id, m.match, m.reference, m.resolved_to) == ("CC-BY-NC-4.0", "partial", True, None)
    assert report.primary() is m  # what the release names; REVIEW, never CLEAR (partial)
    cu = m.terms["commercial_use"]
    assert (cu.value, cu.source) == ("no", "referenced")
    assert cu.evidence is not None and cu.evidence.quote == NOTICE_NC.strip()
    assert cu.evidence.line_start == 1
    # a permission whose conditions cannot be read is not reported as a permission
    assert m.terms["fine_tuning_allowed"].value == "unclear"
    assert "MC216" in [f.code for f in document_findings(m)]


def test_text_that_names_no_known_license_is_no_reference() -> None:
    text = "These weights are licensed under our own terms.\n"
    assert analyze_text(text, "NOTICE").licenses == ()


def _release(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "rel"
    root.mkdir()
    for name, body in files.items():
        (root / name).write_text(body)
    return root


def test_a_notice_resolves_to_the_license_text_the_release_ships(tmp_path: Path) -> None:
    apache = CORPUS / "apache-2.0-qwen.txt"
    if not apache.is_file():
        pytest.skip("shared corpus absent")
    root = _release(tmp_path, {"LICENSE": apache.read_text("utf-8"), "NOTICE": NOTICE_APACHE})
    report = analyze(open_release(str(root)))
    notice = next(m for m in report.licenses if m.file == "NOTICE")
    assert notice.resolved_to == "LICENSE" and notice.kind == "notice" and notice.terms == {}
    prim = report.primary()
    assert prim is not None and (prim.id, prim.file) == ("Apache-2.0", "LICENSE")
    assert not {"MC215", "MC216"} & {f.code for f in report.findings}


def test_a_notice_naming_another_license_than_the_text_is_flagged(tmp_path: Path) -> None:
    apache = CORPUS / "apache-2.0-qwen.txt"
    if not apache.is_file():
        pytest.skip("shared corpus absent")
    root = _release(tmp_path, {"LICENSE": apache.read_text("utf-8"), "NOTICE": NOTICE_NC})
    report = analyze(open_release(str(root)))
    (mc215,) = [f for f in report.findings if f.code == "MC215"]
    assert mc215.file == "NOTICE" and "CC-BY-NC-4.0" in mc215.message


def test_a_gguf_declaration_is_cited_at_its_key(tmp_path: Path) -> None:
    root = tmp_path / "rel"
    root.mkdir()
    w = gguf.GGUFWriter(str(root / "m.gguf"), "llama")
    w.add_string("general.license", "apache-2.0")
    w.add_tensor("token_embd.weight", np.zeros((2, 32), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    report = analyze(open_release(str(root)))
    (m,) = [x for x in report.licenses if x.from_declaration]
    assert (m.file, m.declared_key) == ("m.gguf", "general.license")
    assert all(t.source in ("referenced", "none") for t in m.terms.values())
    assert m.terms["commercial_use"].evidence is None  # no text to quote


def test_a_card_only_declaration_carries_no_term_as_read_from_text(tmp_path: Path) -> None:
    root = _release(tmp_path, {"README.md": "---\nlicense: llama3.1\n---\n# m\n"})
    report = analyze(open_release(str(root)))
    (m,) = [x for x in report.licenses if x.from_declaration]
    assert (m.file, m.declared_key) == ("README.md", "license")
    assert {t.source for t in m.terms.values()} <= {"referenced", "none"}
    assert all(t.evidence is None for t in m.terms.values())


def test_a_required_notice_is_quoted_whole() -> None:
    s = 'the following notice: "Acme is licensed under X. The mark "Acme" is ours." Next.'
    a, b = whole_quote(s, s.index('"')) or (0, 0)
    assert s[a:b] == 'Acme is licensed under X. The mark "Acme" is ours.'


def test_the_hunyuan_notice_obligation_is_not_cut_at_its_inner_quote() -> None:
    path = CORPUS / "tencent-hunyuan-community-license-2024-05.txt"
    if not path.is_file():
        pytest.skip("shared corpus absent")
    (m,) = [x for x in analyze_text(path.read_text("utf-8"), path.name).licenses
            if x.kind == "license"]
    detail = m.terms["attribution_required"].detail or ""
    assert detail.endswith("are owned by Tencent or its affiliate.")
    assert detail.startswith("Tencent Hunyuan is licensed under")


def test_a_notices_file_opening_with_the_model_license_line_is_a_reference() -> None:
    """A third-party notices file: the model's own line names its license, then a
    component license follows. The opening part only points (MC216, not MC208), and
    what its definitions say ("fine-tuning enabling code") is not a grant."""
    apache = CORPUS / "apache-2.0-qwen.txt"
    if not apache.is_file():
        pytest.skip("shared corpus absent")
    head = (
        "Usage and Legal Notices:\n\n"
        "Example Video is licensed under the TENCENT HUNYUAN COMMUNITY LICENSE AGREEMENT "
        "except for the third-party components listed below.\n\n"
        "For avoidance of doubts, Example Video means the models and their code, including "
        "trained model weights, inference-enabling code and fine-tuning enabling code.\n\n"
        "Other dependencies and licenses:\n\n"
        "Open Source Software Licensed under the Apache License Version 2.0:\n\n"
    )
    report = analyze_text(head + apache.read_text("utf-8"), "Notice.txt")
    first = report.licenses[0]
    assert first.reference and first.line_start == 1
    assert "hunyuan" in first.id
    # the notice names no version: the title is its own words, the versions are a hint
    assert first.title == "TENCENT HUNYUAN COMMUNITY LICENSE AGREEMENT (version not stated)"
    assert first.closest is not None and "without a version" in first.closest
    ft = first.terms["fine_tuning_allowed"]
    assert (ft.value, ft.source) == ("unclear", "referenced")
    assert ft.evidence is not None and ft.evidence.line_start == 3
    codes = [f.code for f in document_findings(first)]
    assert "MC216" in codes and "MC208" not in codes
    # the component license after it is still read as a text, not as a reference
    assert any(m.id == "Apache-2.0" and not m.reference for m in report.licenses[1:])


def test_a_known_text_under_an_added_heading_keeps_its_id() -> None:
    """Words added above a known text ("Open Source Software Licensed under …") are not
    a publisher renaming the template: the text still carries its own name."""
    apache = CORPUS / "apache-2.0-qwen.txt"
    if not apache.is_file():
        pytest.skip("shared corpus absent")
    head = "Open Source Software Licensed under the Apache License Version 2.0:\n\n"
    (m,) = analyze_text(head + apache.read_text("utf-8"), "LICENSE").licenses
    assert (m.id, m.match) == ("Apache-2.0", "modified")
