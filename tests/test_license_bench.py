# ruff: noqa: E501
"""The license benchmark's scoring, and the pure-extraction bar on the shared corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import SHARED

from modelclear.analyzers.license.model import Term

ROOT = Path(__file__).resolve().parents[1]
CORPUS = SHARED / "corpus" / "licenses"


def _bench():
    spec = importlib.util.spec_from_file_location(
        "license_bench", ROOT / "benchmarks" / "license_bench.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["license_bench"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_field_scoring_follows_the_corpus_rules() -> None:
    b = _bench()
    assert b.field_correct("commercial_use", "conditional", "conditional")
    assert not b.field_correct("commercial_use", "yes", "conditional")
    assert b.field_correct("mau_threshold", 700000000, 700_000_000)
    assert not b.field_correct("mau_threshold", None, 5)
    assert b.field_correct("governing_law", "Laws of X", "laws of Y")  # presence only
    assert not b.field_correct("territory_restriction", None, "EU")
    assert "redistribution_conditions" not in b.SCORED


def test_score_counts_fields() -> None:
    b = _bench()
    doc = b.Doc(
        "d",
        "f",
        "license",
        "",
        frozenset(),
        {
            "commercial_use": {"value": "no"},
            "mau_threshold": {"value": None},
            "redistribution_conditions": {"value": "x"},
        },
    )
    s = b.Score()
    s.add(doc, {"commercial_use": Term(value="yes"), "mau_threshold": Term()})
    assert (s.right, s.total) == (1, 2)
    assert s.misses == [("d", "commercial_use", "no", "yes")]


def test_transforms_change_layout_not_words() -> None:
    b = _bench()
    text = "SAMPLE LICENSE\n\n1. Grant. We grant you a licence to use the model.\n    a. Scope. Worldwide.\n"
    assert b.rewrap(text, 20).split() != text.split() or "\n" in b.rewrap(text, 20)
    md = b.markdownify(text)
    assert md.startswith("# SAMPLE LICENSE") and "**Grant.**" in md and "- Scope." in md
    typoed = b.typo("alpha " * 2000, rate=0.01)
    changed = sum(w != "alpha" for w in typoed.split())
    assert 5 <= changed <= 60


def test_pure_extraction_reaches_85_percent_on_the_corpus() -> None:
    if not (CORPUS / "manifest.jsonl").is_file():
        pytest.skip("shared license corpus not present")
    b = _bench()
    docs = b.load_corpus(CORPUS)
    score = b.score_terms(docs, b.pure_extraction)
    assert score.total >= 400
    assert score.accuracy >= 0.85, score.misses


def _dev():
    _bench()  # license_dev imports its sibling license_bench
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("license_dev", ROOT / "benchmarks" / "license_dev.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_dev_split_counts_every_widening_once_and_fresh_is_the_newest_held_out_part() -> None:
    import json

    d = _dev()
    split = json.loads((ROOT / "benchmarks" / "license_dev_split.json").read_text("utf-8"))
    ids = d.split_ids(split)
    assert not set(ids["tune"]) & set(ids["held_out"])
    assert ids["fresh"] == split["fresh_held_out"] and set(ids["fresh"]) <= set(ids["held_out"])
    for key in ("extra_tune", "fresh_tune"):
        assert set(split[key]) <= set(ids["tune"])
    assert set(split["extra_held_out"]) <= set(ids["held_out"])
    assert len(ids["tune"]) + len(ids["held_out"]) == len(
        {i for k, v in split.items() if k.endswith(("tune", "held_out")) for i in v}
    )


def test_dev_sources_record_every_labelled_document() -> None:
    import json

    bench = ROOT / "benchmarks"
    sources = [json.loads(x) for x in (bench / "license_dev_sources.jsonl").read_text("utf-8").splitlines()]
    labels = [json.loads(x) for x in (bench / "license_dev_labels.jsonl").read_text("utf-8").splitlines()]
    where = {(s["id"], s["folder"]) for s in sources}
    for s in sources:
        assert len(s["commit"]) == 40 and len(s["sha256"]) == 64 and s["repo"] and s["path"]
    for lab in labels:
        assert (lab["id"], lab.get("folder", "licenses-dev")) in where
