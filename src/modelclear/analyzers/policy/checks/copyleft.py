"""Copyleft and flow-down: judged against what the profile does, with the clause quoted.

GPL, LGPL, AGPL (network use included), CC BY-SA and RAIL-style use restrictions
attach conditions to distributing, serving, and deriving or distilling a model.
Which condition binds which action is data (``data/copyleft.toml``); where the
effect on a derived or distilled model is legally open the answer is REVIEW.
"""

from __future__ import annotations

from ...license.catalog import load_catalog
from ..copyleft import holds, kind_of
from ..model import EvidenceRef, Status
from .clauses import ev, find_clause
from .registry import CheckContext, Report, check


@check("MC527", "copyleft", order=135, needs_license=True)
def copyleft(ctx: CheckContext, out: Report) -> None:
    """Copyleft or flow-down terms against the profile's distribution, serving and derivation."""
    lic, profile = ctx.license, ctx.profile
    entry = load_catalog().get(lic.id)
    kind = kind_of(lic.id, entry.family if entry is not None else None)
    if kind is None:
        return
    fallback = ev(lic.terms.get("redistribution_conditions"), lic)
    general = tuple(find_clause(ctx.inputs.license_texts, kind.clause, limit=2)) or fallback
    for duty in kind.duties:
        out.oblige(duty.text, holds(duty.when, profile), duty.condition, general)
    rule = kind.answer(profile)
    evidence: tuple[EvidenceRef, ...] = general
    if rule.clause is not None:
        evidence = tuple(find_clause(ctx.inputs.license_texts, rule.clause, limit=2)) or general
    out.add(Status(rule.status), f"{lic.id} is {kind.name}: {rule.reason}", evidence)
