"""The evidence locator's exact anchor search: one ``str.find`` over the joined words.

It must return what scanning every position does: the first index at or after ``lo``
where the anchor's words follow each other, and nothing when that match ends after
``hi``; also on texts whose words repeat, and when a word holds the join character.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.license.anchors import Locator
from modelclear.analyzers.license.normalize import words

_VOCAB = ["a", "b", "ab", "ba", "licence", "中", "文", "2024", "x"]


def _scan(ws: list[str], anchor: list[str], lo: int, hi: int) -> int | None:
    if not anchor:
        return None
    n = len(anchor)
    for i in range(max(lo, 0), len(ws)):
        if ws[i : i + n] == anchor:
            return i if i + n - 1 <= hi else None
    return None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCAB), max_size=40),
    st.lists(st.sampled_from(_VOCAB), max_size=4),
    st.integers(-2, 42),
    st.integers(-1, 42),
)
def test_exact_search_is_the_first_match_in_range(
    text_words: list[str], anchor: list[str], lo: int, hi: int
) -> None:
    text = " ".join(text_words)
    loc = Locator(text, "T")
    assert loc._joined is not None  # the fast search is the one under test
    assert loc._exact(anchor, lo, hi) == _scan(loc.ws.words, anchor, lo, hi)


def test_anchor_taken_from_the_text_is_found_where_it_first_occurs() -> None:
    text = "the licence grants you the licence to use the licence terms"
    loc = Locator(text, "T")
    assert loc._exact(["the", "licence"], 0, 100) == 0
    assert loc._exact(["the", "licence"], 1, 100) == 4
    assert loc._exact(["the", "licence"], 5, 100) == 8
    assert loc._exact(["the", "licence"], 5, 8) is None  # ends at word 9, after hi
    assert loc._exact(["licence", "the"], 0, 100) is None


def test_a_word_holding_the_join_character_falls_back_to_the_index() -> None:
    ws = words("one two three")
    ws.words[1] = "t\x00wo"  # no real word holds it; the fallback must still answer
    loc = Locator("one two three", "T", ws)
    assert loc._joined is None
    assert loc._exact(["t\x00wo", "three"], 0, 2) == 1
    assert loc._exact(["one"], 1, 2) is None
