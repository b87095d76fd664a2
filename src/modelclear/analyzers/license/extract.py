"""Read license terms out of a text never seen before, each with the line it came from.

The catalog knows the licenses we have read; this module is what lets modelclear
say something true about the ones we have not (a new version, a derived
license, a publisher's own agreement). Detectors look for the grammatical
constructions licenses use for each duty (a grant narrowed to non-commercial
use, a user threshold followed by "request a license", a prohibition on using
outputs to improve other models…) rather than for any one license's wording.
The phrases live in ``data/license_patterns.toml``.

Matching runs on a normalized copy of the text (lower case, straight quotes,
no markdown, one space for any run of whitespace) that keeps a map back to the
original characters, so every quote is cut from the file as written.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from .locate import evidence_for_span
from .model import TERM_NAMES, Evidence, Term
from .normalize import lines_of
from .numbers import Quantity, find_quantities

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
        title_line = _looks_like_title(stripped, first=not out or out[-1] == "\n")
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


def _looks_like_title(line: str, first: bool) -> bool:
    """A short capitalised line with no closing punctuation at the start of a
    paragraph: a heading, even when the body follows without a blank line."""
    if not first or len(line) > 70 or line[-1:] in ".,;:":
        return False
    words = re.findall(r"[^\W\d_][\w'-]*", line.replace("*", ""))
    if not words or len(words) > 9:
        return False
    return sum(1 for w in words if w[0].isupper()) / len(words) >= 0.6


_BOUNDARY = re.compile(r"\n|(?<=[.;!?:。；！？])[\"')\]]?\s+")


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


# --------------------------------------------------------------------------- patterns


class Speller:
    """Reads a word one typo away from exactly one detector word as that word.

    Only same-length corrections (one substituted letter or two swapped
    neighbours) are made, so the normalized text keeps its length and its map
    back to the original characters; quotes still show the file's own spelling.
    """

    def __init__(self, vocabulary: set[str]) -> None:
        self.vocab = frozenset(w for w in vocabulary if len(w) >= 5)
        self.longest = max((len(w) for w in self.vocab), default=0)
        self._subst: dict[tuple[int, str], set[str]] = {}
        self._anagram: dict[str, set[str]] = {}
        for w in self.vocab:
            for i in range(len(w)):
                self._subst.setdefault((i, w[:i] + w[i + 1 :]), set()).add(w)
            self._anagram.setdefault("".join(sorted(w)), set()).add(w)

    def correct(self, word: str) -> str | None:
        if len(word) > self.longest:
            return None
        found: set[str] = set()
        for i in range(len(word)):
            found |= self._subst.get((i, word[:i] + word[i + 1 :]), set())
        for w in self._anagram.get("".join(sorted(word)), ()):
            diff = [k for k in range(len(w)) if w[k] != word[k]]
            if len(diff) == 2 and diff[1] == diff[0] + 1:
                found.add(w)
        found.discard(word)
        return next(iter(found)) if len(found) == 1 else None

    def respell(self, norm: str) -> str:
        counts: dict[str, int] = {}
        for m in _WORD.finditer(norm):
            counts[m.group()] = counts.get(m.group(), 0) + 1
        fixes: dict[str, str] = {}
        for word, n in counts.items():
            # a typo is rare; a word the text uses often is its own word
            if n > 2 or word in self.vocab:
                continue
            fixed = self.correct(word)
            if fixed is not None:
                fixes[word] = fixed
        if not fixes:
            return norm
        return _WORD.sub(lambda m: fixes.get(m.group(), m.group()), norm)


_WORD = re.compile(r"(?<![a-z])[a-z]{5,}(?![a-z])")


@dataclass(frozen=True)
class Patterns:
    raw: dict[str, Any]
    places: dict[str, str]

    @cached_property
    def speller(self) -> Speller:
        words: set[str] = set(self.raw.get("spelling", {}).get("extra", ()))

        def walk(node: Any) -> None:
            if isinstance(node, str):
                # literal words of a pattern, not regex syntax
                clean = re.sub(r"\\[a-zA-Z]", " ", node)
                words.update(re.findall(r"(?<![a-z\])?])[a-z]{5,}(?![a-z\[(?])", clean))
            elif isinstance(node, dict):
                for k, v in node.items():
                    if k != "summary":  # our prose, not a pattern
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk({k: v for k, v in self.raw.items() if k not in ("places", "macros", "spelling")})
        return Speller(words)

    def compile(self, pattern: str) -> re.Pattern[str]:
        return _compile(pattern, self._macro_key)

    @cached_property
    def _macro_key(self) -> tuple[tuple[str, str], ...]:
        macros = dict(self.raw.get("macros", {}))
        names = sorted(self.places, key=len, reverse=True)
        macros["PLACE"] = "(?:" + "|".join(re.escape(n) for n in names) + ")"
        return tuple(macros.items())

    def list(self, section: str, key: str) -> list[re.Pattern[str]]:
        return [self.compile(p) for p in self.raw[section][key]]


@lru_cache(maxsize=512)
def _compile(pattern: str, macros: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    for name, value in macros:
        pattern = pattern.replace(f"<{name}>", value)
    compiled = re.compile(pattern)
    need = _mandatory_literal(compiled)
    if need:
        _NEEDS[compiled] = need
    return compiled


#: the longest literal every match of a pattern contains: a pattern whose literal is
#: absent from a text cannot match it, so it is not run (some patterns have nested
#: sentence gaps, slow on long runs of their first words)
_NEEDS: dict[re.Pattern[str], str] = {}


def _mandatory_literal(pattern: re.Pattern[str]) -> str | None:
    try:
        from re import _constants as sre_constants  # type: ignore[attr-defined]
        from re import _parser as sre_parse  # type: ignore[attr-defined]

        tree = sre_parse.parse(pattern.pattern, pattern.flags)
    except (ImportError, AttributeError, re.error):  # a Python without these internals
        return None
    best = cur = ""
    for op, av in tree:
        if op is sre_constants.LITERAL:
            cur += chr(av)
            continue
        if op is not sre_constants.AT:  # \b adds no character
            best, cur = max(best, cur, key=len), ""
    best = max(best, cur, key=len).strip()
    return best if len(best) >= 4 else None


def _runs(p: re.Pattern[str], text: str) -> bool:
    need = _NEEDS.get(p)
    return need is None or need in text


@lru_cache(maxsize=1)
def patterns() -> Patterns:
    data = resources.files("modelclear.data").joinpath("license_patterns.toml").read_text("utf-8")
    raw = tomllib.loads(data)
    return Patterns(raw=raw, places=dict(raw["places"]))


def _first(doc: Doc, pats: list[re.Pattern[str]]) -> re.Match[str] | None:
    best: re.Match[str] | None = None
    for p in pats:
        if not _runs(p, doc.norm):
            continue
        m = p.search(doc.norm)
        if m and (best is None or m.start() < best.start()):
            best = m
    return best


def _all(doc: Doc, pats: list[re.Pattern[str]]) -> Iterator[re.Match[str]]:
    seen: set[int] = set()
    hits = []
    for p in pats:
        if not _runs(p, doc.norm):
            continue
        for m in p.finditer(doc.norm):
            if m.start() not in seen:
                seen.add(m.start())
                hits.append(m)
    yield from sorted(hits, key=lambda m: m.start())


def _any_in(text: str, pats: list[re.Pattern[str]]) -> re.Match[str] | None:
    for p in pats:
        if not _runs(p, text):
            continue
        m = p.search(text)
        if m:
            return m
    return None


def _term(value: Any, ev: Evidence | None = None, detail: str | None = None) -> Term:
    return Term(value=value, detail=detail, evidence=ev, source="extracted")


def _ev(doc: Doc, m: re.Match[str]) -> Evidence:
    return doc.evidence(m.start(), m.end(), (m.start(), m.end()))


# --------------------------------------------------------------------------- detectors


@dataclass(frozen=True)
class Threshold:
    quantity: Quantity
    licensing: bool  # crossing it requires a separate license / approval
    sentence: Span


def _thresholds(doc: Doc) -> list[Threshold]:
    """Scale limits stated in the text (users, revenue, devices…)."""
    pt = patterns()
    comparator = pt.compile(r"\b" + pt.raw["commercial"]["threshold_comparator"] + r"\b")
    request = pt.list("commercial", "request_license") + pt.list("commercial", "registration_route")
    out: list[Threshold] = []
    for q in doc.quantities:
        if q.unit == "number" or q.value < 1000:
            continue
        around = doc.norm[max(0, q.start - 60) : q.end + 40]
        if not comparator.search(around):
            continue
        sent = doc.sentence_at(q.start)
        # the consequence may sit in the next sentence ("… in annual revenue. You must …")
        nxt = doc.sentence_at(sent.end + 1) if sent.end + 1 < len(doc.norm) else sent
        scope = doc.norm[sent.start : nxt.end]
        licensing = _any_in(scope, request) is not None
        out.append(Threshold(q, licensing, sent))
    return out


def _is_policy_doc(doc: Doc, grant: re.Match[str] | None) -> bool:
    head = doc.norm[:400]
    pt = patterns()
    return grant is None and _any_in(head, pt.list("document", "policy_title")) is not None


def extract_terms(text: str, file: str, lines: tuple[int, int] | None = None) -> dict[str, Term]:
    """Every term of `model.TERM_NAMES` read from `text` (the content of `file`).

    `lines` (1-based, inclusive) limits the reading to one document of a file
    that holds several (see `segment`); evidence lines stay file lines.
    A term the text says nothing about has value None, except where silence has
    a meaning (no attribution duty: "no"; outputs: "unmentioned"; no
    registration: "no").
    """
    if lines is not None:
        first, last = lines
        if first < 1 or last < first:
            raise ValueError(f"bad line range {lines}")
        body = "".join(lines_of(text, keepends=True)[first - 1 : last])
        terms = extract_terms(body, file)
        return {name: _shift_term(t, first - 1) for name, t in terms.items()}
    if len(text) > MAX_TEXT_CHARS:
        # license texts are far shorter; a longer document is read in its opening part
        # so that a hostile file cannot make the reading slow
        cut = text.rfind("\n", 0, MAX_TEXT_CHARS)
        text = text[: cut if cut > 0 else MAX_TEXT_CHARS]
    doc = Doc(text, file)
    pt = patterns()
    grant = _first(doc, pt.list("document", "grant"))
    policy = _is_policy_doc(doc, grant)
    terms: dict[str, Term] = {}
    thresholds = _thresholds(doc)
    terms.update(_commercial(doc, grant, policy, thresholds))
    terms["fine_tuning_allowed"] = _fine_tuning(doc, grant, policy)
    terms["use_outputs_to_train_other_models"] = _outputs(doc)
    terms["attribution_required"] = _attribution(doc, policy)
    terms["derivative_naming_requirement"] = _naming(doc)
    terms["acceptable_use_policy"] = _aup(doc, policy)
    terms["territory_restriction"] = _territory(doc)
    terms["competing_service_restriction"] = _competition(doc)
    terms["redistribution_conditions"] = _redistribution(doc, policy)
    terms["governing_law"] = _law(doc)
    return {name: terms.get(name, _term(None)) for name in TERM_NAMES}


def _shift_term(term: Term, by: int) -> Term:
    if term.evidence is None or by == 0:
        return term
    ev = term.evidence.model_copy(
        update={
            "line_start": term.evidence.line_start + by,
            "line_end": term.evidence.line_end + by,
        }
    )
    return term.model_copy(update={"evidence": ev})


def _commercial(
    doc: Doc, grant: re.Match[str] | None, policy: bool, thresholds: list[Threshold]
) -> dict[str, Term]:
    pt = patterns()
    out: dict[str, Term] = {}
    if policy:
        return {
            "commercial_use": _term(None),
            "mau_threshold": _term(None),
            "other_scale_threshold": _term(None),
            "requires_registration_or_approval": _term(None),
        }
    licensing = [t for t in thresholds if t.licensing]
    mau = [t for t in licensing if t.quantity.unit == "monthly_active_users"]
    if mau:
        t = mau[0]
        out["mau_threshold"] = _term(
            t.quantity.value,
            doc.evidence(t.quantity.start, t.quantity.end),
            detail=f"more than {t.quantity.value:,} monthly active users needs a separate license",
        )
    else:
        out["mau_threshold"] = _term(None)
    others = [t for t in thresholds if t not in mau]
    if others:
        parts = []
        for t in others:
            q = t.quantity
            what = {
                "currency": "revenue"
                if re.search(r"revenue|turnover|income|sales", doc.sentence_text(q.start))
                else "money",
            }.get(q.unit, q.unit.replace("_", " "))
            period = f" per {q.period}" if q.period else ""
            money = f"{q.currency} " if q.currency else ""
            comp = _comparator_text(doc, q)
            parts.append(f"{what} {comp} {money}{q.value:,}{period}".replace("  ", " "))
        first = others[0].quantity
        last = others[-1].quantity
        ev = doc.evidence(first.start, last.end if last.start - first.start < 300 else first.end)
        out["other_scale_threshold"] = _term("; ".join(dict.fromkeys(parts)), ev)
    else:
        out["other_scale_threshold"] = _term(None)

    # a non-commercial limit counts when it narrows a grant or a use, not when it
    # narrows one option among others (e.g. one way of passing on source code)
    nc = next(
        (
            m
            for m in _all(doc, pt.list("commercial", "noncommercial_only"))
            if _GRANT_OR_USE.search(doc.sentence_text(m.start()))
        ),
        None,
    )
    commercial_words = pt.list("commercial", "commercial_word")
    register = pt.list("commercial", "registration_route")
    request = pt.list("commercial", "request_license")
    contact = pt.list("commercial", "contact_route")
    # a sentence that ties commercial use to registration or to asking for a license
    reg_hit: re.Match[str] | None = None
    req_hit: re.Match[str] | None = None
    for sent in doc.sentences:
        s = doc.norm[sent.start : sent.end]
        if not _any_in(s, commercial_words):
            continue
        r = _any_in(s, register)
        if r and reg_hit is None and not re.search(r"registered (?:seat|office|address|in)", s):
            reg_hit = _shift(r, sent.start)
        q = _any_in(s, request) or _any_in(s, contact)
        if q and req_hit is None:
            req_hit = _shift(q, sent.start)
    general = _first(doc, pt.list("commercial", "general_approval"))

    if licensing:
        t = licensing[0]
        ev = doc.evidence(t.sentence.start, t.sentence.end, (t.quantity.start, t.quantity.end))
        out["commercial_use"] = _term(
            "conditional", ev, detail="separate license above a scale threshold"
        )
        out["requires_registration_or_approval"] = _term("above_threshold", ev)
        if reg_hit is not None and nc is None:
            out["requires_registration_or_approval"] = _term(
                "for_commercial", doc.evidence(reg_hit.start(), reg_hit.end())
            )
        return out
    if nc is not None:
        if reg_hit is not None:
            out["commercial_use"] = _term(
                "conditional",
                doc.evidence(reg_hit.start(), reg_hit.end()),
                detail="commercial use after registration; otherwise non-commercial only",
            )
            out["requires_registration_or_approval"] = _term(
                "for_commercial", doc.evidence(reg_hit.start(), reg_hit.end())
            )
        else:
            out["commercial_use"] = _term("no", _ev(doc, nc))
            # in a non-commercial license any "request a license" is the commercial route
            if req_hit is None:
                for m in _all(doc, request):
                    sentence = doc.sentence_text(m.start())
                    if re.search(r"\b(?:you|licensee)\b", sentence) and not _NOT_USE.search(
                        sentence
                    ):
                        req_hit = _Hit(m.start(), m.end(), m.group())
                        break
            if req_hit is not None:
                out["requires_registration_or_approval"] = _term(
                    "for_commercial",
                    doc.evidence(req_hit.start(), req_hit.end()),
                    detail="commercial use needs a separate license from the licensor",
                )
            else:
                out["requires_registration_or_approval"] = _term(
                    "no", _ev(doc, nc), detail="no route to commercial use is offered"
                )
        return out
    if reg_hit is not None:
        out["commercial_use"] = _term(
            "conditional",
            doc.evidence(reg_hit.start(), reg_hit.end()),
            detail="commercial use after registration",
        )
        out["requires_registration_or_approval"] = _term(
            "for_commercial", doc.evidence(reg_hit.start(), reg_hit.end())
        )
        return out
    if general is not None:
        out["requires_registration_or_approval"] = _term("yes", _ev(doc, general))
    if grant is None:
        out["commercial_use"] = _term(None)
        out.setdefault("requires_registration_or_approval", _term(None))
        return out
    yes = _first(doc, pt.list("commercial", "commercial_yes"))
    out["commercial_use"] = _term("yes", _ev(doc, yes or grant))
    out.setdefault(
        "requires_registration_or_approval",
        _term("no", _ev(doc, grant), detail="the grant is not conditioned on registration"),
    )
    return out


def _shift(m: re.Match[str], offset: int) -> _Hit:
    return _Hit(m.start() + offset, m.end() + offset, m.group())


@dataclass(frozen=True)
class _Hit:
    """A match moved from a sentence back into the whole normalized text."""

    s: int
    e: int
    text: str

    def start(self) -> int:
        return self.s

    def end(self) -> int:
        return self.e


def _comparator_text(doc: Doc, q: Quantity) -> str:
    before = doc.norm[max(0, q.start - 40) : q.start]
    if re.search(r"(less than|fewer than|under|below|up to)\W*(?:\w+\W*){0,3}$", before):
        return "<"
    return ">"


def _fine_tuning(doc: Doc, grant: re.Match[str] | None, policy: bool) -> Term:
    pt = patterns()
    if policy:
        return _term(None)
    negative = pt.list("fine_tuning", "negative")
    narrowed = pt.list("fine_tuning", "narrowed")
    positive = pt.list("fine_tuning", "positive")
    neg_word = pt.compile(r"\b<NEG>\b(?!-)")
    for m in _all(doc, negative):
        sent = doc.sentence_text(m.start())
        if not _any_in(sent, narrowed):
            return _term("no", _ev(doc, m))
    # prefer the grant clause ("grants you … to modify"), then a permission to the
    # reader ("you may", "if you modify"), over a passing mention in a definition
    grants = {doc.sentence_at(m.start()).start for m in _all(doc, pt.list("document", "grant"))}
    ranked: list[tuple[int, int, re.Match[str]]] = []
    for m in _all(doc, positive):
        sp = doc.sentence_at(m.start())
        if neg_word.search(doc.norm[sp.start : m.start()]):
            continue
        permissive = _PERMISSIVE.search(doc.norm[sp.start : sp.end])
        rank = 0 if sp.start in grants else 1 if permissive else 2
        ranked.append((rank, m.start(), m))
    if ranked:
        return _term("yes", _ev(doc, min(ranked, key=lambda t: t[:2])[2]))
    if grant is not None:
        return _term("unclear", _ev(doc, grant), detail="the grant does not mention modification")
    return _term(None)


_GRANT_OR_USE = re.compile(
    r"\b(?:grant\w*|licen[cs]\w*|use|used|uses|using|exercise|access|rights?|permitted|may)\b"
)

# consent asked for something other than using the model (assigning the license,
# using marks) is not a route to commercial use
_NOT_USE = re.compile(r"\b(?:assign\w*|sublicens\w*|trademarks?|logos?|marks?)\b")

_PERMISSIVE = re.compile(
    r"\b(?:you may|you can|you are free to|if you (?:modify|fine-?tune|adapt|create))\b"
)


def _outputs(doc: Doc) -> Term:
    pt = patterns()
    m = _first(doc, pt.list("outputs", "prohibited"))
    if m:
        return _term("prohibited", _ev(doc, m))
    neg_word = pt.compile(r"\b<NEG>\b(?!-)")
    for m in _all(doc, pt.list("outputs", "allowed")):
        sp = doc.sentence_at(m.start())
        if neg_word.search(doc.norm[sp.start : m.end()]):
            continue
        return _term("allowed", _ev(doc, m), detail=_condition_of(doc, m))
    m = _first(doc, pt.list("outputs", "restricted"))
    if m:
        return _term(
            "restricted",
            _ev(doc, m),
            detail="models trained on its outputs count as derivatives bound by its restrictions",
        )
    return _term("unmentioned")


def _condition_of(doc: Doc, m: re.Match[str]) -> str | None:
    sent = doc.sentence_at(m.start())
    text = doc.original_text(sent.start, sent.end)
    q = re.search(r"[\"“](?P<q>[^\"”]{1,60})[\"”]", text)
    return f'named with "{q.group("q")}"' if q else None


def _notice(doc: Doc, evs: list[re.Match[str]]) -> str | None:
    """The exact notices the text asks for, display notices ("Built with …") first.

    A notice often holds its own full stops ("Copyright (c) X. All Rights
    Reserved."), so a quote may run past the sentence it starts in."""
    pt = patterns()
    quote = pt.compile(pt.raw["attribution"]["notice_quote"])
    preferred = pt.compile(pt.raw["attribution"]["notice_preferred"])
    found: list[str] = []
    for m in evs:
        sp = doc.sentence_at(m.start())
        for q in quote.finditer(doc.norm, sp.start, min(len(doc.norm), sp.end + 300)):
            if q.start() > sp.end + 2:  # a quote right after "…the following notice:" counts
                break
            found.append(doc.original_text(q.start("q"), q.end("q")))
    found = [f for f in dict.fromkeys(found) if " " in f and f.lower() not in ("as is", "notice")]
    if not found:
        return None
    ordered = [f for f in found if preferred.search(f.lower())]
    ordered += [f for f in found if f not in ordered and _NOTICE_LIKE.search(f.lower())]
    if not ordered:
        ordered = found[:1]
    return "; ".join(f'"{f}"' if len(ordered) > 1 else f for f in ordered[:3])


_NOTICE_LIKE = re.compile(r"\b(?:licen[cs]ed|copyright|all rights reserved|provided under)\b")


def _attribution(doc: Doc, policy: bool) -> Term:
    pt = patterns()
    if policy:
        return _term("no")
    hits = list(_all(doc, pt.list("attribution", "yes")))
    if not hits:
        return _term("no")
    return _term("yes", _ev(doc, hits[0]), detail=_notice(doc, hits))


def _naming(doc: Doc) -> Term:
    pt = patterns()
    for p in pt.list("naming", "patterns"):
        m = p.search(doc.norm)
        if m:
            name = doc.original_text(m.start("name"), m.end("name")).strip(" \"'“”")
            return _term(f'derived model names must begin with "{name}"', _ev(doc, m), detail=name)
    return _term(None)


def _aup(doc: Doc, policy: bool) -> Term:
    pt = patterns()
    ref = _first(doc, pt.list("aup", "reference"))
    if ref and not policy:
        return _term("yes", _ev(doc, ref), detail="incorporates a use policy by reference")
    harm = pt.raw["aup"]["harm"]
    need = int(pt.raw["aup"]["harm_min"])
    for m in _all(doc, pt.list("aup", "restriction_intro")):
        window = doc.norm[m.start() : m.start() + 600]
        n = sum(1 for h in harm if h in window)
        if n >= need:
            return _term("yes", _ev(doc, m), detail="lists prohibited uses")
    if policy:
        return _term("yes", doc.evidence(0, 1), detail="the document is a use policy")
    return _term("no")


def _territory(doc: Doc) -> Term:
    pt = patterns()
    place_re = pt.compile(r"\b<PLACE>\b")
    for m in _all(doc, pt.list("territory", "patterns")):
        sent = doc.sentence_at(m.start())
        scope = doc.norm[sent.start : max(sent.end, m.end())]
        if _LAW_SCOPE.search(doc.norm[sent.start : m.end()]) and "territor" not in scope:
            continue  # a place carved out of "applicable laws", not out of the grant
        names = []
        for p in place_re.finditer(scope):
            names.append(pt.places[p.group()])
        names = list(dict.fromkeys(names))
        said = m.group()
        if re.search(r"\boutside\b", said):
            value = f"only outside: {', '.join(names)}"
        elif re.search(r"\b(?:not|never|no|exclud\w*)\b", said):
            value = f"rights do not extend to: {', '.join(names)}"
        else:
            value = f"only in: {', '.join(names)}"
        return _term(value, _ev(doc, m))
    return _term(None)


_LAW_SCOPE = re.compile(r"\blaws?\b(?: and (?:administrative )?regulations)?")


def _competition(doc: Doc) -> Term:
    pt = patterns()
    m = _first(doc, pt.list("competition", "patterns"))
    if m:
        return _term(
            "limits use for products, services or models that compete with the licensor",
            _ev(doc, m),
        )
    return _term(None)


def _law(doc: Doc) -> Term:
    pt = patterns()
    m = None
    for p in pt.list("law", "governed"):  # in order of preference
        m = p.search(doc.norm)
        if m:
            break
    if not m:
        return _term(None)
    group = "adj" if "adj" in m.re.groupindex and m.group("adj") else "place"
    place = doc.original_text(m.start(group), m.end(group))
    place = re.split(r"\s+(?:without|excluding|notwithstanding|except)\b", place)[0]
    value = f"{place.strip()} law" if group == "adj" else f"laws of {place.strip()}"
    venue_m = _first(doc, pt.list("law", "venue"))
    if venue_m:
        venue = doc.original_text(venue_m.start("venue"), venue_m.end("venue")).strip()
        value += f"; venue: {venue}"
    return _term(value, _ev(doc, m))


def _redistribution(doc: Doc, policy: bool) -> Term:
    if policy:
        return _term(None)
    pt = patterns()
    found: list[str] = []
    first: re.Match[str] | None = None
    for rule in pt.raw["redistribution"]["rule"]:
        m = pt.compile(rule["pattern"]).search(doc.norm)
        if m:
            found.append(rule["summary"])
            if first is None or m.start() < first.start():
                first = m
    if not found or first is None:
        return _term(None)
    return _term("; ".join(found), _ev(doc, first))
