"""Who published the model and what the profile's sector must know about it.

Publisher countries come from a data table (``data/publishers.toml``), sector facts
from ``data/sector_notes.toml``; both are phrased as facts for a reviewer, never
as advice, and a blocked publisher country is the profile's rule, not ours.
"""

from __future__ import annotations

from .. import origin, regions
from ..model import EvidenceRef, Status
from .clauses import find_clause
from .registry import CheckContext, Report, check

#: (who, country or None, why it counts) for each publisher found
Found = list[tuple[str, str | None, str]]


def _has_sector_and_texts(ctx: CheckContext) -> bool:
    return bool(ctx.profile.sector) and bool(ctx.inputs.license_texts)


@check("MC518", "sector-use", order=180, when=_has_sector_and_texts)
def sector_clauses(ctx: CheckContext, out: Report) -> None:
    """Clauses mentioning uses tied to the profile's sector, one answer per sector."""
    patterns = origin.sector_clauses()
    for sector in ctx.profile.sector:
        rx = patterns.get(sector)
        if not rx:
            continue
        hits = find_clause(ctx.inputs.license_texts, "|".join(rx))
        if hits:
            out.add(Status.REVIEW, f"the license or its use policy mentions uses relevant to the "
                    f"profile's sector ({sector}); read the quoted clauses", hits, item=sector)


def release_orgs(ctx: CheckContext) -> list[tuple[str, str]]:
    """(org, why) for the release and its declared base models."""
    inputs = ctx.inputs
    orgs: list[tuple[str, str]] = []
    if inputs.model_id and "/" in inputs.model_id:
        orgs.append((inputs.model_id.split("/")[0], f"release {inputs.model_id}"))
    base = inputs.card.base_model if inputs.card is not None else ()
    for b in base:
        if "/" in b:
            orgs.append((b.split("/")[0], f"base model {b}"))
    return orgs


def publishers(ctx: CheckContext) -> Found:
    """The release's publishers (or the license's, for a bare license text) with countries."""
    found: Found = []
    for org, why in release_orgs(ctx):
        pub = origin.by_org(org)
        found.append((pub.name if pub else org, pub.country if pub else None, why))
    lic = ctx.lic
    if not found and lic is not None and (lic.publisher or lic.publisher_country):
        pub = origin.by_name(lic.publisher)
        country = lic.publisher_country or (pub.country if pub else None)
        found.append((lic.publisher or (pub.name if pub else "?"), country,
                      f"publisher of {lic.id}"))
    return found


@check("MC516", "publisher-origin", order=190)
def publisher_origin(ctx: CheckContext, out: Report) -> None:
    """Publisher countries; a blocked one is BLOCKED, an unknown one REVIEW if rules exist."""
    found = publishers(ctx)
    countries = {c for _, c, _ in found if c}
    blocked = set(ctx.profile.rules.blocked_publisher_countries)
    evidence = tuple(EvidenceRef(source="publishers", note=f"{why}: {who} → {c or 'unknown'}")
                     for who, c, why in found)
    if not found:
        if blocked and ctx.inputs.scope == "release":
            out.add(Status.REVIEW, "the release names no publisher (no hub id, no base model) "
                    "and the profile blocks publisher countries", evidence)
        return
    bad = sorted(countries & set().union(*(regions.expand(b) for b in blocked))) if blocked else []
    unknown = [who for who, c, _ in found if c is None]
    if bad:
        out.add(Status.BLOCKED, f"publisher country "
                f"{', '.join(regions.display(c) for c in bad)} is blocked by the profile "
                "(rules.blocked_publisher_countries)", evidence)
    elif blocked and unknown:
        out.add(Status.REVIEW, f"publisher country unknown for {', '.join(unknown)}; the "
                f"profile blocks {', '.join(blocked)}", evidence)
    else:
        desc = ", ".join(f"{who} ({regions.display(c) if c else 'country unknown'})"
                         for who, c, _ in found)
        out.add(Status.CLEAR, f"publisher: {desc}", evidence)


@check("MC517", "note", order=200, when=lambda ctx: bool(ctx.profile.sector))
def sector_notes(ctx: CheckContext, out: Report) -> None:
    """Export-control and sector facts for the profile's sector and the publishers' origin."""
    countries = {c for _, c, _ in publishers(ctx) if c}
    for note in origin.sector_notes():
        sectors = set(note.sectors) & set(ctx.profile.sector)
        if not sectors:
            continue
        if "*" not in note.origin and not (countries & set(note.origin)):
            continue
        basis = f"sector: {', '.join(sorted(sectors))}" + (
            f"; publisher country: {', '.join(sorted(countries))}" if countries else "")
        out.add(Status.REVIEW, note.text, (EvidenceRef(source="profile", note=basis),),
                item=note.id)
