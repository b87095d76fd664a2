"""Shortened quotes are cut between words and marked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from modelclear.excerpt import excerpt

CLAUSE = ("You will not use the Llama Materials or any output or results of the Llama "
          "Materials to improve any other large language model, excluding Llama 2 or "
          "derivative works thereof.")


def test_short_text_is_kept_whole_on_one_line() -> None:
    assert excerpt("a  b\n c", 50) == "a b c"


def test_cut_between_words_and_marked() -> None:
    out = excerpt(CLAUSE, 60)
    assert out.endswith("…") and len(out) <= 61
    assert CLAUSE.startswith(out[:-1])  # every word whole
    assert out[:-1].split()[-1] in CLAUSE.split()


def test_keeps_the_match_in_view() -> None:
    at = CLAUSE.index("improve")
    out = excerpt(CLAUSE, 60, around=at)
    assert "improve" in out and out.startswith("…")
    assert out.lstrip("…").split()[0] in CLAUSE.split()


@given(st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=12), min_size=1,
                max_size=60), st.integers(10, 120), st.integers(0, 400))
def test_words_are_never_split(words: list[str], limit: int, around: int) -> None:
    text = " ".join(words)
    out = excerpt(text, limit, around=min(around, len(text)))
    inner = out.strip("…").split()
    if len(inner) > 2:  # the first and last words may be whole words cut by the limit
        assert all(w in words for w in inner[1:-1])
