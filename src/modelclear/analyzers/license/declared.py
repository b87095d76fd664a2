"""What a release *says* its license is: card front matter, README section, GGUF metadata."""

from __future__ import annotations

from dataclasses import replace

from ...errors import InputError
from ...parsers.gguf import read_gguf
from ...release import Release
from ..card import Card
from .catalog import Catalog, Entry
from .model import Declared, LicenseMatch, LicenseReport, Term
from .text import analyze_text


def declared_by(card: Card | None, gguf_license: str | None, cat: Catalog) -> Declared:
    """The declaration, with the catalog entries it resolves to."""
    if card is None:
        resolved = (
            [e.id for e in cat.resolve_declared(gguf_license, gguf_license)] if gguf_license else []
        )
        return Declared(gguf_license=gguf_license, resolved_ids=tuple(resolved))
    resolved = [
        e.id for e in cat.resolve_declared(card.license, card.license_name, card.license_link)
    ]
    return Declared(
        license=card.license,
        license_name=card.license_name,
        license_link=card.license_link,
        base_model=tuple(card.base_model),
        gguf_license=gguf_license,
        resolved_ids=tuple(dict.fromkeys(resolved)),
    )


def gguf_file(release: Release) -> str | None:
    """The GGUF file whose metadata is read for a declaration (the first one)."""
    ggufs = [f for f in release.files if f.suffix == ".gguf"]
    return ggufs[0].path if ggufs else None


def gguf_license(release: Release) -> str | None:
    """``general.license`` of the first GGUF file."""
    ggufs = [f for f in release.files if f.suffix == ".gguf"]
    if not ggufs:
        return None
    try:
        g = read_gguf(ggufs[0])
    except InputError:
        return None
    value = g.get("general.license")
    name = g.get("general.license.name")
    if isinstance(name, str) and (not isinstance(value, str) or value.lower() == "other"):
        return name  # "other" says nothing; the name is what a catalog lookup can use
    return value if isinstance(value, str) else None


def readme_section(card: Card, cat: Catalog) -> list[LicenseMatch]:
    """A license text pasted into the card's "License" section, when it is a known one."""
    hit = card.section(r"licen[cs]e")
    if hit is None:
        return []
    first_line, body = hit
    report = analyze_text(body, card.file, cat)
    out: list[LicenseMatch] = []
    for m in report.licenses:
        if m.match == "unknown":
            continue
        shift = first_line - 1
        terms = {
            n: replace(t, evidence=replace(
                t.evidence,
                line_start=t.evidence.line_start + shift,
                line_end=t.evidence.line_end + shift,
            ))
            if t.evidence is not None
            else t
            for n, t in m.terms.items()
        }
        out.append(
            replace(m, line_start=m.line_start + shift, line_end=m.line_end + shift, terms=terms)
        )
    return out


def from_declaration(
    report: LicenseReport, declared: Declared, card: Card | None, cat: Catalog,
    gguf: str | None = None,
) -> tuple[LicenseMatch, ...]:
    """When no license text is shipped, the license the card names (low confidence).

    Policy still needs *some* terms to judge a release that only declares
    ``license: llama3.1``; they come from the catalog, flagged ``from_declaration``
    and ``source: referenced`` (never as if read from a text), with no evidence (the
    text is not there to quote) and a confidence that says so. The declaration is
    cited where it was read: the card's ``license:`` line, or the GGUF file's
    ``general.license`` key (``declared_key``) — never a file the release lacks.
    """
    if any(m.kind == "license" and m.match != "unknown" for m in report.licenses):
        return ()
    entries = [e for e in (cat.get(i) for i in declared.resolved_ids) if e is not None]
    entries = [e for e in entries if e.kind == "license"]
    if not entries or len({e.family or e.id for e in entries}) != 1:
        return ()
    entry = max(entries, key=lambda e: e.date or "")  # several versions: the latest
    by_card = card is not None and bool(card.license or card.license_name or card.license_link)
    if by_card and card is not None:
        file, key, line = card.file, "license", card.line_of("license")
    elif gguf is not None and declared.gguf_license:
        file, key, line = gguf, "general.license", None
    else:
        return ()
    return (
        LicenseMatch(
            id=entry.id,
            title=entry.title,
            kind=entry.kind,
            match="partial",
            confidence=0.3 if len(entries) == 1 else 0.2,
            file=file,
            line_start=line or 1,
            line_end=line or 1,
            publisher=entry.publisher,
            publisher_country=entry.publisher_country,
            osi_approved=entry.osi_approved,
            incorporates=tuple(i.as_model() for i in entry.incorporates),
            terms=_declared_terms(entry, key),
            from_declaration=True,
            declared_key=key,
        ),
    )


def _declared_terms(entry: Entry, key: str) -> dict[str, Term]:
    """The named license's catalogued terms, marked as referenced: no text was read."""
    note = f"from the catalog entry of the license named by `{key}`; no license text was read"
    return {
        name: replace(t, source="referenced", detail=f"{t.detail}; {note}" if t.detail else note)
        if t.value is not None
        else Term()
        for name, t in entry.catalog_terms().items()
    }
