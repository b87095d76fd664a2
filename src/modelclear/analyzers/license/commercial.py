"""Commercial use, scale thresholds (users, revenue…) and the route to a commercial license."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .doc import Doc, Span
from .model import Term
from .numbers import Quantity
from .phrases import all_hits, any_hit, first_hit, hit_evidence, patterns, term


@dataclass(frozen=True)
class Threshold:
    quantity: Quantity
    licensing: bool  # crossing it requires a separate license / approval
    sentence: Span


def thresholds(doc: Doc) -> list[Threshold]:
    """Scale limits stated in the text (users, revenue, devices…)."""
    pt = patterns()
    comparator = pt.compile(
        r"\b" + pt.raw["commercial"]["threshold_comparator"] + r"\b|"
        + pt.raw["commercial"]["threshold_comparator_zh"]
    )
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
        licensing = any_hit(scope, request) is not None
        out.append(Threshold(q, licensing, sent))
    return out


_GRANT_OR_USE = re.compile(
    r"\b(?:grant\w*|licen[cs]\w*|use|used|uses|using|exercise|access|rights?|permitted|may)\b"
    r"|使用|授予|许可|用于|权"
)

# consent asked for something other than using the model (assigning the license,
# using marks) is not a route to commercial use
_NOT_USE = re.compile(r"\b(?:assign\w*|sublicens\w*|trademarks?|logos?|marks?)\b|商标|标识|转让")
#: the reader of the license, in English and Chinese
_YOU = re.compile(r"\b(?:you|licensee)\b|您|你|使用者|被许可")


_NONE_FOR_POLICY = (
    "commercial_use",
    "mau_threshold",
    "other_scale_threshold",
    "requires_registration_or_approval",
)


def _threshold_terms(doc: Doc, found: list[Threshold]) -> dict[str, Term]:
    """mau_threshold and other_scale_threshold from the limits the text states."""
    out: dict[str, Term] = {}
    mau = [t for t in found if t.licensing and t.quantity.unit == "monthly_active_users"]
    if mau:
        t = mau[0]
        out["mau_threshold"] = term(
            t.quantity.value,
            doc.evidence(t.quantity.start, t.quantity.end),
            detail=f"more than {t.quantity.value:,} monthly active users needs a separate license",
        )
    else:
        out["mau_threshold"] = term(None)
    others = [t for t in found if t not in mau]
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
        out["other_scale_threshold"] = term("; ".join(dict.fromkeys(parts)), ev)
    else:
        out["other_scale_threshold"] = term(None)
    return out


@dataclass(frozen=True)
class _Routes:
    """Where the text limits or opens commercial use."""

    noncommercial: re.Match[str] | None  # a grant or use narrowed to non-commercial
    registration: _Hit | None  # commercial use tied to registering
    request: _Hit | None  # commercial use tied to asking for a license
    general: re.Match[str] | None  # any use needs approval


def noncommercial_hit(doc: Doc) -> re.Match[str] | None:
    """The first clause that narrows a grant or a use to non-commercial purposes.

    A non-commercial limit counts when it narrows a grant or a use, not when it
    narrows one option among others (e.g. one way of passing on source code).
    """
    return next(
        (
            m
            for m in all_hits(doc, patterns().list("commercial", "noncommercial_only"))
            if _GRANT_OR_USE.search(doc.sentence_text(m.start()))
        ),
        None,
    )


def _routes(doc: Doc) -> _Routes:
    pt = patterns()
    nc = noncommercial_hit(doc)
    commercial_words = pt.list("commercial", "commercial_word")
    register = pt.list("commercial", "registration_route")
    request = pt.list("commercial", "request_license")
    contact = pt.list("commercial", "contact_route")
    # a sentence that ties commercial use to registration or to asking for a license
    reg_hit: _Hit | None = None
    req_hit: _Hit | None = None
    for sent in doc.sentences:
        s = doc.norm[sent.start : sent.end]
        if not any_hit(s, commercial_words):
            continue
        r = any_hit(s, register)
        if r and reg_hit is None and not re.search(r"registered (?:seat|office|address|in)", s):
            reg_hit = _shift(r, sent.start)
        asked = any_hit(s, request) or any_hit(s, contact)
        if asked and req_hit is None:
            req_hit = _shift(asked, sent.start)
    general = first_hit(doc, pt.list("commercial", "general_approval"))
    return _Routes(nc, reg_hit, req_hit, general)


def _noncommercial(doc: Doc, nc: re.Match[str], routes: _Routes) -> dict[str, Term]:
    """A non-commercial grant: registration, a separate license, or no route at all."""
    reg_hit, req_hit = routes.registration, routes.request
    if reg_hit is not None:
        return {
            "commercial_use": term(
                "conditional",
                doc.evidence(reg_hit.start(), reg_hit.end()),
                detail="commercial use after registration; otherwise non-commercial only",
            ),
            "requires_registration_or_approval": term(
                "for_commercial", doc.evidence(reg_hit.start(), reg_hit.end())
            ),
        }
    out = {"commercial_use": term("no", hit_evidence(doc, nc))}
    # in a non-commercial license any "request a license" is the commercial route
    if req_hit is None:
        for m in all_hits(doc, patterns().list("commercial", "request_license")):
            sentence = doc.sentence_text(m.start())
            if _YOU.search(sentence) and not _NOT_USE.search(sentence):
                req_hit = _Hit(m.start(), m.end(), m.group())
                break
    if req_hit is not None:
        out["requires_registration_or_approval"] = term(
            "for_commercial",
            doc.evidence(req_hit.start(), req_hit.end()),
            detail="commercial use needs a separate license from the licensor",
        )
    else:
        out["requires_registration_or_approval"] = term(
            "no", hit_evidence(doc, nc), detail="no route to commercial use is offered"
        )
    return out


def commercial(
    doc: Doc, grant: re.Match[str] | None, policy: bool, thresholds: list[Threshold]
) -> dict[str, Term]:
    """Commercial use, its thresholds and whether registration or approval is needed."""
    if policy:
        return {name: term(None) for name in _NONE_FOR_POLICY}
    out = _threshold_terms(doc, thresholds)
    routes = _routes(doc)
    nc, reg_hit = routes.noncommercial, routes.registration
    licensing = [t for t in thresholds if t.licensing]
    if licensing:
        t = licensing[0]
        ev = doc.evidence(t.sentence.start, t.sentence.end, (t.quantity.start, t.quantity.end))
        out["commercial_use"] = term(
            "conditional", ev, detail="separate license above a scale threshold"
        )
        out["requires_registration_or_approval"] = term("above_threshold", ev)
        if reg_hit is not None and nc is None:
            out["requires_registration_or_approval"] = term(
                "for_commercial", doc.evidence(reg_hit.start(), reg_hit.end())
            )
        return out
    if nc is not None:
        return out | _noncommercial(doc, nc, routes)
    if reg_hit is not None:
        out["commercial_use"] = term(
            "conditional",
            doc.evidence(reg_hit.start(), reg_hit.end()),
            detail="commercial use after registration",
        )
        out["requires_registration_or_approval"] = term(
            "for_commercial", doc.evidence(reg_hit.start(), reg_hit.end())
        )
        return out
    authorised = first_hit(doc, patterns().list("commercial", "conditional_grant"))
    if authorised is not None:
        ev = hit_evidence(doc, authorised)
        out["commercial_use"] = term(
            "conditional", ev, detail="commercial use after the licensor's authorisation"
        )
        out["requires_registration_or_approval"] = term("for_commercial", ev)
        return out
    if routes.general is not None:
        out["requires_registration_or_approval"] = term("yes", hit_evidence(doc, routes.general))
    if grant is None:
        out["commercial_use"] = term(None)
        out.setdefault("requires_registration_or_approval", term(None))
        return out
    yes = first_hit(doc, patterns().list("commercial", "commercial_yes"))
    out["commercial_use"] = term("yes", hit_evidence(doc, yes or grant))
    out.setdefault(
        "requires_registration_or_approval",
        term("no", hit_evidence(doc, grant), detail="the grant is not conditioned on registration"),
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
