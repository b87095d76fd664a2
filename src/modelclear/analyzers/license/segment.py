"""Split one file that holds several documents into its documents.

Releases often ship a single LICENSE that stacks a code license, the model
license and its acceptable-use policy. Identification and term extraction must
see each document alone (an AUP's "you will not…" list is not the license's
grant), so we cut the file at document titles and separator rules and keep the
line ranges for evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .normalize import lines_of

SegmentKind = Literal["license", "acceptable-use-policy", "notice", "unknown"]

_TITLE_WORDS = re.compile(
    r"\b(?:licen[cs]e|agreement|terms of use|terms and conditions|use polic(?:y|ies)|"
    r"usage polic(?:y|ies)|prohibited uses?|notice)\b",
    re.IGNORECASE,
)
# headings that belong to the document they sit in
_INNER = re.compile(
    r"^(?:\d|[ivx]+[.)]|[a-z][.)]|\(|attachment|appendix|exhibit|schedule|annex|section|article|"
    r"part|chapter|clause|end of|how to apply|definitions?|table of contents|use restrictions?|"
    r"grant of|license grant|license rights|redistribution|restrictions?|termination|"
    r"disclaimer|limitation|governing|trademark|intellectual|miscellaneous|additional|other|"
    r"term and|updates? to|contact|notice of)",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^\s*(?:-{3,}|={3,}|\*{3,}|_{3,}|#{3,}|~{3,})\s*$")
_POLICY = re.compile(
    r"(?:acceptable|prohibited|permitted|responsible)[ -]uses?|use polic|usage polic",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"^[\s#>_`]+|[\s_`:]+$")


@dataclass(frozen=True)
class Segment:
    """One document of a file: 1-based inclusive line range, its title if any."""

    line_start: int
    line_end: int
    title: str | None
    kind: SegmentKind
    text: str


def title_of(line: str) -> str | None:
    bare = _MARKUP.sub("", line.replace("*", "")).strip()
    if not bare or len(bare) > 100 or not _TITLE_WORDS.search(bare):
        return None
    if _INNER.match(bare):
        return None
    if re.search(r"[.;,]$", bare) and not re.search(r"\bv?\d+(?:\.\d+)+$", bare.rstrip(".")):
        return None  # a sentence, not a title
    words = re.findall(r"[A-Za-z][\w'’-]*", bare)
    if len(words) > 14 or not words:
        return None
    heading = line.lstrip().startswith("#")
    caps = sum(1 for w in words if w[0].isupper()) / len(words)
    if not heading and caps < 0.6:
        return None
    return bare


def _kind(title: str | None, body: str) -> SegmentKind:
    if title and _POLICY.search(title):
        return "acceptable-use-policy"
    if title and re.search(r"licen[cs]e|agreement|terms", title, re.IGNORECASE):
        return "license"
    head = f"{title or ''}\n{body[:400]}"
    if _POLICY.search(head) and not re.search(r"\bgrant", body[:3000], re.IGNORECASE):
        return "acceptable-use-policy"
    if (
        title
        and re.search(r"\bnotice\b", title, re.IGNORECASE)
        and not re.search(r"licen[cs]e|agreement", title, re.IGNORECASE)
    ):
        return "notice"
    if _TITLE_WORDS.search(head) or re.search(r"\bgrant", body[:3000], re.IGNORECASE):
        return "license"
    return "unknown"


def segment(text: str, min_lines: int = 4) -> list[Segment]:
    """The documents in `text`, in order; a file with one document gives one segment.

    A new document starts at a title line (a short, capitalised or markdown
    heading that names a license, agreement, terms or policy, after a blank line
    or a separator rule) once the current document has at least `min_lines`
    non-blank lines, so a title followed by its subtitle does not split.
    """
    lines = lines_of(text)
    if not lines:
        return []
    starts: list[tuple[int, str | None]] = []
    current_lines = 0
    after_break = True
    after_rule = False
    for i, line in enumerate(lines):
        if not line.strip():
            after_break = True
            continue
        if _SEPARATOR.match(line):
            after_break = True
            after_rule = True
            continue
        title = title_of(line) if after_break else None
        if not starts:
            starts.append((i, title))
            current_lines = 1
        elif title is not None and (current_lines >= min_lines or after_rule):
            starts.append((i, title))
            current_lines = 1
        else:
            current_lines += 1
        after_break = False
        after_rule = False
    out: list[Segment] = []
    for n, (start, title) in enumerate(starts):
        end = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(lines) - 1
        while end > start and (not lines[end].strip() or _SEPARATOR.match(lines[end])):
            end -= 1
        body = "\n".join(lines[start : end + 1])
        out.append(Segment(start + 1, end + 1, title, _kind(title, body), body))
    return out
