"""Turn license text into a canonical word stream that keeps its way back to the file.

Identification must survive what people do to license files: re-wrapping,
markdown decoration, smart quotes, numbering styles, a filled-in copyright line.
So we compare *words* only (punctuation, markup and layout are dropped) but keep,
for every word, its character span in the original text, so that a match found on
words can always be quoted from the file with its line numbers.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

# One CJK ideograph/syllable is one word: Chinese text has no spaces, and a re-wrap
# may break a line anywhere inside it.
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
# Markup whose text is not part of the license: link targets (even when a re-wrap broke
# them over lines), HTML tags, images.
_SKIP = re.compile(r"\]\([^()]{0,300}\)|<[/!]?[a-zA-Z][^<>]{0,200}>|!\[[^\]]*\]\([^)]*\)")
# A filled-in copyright line varies per project and is not part of the license
# terms (SPDX matching guidelines treat it the same way). Only a line that starts a
# paragraph counts: inside re-wrapped prose, "Copyright © Meta…" may begin a line
# and is part of a required notice.
_COPYRIGHT_LINE = re.compile(
    r"(?:\A|\n[ \t]*\n)[ \t]*([#>*_\-| \t]*copyright\s*(?:\(c\)|©|\d{4}|\[yyyy\]|\{yyyy\}|<year>)"
    r"[^\n]{0,200})",
    re.IGNORECASE,
)
# Sentence ends: western and CJK punctuation, or a blank line (headings, list items).
_SENT_END = re.compile(r"[.;:!?。；：！？](?=\s|$)|\n[ \t]*\n|[。；！？]")
#: typographic quotes, dashes and no-break spaces read as their plain forms; applied
#: with ``str.replace`` (one C-speed pass per character, ~100x faster than
#: ``str.translate`` with a mapping on a whole license text, and with the same result
#: since no replacement is itself replaced)
_FOLD = (
    ("\u2018", "'"),
    ("\u2019", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u00a0", " "),
    ("\u2013", "-"),
    ("\u2014", "-"),
)


def _fold_marks(text: str) -> str:
    for a, b in _FOLD:
        if a in text:
            text = text.replace(a, b)
    return text


def fold(word: str) -> str:
    """The comparable form of a word: compatibility-normalised and case-folded."""
    return unicodedata.normalize("NFKC", word).casefold()


@dataclass(frozen=True)
class Words:
    """The words of a text with their character spans and the text's line starts."""

    text: str
    words: list[str]
    starts: list[int]
    ends: list[int]
    line_starts: list[int] = field(repr=False)
    #: index of the first word of each sentence (ascending, starts with 0 if any words)
    sentence_starts: list[int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.words)

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return bisect_right(self.line_starts, offset)

    def line_span(self, first: int, last: int) -> tuple[int, int]:
        """1-based first and last line of words ``first..last`` (inclusive)."""
        return self.line_of(self.starts[first]), self.line_of(max(self.ends[last] - 1, 0))

    def quote(self, first: int, last: int, limit: int = 400) -> str:
        """The file's own text for words ``first..last``, whitespace collapsed."""
        raw = self.text[self.starts[first] : self.ends[last]]
        out = " ".join(raw.split())
        return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"

    def sentences(self) -> list[tuple[int, int]]:
        """Word index ranges ``[first, last]`` of each sentence."""
        bounds = self.sentence_starts + [len(self.words)]
        return [(a, b - 1) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]

    def sentence_of(self, index: int) -> tuple[int, int]:
        """The sentence (word range) holding word ``index``."""
        pos = bisect_right(self.sentence_starts, index) - 1
        first = self.sentence_starts[max(pos, 0)]
        nxt = pos + 1
        last = (
            self.sentence_starts[nxt] - 1
            if nxt < len(self.sentence_starts)
            else len(self.words) - 1
        )
        return first, last


def _skipped_spans(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _SKIP.finditer(text)]
    spans += [(m.start(1), m.end(1)) for m in _COPYRIGHT_LINE.finditer(text)]
    spans.sort()
    return spans


def words(text: str) -> Words:
    """Split ``text`` into comparable words, remembering where each one came from."""
    folded = _fold_marks(text)
    skip = _skipped_spans(folded)
    if skip:
        # blank skipped markup in place: same length, so offsets still point into `text`
        pieces: list[str] = []
        last = 0
        for a, b in skip:
            a = max(a, last)
            if b <= a:
                continue
            pieces += [folded[last:a], " " * (b - a)]
            last = b
        pieces.append(folded[last:])
        folded = "".join(pieces)
    found = list(_WORD.finditer(folded))
    starts: list[int] = list(map(re.Match.start, found))
    ends: list[int] = list(map(re.Match.end, found))
    lowered = folded.lower()
    if len(lowered) != len(folded):  # a rare character whose lower case is longer
        out = [fold(folded[a:b]) for a, b in zip(starts, ends, strict=True)]
    else:
        out = [lowered[a:b] for a, b in zip(starts, ends, strict=True)]
        if not lowered.isascii():
            for i, w in enumerate(out):
                if not w.isascii():
                    out[i] = fold(folded[starts[i] : ends[i]])
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    # sentence boundaries: the first word after each sentence-ending mark (word starts
    # ascend, so a binary search finds it)
    sent: list[int] = [0] if out else []
    n = len(starts)
    for m in _SENT_END.finditer(folded):
        wi = bisect_left(starts, m.end())
        if wi < n and sent[-1] != wi:
            sent.append(wi)
    return Words(text, out, starts, ends, line_starts, sent)


def normalized(text: str) -> str:
    """The canonical one-line form of a text: its words joined by single spaces."""
    return " ".join(words(text).words)


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def lines_of(text: str, keepends: bool = False) -> list[str]:
    """Lines split on ``\\n`` only, the way grep, editors and diff number them.

    ``str.splitlines`` also breaks on U+2028, form feeds and other separators that
    real license texts contain (the Llama 3.1 license has a U+2028), which would
    shift every line number after it away from what a user sees.
    """
    found = _LINE.findall(text)
    return found if keepends else [ln.removesuffix("\n") for ln in found]
