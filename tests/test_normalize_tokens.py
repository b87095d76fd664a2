"""The fast word splitter must give exactly what a plain regex reading gives.

``normalize.words`` finds words with string translations and splits (no match object
per word) and sentence ends with a rewritten pattern; every offset it reports is
quoted back to users, so it is checked here against a straightforward reading of the
same rules on random text mixing the cases that differ: ASCII, a few non-ASCII word
characters, CJK, markup, CRLF, U+2028, combining marks, and characters whose lower case
is longer ('İ') or not ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left

from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.license import normalize
from modelclear.analyzers.license.normalize import phrase_words, word_list, words

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
_REF_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_REF_SENT = re.compile(r"[.;:!?。；：！？](?=\s|$)|\n[ \t]*\n|[。；！？]")
_REF_COPYRIGHT = re.compile(
    r"(?:\A|\n[ \t]*\n)[ \t]*([#>*_\-| \t]*copyright\s*(?:\(c\)|©|\d{4}|\[yyyy\]|\{yyyy\}|<year>)"
    r"[^\n]{0,200})",
    re.IGNORECASE,
)


def _ref_fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def _reference(text: str) -> tuple[list[str], list[int], list[int], list[int], list[int]]:
    """(words, starts, ends, line starts, sentence starts), one match at a time."""
    folded = normalize._fold_marks(text)
    spans = [(m.start(), m.end()) for m in normalize._SKIP.finditer(folded)]
    spans += [(m.start(1), m.end(1)) for m in _REF_COPYRIGHT.finditer(folded)]
    chars = list(folded)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    blanked = "".join(chars)
    found = list(_REF_WORD.finditer(blanked))
    starts = [m.start() for m in found]
    ends = [m.end() for m in found]
    lowered = blanked.lower()
    out = []
    for a, b in zip(starts, ends, strict=True):
        if len(lowered) != len(blanked) or not lowered[a:b].isascii():
            out.append(_ref_fold(blanked[a:b]))
        else:
            out.append(lowered[a:b])
    line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    sent: list[int] = [0] if out else []
    for m in _REF_SENT.finditer(blanked):
        wi = bisect_left(starts, m.end())
        if wi < len(starts) and sent[-1] != wi:
            sent.append(wi)
    return out, starts, ends, line_starts, sent


def _same(text: str) -> None:
    ws = words(text)
    got = (ws.words, ws.starts, ws.ends, ws.line_starts, ws.sentence_starts)
    assert got == _reference(text), repr(text)
    assert word_list(text) == ws.words, repr(text)  # the words-only reader agrees
    assert phrase_words(text) == tuple(ws.words), repr(text)


_PIECES = [
    "a", "Z", "q", "7", "0", "_", " ", "  ", "\t", "\n", "\r\n", "\n\n", "\n \n", ".", ";",
    ":", "!", "?", ",", "-", "'", '"', "(", ")", "[", "]", "<", ">", "/", "#", "*", "|",
    "\u2028", "\u00a0", "\u2003", "\u2019", "\u201c", "\u2014", "©", "é", "e\u0301",
    "\u0301", "İ", "ß", "Σ", "ΟΔΟΣ", "\u212a", "ﬁ", "²", "Ⅻ", "Ａ", "ǅ", "ŉ",
    "中", "文", "许", "可", "。", "；", "：", "！", "？", "，", "、", "「", "」", "\u3000",
    "⺀", "가", "豈", "\u2f00", "ｶ", "\U00020000",
    "Copyright (c) 2024 X", "COPYRIGHT 1999", "copyright [yyyy]", "\n\nCopyright © A",
    "[text](http://x.y/z)", "](a\nb)", "<a href='x'>", "</b>", "![img](p.png)",
    "license", "LICENSE", "Use", "版权所有",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_words_match_the_plain_reading(text: str) -> None:
    _same(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_words_match_on_any_text(text: str) -> None:
    _same(text)


def test_edges_and_every_class_of_text() -> None:
    """Cases each path must handle: empty, all gaps, a word at either end, and one
    text per tokeniser (ASCII, a few non-ASCII characters, CJK, a longer lower case)."""
    for text in [
        "", " ", "\n", "a", "a b", " a ", "..", "word.", "End.\n\nNext",
        "Copyright 2020 A\n\nterms apply.", "© 2024 Café résumé naïve.",
        "ΟΔΟΣ ΣΟΦΙΑΣ. \u212aelvin", "İSTANBUL license", "许可协议。第一条：使用。Use it.",
        "line\u2028break\r\nnext\n\n\n", "x_y 1_2 __ a\u0301b",
    ]:
        _same(text)


def test_non_ascii_word_characters_are_isalnum() -> None:
    """The non-CJK reader stands a non-ASCII character in as a letter when
    ``isalnum`` says so: that must be exactly ``re``'s ``[^\\W_]``."""
    word = re.compile(r"[^\W_]")
    for code in range(0x80, 0x2E80):
        c = chr(code)
        assert bool(word.match(c)) == c.isalnum(), hex(code)
