"""The golden verdict matrix: every corpus license and the standard GPL-3.0, AGPL-3.0
and CC BY-SA 4.0 texts under each built-in profile (issue 17).

``tests/golden/verdicts.json`` was reviewed once by reading the clauses; a change to
any verdict or deciding code fails here and is reviewed as a diff
(``python tools/golden_verdicts.py`` prints it, ``--write`` accepts it). The standard
texts come from the npm package ``spdx-license-list`` that ``.ci/run`` unpacks and
names in ``MODELCLEAR_SPDX_DIR``; without it those rows skip, as the corpus rows do
without ``../shared``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
from conftest import SHARED

TOOL = Path(__file__).resolve().parents[1] / "tools" / "golden_verdicts.py"
_spec = importlib.util.spec_from_file_location("golden_verdicts", TOOL)
assert _spec is not None and _spec.loader is not None
golden_verdicts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden_verdicts)

GOLDEN: dict[str, dict[str, object]] = json.loads(
    golden_verdicts.GOLDEN.read_text(encoding="utf-8"))
CORPUS = SHARED / "corpus" / "licenses"
SPDX = os.environ.get("MODELCLEAR_SPDX_DIR")


def _text(doc_id: str, tmp_path: Path) -> Path:
    if doc_id.startswith("spdx:"):
        if not SPDX:
            pytest.skip("MODELCLEAR_SPDX_DIR not set (npm package spdx-license-list)")
        return dict(golden_verdicts.standard_texts(Path(SPDX), tmp_path))[doc_id]
    if not CORPUS.is_dir():
        pytest.skip("../shared corpus not present")
    return dict(golden_verdicts.corpus_texts(CORPUS))[doc_id]


def test_the_matrix_covers_corpus_and_standard_texts() -> None:
    assert len(GOLDEN) == 43
    assert {"spdx:GPL-3.0-only", "spdx:AGPL-3.0-only", "spdx:CC-BY-SA-4.0"} <= set(GOLDEN)
    for row in GOLDEN.values():
        assert set(row) == set(golden_verdicts.PROFILES)


@pytest.mark.parametrize("doc_id", sorted(GOLDEN))
def test_verdicts_match_the_reviewed_matrix(doc_id: str, tmp_path: Path) -> None:
    path = _text(doc_id, tmp_path)
    found = {p: golden_verdicts.row(path, p) for p in golden_verdicts.PROFILES}
    assert found == GOLDEN[doc_id], "run tools/golden_verdicts.py to review the change"


def test_the_reviewed_hand_cases_hold() -> None:
    """What reading the clauses decided, stated once so the matrix cannot drift into it."""
    g = GOLDEN
    assert g["spdx:GPL-3.0-only"]["distillation"]["verdict"] != "CLEAR"
    assert g["spdx:AGPL-3.0-only"]["customer-saas"]["because"] == ["MC527:REVIEW"]
    assert g["spdx:GPL-3.0-only"]["customer-saas"]["verdict"] == "CLEAR"  # no distribution
    assert all(r["verdict"] == "CLEAR" for r in g["kimi-k2-modified-mit"].values())
    assert g["tongyi-qianwen-license"]["distillation"]["because"] == ["MC505:BLOCKED"]
    assert "MC502:BLOCKED" in g["stability-ai-community-license"]["customer-saas"]["because"]
    assert all("MC500:BLOCKED" in r["because"]
               for p, r in g["mistral-research-license-0.1"].items() if p != "prototype")
