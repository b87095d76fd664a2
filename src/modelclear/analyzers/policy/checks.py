"""The checks: one function per question a reviewer asks, each deciding CLEAR/REVIEW/BLOCKED.

Checks read only what analyzers produced (and the license texts, to quote a
clause); they never read weights. Every analyzer is optional: a check whose
input is missing says REVIEW "not analysed" (MC521) instead of guessing, because
"we did not look" must never read as "nothing found".

Term values follow the shared label vocabulary (``analyzers.license.model``).
A value outside that vocabulary (a new extractor answer such as ``unclear``)
is REVIEW, not CLEAR.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..license.model import LicenseMatch, LicenseReport, Term
from . import origin, regions
from .model import Check, EvidenceRef, Obligation, Status
from .profile import Profile

Scope = Literal["release", "license"]

#: Weight formats whose loading runs pickle (and so can run code).
PICKLE_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib"})
PICKLE_FORMATS = frozenset({"pickle", "pytorch-zip", "pytorch-legacy", "joblib"})


@dataclass(frozen=True)
class PolicyInputs:
    """Everything the checks may use; ``None`` means that analyzer did not run."""

    scope: Scope
    license: LicenseReport | None = None
    #: full texts of license / use-policy files, by release path, for quoting clauses
    license_texts: dict[str, str] = field(default_factory=dict)
    model_id: str | None = None
    files: tuple[tuple[str, str | None, str | None], ...] = ()  # (path, component, format)
    card: Any | None = None
    security: Any | None = None
    sizing: Any | None = None
    probe_results: dict[str, Any] | None = None
    #: analyzer name → why its result is missing ("failed: …", "skipped: …")
    missing: dict[str, str] = field(default_factory=dict)
    #: small JSON files of the release (config.json, tokenizer_config.json), parsed
    configs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    checks: list[Check] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)

    def add(
        self,
        code: str,
        name: str,
        title: str,
        status: Status,
        reason: str,
        evidence: Iterable[EvidenceRef] = (),
    ) -> None:
        self.checks.append(
            Check(code=code, name=name, title=title, status=status, reason=reason,
                  evidence=tuple(evidence))
        )

    def oblige(
        self, code: str, text: str, applies: bool, condition: str,
        evidence: Iterable[EvidenceRef] = (),
    ) -> None:
        if any(o.text == text for o in self.obligations):
            return
        self.obligations.append(
            Obligation(code=code, text=text, applies=applies, condition=condition,
                       evidence=tuple(evidence))
        )


# ---------------------------------------------------------------------------- helpers


def primary_license(report: LicenseReport) -> LicenseMatch | None:
    """The license that governs use; falls back to the first license-kind match."""
    try:
        hit = report.primary()
    except Exception:  # a half-implemented primary() must not stop the audit
        hit = None
    if hit is not None:
        return hit
    licenses = [m for m in report.licenses if m.kind in ("license", "unknown")]
    known = [m for m in licenses if m.match != "unknown"]
    return (known or licenses or [None])[0]


def _ev(term: Term | None, match: LicenseMatch) -> tuple[EvidenceRef, ...]:
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


def _value(term: Term | None) -> Any:
    if term is None:
        return None
    v = term.value
    return v.strip().lower() if isinstance(v, str) else v


def _text(term: Term | None) -> str:
    """Value, detail and quote of a term as one string, for reading numbers and names."""
    if term is None:
        return ""
    parts = [str(term.value or ""), term.detail or ""]
    if term.evidence is not None:
        parts.append(term.evidence.quote)
    return " ".join(p for p in parts if p)


def _fmt_int(n: int) -> str:
    for unit, size in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size and n % (size // 10) == 0:
            v = n / size
            return f"{v:g}{unit}"
    return f"{n:,}"


def _not_analysed(out: Outcome, code: str, name: str, title: str, analyzer: str,
                  why: str) -> None:
    del code  # whatever the check, "we did not look" has one code
    out.add("MC521", name, title, Status.REVIEW, f"not analysed: the {analyzer} analysis is "
            f"unavailable ({why}), so this cannot be decided", ())


_NUM = re.compile(
    r"(?:US\s?\$|USD\s?\$?|\$)?\s?(\d[\d,]*(?:\.\d+)?)\s*(billion|million|thousand|bn|m|k)?\b",
    re.I,
)
_MULT = {"billion": 10**9, "bn": 10**9, "million": 10**6, "m": 10**6, "thousand": 10**3, "k": 10**3}


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
        value = int(number * _MULT.get(unit, 1))
        after = text[m.end(): m.end() + 60].lower()
        before = text[max(0, m.start() - 40): m.start()].lower()
        money = "$" in m.group(0) or "usd" in m.group(0).lower() or "usd" in after[:8] or (
            "revenue" in after or "revenue" in before
        )
        if re.match(r"\s*(monthly active users|mau)", after):
            dim = "mau"
        elif re.match(r"\s*(daily active users|dau|daily users)", after):
            dim = "dau"
        elif re.match(r"\s*devices", after):
            dim = "devices"
        elif money:
            near = after[:40]
            if re.search(r"annual|year|per annum", near):
                dim = "annual_revenue"
            elif re.search(r"month", near):
                dim = "monthly_revenue"
            else:
                dim = "monthly_revenue" if re.search(r"month", before[-25:]) else "annual_revenue"
        else:
            continue
        if value < 1000:  # "2 devices", "$1" — not a threshold
            continue
        found.append((dim, value, text[max(0, m.start() - 30): m.end() + 40].strip()))
    return found


_PROFILE_SCALE = {
    "mau": ("monthly_active_users", "monthly active users"),
    "dau": ("daily_active_users", "daily active users"),
    "devices": ("devices", "devices"),
    "annual_revenue": ("annual_revenue_usd", "annual revenue (USD)"),
    "monthly_revenue": ("monthly_revenue_usd", "monthly revenue (USD)"),
}


def find_clause(texts: dict[str, str], pattern: str, limit: int = 3) -> list[EvidenceRef]:
    """Lines of the license texts matching a regular expression, quoted."""
    hits: list[EvidenceRef] = []
    rx = re.compile(rf"\b(?:{pattern})\b", re.I)
    for file, text in texts.items():
        # numbered by "\n" as editors and grep do (str.splitlines also breaks at U+2028,
        # which real license texts contain, and would shift every later line number)
        for no, line in enumerate(text.split("\n"), 1):
            if rx.search(line):
                quote = " ".join(line.split())
                if len(quote) > 240:
                    m = rx.search(quote)
                    start = max(0, (m.start() if m else 0) - 100)
                    quote = ("…" if start else "") + quote[start: start + 220] + "…"
                hits.append(EvidenceRef(source="license", file=file, line=no, quote=quote))
                if len(hits) >= limit:
                    return hits
    return hits


# ---------------------------------------------------------------------------- license checks


def check_identified(ctx: PolicyInputs, profile: Profile, out: Outcome) -> LicenseMatch | None:
    """Is there a license at all, and do we know which one it is?"""
    title = "License identified"
    report = ctx.license
    if report is None:
        _not_analysed(out, "MC521", "license-identified", title, "license",
                      ctx.missing.get("license", "not run"))
        return None
    lic = primary_license(report)
    declared = report.declared
    policies = [m for m in report.licenses if m.kind == "acceptable-use-policy"]
    if lic is None and policies:
        out.add("MC520", "license-identified", title, Status.REVIEW,
                f"{', '.join(p.title for p in policies)}: a use policy, not a license; it grants "
                "no rights by itself — check it together with the license that incorporates it",
                [EvidenceRef(source="acceptable-use-policy", file=p.file, line=p.line_start,
                             line_end=p.line_end, note=f"{p.id}, {p.match} match")
                 for p in policies])
        return None
    if lic is None:
        searched = sorted(ctx.license_texts) or sorted(
            p for p, comp, _ in ctx.files if comp in ("license", "notice"))
        none_ev = (EvidenceRef(source="license", note="documents read: " + (
            ", ".join(searched) if searched else "none (no LICENSE-like file)")),)
        if declared.license or declared.resolved_ids:
            out.add("MC520", "license-identified", title, Status.REVIEW,
                    f"no license text in the release; the metadata declares "
                    f"{declared.license or ', '.join(declared.resolved_ids)!r} but the terms "
                    "cannot be checked against a text", _card_ev(ctx, "license") + none_ev)
        else:
            out.add("MC520", "license-identified", title, Status.BLOCKED,
                    "no license text and no license declaration: without a grant, copyright "
                    "reserves all rights", none_ev)
        return None
    where = EvidenceRef(source="license", file=lic.file, line=lic.line_start,
                        line_end=lic.line_end, note=f"{lic.match} match, confidence "
                        f"{lic.confidence:.2f}")
    if lic.match == "unknown":
        out.add("MC520", "license-identified", title, Status.REVIEW,
                "the license text matches no catalogued license; its terms below were "
                "extracted from the text and need a reader", (where,))
    elif _is_card(ctx, lic.file):
        out.add("MC520", "license-identified", title, Status.REVIEW,
                f"the license is only declared in the model card "
                f"({declared.license or lic.id}); its terms come from the catalog entry for "
                f"{lic.title}, not from a text shipped with the release",
                (where, *_card_ev(ctx, "license")))
    elif lic.match == "partial":
        out.add("MC520", "license-identified", title, Status.REVIEW,
                f"only part of {lic.title} was recognised; the rest of the text may change "
                "the terms", (where,))
    elif lic.match == "modified":
        quotes = [EvidenceRef(source="license", file=lic.file, quote=q) for q in lic.diff[:5]]
        changed = ", ".join(lic.changed_terms) or "no catalogued term"
        out.add("MC523", "license-modified", "License text differs from the known version",
                Status.REVIEW, f"the text is a modified {lic.title}; changed clauses touch: "
                f"{changed}", (where, *quotes))
    else:
        out.add("MC520", "license-identified", title, Status.CLEAR,
                f"{lic.title} ({lic.id}), {lic.match} match", (where,))
    return lic


_CARD_NAMES = ("readme", "model_card", "modelcard")


def _is_card(ctx: PolicyInputs, path: str) -> bool:
    """Whether a license match comes from the model card (a declaration, not a text)."""
    for p, comp, _ in ctx.files:
        if p == path and comp is not None:
            return comp == "model-card"
    card_file = getattr(ctx.card, "file", None)
    if card_file is not None and card_file == path:
        return True
    name = path.rsplit("/", 1)[-1].lower()
    return ctx.scope == "release" and name.startswith(_CARD_NAMES)


def _card_ev(ctx: PolicyInputs, key: str) -> tuple[EvidenceRef, ...]:
    card = ctx.card
    if card is None:
        return ()
    line = None
    try:
        line = card.line_of(key)
    except Exception:
        line = None
    value = (getattr(card, "front_matter", {}) or {}).get(key)
    return (EvidenceRef(source="card", file=getattr(card, "file", "README.md"), line=line,
                        quote=f"{key}: {value}" if value is not None else None),)


def check_allowed(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch, out: Outcome) -> None:
    rules = profile.rules
    if not rules.allowed_licenses and not rules.osi_approved_only:
        return
    title = "License on the organisation's allowed list"
    allowed = {a.lower() for a in rules.allowed_licenses}
    ev = (EvidenceRef(source="profile", note=f"rules.allowed_licenses = "
                      f"{list(rules.allowed_licenses)}, osi_approved_only = "
                      f"{rules.osi_approved_only}"),)
    if allowed and lic.id.lower() not in allowed:
        out.add("MC519", "license-allowed", title, Status.BLOCKED,
                f"{lic.id} is not among the allowed licenses", ev)
    elif rules.osi_approved_only and not lic.osi_approved:
        out.add("MC519", "license-allowed", title, Status.BLOCKED,
                f"{lic.id} is not OSI-approved and the profile allows OSI-approved licenses only",
                ev)
    else:
        out.add("MC519", "license-allowed", title, Status.CLEAR, f"{lic.id} is allowed", ev)


def check_declared(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch, out: Outcome) -> None:
    report = ctx.license
    assert report is not None
    declared = report.declared
    title = "Declared license matches the text"
    problems = [f for f in report.findings
                if str(getattr(f, "severity", "")) in ("medium", "high", "critical")]
    ev = list(_card_ev(ctx, "license")) if declared.license else []
    ev += [EvidenceRef(source="license", file=getattr(f, "file", None),
                       line=getattr(f, "line", None), quote=getattr(f, "quote", None),
                       note=f"{getattr(f, 'code', '')}: {getattr(f, 'message', '')}")
           for f in problems]
    if declared.resolved_ids and lic.id not in declared.resolved_ids:
        out.add("MC512", "declared-license", title, Status.REVIEW,
                f"metadata declares {', '.join(declared.resolved_ids)} but the text is {lic.id}; "
                "the text governs, the discrepancy must be resolved", ev)
    elif problems:
        out.add("MC512", "declared-license", title, Status.REVIEW,
                "the license analysis reported: " + "; ".join(
                    str(getattr(f, "message", f)) for f in problems[:3]), ev)
    elif declared.license or declared.resolved_ids:
        out.add("MC512", "declared-license", title, Status.CLEAR,
                f"declared {declared.license!r} agrees with the text ({lic.id})", ev)


def check_text_kept(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch, out: Outcome) -> None:
    title = "License text kept with the release"
    ev = (EvidenceRef(source="license", file=lic.file, line=lic.line_start, line_end=lic.line_end),)
    if ctx.scope == "license" or (not _is_card(ctx, lic.file) and (
            lic.file in ctx.license_texts or any(p == lic.file for p, _, _ in ctx.files))):
        out.add("MC511", "license-text", title, Status.CLEAR,
                f"the text is in {lic.file}; a clearance record (modelclear record) keeps a copy "
                "as it is today", ev)
    else:
        out.add("MC511", "license-text", title, Status.REVIEW,
                "the license is only referenced, not shipped; save a copy of the text with "
                "the clearance record", ev)


def check_commercial(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch, out: Outcome) -> None:
    title = "Commercial use"
    term = lic.terms.get("commercial_use")
    v = _value(term)
    ev = _ev(term, lic)
    granted = lic.id in profile.rules.registered
    if not profile.is_commercial:
        out.add("MC500", "commercial-use", title, Status.CLEAR,
                f"the profile's use ({', '.join(profile.use)}) is not commercial; license "
                f"says commercial use: {v or 'not stated'}", ev)
    elif v == "yes":
        out.add("MC500", "commercial-use", title, Status.CLEAR, "the license permits commercial "
                "use", ev)
    elif v == "no":
        if granted:
            out.add("MC500", "commercial-use", title, Status.CLEAR,
                    f"the license is non-commercial, but the profile records a separate grant "
                    f"for {lic.id} (rules.registered)", ev)
        else:
            out.add("MC500", "commercial-use", title, Status.BLOCKED,
                    f"the license does not permit commercial use, and the profile's use "
                    f"({', '.join(profile.use)}) is commercial — internal business use included",
                    ev)
    elif v == "conditional":
        conditions = [k for k in ("mau_threshold", "other_scale_threshold",
                                  "requires_registration_or_approval")
                      if _value(lic.terms.get(k)) not in (None, "no")]
        if conditions:
            out.add("MC500", "commercial-use", title, Status.CLEAR,
                    "commercial use is permitted on conditions, each checked below ("
                    + ", ".join(c.replace("_", " ") for c in conditions) + ")", ev)
        else:
            out.add("MC500", "commercial-use", title, Status.REVIEW,
                    "commercial use is permitted on conditions the analysis could not "
                    "itemise; read the clause", ev)
    else:
        out.add("MC500", "commercial-use", title, Status.REVIEW,
                f"the license's position on commercial use is {v or 'not stated'}", ev)


def check_mau(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch, out: Outcome) -> None:
    title = "Monthly active users"
    term = lic.terms.get("mau_threshold")
    threshold = term.value if term is not None else None
    if isinstance(threshold, str):
        found = [v for d, v, _ in scale_thresholds(threshold + " monthly active users")]
        threshold = found[0] if found else None
    if threshold is None:
        return
    ev = _ev(term, lic)
    mau = profile.scale.monthly_active_users
    approval = _value(lic.terms.get("requires_registration_or_approval"))
    publisher = lic.publisher or "the licensor"
    if mau is None:
        out.add("MC501", "user-scale", title, Status.REVIEW,
                f"the license changes above {_fmt_int(threshold)} monthly active users and the "
                "profile does not state scale.monthly_active_users", ev)
    elif mau > threshold:
        when = ""
        quote = _text(term).lower()
        if "release date" in quote:
            when = " (the license counts users on its version's release date"
            when += ", affiliates included)" if "affiliate" in quote else ")"
        if lic.id in profile.rules.registered:
            out.add("MC501", "user-scale", title, Status.CLEAR,
                    f"{_fmt_int(mau)} MAU is above the {_fmt_int(threshold)} threshold; the "
                    f"profile records a separate license for {lic.id} (rules.registered)", ev)
        else:
            how = ("a separate license from " + publisher + ", granted at its discretion"
                   if approval in ("above_threshold", "yes") else "terms beyond this license")
            out.add("MC501", "user-scale", title, Status.BLOCKED,
                    f"the profile's {_fmt_int(mau)} monthly active users exceed the license's "
                    f"{_fmt_int(threshold)} threshold{when}; above it the license requires "
                    f"{how}", ev)
    else:
        margin = threshold / max(mau, 1)
        note = " (within a factor of 2: watch growth)" if margin < 2 else ""
        out.add("MC501", "user-scale", title, Status.CLEAR,
                f"{_fmt_int(mau)} monthly active users is below the {_fmt_int(threshold)} "
                f"threshold{note}", ev)


def check_other_scale(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
                      out: Outcome) -> None:
    title = "Other scale thresholds"
    term = lic.terms.get("other_scale_threshold")
    if _value(term) in (None, "no", "none"):
        return
    ev = _ev(term, lic)
    found = scale_thresholds(_text(term))
    if not found:
        out.add("MC502", "other-scale", title, Status.REVIEW,
                f"the license sets a scale condition the analysis cannot compare: {term.value}", ev)
        return
    unknown, over, under = [], [], []
    for dim, limit, _snippet in found:
        attr, label = _PROFILE_SCALE[dim]
        have = getattr(profile.scale, attr)
        yearly, monthly = profile.scale.annual_revenue_usd, profile.scale.monthly_revenue_usd
        if have is None and dim == "monthly_revenue" and yearly is not None:
            have, label = yearly // 12, "monthly revenue (USD, annual / 12)"
        elif have is None and dim == "annual_revenue" and monthly is not None:
            have, label = monthly * 12, "annual revenue (USD, monthly × 12)"
        if have is None:
            unknown.append(f"{label} (limit {_fmt_int(limit)})")
        elif have > limit:
            over.append(f"{label}: {_fmt_int(have)} > {_fmt_int(limit)}")
        else:
            under.append(f"{label}: {_fmt_int(have)} ≤ {_fmt_int(limit)}")
    if over:
        out.add("MC502", "other-scale", title, Status.REVIEW,
                f"above the license's threshold ({'; '.join(over)}); read what the clause then "
                f"requires: {term.value}", ev)
    elif unknown:
        out.add("MC502", "other-scale", title, Status.REVIEW,
                f"the license sets a threshold on {', '.join(unknown)}; the profile does not "
                "state it", ev)
    else:
        out.add("MC502", "other-scale", title, Status.CLEAR,
                f"below the license's thresholds ({'; '.join(under)})", ev)


def check_registration(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
                       out: Outcome) -> None:
    title = "Registration or approval"
    term = lic.terms.get("requires_registration_or_approval")
    v = _value(term)
    ev = _ev(term, lic)
    registered = lic.id in profile.rules.registered
    if v in (None, "no"):
        out.add("MC503", "registration", title, Status.CLEAR,
                "the license asks for no registration or approval", ev)
    elif v == "above_threshold":
        out.add("MC503", "registration", title, Status.CLEAR,
                "approval is needed only above the license's scale threshold (see monthly "
                "active users)", ev)
    elif v == "for_commercial" and not profile.is_commercial:
        out.add("MC503", "registration", title, Status.CLEAR,
                "registration is needed for commercial use only; the profile is not commercial",
                ev)
    elif v in ("for_commercial", "yes"):
        when = "before commercial use" if v == "for_commercial" else "before use"
        if registered:
            out.add("MC503", "registration", title, Status.CLEAR,
                    f"registration is required {when}; the profile records it for {lic.id}", ev)
            out.oblige("MC503", f"Keep the registration with the publisher current for {lic.id}",
                       True, f"registration required {when}", ev)
        else:
            out.add("MC503", "registration", title, Status.REVIEW,
                    f"the license requires registration {when}; register and add {lic.id} to "
                    "the profile's rules.registered", ev)
    else:
        out.add("MC503", "registration", title, Status.REVIEW,
                f"registration or approval: {term.value if term else 'unknown'}", ev)


def check_fine_tuning(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
                      out: Outcome) -> None:
    title = "Fine-tuning and modification"
    term = lic.terms.get("fine_tuning_allowed")
    v = _value(term)
    ev = _ev(term, lic)
    needed = profile.needs.fine_tune or profile.needs.modify_architecture
    if not needed:
        out.add("MC504", "fine-tuning", title, Status.CLEAR,
                f"the profile does not modify the model; license says fine-tuning: "
                f"{v or 'not stated'}", ev)
    elif v == "yes":
        out.add("MC504", "fine-tuning", title, Status.CLEAR,
                "the license permits derivative works (fine-tuning, modification)", ev)
    elif v == "no":
        out.add("MC504", "fine-tuning", title, Status.BLOCKED,
                "the profile needs to fine-tune or modify the model and the license does not "
                "permit derivative works", ev)
    else:
        out.add("MC504", "fine-tuning", title, Status.REVIEW,
                f"the profile needs to fine-tune or modify the model; the license's position "
                f"is {v or 'not stated'}", ev)


def check_output_use(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
                     out: Outcome) -> None:
    title = "Use of outputs to train other models"
    term = lic.terms.get("use_outputs_to_train_other_models")
    v = _value(term)
    ev = _ev(term, lic)
    needed = profile.trains_on_outputs
    if v == "prohibited":
        out.oblige("MC505", "Do not use the model or its outputs to train or improve other "
                   "models", True, "the license forbids it", ev)
    if not needed:
        out.add("MC505", "output-use", title, Status.CLEAR,
                f"the profile does not train other models on outputs; license says: "
                f"{v or 'not stated'}", ev)
    elif v == "prohibited":
        out.add("MC505", "output-use", title, Status.BLOCKED,
                "the profile uses outputs to train another model (distillation) and the license "
                "prohibits using its outputs to improve other models", ev)
    elif v == "restricted":
        out.add("MC505", "output-use", title, Status.REVIEW,
                "the license restricts how outputs may be used to train other models; read the "
                "clause against the distillation plan", ev)
    elif v == "allowed":
        out.add("MC505", "output-use", title, Status.CLEAR,
                "the license expressly allows using outputs to train other models "
                "(with its naming and attribution duties)", ev)
    elif v in (None, "unmentioned"):
        out.add("MC505", "output-use", title, Status.CLEAR,
                "the license places no restriction on using outputs", ev)
    else:
        out.add("MC505", "output-use", title, Status.REVIEW,
                f"use of outputs to train other models: {v}", ev)


_DISPLAY = re.compile(r"((?:Built|Powered|Improved) (?:with|by|on) [A-Z][\w.\-]*"
                      r"(?: [A-Z0-9][\w.\-]*)*)")


def display_phrases(term: Term | None) -> list[str]:
    """Notices the license asks to display ("Built with Llama"), from each part of the term."""
    if term is None:
        return []
    parts = [str(term.value or ""), term.detail or "", term.evidence.quote if term.evidence else ""]
    found = [m.group(1).strip().rstrip(".") for p in parts for m in _DISPLAY.finditer(p)]
    return list(dict.fromkeys(found))
_NAME_PREFIX = re.compile(r"[\"“']([A-Za-z][\w.\- ]{1,30})[\"”']\s*(?:at|to) the beginning")


def check_attribution(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
                      out: Outcome) -> None:
    title = "Attribution duties"
    term = lic.terms.get("attribution_required")
    v = _value(term)
    ev = _ev(term, lic)
    if v != "yes":
        out.add("MC506", "attribution", title, Status.CLEAR if v in ("no", None) else
                Status.REVIEW, f"attribution required: {v or 'not stated'}", ev)
        return
    applies = profile.third_party or profile.distributes
    condition = "when you distribute the model or derivatives, or offer a product or service " \
                "built with them"
    displays = display_phrases(term)
    for d in displays:
        out.oblige("MC506", f"Display '{d}' on a related website, user interface or product "
                   "documentation", applies, condition, ev)
    if term.detail:
        for part in re.split(r";\s*", term.detail):
            if not part or any(d in part for d in displays):
                continue
            if len(part.split()) <= 3:  # a bare name or notice ("Kimi K2"): say what to do
                part = f"show '{part}' where the license requires it (see the clause)"
            out.oblige("MC506", part[0].upper() + part[1:], applies, condition,
                       _quoted_clause(ctx, part) or ev)
    if not displays and not term.detail:
        out.oblige("MC506", "Keep the license's copyright and attribution notices with every "
                   "copy", applies, condition, ev)
    n = len([o for o in out.obligations if o.code == "MC506"])
    out.add("MC506", "attribution", title, Status.CLEAR,
            (f"{n} attribution duties, listed as obligations" if n > 1 else
             "one attribution duty, listed as an obligation")
            + ("" if applies else f" ({'they apply' if n > 1 else 'it applies'} once you "
                                  "distribute or offer the model)"), ev)


def _quoted_clause(ctx: PolicyInputs, text: str) -> tuple[EvidenceRef, ...]:
    """The license line holding the text quoted in a duty ('… is licensed under …')."""
    m = re.search(r"['‘“\"]([^'’”\"]{12,})['’”\"]", text)
    if m is None:
        return ()
    words = m.group(1).split()[:6]
    if len(words) < 3:
        return ()
    hits = find_clause(ctx.license_texts, r"\s+".join(re.escape(w) for w in words), limit=1)
    return tuple(hits)


def check_naming(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch, out: Outcome) -> None:
    term = lic.terms.get("derivative_naming_requirement")
    if _value(term) in (None, "no", "none"):
        return
    ev = _ev(term, lic)
    name = term.detail if term.detail and len(term.detail.split()) <= 3 else None
    if name is None:
        m = _NAME_PREFIX.search(_text(term)) or re.search(
            r"(?:begin|start)s? with [\"“']([\w.\- ]{1,30})[\"”']", _text(term))
        name = m.group(1) if m else None
    text = (f"Name distributed derivative models '{name}-…' (the name must begin with "
            f"'{name}')" if name else f"Name derivative models as the license requires: "
            f"{term.value}")
    applies = profile.makes_derivatives and profile.distributes
    out.oblige("MC507", text, applies, "when you distribute a model created, trained or "
               "fine-tuned with the model (or its outputs, where the license says so)", ev)
    out.add("MC507", "derivative-naming", "Derivative naming duty", Status.CLEAR,
            "a naming duty for derived models, listed as an obligation"
            + ("" if applies else " (applies if you distribute derived models)"), ev)


def check_territory(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch | None,
                    docs: tuple[LicenseMatch, ...], out: Outcome) -> None:
    title = "Territory"
    hits: list[tuple[LicenseMatch, Term]] = []
    for m in docs:
        t = m.terms.get("territory_restriction")
        if _value(t) not in (None, "no", "none"):
            hits.append((m, t))
    if not hits:
        out.add("MC508", "territory", title, Status.CLEAR,
                "the license names no territory restriction", ())
        return
    mine = profile.all_regions()
    for m, t in hits:
        ev = _ev(t, m)
        ter = regions.read_territory(str(t.value or ""), t.detail or "",
                                     t.evidence.quote if t.evidence else "")
        binding = m is lic  # the governing license; a use-policy rule may be conditional
        what = "the license" if binding else f"{m.title}"
        if not mine:
            out.add("MC508", "territory", title, Status.REVIEW,
                    f"{what} restricts territory ({t.value}); the profile names no regions", ev)
            continue
        if not ter.understood:
            out.add("MC508", "territory", title, Status.REVIEW,
                    f"{what} restricts territory in terms the analysis cannot map to regions: "
                    f"{t.value}", ev)
            continue
        bad = list(regions.overlap(mine, ter.excluded))
        if ter.only:
            bad += [r for r in mine if r not in regions.overlap((r,), ter.only) or
                    "*" in regions.expand(r)]
        bad = list(dict.fromkeys(bad))
        if bad:
            names = ", ".join(regions.display(r) for r in bad)
            out.add("MC508", "territory", title, Status.BLOCKED if binding else Status.REVIEW,
                    f"{what} excludes territory that the profile deploys to or serves: {names}"
                    + ("" if binding else " (a use-policy condition; read whether it covers "
                       "this model)"), ev)
        else:
            out.add("MC508", "territory", title, Status.CLEAR,
                    f"the profile's regions ({', '.join(mine)}) are outside the excluded "
                    f"territory ({', '.join(sorted(ter.excluded | ter.only))})", ev)


def check_competing(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch, out: Outcome) -> None:
    term = lic.terms.get("competing_service_restriction")
    if _value(term) in (None, "no", "none"):
        return
    title = "Competing-service clause"
    ev = _ev(term, lic)
    if profile.third_party:
        out.add("MC509", "competing-service", title, Status.REVIEW,
                f"the license restricts competing products or services ({term.value}); decide "
                f"whether the profile's use ({', '.join(profile.use)}) competes", ev)
    else:
        out.add("MC509", "competing-service", title, Status.CLEAR,
                "the license restricts competing services; the profile's use is internal", ev)
        out.oblige("MC509", f"Do not use the model to offer a competing service: {term.value}",
                   True, "the license's competing-service clause", ev)


def check_aup(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
              docs: tuple[LicenseMatch, ...], out: Outcome) -> None:
    title = "Acceptable-use policy"
    term = lic.terms.get("acceptable_use_policy")
    v = _value(term)
    ev = list(_ev(term, lic))
    by_ref = list(lic.incorporates)
    quote = _text(term).lower()
    referenced = bool(by_ref) or bool(re.search(r"by reference|available at", quote))
    policies = [m for m in docs if m.kind == "acceptable-use-policy"]
    for p in policies:
        ev.append(EvidenceRef(source="acceptable-use-policy", file=p.file, line=p.line_start,
                              line_end=p.line_end, note=f"{p.title} ({p.match} match)"))
    if referenced:
        names = ", ".join(i.title + (f" <{i.url}>" if i.url else "") for i in by_ref) or \
            "a policy published separately"
        changes = any(i.can_change_without_notice for i in by_ref)
        shipped = " A copy ships with the release." if policies else ""
        out.add("MC510", "acceptable-use", title, Status.REVIEW,
                f"the license incorporates by reference {names}"
                + (", which the publisher may change" if changes or not by_ref else "")
                + "; read its prohibited uses against the profile's use." + shipped,
                ev)
        out.oblige("MC510", "Follow the current acceptable-use policy and re-check it when it "
                   "changes", True, "incorporated by reference into the license", ev)
    elif v == "yes":
        out.add("MC510", "acceptable-use", title, Status.CLEAR,
                "the license lists use restrictions in its own text (no policy incorporated by "
                "reference); they are listed as obligations", ev)
        out.oblige("MC510", "Respect the use restrictions written in the license", True,
                   "use-based restrictions in the license text", ev)
        if _value(lic.terms.get("redistribution_conditions")) and "enforceable" in (
            _text(lic.terms.get("redistribution_conditions")).lower()
        ):
            out.oblige("MC510", "Pass the use restrictions on as an enforceable term to anyone "
                       "you give the model or a derivative to", profile.distributes or
                       profile.third_party, "when you distribute or host the model for others",
                       ev)
    else:
        out.add("MC510", "acceptable-use", title, Status.CLEAR,
                "no acceptable-use policy", ev)


def check_redistribution(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
                         out: Outcome) -> None:
    term = lic.terms.get("redistribution_conditions")
    if _value(term) in (None, "no", "none"):
        return
    ev = _ev(term, lic)
    out.oblige("MC522", f"When redistributing: {term.value}", profile.distributes,
               "when you pass the weights or a derivative to others", ev)


def check_governing_law(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch,
                        out: Outcome) -> None:
    term = lic.terms.get("governing_law")
    if _value(term) in (None, "no", "none"):
        return
    out.add("MC526", "governing-law", "Governing law and venue", Status.CLEAR,
            f"the license names: {term.value}", _ev(term, lic))


def check_sector_clauses(ctx: PolicyInputs, profile: Profile, out: Outcome) -> None:
    if not profile.sector or not ctx.license_texts:
        return
    patterns = origin.sector_clauses()
    for sector in profile.sector:
        rx = patterns.get(sector)
        if not rx:
            continue
        hits = find_clause(ctx.license_texts, "|".join(rx))
        if hits:
            out.add("MC518", f"sector-use-{sector}", f"Use restriction relevant to {sector}",
                    Status.REVIEW, f"the license or its use policy mentions uses relevant to the "
                    f"profile's sector ({sector}); read the quoted clauses", hits)


# ---------------------------------------------------------------------------- origin


def release_orgs(ctx: PolicyInputs) -> list[tuple[str, str]]:
    """(org, why) for the release and its declared base models."""
    orgs: list[tuple[str, str]] = []
    if ctx.model_id and "/" in ctx.model_id:
        orgs.append((ctx.model_id.split("/")[0], f"release {ctx.model_id}"))
    base = getattr(ctx.card, "base_model", ()) or ()
    for b in base:
        if isinstance(b, str) and "/" in b:
            orgs.append((b.split("/")[0], f"base model {b}"))
    return orgs


def check_origin(ctx: PolicyInputs, profile: Profile, lic: LicenseMatch | None,
                 out: Outcome) -> set[str]:
    """Publisher countries; a blocked one is BLOCKED, an unknown one REVIEW if rules exist."""
    title = "Publisher origin"
    found: list[tuple[str, str | None, str]] = []  # (who, country, why)
    for org, why in release_orgs(ctx):
        pub = origin.by_org(org)
        found.append((pub.name if pub else org, pub.country if pub else None, why))
    if not found and lic is not None and (lic.publisher or lic.publisher_country):
        pub = origin.by_name(lic.publisher)
        country = lic.publisher_country or (pub.country if pub else None)
        found.append((lic.publisher or (pub.name if pub else "?"), country,
                      f"publisher of {lic.id}"))
    countries = {c for _, c, _ in found if c}
    blocked = set(profile.rules.blocked_publisher_countries)
    ev = tuple(EvidenceRef(source="publishers", note=f"{why}: {who} → {c or 'unknown'}")
               for who, c, why in found)
    if not found:
        if blocked and ctx.scope == "release":
            out.add("MC516", "publisher-origin", title, Status.REVIEW,
                    "the release names no publisher (no hub id, no base model) and the profile "
                    "blocks publisher countries", ev)
        return countries
    bad = sorted(countries & set().union(*(regions.expand(b) for b in blocked))) if blocked else []
    unknown = [who for who, c, _ in found if c is None]
    if bad:
        out.add("MC516", "publisher-origin", title, Status.BLOCKED,
                f"publisher country {', '.join(regions.display(c) for c in bad)} is blocked by "
                "the profile (rules.blocked_publisher_countries)", ev)
    elif blocked and unknown:
        out.add("MC516", "publisher-origin", title, Status.REVIEW,
                f"publisher country unknown for {', '.join(unknown)}; the profile blocks "
                f"{', '.join(blocked)}", ev)
    else:
        desc = ", ".join(f"{who} ({regions.display(c) if c else 'country unknown'})"
                         for who, c, _ in found)
        out.add("MC516", "publisher-origin", title, Status.CLEAR, f"publisher: {desc}", ev)
    return countries


def check_sector_notes(ctx: PolicyInputs, profile: Profile, countries: set[str],
                       out: Outcome) -> None:
    for note in origin.sector_notes():
        sectors = set(note.sectors) & set(profile.sector)
        if not sectors:
            continue
        if "*" not in note.origin and not (countries & set(note.origin)):
            continue
        out.add("MC517", f"note-{note.id}", "Export-control and sector facts", Status.REVIEW,
                note.text, (EvidenceRef(source="profile",
                                        note=f"sector: {', '.join(sorted(sectors))}"
                            + (f"; publisher country: {', '.join(sorted(countries))}"
                               if countries else "")),))


# ---------------------------------------------------------------------------- release checks


def _sec_files(sec: Any) -> list[Any]:
    return list(getattr(sec, "files", ()) or ())


def check_security(ctx: PolicyInputs, profile: Profile, out: Outcome) -> None:
    weights = [(p, fmt) for p, comp, fmt in ctx.files if comp in ("weights", None)]
    pickles = [p for p, fmt in weights
               if (fmt and fmt.lower() in PICKLE_FORMATS)
               or (fmt is None and "." in p and p[p.rfind("."):].lower() in PICKLE_SUFFIXES)]
    # the security scan knows best which files a loader would unpickle (content, not name)
    pickles = list(dict.fromkeys(pickles + [getattr(f, "path", "?") for f in
                                            _sec_files(ctx.security) if getattr(f, "pickle",
                                                                                False)]))
    # --- serialization
    title = "Safe serialization"
    ev = tuple(EvidenceRef(source="inventory", file=p, note="pickle-based format") for p in pickles)
    if pickles and profile.rules.forbid_pickle:
        out.add("MC513", "serialization", title, Status.BLOCKED,
                f"{len(pickles)} weight file(s) use a pickle-based format and the profile "
                "forbids pickle weights (rules.forbid_pickle)", ev)
    elif pickles and ctx.security is None:
        _not_analysed(out, "MC513", "serialization", title, "security",
                      ctx.missing.get("security", "not run"))
    elif pickles:
        out.add("MC513", "serialization", title, Status.CLEAR,
                f"{len(pickles)} pickle-based weight file(s), scanned (see security findings)",
                ev)
    else:
        out.add("MC513", "serialization", title, Status.CLEAR,
                "no pickle-based weights", ())
    # --- remote code
    title = "Remote code"
    code_refs: list[EvidenceRef] = []
    for name, cfg in ctx.configs.items():
        if isinstance(cfg, dict) and isinstance(cfg.get("auto_map"), dict):
            targets = ", ".join(sorted({str(v) if not isinstance(v, list) else ", ".join(
                map(str, v)) for v in cfg["auto_map"].values()}))
            code_refs.append(EvidenceRef(source="inventory", file=name,
                                         quote=f"auto_map: {targets}"[:240],
                                         note="loading needs trust_remote_code"))
    py = [p for p, comp, _ in ctx.files if p.endswith(".py")]
    if code_refs and profile.rules.forbid_remote_code:
        out.add("MC514", "remote-code", title, Status.BLOCKED,
                "loading the model needs trust_remote_code (auto_map) and the profile forbids "
                "remote code (rules.forbid_remote_code)", code_refs)
    elif code_refs and ctx.security is None:
        _not_analysed(out, "MC514", "remote-code", title, "security",
                      ctx.missing.get("security", "not run"))
    elif code_refs:
        out.add("MC514", "remote-code", title, Status.REVIEW,
                "loading needs trust_remote_code: the release's Python code runs at load time; "
                "review it (security findings below grade it)", code_refs)
    else:
        out.add("MC514", "remote-code", title, Status.CLEAR,
                "no auto_map: loads without trust_remote_code"
                + (f" ({len(py)} Python file(s) ship but are not loaded automatically)"
                   if py else ""), ())
    # --- security scan
    title = "Security scan"
    if ctx.security is None:
        _not_analysed(out, "MC524", "security-scan", title, "security",
                      ctx.missing.get("security", "not run"))
        return
    unsafe, malformed = [], []
    for f in _sec_files(ctx.security):
        status = str(getattr(f, "status", "clean"))
        if status in ("unsafe", "malformed", "unsupported"):
            fnds = list(getattr(f, "findings", ()) or ())
            worst_f = max(fnds, key=lambda x: getattr(getattr(x, "severity", None), "rank", 0),
                          default=None)
            ref = EvidenceRef(
                source="security", file=getattr(f, "path", None),
                offset=getattr(worst_f, "offset", None), line=getattr(worst_f, "line", None),
                quote=(worst_f.extra.get("callable") or worst_f.quote) if worst_f else None,
                note=f"{status}: " + (f"{getattr(worst_f, 'code', '')} "
                                      f"{getattr(worst_f, 'message', '')}" if worst_f else ""),
            )
            (unsafe if status == "unsafe" else malformed).append(ref)
    if unsafe:
        out.add("MC524", "security-scan", title, Status.BLOCKED,
                f"{len(unsafe)} file(s) would run code or are otherwise unsafe to load", unsafe +
                malformed)
    elif malformed:
        out.add("MC524", "security-scan", title, Status.REVIEW,
                f"{len(malformed)} file(s) could not be fully checked (malformed or unsupported)",
                malformed)
    else:
        n = len(_sec_files(ctx.security))
        out.add("MC524", "security-scan", title, Status.CLEAR,
                f"{n} file(s) scanned, none unsafe", ())


def check_hardware(ctx: PolicyInputs, profile: Profile, out: Outcome,
                   fit: Callable[[Any, Any], tuple[Status, str, str]] | None) -> None:
    budget = profile.rules.gpu_budget
    title = "Hardware fit"
    if budget is None:
        return
    if ctx.sizing is None or fit is None:
        _not_analysed(out, "MC515", "hardware", title, "sizing",
                      ctx.missing.get("sizing", "not run"))
        return
    status, reason, note = fit(ctx.sizing, budget)
    out.add("MC515", "hardware", title, status, reason,
            (EvidenceRef(source="sizing", note=note),))


def check_probes(ctx: PolicyInputs, profile: Profile, out: Outcome) -> None:
    data = ctx.probe_results
    if data is None:
        return
    title = "Behavioural probes"
    target = data.get("target")
    model = target.get("model") if isinstance(target, dict) else None
    ref = EvidenceRef(source="probes", file=str(data.get("_file", "probe results")),
                      note=f"probed model: {model}" if model else None)
    fails = probe_failures(data)
    if fails is None:
        out.add("MC525", "probes", title, Status.REVIEW,
                "probe results attached but their format is not recognised", (ref,))
    elif fails:
        out.add("MC525", "probes", title, Status.REVIEW,
                "probe categories below their threshold: " + "; ".join(fails[:8]), (ref,))
    else:
        out.add("MC525", "probes", title, Status.CLEAR, "every probe category passed", (ref,))


def probe_failures(data: dict[str, Any]) -> list[str] | None:
    """Categories that did not fully pass, from ``modelclear probe --json``; None if unreadable.

    A category fails when it is below the run's ``--fail-under`` threshold, or, with no
    threshold, when any scored sample failed: a reviewer reads those probes. Categories
    recorded only as descriptions (no pass rate, e.g. sensitive topics) are not judged.
    """
    cats = data.get("categories")
    if isinstance(cats, dict):
        cats = [dict(v, category=k) if isinstance(v, dict) else {"category": k, "passed": v}
                for k, v in cats.items()]
    if not isinstance(cats, list):
        return None
    fails: list[str] = []
    for c in cats:
        if not isinstance(c, dict):
            return None
        name = str(c.get("category") or c.get("name") or "?")
        rate = c.get("pass_rate")
        passed = c.get("passed", c.get("pass", c.get("ok")))
        if passed is None and "status" in c:
            passed = str(c["status"]).lower() in ("pass", "passed", "ok", "clear")
        if c.get("below_threshold") is True:
            fails.append(f"{name}: pass rate {rate:.0%}, below the run's threshold"
                         if isinstance(rate, (int, float)) else f"{name}: below threshold")
        elif isinstance(passed, bool):
            if not passed:
                fails.append(name)
        elif isinstance(rate, (int, float)) and rate < 1:
            ci = c.get("ci95")
            band = (f", 95% CI {ci[0]:.0%}–{ci[1]:.0%}" if isinstance(ci, list) and len(ci) == 2
                    and all(isinstance(x, (int, float)) for x in ci) else "")
            fails.append(f"{name}: {passed}/{c.get('scored', '?')} passed ({rate:.0%}{band})")
    summary = data.get("summary")
    if isinstance(summary, dict):
        for name in summary.get("failing_categories") or []:
            if not any(f == name or f.startswith(f"{name}:") for f in fails):
                fails.append(str(name))
    return fails
