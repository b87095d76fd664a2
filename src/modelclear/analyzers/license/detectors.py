"""Detectors for the terms other than commercial use, one function per term."""

from __future__ import annotations

import re

from .doc import Doc
from .model import Term
from .phrases import all_hits, any_hit, first_hit, hit_evidence, patterns, term
from .reference import whole_quote


def fine_tuning(doc: Doc, grant: re.Match[str] | None, policy: bool) -> Term:
    pt = patterns()
    if policy:
        return term(None)
    negative = pt.list("fine_tuning", "negative")
    narrowed = pt.list("fine_tuning", "narrowed")
    positive = pt.list("fine_tuning", "positive")
    neg_word = pt.compile(r"\b<NEG>\b(?!-)")
    for m in all_hits(doc, negative):
        sent = doc.sentence_text(m.start())
        if not any_hit(sent, narrowed):
            return term("no", hit_evidence(doc, m))
    # prefer the grant clause ("grants you … to modify"), then a permission to the
    # reader ("you may", "if you modify"), over a passing mention in a definition
    grants = {doc.sentence_at(m.start()).start for m in all_hits(doc, pt.list("document", "grant"))}
    ranked: list[tuple[int, int, re.Match[str]]] = []
    for m in all_hits(doc, positive):
        sp = doc.sentence_at(m.start())
        before = doc.norm[sp.start : m.start()]
        if neg_word.search(before) or _ZH_NEG.search(before):
            continue
        permissive = _PERMISSIVE.search(doc.norm[sp.start : sp.end]) or _PERMISSIVE_ZH.search(
            before
        )
        rank = 0 if sp.start in grants else 1 if permissive else 2
        ranked.append((rank, m.start(), m))
    if ranked:
        return term("yes", hit_evidence(doc, min(ranked, key=lambda t: t[:2])[2]))
    if grant is not None:
        return term(
            "unclear", hit_evidence(doc, grant), detail="the grant does not mention modification"
        )
    return term(None)


_PERMISSIVE = re.compile(
    r"\b(?:you may|you can|you are free to|if you (?:modify|fine-?tune|adapt|create))\b"
)
#: a Chinese permission comes before its verb ("您可以对…进行修改")
_PERMISSIVE_ZH = re.compile(r"可以|有权|允许|自由地?")
#: Chinese negations that bar what follows (not 不可 alone: 不可撤销 is "irrevocable")
_ZH_NEG = re.compile(r"不得|禁止|严禁|不允许|不可以|不能|无权")


def outputs(doc: Doc, noncommercial: re.Match[str] | None = None) -> Term:
    """Training other models on outputs. Restrictions beat grants: an express permission
    counts only when no clause limits the outputs, and a non-commercial-only grant or a
    bar on competing models limits them too (fail closed)."""
    pt = patterns()
    m = first_hit(doc, pt.list("outputs", "prohibited"))
    if m:
        return term("prohibited", hit_evidence(doc, m))
    neg_word = pt.compile(r"\b<NEG>\b(?!-)")
    allowed: Term | None = None
    for m in all_hits(doc, pt.list("outputs", "allowed")):
        sp = doc.sentence_at(m.start())
        if neg_word.search(doc.norm[sp.start : m.end()]) or _ZH_NEG.search(
            doc.norm[sp.start : m.end()]
        ):
            continue
        allowed = term("allowed", hit_evidence(doc, m), detail=_condition_of(doc, m))
        break
    r = first_hit(doc, pt.list("outputs", "restricted"))
    if r and allowed is None:
        return term(
            "restricted",
            hit_evidence(doc, r),
            detail="models trained on its outputs count as derivatives bound by its restrictions",
        )
    limit = noncommercial or first_hit(doc, pt.list("competition", "patterns"))
    if limit is not None:
        why = "non-commercial use only" if limit is noncommercial else "no competing products"
        also = ""
        if allowed is not None and allowed.evidence is not None:
            also = f"; the license also says: \u201c{allowed.evidence.quote}\u201d"
        return term(
            "restricted",
            hit_evidence(doc, limit),
            detail=f"the license limits all use to {why}, outputs included{also}",
        )
    return allowed or term("unmentioned")


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
            a, b = q.start("q"), q.end("q")
            if doc.norm[max(0, q.start() - 3) : q.start()].rstrip().endswith(":"):
                # the notice itself may quote a name: take it whole, to its closing full stop
                a, b = whole_quote(doc.norm, q.start()) or (a, b)
            found.append(doc.original_text(a, b))
    found = [f for f in dict.fromkeys(found) if " " in f and f.lower() not in ("as is", "notice")]
    if not found:
        return None
    ordered = [f for f in found if preferred.search(f.lower())]
    ordered += [f for f in found if f not in ordered and _NOTICE_LIKE.search(f.lower())]
    if not ordered:
        ordered = found[:1]
    return "; ".join(f'"{f}"' if len(ordered) > 1 else f for f in ordered[:3])


_NOTICE_LIKE = re.compile(r"\b(?:licen[cs]ed|copyright|all rights reserved|provided under)\b")


def attribution(doc: Doc, policy: bool) -> Term:
    pt = patterns()
    if policy:
        return term("no")
    hits = list(all_hits(doc, pt.list("attribution", "yes")))
    if not hits:
        return term("no")
    return term("yes", hit_evidence(doc, hits[0]), detail=_notice(doc, hits))


def naming(doc: Doc) -> Term:
    pt = patterns()
    for p in pt.list("naming", "patterns"):
        m = p.search(doc.norm)
        if m:
            name = doc.original_text(m.start("name"), m.end("name")).strip(" \"'“”")
            return term(
                f'derived model names must begin with "{name}"', hit_evidence(doc, m), detail=name
            )
    return term(None)


def aup(doc: Doc, policy: bool) -> Term:
    pt = patterns()
    ref = first_hit(doc, pt.list("aup", "reference"))
    if ref and not policy:
        return term("yes", hit_evidence(doc, ref), detail="incorporates a use policy by reference")
    harm = pt.raw["aup"]["harm"]
    need = int(pt.raw["aup"]["harm_min"])
    for m in all_hits(doc, pt.list("aup", "restriction_intro")):
        window = doc.norm[m.start() : m.start() + 600]
        n = sum(1 for h in harm if h in window)
        if n >= need:
            return term("yes", hit_evidence(doc, m), detail="lists prohibited uses")
    if policy:
        return term("yes", doc.evidence(0, 1), detail="the document is a use policy")
    return term("no")


def territory(doc: Doc) -> Term:
    pt = patterns()
    place_re = pt.compile(r"\b<PLACE>\b")
    for m in all_hits(doc, pt.list("territory", "patterns")):
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
        return term(value, hit_evidence(doc, m))
    sanction = first_hit(doc, pt.list("territory", "sanctions"))
    if sanction:
        return term(
            "sanctions: export-control and trade-sanctions laws limit destinations and users",
            hit_evidence(doc, sanction),
            detail="sanctions",
        )
    return term(None)


_LAW_SCOPE = re.compile(r"\blaws?\b(?: and (?:administrative )?regulations)?")


def competition(doc: Doc) -> Term:
    pt = patterns()
    m = first_hit(doc, pt.list("competition", "patterns"))
    if m:
        return term(
            "limits use for products, services or models that compete with the licensor",
            hit_evidence(doc, m),
        )
    return term(None)


def law(doc: Doc) -> Term:
    pt = patterns()
    m = None
    for p in pt.list("law", "governed"):  # in order of preference
        m = p.search(doc.norm)
        if m:
            break
    if not m:
        return term(None)
    group = "adj" if "adj" in m.re.groupindex and m.group("adj") else "place"
    place = doc.original_text(m.start(group), m.end(group))
    place = re.split(r"\s+(?:without|excluding|notwithstanding|except)\b", place)[0]
    if _PLACEHOLDER.search(place):
        # a template never filled in ("the laws of [Country/Region]") names no law
        return term(
            "unclear",
            hit_evidence(doc, m),
            detail=f"the governing law is a template placeholder: {place.strip()}",
        )
    value = f"{place.strip()} law" if group == "adj" else f"laws of {place.strip()}"
    venue_m = first_hit(doc, pt.list("law", "venue"))
    if venue_m:
        venue = doc.original_text(venue_m.start("venue"), venue_m.end("venue")).strip()
        value += f"; venue: {venue}"
    return term(value, hit_evidence(doc, m))


_PLACEHOLDER = re.compile(
    r"[\[<{【]|\b(?:x{3,}|your (?:country|jurisdiction|state)|country/region|insert)\b|国家/地区"
)


def redistribution(doc: Doc, policy: bool) -> Term:
    if policy:
        return term(None)
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
        return term(None)
    return term("; ".join(dict.fromkeys(found)), hit_evidence(doc, first))
