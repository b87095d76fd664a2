"""The text decides: change a number, place or name in a real license, and the change is read.

For every shared-corpus license whose labelled terms state a number (a user or
revenue threshold), a place (governing law, courts, territory) or a name (a
required model-name prefix, a "Built with …" notice), the token is replaced in
the text and the analysis must report the new value from the file, flag the
difference from the catalogued version (MC213) and never keep the catalog's.
Skipped when ../shared is absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SHARED

from modelclear.analyzers.license.consistency import document_findings
from modelclear.analyzers.license.model import LicenseMatch
from modelclear.analyzers.license.text import analyze_text

CORPUS = SHARED / "corpus" / "licenses"


@dataclass(frozen=True)
class Mutation:
    doc: str
    term: str
    old: str
    new: str
    expect: str  # in the reported value (or detail) after the edit
    near: str | None = None  # edit only the first `old` after this text


_LLAMA_LAW = ("governing_law", "California", "Oregon", "Oregon")
_MUTATIONS: list[Mutation] = [
    Mutation("deepseek-license-v1", "governing_law", "PRC laws", "Swiss laws", "Swiss"),
    Mutation("tongyi-qianwen-license", "mau_threshold", "100 million", "35 million", "35000000"),
    Mutation("tongyi-qianwen-license", "governing_law", "Hangzhou", "Shenzhen", "Shenzhen"),
    Mutation("tongyi-qianwen-research-license", "governing_law", "Hangzhou", "Shenzhen",
             "Shenzhen"),
    Mutation("kimi-k2-modified-mit", "other_scale_threshold", "100 million", "35 million",
             "35,000,000"),
    Mutation("minimax-model-license", "governing_law", "Singapore", "Malaysia", "Malaysia"),
    Mutation("minimax-model-license-agreement-2025-01", "mau_threshold", "100 million",
             "35 million", "35000000"),
    Mutation("minimax-model-license-agreement-2025-01", "governing_law", "Singapore",
             "Malaysia", "Malaysia"),
    Mutation("minimax-model-license-agreement-2025-01", "derivative_naming_requirement",
             "“MiniMax” at the beginning", "“Nimbus” at the beginning", "Nimbus"),
    Mutation("minimax-model-license-agreement-2025-01", "attribution_required",
             "Built with MiniMax AI", "Built with Nimbus AI", "Built with Nimbus AI"),
    Mutation("tencent-hunyuan-community-license-a13b", "mau_threshold", "100 million",
             "35 million", "35000000"),
    Mutation("tencent-hunyuan-community-license-a13b", "governing_law", "Hong Kong", "Macau",
             "Macau"),
    Mutation("tencent-hunyuan-community-license-a13b", "territory_restriction", "South Korea",
             "Japan", "Japan"),
    Mutation("tencent-hunyuan-community-license-2024-05", "mau_threshold", "100 million",
             "35 million", "35000000"),
    Mutation("tencent-hunyuan-community-license-2024-05", "governing_law", "Hong Kong", "Macau",
             "Macau"),
    *(
        Mutation(d, "governing_law", "Haidian", "Chaoyang", "Chaoyang")
        for d in ("chatglm-6b-license", "chatglm-6b-license-2023-03", "chatglm3-6b-license",
                  "codegeex4-license")
    ),
    Mutation("codegeex4-license", "derivative_naming_requirement", '"CodeGeeX4" to the beginning',
             '"FooCoder9" to the beginning', "FooCoder9"),
    Mutation("codegeex4-license", "attribution_required", '"Built with CodeGeeX4"',
             '"Built with FooCoder9"', "Built with FooCoder9", near="Prominently display"),
    *(
        Mutation(d, "governing_law", "China", "Mongolia", "Mongolia", near="governed by the laws")
        for d in ("yi-series-models-license-v1.0", "yi-series-models-community-license-v2.1")
    ),
    *(
        Mutation(d, "mau_threshold", "700 million", "350 million", "350000000")
        for d in ("llama-2-community-license", "llama-3-community-license",
                  "llama-3.1-community-license", "llama-3.2-community-license",
                  "llama-3.3-community-license", "llama-4-community-license",
                  "databricks-open-model-license")
    ),
    *(
        Mutation(d, *_LLAMA_LAW)
        for d in ("llama-2-community-license", "llama-3-community-license",
                  "llama-3.1-community-license", "llama-3.2-community-license",
                  "llama-3.3-community-license", "llama-4-community-license",
                  "databricks-open-model-license", "gemma-terms-of-use",
                  "stability-ai-community-license")
    ),
    Mutation("llama-3-community-license", "derivative_naming_requirement",
             "“Llama 3” at the beginning", "“Alpaca 3” at the beginning", "Alpaca 3"),
    Mutation("llama-3-community-license", "attribution_required", "Built with Meta Llama 3",
             "Built with Meta Alpaca 3", "Built with Meta Alpaca 3"),
    *(
        m
        for d in ("llama-3.1-community-license", "llama-3.2-community-license",
                  "llama-3.3-community-license", "llama-4-community-license")
        for m in (
            Mutation(d, "derivative_naming_requirement", "“Llama” at the beginning",
                     "“Alpaca” at the beginning", "Alpaca"),
            Mutation(d, "attribution_required", "Built with Llama", "Built with Alpaca",
                     "Built with Alpaca"),
        )
    ),
    *(
        Mutation(d, "territory_restriction", "the European Union", "Canada", "Canada")
        for d in ("llama-3.2-acceptable-use-policy", "llama-3.3-acceptable-use-policy",
                  "llama-4-acceptable-use-policy")
    ),
    Mutation("mistral-research-license-0.1", "governing_law", "France", "Belgium", "Belgium"),
    Mutation("nvidia-open-model-license", "governing_law", "Delaware", "Nevada", "Nevada"),
    Mutation("stability-ai-community-license", "other_scale_threshold", "$1,000,000",
             "$2,000,000", "2,000,000"),
]


def _labels() -> dict[str, dict]:
    path = CORPUS / "manifest.jsonl"
    if not path.is_file():
        return {}
    docs = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return {d["id"]: d for d in docs}


def _mutate(text: str, m: Mutation) -> str:
    at = text.find(m.near) if m.near else 0
    assert at >= 0, f"{m.doc}: {m.near!r} not in the text"
    if m.near is None and m.old in ("California", "Hangzhou", "Singapore", "Hong Kong",
                                    "Haidian", "France", "Delaware", "100 million", "700 million"):
        return text.replace(m.old, m.new)  # every mention: the clause and its court
    i = text.find(m.old, at)
    assert i >= 0, f"{m.doc}: {m.old!r} not in the text"
    return text[:i] + m.new + text[i + len(m.old) :]


def _document(licenses: tuple[LicenseMatch, ...], kind: str) -> LicenseMatch:
    found = [x for x in licenses if x.kind == kind]
    assert found, f"no {kind} document found"
    return found[0]


def _said(m: LicenseMatch, term: str) -> str:
    t = m.terms[term]
    return f"{t.value} {t.detail or ''}"


@pytest.mark.parametrize("mut", _MUTATIONS, ids=lambda m: f"{m.doc}:{m.term}:{m.new}")
def test_the_file_value_wins_and_the_difference_is_a_finding(
    shared: Path, mut: Mutation
) -> None:
    doc = _labels()[mut.doc]
    original = (CORPUS / doc["file"]).read_text("utf-8")
    text = _mutate(original, mut)
    assert text != original
    kind = "acceptable-use-policy" if doc["kind"] == "acceptable-use-policy" else "license"
    m = _document(analyze_text(text, doc["file"]).licenses, kind)
    said = _said(m, mut.term)
    assert mut.expect in said.replace(",", "") or mut.expect in said, said
    term = m.terms[mut.term]
    assert term.source == "extracted" and term.evidence is not None
    assert term.evidence.file == doc["file"]
    assert mut.term in m.changed_terms
    assert m.match != "exact"
    found = [f for f in document_findings(m) if f.code == "MC213" and f.extra["term"] == mut.term]
    assert found, [f.code for f in document_findings(m)]
    # the finding quotes the file's clause that states the new value
    token = mut.new.split()[-1].strip("“”\"")
    assert token in (found[0].quote or "") or token in term.evidence.quote
    assert found[0].extra["catalog_value"] != found[0].extra["file_value"]


def test_every_labelled_fact_is_mutated(shared: Path) -> None:
    """Each corpus license with a number, place or name in its labelled terms is covered."""
    labels = _labels()
    covered = {(m.doc, m.term) for m in _MUTATIONS}
    factual = ("mau_threshold", "other_scale_threshold", "governing_law",
               "derivative_naming_requirement", "territory_restriction")
    for doc_id, d in labels.items():
        for name in factual:
            if d["labels"].get(name, {}).get("value") is not None:
                assert (doc_id, name) in covered, f"{doc_id}: {name} has no mutation test"


def test_unmutated_corpus_has_no_difference(shared: Path) -> None:
    for doc_id, d in _labels().items():
        text = (CORPUS / d["file"]).read_text("utf-8")
        for m in analyze_text(text, d["file"]).licenses:
            assert m.term_differences == (), (doc_id, m.term_differences)
            assert all(
                t.evidence is not None or t.source != "catalog" for t in m.terms.values()
            ), doc_id


def test_a_template_reissued_under_another_name_is_not_claimed(shared: Path) -> None:
    """Identity is exact or not claimed: the ChatGLM-6B research template with another
    licensor's name is that licensor's license; ChatGLM-6B is only the closest hint."""
    doc = _labels()["chatglm-6b-license-2023-03"]
    text = (CORPUS / doc["file"]).read_text("utf-8").replace("ChatGLM-6B", "Zephyr-7B")
    report = analyze_text(text, doc["file"])
    (m,) = report.licenses
    assert m.match == "unknown" and m.confidence == 0.0
    assert m.id == "LicenseRef-modelclear-unknown"
    assert m.closest is not None and "ChatGLM-6B" in m.closest and "Zephyr" in m.closest
    assert all(t.source != "catalog" for t in m.terms.values())
    assert m.terms["commercial_use"].value == "no"


def test_a_partial_match_is_never_primary_and_brings_no_stored_terms(shared: Path) -> None:
    doc = _labels()["llama-2-community-license"]
    text = (CORPUS / doc["file"]).read_text("utf-8")
    half = "\n".join(text.splitlines()[: len(text.splitlines()) // 3])
    report = analyze_text(half, doc["file"])
    partial = [m for m in report.licenses if m.match == "partial"]
    for m in partial:
        assert all(t.source != "catalog" for t in m.terms.values())
        assert m.closest is not None
    prim = report.primary()
    assert prim is None or prim.match != "partial"
