"""Scale conditions: user and revenue thresholds, and registration or approval duties.

Licenses like Llama's grant rights only up to a size of deployment; above it a
separate license is needed, "granted at the licensor's discretion". The profile's
numbers are compared with the thresholds read from the clause; a number the
profile does not state makes the answer REVIEW, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ...license.model import Term
from ..model import EvidenceRef, Status
from ..profile import Scale
from .clauses import ev, fmt_int, scale_thresholds, stated, text, value
from .registry import CheckContext, Report, check

#: threshold dimension → (label, the profile's number for it)
PROFILE_SCALE: dict[str, tuple[str, Callable[[Scale], int | None]]] = {
    "mau": ("monthly active users", lambda s: s.monthly_active_users),
    "dau": ("daily active users", lambda s: s.daily_active_users),
    "devices": ("devices", lambda s: s.devices),
    "annual_revenue": ("annual revenue (USD)", lambda s: s.annual_revenue_usd),
    "monthly_revenue": ("monthly revenue (USD)", lambda s: s.monthly_revenue_usd),
}


def _mau_threshold(ctx: CheckContext) -> int | None:
    term = ctx.license.terms.get("mau_threshold")
    threshold: object = term.value if term is not None else None
    if isinstance(threshold, str):
        found = [v for _d, v, _ in scale_thresholds(threshold + " monthly active users")]
        return found[0] if found else None
    return int(threshold) if isinstance(threshold, (int, float)) else None


def on_release_date(term: Term | None) -> bool:
    """Whether the clause counts users once, on the version's release date (Llama, Hunyuan).

    Those licenses test the MAU "on the … version release date … in the preceding
    calendar month", not every month; a reviewer must know a later growth is not the test."""
    return "release date" in text(term).lower()


def measured_when(term: Term | None) -> str:
    """How the clause counts users, as a phrase for a reason ("" when it does not say)."""
    if not on_release_date(term):
        return ""
    quote = text(term).lower()
    return (" — measured once, on the license version's release date (users in the preceding "
            "calendar month" + (", affiliates included" if "affiliate" in quote else "")
            + "), not monthly")


@check("MC501", "user-scale", order=60, needs_license=True)
def mau(ctx: CheckContext, out: Report) -> None:
    """The profile's monthly active users against the license's MAU threshold."""
    lic, profile = ctx.license, ctx.profile
    threshold = _mau_threshold(ctx)
    if threshold is None:
        return
    term = lic.terms.get("mau_threshold")
    evidence = ev(term, lic)
    users = profile.scale.monthly_active_users
    when = measured_when(term)
    if users is None:
        out.add(Status.REVIEW, f"the license changes above {fmt_int(threshold)} monthly active "
                f"users{when}, and the profile does not state scale.monthly_active_users",
                evidence)
    elif users <= threshold:
        note = " (within a factor of 2: watch growth)" if threshold / max(users, 1) < 2 else ""
        out.add(Status.CLEAR, f"{fmt_int(users)} monthly active users is below the "
                f"{fmt_int(threshold)} threshold{when}{note}", evidence)
    elif lic.id in profile.rules.registered:
        out.add(Status.CLEAR, f"{fmt_int(users)} MAU is above the {fmt_int(threshold)} "
                f"threshold{when}; the profile records a separate license for {lic.id} "
                "(rules.registered)", evidence)
    else:
        approval = value(lic.terms.get("requires_registration_or_approval"))
        how = ("a separate license from " + (lic.publisher or "the licensor")
               + ", granted at its discretion" if approval in ("above_threshold", "yes")
               else "terms beyond this license")
        out.add(Status.BLOCKED, f"the profile's {fmt_int(users)} monthly active users exceed "
                f"the license's {fmt_int(threshold)} threshold{when}; above it the license "
                f"requires {how}", evidence)


def _compare_scale(ctx: CheckContext, found: list[tuple[str, int, str]]
                   ) -> tuple[list[str], list[str], list[str]]:
    """(unknown, over, under) descriptions, one per threshold found in the clause."""
    scale = ctx.profile.scale
    unknown, over, under = [], [], []
    for dim, limit, _snippet in found:
        label, number = PROFILE_SCALE[dim]
        have = number(scale)
        yearly, monthly = scale.annual_revenue_usd, scale.monthly_revenue_usd
        if have is None and dim == "monthly_revenue" and yearly is not None:
            have, label = yearly // 12, "monthly revenue (USD, annual / 12)"
        elif have is None and dim == "annual_revenue" and monthly is not None:
            have, label = monthly * 12, "annual revenue (USD, monthly × 12)"
        if have is None:
            unknown.append(f"{label} (limit {fmt_int(limit)})")
        elif have > limit:
            over.append(f"{label}: {fmt_int(have)} > {fmt_int(limit)}")
        else:
            under.append(f"{label}: {fmt_int(have)} ≤ {fmt_int(limit)}")
    return unknown, over, under


#: what a clause demands above its threshold, when that is a duty and not a restriction
_DUTY = re.compile(r"\b(?:display|attribut\w*|credit|notice)\b", re.I)
#: words saying that above the threshold the grant stops or needs another license
_RESTRICTS = re.compile(r"(?:request|obtain|requires?|need(?:ed|s)?)\s+(?:a\s+|an\s+)?"
                        r"(?:separate\s+|commercial\s+|enterprise\s+)?licen[cs]e|terminat|"
                        r"\bnot (?:for|permitted)\b|\bonly below\b|approval", re.I)
#: a clause binding commercial use only ("commercial products or services", "commercial use")
_COMMERCIAL = re.compile(r"\bcommercial(?:ly)?\s+(?:use|using|products?|services?|purposes?)",
                         re.I)
_SHOWN = re.compile(r"display\s+[\"“']([^\"”']{2,40})[\"”']", re.I)


def duty_only(clause: str) -> bool:
    """Whether what happens above the threshold is a duty (display a name), not a limit."""
    return bool(_DUTY.search(clause)) and not _RESTRICTS.search(clause)


def _scale_duty(ctx: CheckContext, out: Report, term: Term, found: list[tuple[str, int, str]],
                evidence: tuple[EvidenceRef, ...]) -> None:
    """A threshold that only triggers a duty: CLEAR, with the duty and its trigger listed."""
    clause = text(term)
    shown = _SHOWN.search(clause)
    duty = (f"Display '{shown.group(1)}' prominently on the user interface of the product or "
            "service" if shown else f"Fulfil the license's duty above its threshold: {term.value}")
    commercial_only = bool(_COMMERCIAL.search(clause))
    unknown, over, under = _compare_scale(ctx, found)
    if commercial_only and not ctx.profile.is_commercial:
        out.oblige(duty, False, f"only for commercial products or services above the threshold "
                   f"({term.value})", evidence)
        out.add(Status.CLEAR, "the threshold concerns commercial products or services and the "
                "profile is not commercial, so it cannot bind; above it the license asks for a "
                "display duty (listed), not permission", evidence)
        return
    applies = bool(over or unknown)
    trigger = (f"above the threshold: {'; '.join(over)}" if over else
               f"the profile does not state {', '.join(unknown)}; assumed to apply" if unknown
               else f"only above the threshold; the profile is below it "
               f"({'; '.join(dict.fromkeys(under))})")
    out.oblige(duty, applies, trigger, evidence)
    out.add(Status.CLEAR, "above its threshold the license asks for a duty, not permission: "
            f"listed as an obligation ({'applies' if applies else 'not triggered'}: {trigger})",
            evidence)


@check("MC502", "other-scale", order=70, needs_license=True)
def other_scale(ctx: CheckContext, out: Report) -> None:
    """Thresholds in other units (revenue, daily users, devices) against the profile.

    A threshold above which the license only asks for a duty (Kimi K2: display the
    name) is an obligation with its trigger, never a REVIEW; one that binds only
    commercial products cannot bind a non-commercial profile."""
    lic = ctx.license
    term = stated(lic, "other_scale_threshold")
    if term is None:
        return
    evidence = ev(term, lic)
    found = scale_thresholds(text(term))
    if found and duty_only(str(term.value or "") + " " + (term.detail or "")):
        _scale_duty(ctx, out, term, found, evidence)
        return
    if not found:
        out.add(Status.REVIEW, f"the license sets a scale condition the analysis cannot "
                f"compare: {term.value}", evidence)
        return
    if _COMMERCIAL.search(text(term)) and not ctx.profile.is_commercial:
        out.add(Status.CLEAR, f"the threshold binds commercial use only and the profile is not "
                f"commercial: {term.value}", evidence)
        return
    unknown, over, under = _compare_scale(ctx, found)
    under = list(dict.fromkeys(under))
    if over and _RESTRICTS.search(text(term)) and lic.id not in ctx.profile.rules.registered:
        out.add(Status.BLOCKED, f"above the license's threshold ({'; '.join(over)}), where the "
                f"grant ends or another license is needed: {term.value}", evidence)
    elif over:
        out.add(Status.REVIEW, f"above the license's threshold ({'; '.join(over)}); read what "
                f"the clause then requires (a separate license recorded in rules.registered "
                f"counts only if it covers this): {term.value}", evidence)
    elif unknown:
        out.add(Status.REVIEW, f"the license sets a threshold on {', '.join(unknown)}; the "
                "profile does not state it", evidence)
    else:
        out.add(Status.CLEAR, f"below the license's thresholds ({'; '.join(under)})", evidence)


@check("MC503", "registration", order=80, needs_license=True)
def registration(ctx: CheckContext, out: Report) -> None:
    """Registration or approval before use: cleared once the profile records it."""
    lic, profile = ctx.license, ctx.profile
    term = lic.terms.get("requires_registration_or_approval")
    v = value(term)
    evidence = ev(term, lic)
    if v in (None, "no"):
        out.add(Status.CLEAR, "the license asks for no registration or approval", evidence)
    elif v == "above_threshold":
        out.add(Status.CLEAR, "approval is needed only above the license's scale threshold "
                "(see monthly active users)", evidence)
    elif v == "for_commercial" and not profile.is_commercial:
        out.add(Status.CLEAR, "registration is needed for commercial use only; the profile is "
                "not commercial", evidence)
    elif v in ("for_commercial", "yes"):
        when = "before commercial use" if v == "for_commercial" else "before use"
        if lic.id in profile.rules.registered:
            out.add(Status.CLEAR, f"registration is required {when}; the profile records it "
                    f"for {lic.id}", evidence)
            out.oblige(f"Keep the registration with the publisher current for {lic.id}", True,
                       f"registration required {when}", evidence)
        else:
            out.add(Status.REVIEW, f"the license requires registration {when}; register and "
                    f"add {lic.id} to the profile's rules.registered", evidence)
    else:
        out.add(Status.REVIEW, f"registration or approval: {term.value if term else 'unknown'}",
                evidence)
