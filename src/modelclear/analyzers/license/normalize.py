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
from functools import cache, lru_cache
from itertools import accumulate, count, repeat
from operator import add

# One CJK ideograph/syllable is one word: Chinese text has no spaces, and a re-wrap
# may break a line anywhere inside it.
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
#: every character of the CJK ranges is at or above this one
_CJK_FIRST = "\u2e80"
# Words are found without a match object per word (the cost of a regex scan on
# license text is per match, ~100 ns a word): on ASCII text, one translation keeps
# letters (lower-cased) and digits and blanks the rest, another does the reverse, and
# ``str.split`` of each gives the words and the gaps between them in C; their running
# lengths are the words' offsets. A text with a few other characters (©, é) is read
# the same way with each such character standing in as a letter or a blank, and the
# words holding one are then read from the text itself. Only a text with CJK
# characters takes the regex, whose pieces alternate gap, word, gap, ... the same way.
_ASCII_WORDS = str.maketrans(
    {chr(i): chr(i).lower() if chr(i).isalnum() else " " for i in range(128)}
)
_ASCII_GAPS = str.maketrans({chr(i): " " if chr(i).isalnum() else "x" for i in range(128)})
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Markup whose text is not part of the license: link targets (even when a re-wrap broke
# them over lines), HTML tags, images.
_SKIP = re.compile(r"\]\([^()]{0,300}\)|<[/!]?[a-zA-Z][^<>]{0,200}>|!\[[^\]]*\]\([^)]*\)")
# A filled-in copyright line varies per project and is not part of the license
# terms (SPDX matching guidelines treat it the same way). Only a line that starts a
# paragraph counts: inside re-wrapped prose, "Copyright © Meta…" may begin a line
# and is part of a required notice.
# The line is matched at the text's start, then after each blank line: two patterns,
# because a pattern beginning ``\A|\n`` is tried at every character while one beginning
# with a newline is searched for it in C.
_COPYRIGHT_TEXT = (
    r"[ \t]*([#>*_\-| \t]*copyright\s*(?:\(c\)|©|\d{4}|\[yyyy\]|\{yyyy\}|<year>)[^\n]{0,200})"
)
_COPYRIGHT_FIRST = re.compile(_COPYRIGHT_TEXT, re.IGNORECASE)
_COPYRIGHT_LINE = re.compile(r"\n[ \t]*\n" + _COPYRIGHT_TEXT, re.IGNORECASE)
# Sentence ends: western and CJK punctuation, or a blank line (headings, list items).
# Written as one leading character class then what must follow it, so that ``re``
# skips to candidate characters in C instead of trying each alternative everywhere;
# it ends where ``[.;:!?。；：！？](?=\s|$)|\n[ \t]*\n|[。；！？]`` ends.
_SENT_END = re.compile(
    r"([\n.;:!?。；：！？](?:(?<=[.;:!?：])(?=\s|$)|(?<=[。；！？])|(?<=\n)[ \t]*\n))"
)
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


@cache
def _word_cjk() -> re.Pattern[str]:
    """The word pattern with its CJK branch, compiled on first need: ``re`` builds a
    character class one code point at a time (~8 ms for these ranges), and most
    license texts have no character in them."""
    return re.compile(rf"([{_CJK}]|[^\W_{_CJK}]+)")


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
    # every markup form starts "](", "<" or "!["; most license texts hold none
    markup = "<" in text or "](" in text or "![" in text
    spans = [(m.start(), m.end()) for m in _SKIP.finditer(text)] if markup else []
    first = _COPYRIGHT_FIRST.match(text)
    if first:
        spans.append((first.start(1), first.end(1)))
    after = first.end() if first else 0
    spans += [(m.start(1), m.end(1)) for m in _COPYRIGHT_LINE.finditer(text, after)]
    spans.sort()
    return spans


def _blank_skipped(folded: str) -> str:
    """Blank skipped markup in place: same length, so offsets still point into the text."""
    skip = _skipped_spans(folded)
    if not skip:
        return folded
    pieces: list[str] = []
    last = 0
    for a, b in skip:
        a = max(a, last)
        if b <= a:
            continue
        pieces += [folded[last:a], " " * (b - a)]
        last = b
    pieces.append(folded[last:])
    return "".join(pieces)


def _offsets(lengths: list[int]) -> tuple[list[int], list[int]]:
    """(starts, ends) of the odd pieces of ``gap, word, gap, ..., gap`` from their
    lengths: the running lengths are alternately where a word starts and ends."""
    offs = list(accumulate(lengths))
    return offs[0:-1:2], offs[1::2]


def _ascii_tokens(form: str) -> tuple[list[str], list[int], list[int]]:
    """(lower-cased words, starts, ends) of an ASCII text."""
    found = form.translate(_ASCII_WORDS).split()
    gaps = form.translate(_ASCII_GAPS).split()
    if form[:1].isalnum():
        gaps.insert(0, "")  # no gap before a first word
    if len(gaps) == len(found):
        gaps.append("")  # none after a last word
    lengths = [0] * (2 * len(found) + 1)
    lengths[0::2] = map(len, gaps)
    lengths[1::2] = map(len, found)
    return (found, *_offsets(lengths))


def _lower_or_fold(word: str, longer: bool) -> str:
    """The comparable form of one word read from the text: its lower case when that is
    ASCII, else ``fold``; always ``fold`` in a text with a character whose lower case is
    longer (``longer``), as slicing that text's lower case would misplace every word.

    Lower-casing a word alone equals slicing the lower-cased text: no character lowers
    to nothing, and Python's only contextual rule (final sigma) never yields ASCII."""
    if longer:
        return fold(word)
    low = word.lower()
    return low if low.isascii() else fold(word)


#: ``fold`` and ``_lower_or_fold`` remembered: a Chinese text is thousands of
#: one-ideograph words drawn from a few hundred characters
_fold_cached = lru_cache(maxsize=8192)(fold)


@lru_cache(maxsize=8192)
def _lower_or_fold_cached(word: str) -> str:
    return _lower_or_fold(word, False)


def _plain_tokens(folded: str) -> tuple[list[str], list[int], list[int]]:
    """(words, starts, ends) of a text with no character in the CJK ranges."""
    odd = list(map(re.Match.start, _NON_ASCII.finditer(folded)))
    pieces: list[str] = []
    last = 0
    for p in odd:  # a word character (``[^\W_]`` is ``isalnum``) stands in as a letter
        pieces += [folded[last:p], "a" if folded[p].isalnum() else " "]
        last = p + 1
    pieces.append(folded[last:])
    found, starts, ends = _ascii_tokens("".join(pieces))
    longer = len(folded.lower()) != len(folded)
    for i in sorted({bisect_right(starts, p) - 1 for p in odd if folded[p].isalnum()}):
        found[i] = _lower_or_fold(folded[starts[i] : ends[i]], longer)
    return found, starts, ends


def _cjk_tokens(folded: str) -> tuple[list[str], list[int], list[int]]:
    """(words, starts, ends) of a text with CJK characters, each of them one word."""
    parts = _word_cjk().split(folded)
    found = parts[1::2]
    longer = len(folded.lower()) != len(folded)
    # most words are one ideograph: remembered, not NFKC-normalised again for each
    out = list(map(_fold_cached if longer else _lower_or_fold_cached, found))
    return (out, *_offsets(list(map(len, parts))))


def words(text: str) -> Words:
    """Split ``text`` into comparable words, remembering where each one came from."""
    folded = _blank_skipped(_fold_marks(text))
    if folded.isascii():
        out, starts, ends = _ascii_tokens(folded)
    elif max(_NON_ASCII.findall(folded)) < _CJK_FIRST:  # few such characters: © é
        out, starts, ends = _plain_tokens(folded)
    else:
        out, starts, ends = _cjk_tokens(folded)
    # line i starts after i newlines and the lengths of the i lines before it
    line_starts = list(map(add, accumulate(map(len, text.split("\n")[:-1]), initial=0), count()))
    # sentence boundaries: the first word after each sentence-ending mark (word starts
    # ascend, so a binary search finds it; mapped in C over all marks at once)
    marks = _offsets(list(map(len, _SENT_END.split(folded))))[1]
    n = len(starts)
    sent = sorted({0, *map(bisect_left, repeat(starts), marks)} - {n}) if out else []
    return Words(text, out, starts, ends, line_starts, sent)


def word_list(text: str) -> list[str]:
    """``words(text).words`` without the offsets, lines and sentences: for the short
    strings (catalog phrases, names in a clause) whose words alone are compared."""
    folded = _blank_skipped(_fold_marks(text))
    if folded.isascii():
        return folded.translate(_ASCII_WORDS).split()
    return words(text).words


@lru_cache(maxsize=4096)
def phrase_words(phrase: str) -> tuple[str, ...]:
    """The words of a catalog phrase, remembered: the same few hundred anchors and
    identifying phrases are looked up for every file."""
    return tuple(word_list(phrase))


def normalized(text: str) -> str:
    """The canonical one-line form of a text: its words joined by single spaces."""
    return " ".join(word_list(text))


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def lines_of(text: str, keepends: bool = False) -> list[str]:
    """Lines split on ``\\n`` only, the way grep, editors and diff number them.

    ``str.splitlines`` also breaks on U+2028, form feeds and other separators that
    real license texts contain (the Llama 3.1 license has a U+2028), which would
    shift every line number after it away from what a user sees.
    """
    found = _LINE.findall(text)
    return found if keepends else [ln.removesuffix("\n") for ln in found]
