"""Splitting a file that stacks several documents."""

from __future__ import annotations

import pytest
from conftest import SHARED

from modelclear.analyzers.license.segment import segment

CODE = """MIT License

Copyright (c) 2025 Zeta Labs

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software, to deal in the software without restriction, subject to the following
conditions: the above copyright notice shall be included in all copies.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
"""

MODEL = """ZETA MODEL LICENSE AGREEMENT

1. Definitions. "Model" means the Zeta weights.

2. License Grant. Zeta grants you a worldwide license to use and modify the Model.

3. Restrictions. You will not use the Model's outputs to improve other models.

4. Governing Law. This Agreement is governed by the laws of Ruritania.
"""

POLICY = """## Zeta Acceptable Use Policy

You agree you will not use Zeta to:

1. harm people;
2. break the law;
3. harass anyone.
"""


def test_three_documents() -> None:
    text = CODE + "\n" + MODEL + "\n---\n\n" + POLICY
    segs = segment(text)
    assert [s.kind for s in segs] == ["license", "license", "acceptable-use-policy"]
    assert [s.title for s in segs] == [
        "MIT License",
        "ZETA MODEL LICENSE AGREEMENT",
        "Zeta Acceptable Use Policy",
    ]
    lines = text.splitlines()
    for s in segs:
        assert s.text.splitlines()[0] == lines[s.line_start - 1]
        assert s.text.splitlines()[-1] == lines[s.line_end - 1]
    assert segs[0].line_end < segs[1].line_start <= segs[1].line_end < segs[2].line_start
    assert lines[segs[1].line_end - 1].startswith("4. Governing Law")


def test_inner_headings_do_not_split() -> None:
    segs = segment(MODEL)
    assert len(segs) == 1
    assert (segs[0].line_start, segs[0].line_end) == (1, len(MODEL.splitlines()))


def test_title_then_subtitle_is_one_document() -> None:
    text = "ZETA LICENSE\n\nZeta Model License Version 2\n\nZeta grants you a license to use it.\n"
    assert len(segment(text)) == 1


def test_empty() -> None:
    assert segment("") == []


CORPUS = SHARED / "corpus" / "licenses"


def test_corpus_documents_stay_whole() -> None:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not present")
    for path in sorted(CORPUS.glob("*.txt")):
        segs = segment(path.read_text(encoding="utf-8"))
        # two corpus files really do carry their policy after the license
        assert 1 <= len(segs) <= 2, path.name
        assert segs[0].kind in ("license", "acceptable-use-policy"), path.name
