"""Identification on the real license corpus (skipped without ../shared)."""

from __future__ import annotations

import json
import random
import re
import textwrap
from functools import cache

import pytest
from conftest import SHARED

from modelclear.analyzers.license.analyze import analyze_text
from modelclear.analyzers.license.catalog import Catalog, load_catalog
from modelclear.analyzers.license.identify import identify
from modelclear.analyzers.license.model import LicenseMatch

CORPUS = SHARED / "corpus" / "licenses"


@cache
def _docs() -> list[dict]:
    if not (CORPUS / "manifest.jsonl").is_file():
        return []
    out = []
    for line in (CORPUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            d["text"] = (CORPUS / d["file"]).read_text(encoding="utf-8")
            d["accepted"] = set(d["expected_ids"]) | {f"LicenseRef-modelclear-{d['id']}"}
            out.append(d)
    return out


def _ids() -> list[str]:
    return [d["id"] for d in _docs()] or ["absent"]


def _doc(doc_id: str) -> dict:
    for d in _docs():
        if d["id"] == doc_id:
            return d
    pytest.skip("shared corpus not available")


def _main(matches: list[LicenseMatch], kind: str) -> LicenseMatch | None:
    pool = [m for m in matches if m.kind == kind] or matches
    return max(pool, key=lambda m: m.line_end - m.line_start) if pool else None


def _rewrap(text: str) -> str:
    paras = re.split(r"\n\s*\n", text)
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), 61, break_long_words=False) for p in paras
    )


def _markdown(text: str) -> str:
    out = []
    for i, line in enumerate(text.split("\n")):
        if i == 0 and line.strip():
            line = "# " + line
        elif re.match(r"^\s*\d+\.", line):
            line = "### " + line.strip()
        elif line.strip() and i % 5 == 2:
            line = "* " + line
        line = re.sub(r"\b(shall|must|may)\b", r"**\1**", line)
        out.append(line.replace('"', "\u201c", 1).replace("'", "\u2019"))
    return "\n".join(out)


def _typos(text: str, seed: int = 7) -> str:
    rnd = random.Random(seed)
    toks = list(re.finditer(r"[A-Za-z]{4,}", text))
    n = max(1, len(text.split()) // 100)
    out, last = [], 0
    for i in sorted(rnd.sample(range(len(toks)), min(n, len(toks)))):
        m = toks[i]
        w = m.group()
        j = rnd.randrange(1, len(w) - 1)
        out += [text[last : m.start()], w[:j] + w[j + 1 :]]
        last = m.end()
    return "".join(out + [text[last:]])


@pytest.mark.parametrize("doc_id", _ids())
def test_corpus_document_is_exact(doc_id: str) -> None:
    d = _doc(doc_id)
    m = _main(identify(d["text"], d["file"]), d["kind"])
    assert m is not None and m.id in d["accepted"] and m.match == "exact", m
    assert m.confidence == 1.0


@pytest.mark.parametrize("doc_id", _ids())
def test_corpus_transforms_keep_the_identity(doc_id: str) -> None:
    d = _doc(doc_id)
    for name, text in (
        ("rewrap", _rewrap(d["text"])),
        ("markdown", _markdown(d["text"])),
        ("typos", _typos(d["text"])),
        ("all", _typos(_markdown(_rewrap(d["text"])))),
    ):
        m = _main(identify(text, d["file"]), d["kind"])
        assert m is not None and m.id in d["accepted"], (name, m)
        if name in ("rewrap", "markdown"):
            assert m.match == "exact" and m.confidence == 1.0, (name, m)
        else:
            assert m.match in ("exact", "modified") and m.confidence >= 0.85, (name, m)


@pytest.mark.parametrize("doc_id", _ids())
def test_first_third_is_never_confidently_wrong(doc_id: str) -> None:
    d = _doc(doc_id)
    text = d["text"][: len(d["text"]) // 3]
    for m in identify(text, d["file"]):
        assert m.match != "exact" or m.id in d["accepted"], m
        if m.id not in d["accepted"]:
            assert m.confidence < 0.5, m


@pytest.mark.parametrize("doc_id", _ids())
def test_a_text_missing_from_the_catalog_is_never_exact(doc_id: str) -> None:
    """Leave the document's own version out: the nearest one may be named, never as exact."""
    d = _doc(doc_id)
    cat = load_catalog()
    entry = cat.by_corpus_id[doc_id]
    if len(entry.corpus_ids) > 1 or entry.standard_text:
        pytest.skip("a standard text with other copies in the catalog")
    sub = Catalog(
        [e for e in cat.entries if e.id != entry.id],
        [f for f in cat.fingerprints if f.license_id != entry.id],
    )
    for m in identify(d["text"], d["file"], sub):
        assert m.match != "exact", m
        assert m.id != entry.id


CLOSE = [
    ("llama-3.1-community-license", "llama-3.2-community-license", "llama-3.3-community-license"),
    ("llama-3.2-acceptable-use-policy", "llama-3.3-acceptable-use-policy"),
    ("tencent-hunyuan-community-license-2024-05", "tencent-hunyuan-community-license-a13b"),
    ("chatglm-6b-license-2023-03", "chatglm-6b-license"),
    ("yi-series-models-license-v1.0", "yi-series-models-community-license-v2.1"),
    ("minimax-model-license-agreement-2025-01", "minimax-model-license"),
]


@pytest.mark.parametrize("group", CLOSE, ids=lambda g: g[0])
def test_close_versions_after_rewrapping(group: tuple[str, ...]) -> None:
    for doc_id in group:
        d = _doc(doc_id)
        m = _main(identify(_typos(_rewrap(d["text"]), seed=3), d["file"]), d["kind"])
        assert m is not None and m.id in d["accepted"], (doc_id, m)


def test_one_file_with_code_license_model_license_and_policy() -> None:
    mit = _doc("mit-deepseek")["text"]
    lic = _doc("llama-3.1-community-license")["text"]
    aup = _doc("llama-3.1-acceptable-use-policy")["text"]
    text = f"CODE LICENSE\n\n{mit}\n\n======\n\n{lic}\n\n======\n\n{aup}"
    found = identify(text, "LICENSE")
    assert [m.id for m in found] == [
        "MIT",
        "LicenseRef-scancode-llama-3.1-license-2024",
        "LicenseRef-modelclear-llama-3.1-acceptable-use-policy",
    ]
    assert all(m.match == "exact" for m in found)
    lines = text.splitlines()
    assert found[1].line_start > found[0].line_end and found[2].line_start > found[1].line_end
    assert "LLAMA 3.1" in lines[found[1].line_start - 1].upper()
    report = analyze_text(text, "LICENSE")
    assert report.primary() is not None
    assert report.primary().id == "LicenseRef-scancode-llama-3.1-license-2024"
    gov = report.licenses[1].terms["governing_law"].evidence
    assert gov is not None and found[1].line_start <= gov.line_start <= found[1].line_end


def test_edited_llama_clause_is_flagged() -> None:
    d = _doc("llama-3.1-community-license")
    text = d["text"].replace("700 million monthly active users", "7 million monthly active users")
    assert text != d["text"]
    report = analyze_text(text, "LICENSE")
    m = _main(list(report.licenses), "license")
    assert m is not None and m.match == "modified"
    assert m.id == "LicenseRef-scancode-llama-3.1-license-2024"
    assert "mau_threshold" in m.changed_terms
    assert m.terms["mau_threshold"].value == 7_000_000
    assert any("7 million" in s for s in m.diff)


def test_the_whole_corpus_in_one_file() -> None:
    """Forty documents back to back (close versions next to each other): each one exact."""
    docs = _docs()
    if not docs:
        pytest.skip("shared corpus not available")
    docs = sorted(docs, key=lambda d: d["file"])
    text = "\n\n----\n\n".join(d["text"] for d in docs)
    found = identify(text, "NOTICE")
    assert len(found) == len(docs)
    for d, m in zip(docs, found, strict=True):
        assert m.id in d["accepted"] and m.match == "exact", (d["id"], m.id, m.match)
