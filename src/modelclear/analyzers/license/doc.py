"""A license text normalized for matching, with a map back to the file as written."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property

from .locate import evidence_for_span
from .model import Evidence
from .normalize import lines_of
from .numbers import Quantity, find_quantities
from .phrases import patterns

#: characters of one document read by the extractor (the longest model licenses we
#: know are about 40,000; the full CC BY 4.0 legal code is about 20,000)
MAX_TEXT_CHARS = 120_000

_QUOTES = {
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "「": '"',
    "」": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "–": "-",
    "—": "-",
    "‒": "-",
    "―": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u3000": " ",
}
_QUOTE_TABLE = str.maketrans(_QUOTES)
_LINE_MARK = re.compile(r"[ \t]*(?:#{1,6}|>+)[ \t]*")
# a run of ordinary characters, a run of whitespace, or one markup character
_CHUNK = re.compile(r"[^\s*\\_]+|\s+|[*\\_]")
_LIST_START = re.compile(
    r"[ \t]*(?:[-*+•]|\(?[0-9]{1,3}(?:\.[0-9]{1,3})*[.)]|\(?[a-zA-Z][.)]"
    r"|\(?[ivxIVX]{1,5}[.)]|#{1,6})\s"
)
_ABBREV = frozenset(
    "e.g i.e inc ltd co no nos vs etc st mr ms dr u.s u.k sec art para corp llc approx cf "
    "jr sr fig al".split()
)


@dataclass(frozen=True)
class Span:
    """A stretch of the normalized text: [start, end)."""

    start: int
    end: int


class Doc:
    """A license text with its normalized form, sentence boundaries and an
    index map back to the original characters."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        norm, self.index = _normalize(text)
        self.norm = patterns().speller.respell(norm)
        self.sentences = _sentences(self.norm)
        self._starts = [s.start for s in self.sentences]

    def sentence_at(self, pos: int) -> Span:
        i = max(0, bisect.bisect_right(self._starts, pos) - 1)
        return self.sentences[i] if self.sentences else Span(0, len(self.norm))

    def original(self, start: int, end: int) -> tuple[int, int]:
        if not self.index:
            return 0, 0
        start = min(max(start, 0), len(self.index) - 1)
        end = min(max(end, start + 1), len(self.index))
        return self.index[start], self.index[end - 1] + 1

    def evidence(self, start: int, end: int, focus: tuple[int, int] | None = None) -> Evidence:
        """Evidence for the sentence(s) covering [start, end) of the normalized
        text; when that is longer than a quote may be, keep the part around
        `focus` (the match itself)."""
        s = self.sentence_at(start).start
        e = self.sentence_at(max(start, end - 1)).end
        if e - s > 300:
            f0, f1 = focus or (start, end)
            s = max(s, min(f0, f1 - 300))
            e = min(e, max(f1, s + 300))
            # widen to word edges
            while s > 0 and self.norm[s - 1] not in " \n":
                s -= 1
            while e < len(self.norm) and self.norm[e] not in " \n":
                e += 1
        # a sentence ends with the space that joined its line to the next: that space
        # maps to the next line's first character, which is not part of the quote
        while e > s + 1 and self.norm[e - 1] in " \n":
            e -= 1
        a, b = self.original(s, e)
        return evidence_for_span(self.text, self.file, a, b)

    def sentence_text(self, pos: int) -> str:
        sp = self.sentence_at(pos)
        return self.norm[sp.start : sp.end]

    def original_text(self, start: int, end: int) -> str:
        a, b = self.original(start, end)
        return " ".join(self.text[a:b].split())

    @cached_property
    def quantities(self) -> list[Quantity]:
        return find_quantities(self.norm)


def _normalize(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    idx: list[int] = []
    lines = lines_of(text, keepends=True)
    pos = 0
    pending_break: str | None = None
    title_line = False
    for line in lines:
        body = line.rstrip("\r\n")
        stripped = body.strip()
        if not stripped:
            pending_break = "\n"
            title_line = False
            pos += len(line)
            continue
        if _LIST_START.match(body) or stripped.startswith(("#", ">", "|")):
            pending_break = "\n"
        if out and out[-1] != "\n" and title_line:
            pending_break = "\n"  # the previous line was a heading
        title_line = _looks_like_title(stripped, first=not out or out[-1] == "\n") or _zh_break(
            stripped
        )
        if out:
            sep = pending_break or " "
            if out[-1] in " \n":
                if sep == "\n":
                    out[-1] = "\n"
            else:
                out.append(sep)
                idx.append(pos)
        pending_break = None
        # drop heading marks and blockquote marks at line start
        m = _LINE_MARK.match(body)
        for t in _CHUNK.finditer(body, m.end() if m else 0):
            tok = t.group()
            at = pos + t.start()
            first = tok[0]
            if first.isspace():
                if out and out[-1] not in " \n":
                    out.append(" ")
                    idx.append(at)
            elif first in "*\\":
                continue  # markdown emphasis, escapes
            elif first == "_":
                i = t.start()
                if (
                    i == 0
                    or i + 1 >= len(body)
                    or body[i + 1] == "_"
                    or body[i - 1] == "_"
                    or not body[i - 1].isalnum()
                    or not body[i + 1].isalnum()
                ):
                    continue  # emphasis, not a snake_case name
                out.append("_")
                idx.append(at)
            else:
                low = tok.translate(_QUOTE_TABLE).lower()
                if len(low) == len(tok):
                    out.append(low)
                    idx.extend(range(at, at + len(tok)))
                else:  # a letter whose lower case is longer: keep one char per char
                    for k, ch in enumerate(tok):
                        lc = _QUOTES.get(ch, ch).lower()
                        out.append(lc if len(lc) == 1 else ch)
                        idx.append(at + k)
        pos += len(line)
    return "".join(out), idx


_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


def _zh_break(line: str) -> bool:
    """A Chinese line ends its sentence or paragraph when it ends in 。！？；： or is a
    short heading ("第二部分：许可及许可限制"): Chinese is rarely hard-wrapped, and a
    heading run into the next clause would make one sentence of both."""
    if not _CJK_CHAR.search(line):
        return False
    return line[-1] in "。！？；：:" or (len(line) <= 24 and not re.search(r"[，、,]", line))


def _looks_like_title(line: str, first: bool) -> bool:
    """A short capitalised line with no closing punctuation at the start of a
    paragraph: a heading, even when the body follows without a blank line."""
    if not first or len(line) > 70 or line[-1:] in ".,;:":
        return False
    words = re.findall(r"[^\W\d_][\w'-]*", line.replace("*", ""))
    if not words or len(words) > 9:
        return False
    return sum(1 for w in words if w[0].isupper()) / len(words) >= 0.6


# Western sentences end at a stop followed by a space; Chinese ones at 。！？； with no
# space after (the closing quote or bracket stays with the sentence it closes).
_BOUNDARY = re.compile(r"\n|(?<=[.;!?:])[\"')\]]?\s+|(?<=[。；！？])[\"')\]）』]?\s*")


def _sentences(norm: str) -> list[Span]:
    spans: list[Span] = []
    start = 0
    for m in _BOUNDARY.finditer(norm):
        if m.group() != "\n":
            # not after an abbreviation, a clause number or a single letter
            before = norm[max(start, m.start() - 8) : m.start()]
            word = re.search(r"(?<![\w.])(\w[\w.]*)\.$", before)
            if word:
                w = word.group(1).rstrip(".")
                if w in _ABBREV or len(w) == 1 or w.isdigit() or re.fullmatch(r"[ivx]{1,4}", w):
                    continue
        end = m.start() if m.group() == "\n" else m.end()
        if norm[start:end].strip():
            spans.append(Span(start, end))
        start = m.end()
    if norm[start:].strip():
        spans.append(Span(start, len(norm)))
    return spans
