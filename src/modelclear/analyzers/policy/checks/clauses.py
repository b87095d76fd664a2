"""Reading license terms and clauses for the checks: values, numbers, quotes, evidence.

Checks quote the clause they rest on, so every helper here returns evidence a
reviewer can open (file and line), or says plainly that the text is silent.
Term values follow the shared label vocabulary (``analyzers.license.model``).
"""

from __future__ import annotations

import re

from ....excerpt import excerpt
from ...license.model import LicenseMatch, Term
from ..model import EvidenceRef
from .inputs import PolicyInputs

#: values meaning "the license says nothing to restrict here"
SILENT = (None, "no", "none")


def ev(term: Term | None, match: LicenseMatch) -> tuple[EvidenceRef, ...]:
    """The clause a term was read from; else where the license is, saying it is silent."""
    source = "acceptable-use-policy" if match.kind == "acceptable-use-policy" else "license"
    if term is not None and term.evidence is not None:
        e = term.evidence
        return (EvidenceRef(source=source, file=e.file, line=e.line_start, line_end=e.line_end,
                            quote=e.quote),)
    if term is not None and term.source == "catalog":
        return (EvidenceRef(source=source, file=match.file,
                            note=f"catalog entry {match.id}; clause not located in the file"),)
    return (EvidenceRef(source=source, file=match.file, line=match.line_start,
                        line_end=match.line_end,
                        note=f"{match.id}: the text says nothing on this"),)


def value(term: Term | None) -> object:
    """A term's value, lower-cased when it is a label, for comparing with the vocabulary."""
    if term is None:
        return None
    v: object = term.value
    return v.strip().lower() if isinstance(v, str) else v


def stated(lic: LicenseMatch, key: str) -> Term | None:
    """The term when the license states a restriction or duty for it, else None."""
    term = lic.terms.get(key)
    return term if term is not None and value(term) not in SILENT else None


def text(term: Term | None) -> str:
    """Value, detail and quote of a term as one string, for reading numbers and names."""
    if term is None:
        return ""
    parts = [str(term.value or ""), term.detail or ""]
    if term.evidence is not None:
        parts.append(term.evidence.quote)
    return " ".join(p for p in parts if p)


def fmt_int(n: int) -> str:
    """700000000 → "700M": how license texts and people state thresholds."""
    for unit, size in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size and n % (size // 10) == 0:
            v = n / size
            return f"{v:g}{unit}"
    return f"{n:,}"


_NUM = re.compile(
    r"(?:US\s?\$|USD\s?\$?|\$)?\s?(\d[\d,]*(?:\.\d+)?)\s*(billion|million|thousand|bn|m|k)?\b",
    re.I,
)
_MULT = {"billion": 10**9, "bn": 10**9, "million": 10**6, "m": 10**6, "thousand": 10**3, "k": 10**3}


def _dimension(m: re.Match[str], text: str) -> str | None:
    """What a number in a clause counts (users, devices, revenue), from the words around it."""
    after = text[m.end(): m.end() + 60].lower()
    before = text[max(0, m.start() - 40): m.start()].lower()
    money = "$" in m.group(0) or "usd" in m.group(0).lower() or "usd" in after[:8] or (
        "revenue" in after or "revenue" in before
    )
    if re.match(r"\s*(monthly active users|mau)", after):
        return "mau"
    if re.match(r"\s*(daily active users|dau|daily users)", after):
        return "dau"
    if re.match(r"\s*devices", after):
        return "devices"
    if not money:
        return None
    near = after[:40]
    if re.search(r"annual|year|per annum", near):
        return "annual_revenue"
    if re.search(r"month", near):
        return "monthly_revenue"
    return "monthly_revenue" if re.search(r"month", before[-25:]) else "annual_revenue"


def scale_thresholds(text: str) -> list[tuple[str, int, str]]:
    """(dimension, number, snippet) for each threshold number found in a clause.

    Dimensions: mau, dau, devices, annual_revenue, monthly_revenue. Only numbers
    with a recognisable unit nearby count; the rest of the clause is left to a reader.
    """
    found: list[tuple[str, int, str]] = []
    for m in _NUM.finditer(text):
        raw = m.group(1).replace(",", "")
        try:
            number = float(raw)
        except ValueError:
            continue
        unit = (m.group(2) or "").lower()
        amount = int(number * _MULT.get(unit, 1))
        dim = _dimension(m, text)
        if dim is None:
            continue
        if amount < 1000:  # "2 devices", "$1" — not a threshold
            continue
        found.append((dim, amount, text[max(0, m.start() - 30): m.end() + 40].strip()))
    return found


def find_clause(texts: dict[str, str], pattern: str, limit: int = 3) -> list[EvidenceRef]:
    """Lines of the license texts matching a regular expression, quoted."""
    hits: list[EvidenceRef] = []
    rx = re.compile(rf"\b(?:{pattern})\b", re.I)
    for file, body in texts.items():
        # numbered by "\n" as editors and grep do (str.splitlines also breaks at U+2028,
        # which real license texts contain, and would shift every later line number)
        for no, line in enumerate(body.split("\n"), 1):
            if rx.search(line):
                flat = " ".join(line.split())
                m = rx.search(flat)
                quote = excerpt(flat, 240, around=m.start() if m else 0)
                hits.append(EvidenceRef(source="license", file=file, line=no, quote=quote))
                if len(hits) >= limit:
                    return hits
    return hits


def quoted_clause(ctx: PolicyInputs, duty: str) -> tuple[EvidenceRef, ...]:
    """The license line holding the text quoted in a duty ('… is licensed under …')."""
    m = re.search(r"['‘“\"]([^'’”\"]{12,})['’”\"]", duty)
    if m is None:
        return ()
    words = m.group(1).split()[:6]
    if len(words) < 3:
        return ()
    return tuple(find_clause(ctx.license_texts, r"\s+".join(re.escape(w) for w in words),
                             limit=1))


_DISPLAY = re.compile(r"((?:Built|Powered|Improved) (?:with|by|on) [A-Z][\w.\-]*"
                      r"(?: [A-Z0-9][\w.\-]*)*)")


def display_phrases(term: Term | None) -> list[str]:
    """Notices the license asks to display ("Built with Llama"), from each part of the term."""
    if term is None:
        return []
    parts = [str(term.value or ""), term.detail or "", term.evidence.quote if term.evidence else ""]
    found = [m.group(1).strip().rstrip(".") for p in parts for m in _DISPLAY.finditer(p)]
    return list(dict.fromkeys(found))


_CARD_NAMES = ("readme", "model_card", "modelcard")


def is_card(ctx: PolicyInputs, path: str) -> bool:
    """Whether a license match comes from the model card (a declaration, not a text)."""
    for p, comp, _ in ctx.files:
        if p == path and comp is not None:
            return comp == "model-card"
    if ctx.card is not None and ctx.card.file == path:
        return True
    name = path.rsplit("/", 1)[-1].lower()
    return ctx.scope == "release" and name.startswith(_CARD_NAMES)


def card_ev(ctx: PolicyInputs, key: str) -> tuple[EvidenceRef, ...]:
    """The model card's front-matter line for a key, as evidence (none without a card)."""
    card = ctx.card
    if card is None:
        return ()
    found = card.front_matter.get(key)
    return (EvidenceRef(source="card", file=card.file, line=card.line_of(key),
                        quote=f"{key}: {found}" if found is not None else None),)
