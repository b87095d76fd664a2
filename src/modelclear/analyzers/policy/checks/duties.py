"""Duties the license attaches to use: attribution, derivative names, redistribution terms,
and the governing law it names.

Duties never block: they become obligations, marked as applying or not for the
profile (a naming duty binds only once you distribute a derivative), and the
check itself is CLEAR so the verdict is about permission, not paperwork.
"""

from __future__ import annotations

import re

from ..model import Status
from .clauses import display_phrases, ev, quoted_clause, scale_thresholds, stated, text, value
from .registry import CheckContext, Report, check
from .scale import duty_only

_NAME_PREFIX = re.compile(r"[\"“']([A-Za-z][\w.\- ]{1,30})[\"”']\s*(?:at|to) the beginning")
_ATTRIBUTION_WHEN = ("when you distribute the model or derivatives, or offer a product or "
                     "service built with them")


@check("MC506", "attribution", order=110, needs_license=True)
def attribution(ctx: CheckContext, out: Report) -> None:
    """Notices to keep or display, each listed as an obligation."""
    lic, profile = ctx.license, ctx.profile
    term = lic.terms.get("attribution_required")
    v = value(term)
    evidence = ev(term, lic)
    if term is None or v != "yes":
        out.add(Status.CLEAR if v in ("no", None) else Status.REVIEW,
                f"attribution required: {v or 'not stated'}", evidence)
        return
    applies = profile.third_party or profile.distributes
    clause = term.evidence.quote if term.evidence is not None else ""
    if scale_thresholds(clause) and duty_only(clause):
        out.add(Status.CLEAR, "the attribution duty applies only above a scale threshold; it "
                "is listed, with its trigger, under the other-scale check (MC502)", evidence)
        return
    displays = display_phrases(term)
    for d in displays:
        out.oblige(f"Display '{d}' on a related website, user interface or product "
                   "documentation", applies, _ATTRIBUTION_WHEN, evidence)
    if term.detail:
        for part in re.split(r";\s*", term.detail):
            if not part or any(d in part for d in displays):
                continue
            if len(part.split()) <= 3:  # a bare name or notice ("Kimi K2"): say what to do
                part = f"show '{part}' where the license requires it (see the clause)"
            out.oblige(part[0].upper() + part[1:], applies, _ATTRIBUTION_WHEN,
                       quoted_clause(ctx.inputs, part) or evidence)
    if not displays and not term.detail:
        out.oblige("Keep the license's copyright and attribution notices with every copy",
                   applies, _ATTRIBUTION_WHEN, evidence)
    n = out.obligation_count()
    out.add(Status.CLEAR,
            (f"{n} attribution duties, listed as obligations" if n > 1 else
             "one attribution duty, listed as an obligation")
            + ("" if applies else f" ({'they apply' if n > 1 else 'it applies'} once you "
                                  "distribute or offer the model)"), evidence)


@check("MC507", "derivative-naming", order=120, needs_license=True)
def naming(ctx: CheckContext, out: Report) -> None:
    """A name derived models must carry (e.g. start with 'Llama'), as an obligation."""
    lic, profile = ctx.license, ctx.profile
    term = stated(lic, "derivative_naming_requirement")
    if term is None:
        return
    evidence = ev(term, lic)
    name = term.detail if term.detail and len(term.detail.split()) <= 3 else None
    if name is None:
        m = _NAME_PREFIX.search(text(term)) or re.search(
            r"(?:begin|start)s? with [\"“']([\w.\- ]{1,30})[\"”']", text(term))
        name = m.group(1) if m else None
    duty = (f"Name distributed derivative models '{name}-…' (the name must begin with "
            f"'{name}')" if name else f"Name derivative models as the license requires: "
            f"{term.value}")
    applies = profile.makes_derivatives and profile.distributes
    out.oblige(duty, applies, "when you distribute a model created, trained or fine-tuned with "
               "the model (or its outputs, where the license says so)", evidence)
    out.add(Status.CLEAR, "a naming duty for derived models, listed as an obligation"
            + ("" if applies else " (applies if you distribute derived models)"), evidence)


@check("MC522", "redistribution", order=160, needs_license=True)
def redistribution(ctx: CheckContext, out: Report) -> None:
    """Conditions on passing the weights on: obligations only, never a checklist line."""
    lic = ctx.license
    term = stated(lic, "redistribution_conditions")
    if term is None:
        return
    out.oblige(f"When redistributing: {term.value}", ctx.profile.distributes,
               "when you pass the weights or a derivative to others", ev(term, lic))


@check("MC526", "governing-law", order=170, needs_license=True)
def governing_law(ctx: CheckContext, out: Report) -> None:
    """The law and courts the license names: a fact for the reviewer."""
    lic = ctx.license
    term = stated(lic, "governing_law")
    if term is None:
        return
    out.add(Status.CLEAR, f"the license names: {term.value}", ev(term, lic))
