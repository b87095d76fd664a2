"""Find a short phrase in a license file and report where it really is.

Evidence must quote the analysed file, not the catalog or a label, and users
re-wrap, markdown-ify and retype license texts. So matching works on word
tokens (punctuation, markup, quotes, dashes, case and line breaks vanish) with
a small per-token typo allowance, and the quote is cut from the original text
between the first and last matched token.

We write this ourselves rather than use a fuzzy-search library because we need
the alignment back to original byte offsets and line numbers, which the
libraries we could use (difflib, rapidfuzz) do not keep for token streams.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from .model import Evidence

MAX_QUOTE = 300

# A token is a run of letters/digits; CJK characters are single tokens so
# bilingual files (Chinese then English) still align word by word.
_TOKEN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]|[^\W_]+", re.UNICODE)
_ELLIPSIS = re.compile(r"\s*(?:\.\s*\.\s*\.|…)\s*")
_CLOSERS = "\"'”’)]*_"


@dataclass(frozen=True)
class Tokens:
    """Lower-cased word tokens of a text with their character spans."""

    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    joined: str  # " ".join(words): exact token-sequence search with str.find
    offsets: tuple[int, ...]  # start of each word inside `joined`
    line_starts: tuple[int, ...]  # character index where each line begins

    def line_of(self, index: int) -> int:
        """1-based line number of a character index of the original text."""
        return bisect.bisect_right(self.line_starts, index)


@lru_cache(maxsize=16)
def tokenize(text: str) -> Tokens:
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _TOKEN.finditer(text):
        words.append(m.group().lower())
        starts.append(m.start())
        ends.append(m.end())
    offsets: list[int] = []
    pos = 0
    for w in words:
        offsets.append(pos)
        pos += len(w) + 1
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return Tokens(
        tuple(words),
        tuple(starts),
        tuple(ends),
        " ".join(words),
        tuple(offsets),
        tuple(line_starts),
    )


def words_of(phrase: str) -> list[str]:
    return [m.group().lower() for m in _TOKEN.finditer(phrase)]


def _close(a: str, b: str) -> bool:
    """Whether two tokens are equal up to one small typo (two for long words)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if min(la, lb) < 4 or abs(la - lb) > 2:
        return False
    budget = 1 if max(la, lb) < 8 else 2
    # optimal string alignment distance (a swap of two letters is one typo)
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        for j in range(1, lb + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > budget:
            return False
        prev2, prev = prev, cur
    return prev[lb] <= budget


def _exact(toks: Tokens, words: list[str], start_word: int) -> tuple[int, int] | None:
    needle = " ".join(words)
    begin = toks.offsets[start_word] if start_word < len(toks.offsets) else len(toks.joined)
    while True:
        at = toks.joined.find(needle, begin)
        if at < 0:
            return None
        end = at + len(needle)
        left_ok = at == 0 or toks.joined[at - 1] == " "
        right_ok = end == len(toks.joined) or toks.joined[end] == " "
        if left_ok and right_ok:
            i = bisect.bisect_left(toks.offsets, at)
            return i, i + len(words) - 1
        begin = at + 1


def _score(words: list[str], window: tuple[str, ...]) -> tuple[float, int, int]:
    """Fraction of phrase words found in order in the window, and the window
    indices of the first and last word of the phrase (unmatched words at either
    end are counted in when the window has room for them)."""
    sm = SequenceMatcher(None, words, window, autojunk=False)
    matched = 0
    first = last = -1
    p_first = p_last = -1
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        pairs: list[tuple[int, int]] = []
        if tag == "equal":
            pairs = list(zip(range(i1, i2), range(j1, j2), strict=True))
        elif tag == "replace":
            pairs = [
                (a, b)
                for a, b in zip(range(i1, i2), range(j1, j2), strict=False)
                if _close(words[a], window[b])
            ]
        for a, b in pairs:
            matched += 1
            if first < 0:
                first, p_first = b, a
            last, p_last = b, a
    if first < 0:
        return 0.0, -1, -1
    first = max(0, first - p_first)
    last = min(len(window) - 1, last + (len(words) - 1 - p_last))
    return matched / len(words), first, last


def _fuzzy(toks: Tokens, words: list[str], start_word: int) -> tuple[int, int] | None:
    m = len(words)
    if m < 3:
        return None  # too short to tell a typo from a different word
    index: dict[str, list[int]] = {}
    for i in range(start_word, len(toks.words)):
        index.setdefault(toks.words[i], []).append(i)
    # anchor on the rarest long words of the phrase
    anchors = sorted(
        (j for j, w in enumerate(words) if len(w) >= 4 and w in index),
        key=lambda j: len(index[words[j]]),
    )[:4]
    candidates: set[int] = set()
    for j in anchors:
        for i in index[words[j]][:200]:
            candidates.add(max(start_word, i - j))
    if not candidates and m <= 12:
        candidates = set(range(start_word, max(start_word, len(toks.words) - m) + 1))
    slack = max(2, m // 5)
    best: tuple[float, int, int] | None = None
    for s in sorted(candidates):
        lo = max(start_word, s - slack)
        window = toks.words[lo : s + m + slack]
        score, first, last = _score(words, window)
        if first < 0:
            continue
        if best is None or score > best[0] + 1e-9:
            best = (score, lo + first, lo + last)
    need = 0.8 if m >= 6 else (m - 1) / m
    if best is None or best[0] < need:
        return None
    return best[1], best[2]


def _find_words(toks: Tokens, words: list[str], start_word: int = 0) -> tuple[int, int] | None:
    if not words:
        return None
    return _exact(toks, words, start_word) or _fuzzy(toks, words, start_word)


def evidence_for_span(text: str, file: str, start: int, end: int) -> Evidence:
    """Evidence for characters [start, end) of `text`, cut to MAX_QUOTE at a word edge."""
    toks = tokenize(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start > MAX_QUOTE:
        cut = text.rfind(" ", start, start + MAX_QUOTE)
        end = cut if cut > start + MAX_QUOTE // 2 else start + MAX_QUOTE
    return Evidence(
        file=file,
        line_start=toks.line_of(start),
        line_end=toks.line_of(max(start, end - 1)),
        quote=text[start:end],
    )


def locate_span(text: str, phrase: str) -> tuple[int, int] | None:
    """Character span [start, end) of `phrase` in `text`, or None."""
    toks = tokenize(text)
    parts = [p for p in _ELLIPSIS.split(phrase) if words_of(p)]
    if not parts:
        return None
    first_word = last_word = -1
    cursor = 0
    for part in parts:
        found = _find_words(toks, words_of(part), cursor)
        if found is None:
            return None
        if first_word < 0:
            first_word = found[0]
        last_word = found[1]
        cursor = found[1] + 1
    start, end = toks.starts[first_word], toks.ends[last_word]
    # keep a closing quote, bracket or sentence mark that the phrase itself carries
    tail = phrase.rstrip()
    while end < len(text) and tail and not tail[-1].isalnum():
        ch = text[end]
        if ch in _CLOSERS or (ch in ".;:,!?" and tail[-1] in ".;:,!?"):
            end += 1
            tail = tail[:-1] if ch in ".;:,!?" else tail
            if ch in ".;:,!?":
                break
        else:
            break
    return start, end


def locate(text: str, phrase: str, file: str) -> Evidence | None:
    """Evidence (1-based lines, quote as written in the file) for `phrase`.

    Tolerates whitespace and line wrapping, markdown emphasis, headings and list
    markers, smart quotes and dashes, case, and small typos. A phrase with an
    ellipsis ("... ") matches its parts in order and quotes the whole stretch.
    """
    span = locate_span(text, phrase)
    if span is None:
        return None
    return evidence_for_span(text, file, *span)
