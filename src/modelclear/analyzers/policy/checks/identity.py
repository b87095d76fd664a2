"""Which license governs the release, and can we rely on its text?

Every license term check reads the governing license, so these come first: a
missing, unknown or modified text makes all later answers provisional, and the
reviewer must see that before the terms.
"""

from __future__ import annotations

from ...license.model import LicenseMatch, LicenseReport
from ..model import EvidenceRef, Status
from .clauses import card_ev, is_card
from .registry import CheckContext, Report, check


@check("MC520", "license-identified", order=10, also={"MC523": "license-modified"})
def identified(ctx: CheckContext, out: Report) -> None:
    """Is there a license at all, and do we know which one it is?"""
    report = ctx.inputs.license
    if report is None:
        out.not_analysed("license")
        return
    lic = ctx.lic
    if lic is None:
        _no_license(ctx, report, out)
        return
    where = EvidenceRef(source="license", file=lic.file, line=lic.line_start,
                        line_end=lic.line_end, note=f"{lic.match} match, confidence "
                        f"{lic.confidence:.2f}")
    if lic.match == "unknown":
        out.add(Status.REVIEW, "the license text matches no catalogued license; its terms below "
                "were extracted from the text and need a reader", (where,))
    elif is_card(ctx.inputs, lic.file):
        out.add(Status.REVIEW, f"the license is only declared in the model card "
                f"({report.declared.license or lic.id}); its terms come from the catalog entry "
                f"for {lic.title}, not from a text shipped with the release",
                (where, *card_ev(ctx.inputs, "license")))
    elif lic.match == "partial":
        out.add(Status.REVIEW, f"only part of {lic.title} was recognised; the rest of the text "
                "may change the terms", (where,))
    elif lic.match == "modified":
        quotes = [EvidenceRef(source="license", file=lic.file, quote=q) for q in lic.diff[:5]]
        changed = ", ".join(lic.changed_terms) or "no catalogued term"
        out.add(Status.REVIEW, f"the text is a modified {lic.title}; changed clauses touch: "
                f"{changed}", (where, *quotes), code="MC523")
    else:
        out.add(Status.CLEAR, f"{lic.title} ({lic.id}), {lic.match} match", (where,))


def _no_license(ctx: CheckContext, report: LicenseReport, out: Report) -> None:
    """No governing license: only a use policy, only a declaration, or nothing at all."""
    declared = report.declared
    policies = [m for m in report.licenses if m.kind == "acceptable-use-policy"]
    if policies:
        out.add(Status.REVIEW,
                f"{', '.join(p.title for p in policies)}: a use policy, not a license; it grants "
                "no rights by itself — check it together with the license that incorporates it",
                [EvidenceRef(source="acceptable-use-policy", file=p.file, line=p.line_start,
                             line_end=p.line_end, note=f"{p.id}, {p.match} match")
                 for p in policies])
        return
    searched = sorted(ctx.inputs.license_texts) or sorted(
        p for p, comp, _ in ctx.inputs.files if comp in ("license", "notice"))
    none_ev = (EvidenceRef(source="license", note="documents read: " + (
        ", ".join(searched) if searched else "none (no LICENSE-like file)")),)
    if declared.license or declared.resolved_ids:
        out.add(Status.REVIEW,
                f"no license text in the release; the metadata declares "
                f"{declared.license or ', '.join(declared.resolved_ids)!r} but the terms "
                "cannot be checked against a text", card_ev(ctx.inputs, "license") + none_ev)
    else:
        out.add(Status.BLOCKED, "no license text and no license declaration: without a grant, "
                "copyright reserves all rights", none_ev)


def _has_allow_list(ctx: CheckContext) -> bool:
    rules = ctx.profile.rules
    return bool(rules.allowed_licenses) or rules.osi_approved_only


@check("MC519", "license-allowed", order=20, needs_license=True, when=_has_allow_list)
def allowed(ctx: CheckContext, out: Report) -> None:
    """The organisation's allow-list (ids, or OSI-approved only)."""
    rules, lic = ctx.profile.rules, ctx.license
    allowed = {a.lower() for a in rules.allowed_licenses}
    ev = (EvidenceRef(source="profile", note=f"rules.allowed_licenses = "
                      f"{list(rules.allowed_licenses)}, osi_approved_only = "
                      f"{rules.osi_approved_only}"),)
    if allowed and lic.id.lower() not in allowed:
        out.add(Status.BLOCKED, f"{lic.id} is not among the allowed licenses", ev)
    elif rules.osi_approved_only and not lic.osi_approved:
        out.add(Status.BLOCKED, f"{lic.id} is not OSI-approved and the profile allows "
                "OSI-approved licenses only", ev)
    else:
        out.add(Status.CLEAR, f"{lic.id} is allowed", ev)


@check("MC512", "declared-license", order=30, needs_license=True)
def declared(ctx: CheckContext, out: Report) -> None:
    """What the card declares against what the text is: the text governs, but both must agree."""
    report, lic = ctx.inputs.license, ctx.license
    assert report is not None  # a governing license comes from a report
    declared = report.declared
    problems = [f for f in report.findings
                if str(f.severity) in ("medium", "high", "critical")]
    ev = list(card_ev(ctx.inputs, "license")) if declared.license else []
    ev += [EvidenceRef(source="license", file=f.file, line=f.line, quote=f.quote,
                       note=f"{f.code}: {f.message}") for f in problems]
    if declared.resolved_ids and lic.id not in declared.resolved_ids:
        out.add(Status.REVIEW, f"metadata declares {', '.join(declared.resolved_ids)} but the "
                f"text is {lic.id}; the text governs, the discrepancy must be resolved", ev)
    elif problems:
        out.add(Status.REVIEW, "the license analysis reported: " + "; ".join(
            f.message for f in problems[:3]), ev)
    elif declared.license or declared.resolved_ids:
        out.add(Status.CLEAR, f"declared {declared.license!r} agrees with the text ({lic.id})",
                ev)


def _text_shipped(ctx: CheckContext, lic: LicenseMatch) -> bool:
    inputs = ctx.inputs
    return inputs.scope == "license" or (not is_card(inputs, lic.file) and (
        lic.file in inputs.license_texts or any(p == lic.file for p, _, _ in inputs.files)))


@check("MC511", "license-text", order=40, needs_license=True)
def text_kept(ctx: CheckContext, out: Report) -> None:
    """A clearance record must keep the text as it was; only a shipped text can be kept."""
    lic = ctx.license
    ev = (EvidenceRef(source="license", file=lic.file, line=lic.line_start, line_end=lic.line_end),)
    if _text_shipped(ctx, lic):
        out.add(Status.CLEAR, f"the text is in {lic.file}; a clearance record (modelclear "
                "record) keeps a copy as it is today", ev)
    else:
        out.add(Status.REVIEW, "the license is only referenced, not shipped; save a copy of the "
                "text with the clearance record", ev)
