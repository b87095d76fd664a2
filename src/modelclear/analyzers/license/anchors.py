"""Where a catalog anchor phrase sits in one file: the evidence for a catalog term.

A catalogued clause is reported only with a quote from the file, so every term of a
matched license looks up its anchor phrase here, a few hundred lookups per folder of
texts; this is on the hot path of ``modelclear license``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

from .model import Evidence
from .normalize import Words, phrase_words, words

#: joins a file's words for an exact anchor search: a control character, never in a word
_SEP = "\x00"


class Locator:
    """Finds catalog anchor phrases in one file, inside a line range when given.

    An exact anchor is found with one ``str.find`` over the file's words joined by a
    character no word holds; the per-word position index that the fuzzy search needs
    is built only when an anchor is not found exactly (a verbatim text never needs it).
    """

    def __init__(self, text: str, file: str, ws: Words | None = None) -> None:
        self.text = text
        self.file = file
        self.ws = ws if ws is not None else words(text)
        body = _SEP.join(self.ws.words)
        #: None when some word holds the separator (then the index answers instead)
        clean = body.count(_SEP) == max(len(self.ws) - 1, 0)  # only the joins
        self._joined: str | None = f"{_SEP}{body}{_SEP}" if clean else None
        self._index: defaultdict[str, list[int]] | None = None

    @property
    def _pos(self) -> defaultdict[str, list[int]]:
        """Word -> its indices in the file, ascending (built on first need)."""
        if self._index is None:
            # a defaultdict appends without allocating a spare list per word
            self._index = defaultdict(list)
            for i, w in enumerate(self.ws.words):
                self._index[w].append(i)
        return self._index

    def _exact(self, anchor: list[str], lo: int, hi: int) -> int | None:
        """The first index ``i >= lo`` where ``anchor`` starts, if it ends by ``hi``."""
        if not anchor:
            return None
        n = len(anchor)
        if self._joined is None or any(_SEP in w for w in anchor):
            for i in self._pos.get(anchor[0], ()):
                if lo <= i and i + n - 1 <= hi and self.ws.words[i : i + n] == anchor:
                    return i
            return None
        lo = max(lo, 0)
        if lo >= len(self.ws):
            return None
        # the separator before word ``lo`` follows ``lo`` words and separators
        start = sum(map(len, self.ws.words[:lo])) + lo if lo else 0
        at = self._joined.find(f"{_SEP}{_SEP.join(anchor)}{_SEP}", start)
        if at < 0:
            return None
        i = self._joined.count(_SEP, 0, at)  # one separator before each earlier word
        return i if i + n - 1 <= hi else None

    def _fuzzy(self, anchor: list[str], lo: int, hi: int) -> int | None:
        """Best window where most anchor words sit in place (misspellings, one-word edits)."""
        n = len(anchor)
        if n < 4:
            return None
        best, best_i = 0, None
        cands: set[int] = set()
        for k, w in enumerate(anchor):
            for i in self._pos.get(w, ()):
                if lo <= i - k and i - k + n - 1 <= hi:
                    cands.add(i - k)
        for i in cands:
            same = sum(1 for a, b in zip(anchor, self.ws.words[i : i + n], strict=False) if a == b)
            if same > best:
                best, best_i = same, i
        return best_i if best >= max(3, int(n * 0.75)) else None

    def find(self, phrase: str, lo: int = 0, hi: int | None = None) -> Evidence | None:
        hi = len(self.ws) - 1 if hi is None else hi
        anchor = list(phrase_words(phrase))  # compared with slices of the file's word list
        i = self._exact(anchor, lo, hi)
        if i is None:
            i = self._fuzzy(anchor, lo, hi)
        if i is None:
            return None
        # quote the whole sentence holding the phrase: a clause, not a fragment
        s, e = self.ws.sentence_of(i)
        end_word = i + len(anchor) - 1
        e = max(e, end_word)
        if self.ws.ends[e] - self.ws.starts[s] > 600:
            s, e = i, end_word  # a run-on paragraph: the phrase itself
        ls, le = self.ws.line_span(s, e)
        return Evidence(file=self.file, line_start=ls, line_end=le, quote=self.ws.quote(s, e, 600))

    def word_range(self, line_start: int, line_end: int) -> tuple[int, int]:
        """Word indices covering lines ``line_start..line_end`` (binary search: words
        and lines are both in file order)."""
        ls = self.ws.line_starts
        if not self.ws.words:
            return 0, 0
        first = len(self.text)
        if line_start <= len(ls):
            first = ls[min(max(line_start, 1), len(ls)) - 1]
        lo = bisect_left(self.ws.starts, first)
        if lo >= len(self.ws):
            lo = 0  # no word on or after those lines: from the start, as before
        after = ls[line_end] if line_end < len(ls) else None
        hi = (bisect_left(self.ws.starts, after) - 1) if after is not None else len(self.ws) - 1
        return lo, max(lo, hi)
