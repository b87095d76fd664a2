"""Where the license grant holds: territory exclusions against the profile's regions.

A use policy can carry territory rules too, and those are worth showing even when
no license was identified; but only the governing license's exclusion blocks —
a use policy's rule may be conditional, so it is REVIEW.
"""

from __future__ import annotations

from ...license.model import LicenseMatch, Term
from .. import regions
from ..model import Status
from .clauses import ev, stated
from .registry import CheckContext, Report, check


def _has_documents(ctx: CheckContext) -> bool:
    """A governing license, or at least one license-like document (a use policy)."""
    report = ctx.inputs.license
    return ctx.lic is not None or (report is not None and bool(report.licenses))


@check("MC508", "territory", order=130, when=_has_documents)
def territory(ctx: CheckContext, out: Report) -> None:
    """Every document's territory restriction against the profile's regions."""
    docs = ctx.inputs.license.licenses if ctx.inputs.license is not None else ()
    hits: list[tuple[LicenseMatch, Term]] = []
    for m in docs:
        t = stated(m, "territory_restriction")
        if t is not None:
            hits.append((m, t))
    if not hits:
        out.add(Status.CLEAR, "the license names no territory restriction", ())
        return
    for m, t in hits:
        _one_restriction(ctx, m, t, out)


#: destinations under comprehensive U.S./EU/UN sanctions programmes (ISO codes); a license's
#: export-control clause bites there, elsewhere it is a duty to screen users and uses
_SANCTIONED = frozenset({"CU", "IR", "KP", "SY", "RU", "BY"})


def _sanctions(ctx: CheckContext, m: LicenseMatch, t: Term, out: Report) -> bool:
    """An export-control / sanctions clause: REVIEW where it may bite, else an obligation."""
    if t.detail != "sanctions":
        return False
    mine = ctx.profile.all_regions()
    evidence = ev(t, m)
    hit = [r for r in mine if regions.expand(r) & _SANCTIONED or "*" in regions.expand(r)]
    if not mine or hit:
        where = ", ".join(regions.display(r) for r in hit) or "regions the profile does not name"
        out.add(Status.REVIEW, f"{m.title} binds you to export-control and sanctions laws; the "
                f"profile serves {where}: check destinations and end users", evidence)
    else:
        out.add(Status.CLEAR, f"{m.title} binds you to export-control and sanctions laws; the "
                f"profile's regions ({', '.join(mine)}) include no comprehensively sanctioned "
                "country", evidence)
    out.oblige("Comply with export-control and sanctions laws (screen destinations and end "
               "users)", True, "the license's trade-compliance clause", evidence)
    return True


def _one_restriction(ctx: CheckContext, m: LicenseMatch, t: Term, out: Report) -> None:
    if _sanctions(ctx, m, t, out):
        return
    mine = ctx.profile.all_regions()
    evidence = ev(t, m)
    ter = regions.read_territory(str(t.value or ""), t.detail or "",
                                 t.evidence.quote if t.evidence else "")
    binding = m is ctx.lic  # the governing license; a use-policy rule may be conditional
    what = "the license" if binding else f"{m.title}"
    if not mine:
        out.add(Status.REVIEW, f"{what} restricts territory ({t.value}); the profile names no "
                "regions", evidence)
        return
    if not ter.understood:
        out.add(Status.REVIEW, f"{what} restricts territory in terms the analysis cannot map to "
                f"regions: {t.value}", evidence)
        return
    bad = list(regions.overlap(mine, ter.excluded))
    if ter.only:
        bad += [r for r in mine if r not in regions.overlap((r,), ter.only) or
                "*" in regions.expand(r)]
    bad = list(dict.fromkeys(bad))
    if bad:
        names = ", ".join(regions.display(r) for r in bad)
        out.add(Status.BLOCKED if binding else Status.REVIEW,
                f"{what} excludes territory that the profile deploys to or serves: {names}"
                + ("" if binding else " (a use-policy condition; read whether it covers "
                   "this model)"), evidence)
    else:
        out.add(Status.CLEAR, f"the profile's regions ({', '.join(mine)}) are outside the "
                f"excluded territory ({', '.join(sorted(ter.excluded | ter.only))})", evidence)
