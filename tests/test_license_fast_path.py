"""The fast path for a catalogued text must read exactly what the full reading reads.

A text whose words are a catalogued version's (match ``exact``, confidence 1.0) is
reported from the catalog's hand-checked terms with their clauses located in the
file, without running the extractor. That is only sound while the extractor never
reads those texts more strictly than the catalog says (restrictions beat grants), so
this test reads every shared-corpus text both ways and compares every value.
Skipped when ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelclear.analyzers.license import text as text_module
from modelclear.analyzers.license.analyze import analyze_text
from modelclear.analyzers.license.catalog import load_catalog


def test_fast_path_reads_the_same_values_as_the_full_reading(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = shared / "corpus" / "licenses"
    files = sorted(folder.glob("*.txt"))
    if not files:
        pytest.skip("shared corpus absent")
    cat = load_catalog()
    fast = {f.name: analyze_text(f.read_text("utf-8"), f.name, cat) for f in files}
    monkeypatch.setattr(text_module, "_same_text", lambda *a: None)
    used_fast = 0
    for f in files:
        slow = analyze_text(f.read_text("utf-8"), f.name, cat)
        a, b = fast[f.name].licenses, slow.licenses
        assert [m.id for m in a] == [m.id for m in b], f.name
        for ma, mb in zip(a, b, strict=True):
            used_fast += ma.terms != mb.terms
            assert [(d.term, d.english, d.chinese) for d in ma.language_differences] == [
                (d.term, d.english, d.chinese) for d in mb.language_differences
            ], f.name
            for d in ma.language_differences:
                assert d.english_evidence is not None or d.chinese_evidence is not None
            for name, ta in ma.terms.items():
                assert ta.value == mb.terms[name].value, (f.name, name)
                if ta.evidence is not None:
                    assert ta.evidence.quote  # located in this file
    assert used_fast > 0  # the fast path did run (sources differ where it did)
