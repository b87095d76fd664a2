"""Evidence location: a phrase is found however the file was wrapped, marked up or retyped."""

from __future__ import annotations

import random
import re
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.license.locate import locate, locate_span

BODY = """\
SAMPLE MODEL LICENSE AGREEMENT

1. Grant. Subject to this Agreement, the Licensor grants you a worldwide, royalty-free
license to use, copy and modify the Model.

2. Scale. If the products or services you offer had more than 50 million monthly active
users in the preceding month, you must ask the Licensor for a separate license, which the
Licensor may refuse.

3. Outputs. You will not use the Model or its outputs to improve any other large language
model.

4. Law. This Agreement is governed by the laws of Ruritania.
"""

PHRASE = "you must ask the Licensor for a separate license"


def test_exact_phrase_across_a_line_break() -> None:
    ev = locate(BODY, "more than 50 million monthly active users in the preceding month", "L")
    assert ev is not None
    assert (ev.line_start, ev.line_end) == (6, 7)
    assert ev.quote == "more than 50 million monthly active\nusers in the preceding month"
    assert ev.file == "L"


def test_quote_is_cut_from_the_file_not_the_phrase() -> None:
    ev = locate(BODY, "YOU WILL NOT USE THE MODEL OR ITS OUTPUTS", "L")
    assert ev is not None
    assert ev.quote == "You will not use the Model or its outputs"
    assert ev.line_start == ev.line_end == 10


def test_rewrapped_markdown_smart_quotes() -> None:
    md = BODY.replace("separate license", "**separate** license").replace("you must", "you\n> must")
    md = md.replace("Licensor for", "Licensor\u2019s for").replace("1. Grant", "## 1. Grant")
    ev = locate(md, PHRASE, "L")
    assert ev is not None
    assert "separate" in ev.quote and ev.quote.startswith("you")


def test_small_typos_still_match() -> None:
    typo = BODY.replace("Licensor for a separate", "Licenspr for a seperate")
    ev = locate(typo, PHRASE, "L")
    assert ev is not None
    assert ev.line_start == 7
    assert "seperate" in ev.quote


def test_unrelated_phrase_is_not_found() -> None:
    assert locate(BODY, "you may distill the model into a smaller one freely", "L") is None
    assert locate(BODY, "", "L") is None


def test_ellipsis_spans_parts_in_order() -> None:
    ev = locate(BODY, "You will not use the Model ... any other large language model", "L")
    assert ev is not None
    assert (ev.line_start, ev.line_end) == (10, 11)
    assert locate(BODY, "any other large language model ... 1. Grant", "L") is None


def test_long_match_is_trimmed() -> None:
    text = "word " * 10 + " ".join(f"w{i}" for i in range(200)) + "\n"
    ev = locate(text, " ".join(f"w{i}" for i in range(200)), "L")
    assert ev is not None
    assert len(ev.quote) <= 300
    assert text.find(ev.quote) >= 0


def _rewrap(text: str, width: int) -> str:
    return "\n\n".join(textwrap.fill(p, width) for p in text.split("\n\n"))


def _typo(text: str, rng: random.Random, rate: float) -> str:
    """Swap two inner letters of some long words."""

    def swap(m: re.Match[str]) -> str:
        w = m.group()
        if rng.random() >= rate:
            return w
        j = rng.randrange(1, len(w) - 2)
        return w[:j] + w[j + 1] + w[j] + w[j + 2 :]

    return re.sub(r"[A-Za-z]{6,}", swap, text)


@settings(max_examples=200, deadline=None)
@given(width=st.integers(20, 120), seed=st.integers(0, 10_000))
def test_rewrapped_and_typoed_text_still_locates(width: int, seed: int) -> None:
    rng = random.Random(seed)
    text = _typo(_rewrap(BODY, width), rng, 0.05)
    span = locate_span(text, PHRASE)
    assert span is not None
    # the located span covers the same words, whatever the wrapping
    found = " ".join(text[span[0] : span[1]].split()).lower()
    assert found.startswith("you must ask the") and len(found.split()) == len(PHRASE.split())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.text(max_size=60))
def test_never_raises_and_quote_is_in_text(text: str, phrase: str) -> None:
    ev = locate(text, phrase, "f")
    if ev is not None:
        assert ev.quote in text
        assert 1 <= ev.line_start <= ev.line_end <= text.count("\n") + 1
