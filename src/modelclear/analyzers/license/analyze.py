"""The license analyzer: every license document of a release, its terms, and the findings.

The pieces live in their own modules (``files``: which files; ``text``: reading one
text; ``declared``: what the card and GGUF metadata claim; ``consistency``: where
those disagree). This module strings them together for one release. It never opens
another source: a base model's release, when the caller can find one locally, comes
in through ``open_base``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from ...errors import InputError
from ...release import Release
from ..card import Card
from ..card import analyze as analyze_card
from .catalog import Catalog, Entry, load_catalog
from .consistency import OpenBase, check
from .declared import declared_by, from_declaration, gguf_file, gguf_license, readme_section
from .files import MAX_LICENSE_BYTES, is_license_file, license_files
from .model import LicenseMatch, LicenseReport
from .resolve import resolve_references
from .text import analyze_text


def analyze(
    release: Release, catalog: Catalog | None = None, *, open_base: OpenBase | None = None,
    card: Card | None | Literal["read"] = "read",
) -> LicenseReport:
    """Licenses of a release: its license files, card declaration, README section, GGUF metadata.

    ``open_base`` lets the caller offer a base model's release (from a local cache)
    so a fine-tune can be checked against the license its base really ships; without
    it the base model's license comes from the catalog alone. ``card`` is the
    release's analysed model card when the caller has it (the engine does), so the
    card is read once per run; by default it is read here.
    """
    cat = catalog if catalog is not None else load_catalog()
    if isinstance(card, str):
        card = analyze_card(release)
    declared = declared_by(card, gguf_license(release), cat)
    matches: list[LicenseMatch] = []
    unreadable: list[tuple[str, str]] = []
    files = license_files(release)
    for f in files:
        try:
            text = f.read_text(limit=MAX_LICENSE_BYTES)
        except InputError as exc:
            unreadable.append((f.path, exc.problem))
            continue
        matches.extend(analyze_text(text, f.path, cat).licenses)
    if card is not None:
        matches.extend(readme_section(card, cat))
    matches, pointed = resolve_references(matches)
    report = LicenseReport(licenses=tuple(matches), declared=declared)
    findings = check(
        release,
        report,
        cat,
        card=card,
        license_paths=[f.path for f in files],
        unreadable=unreadable,
        open_base=open_base,
    )
    extra = from_declaration(report, declared, card, cat, gguf_file(release))
    return replace(report, findings=tuple(findings + pointed), licenses=report.licenses + extra)


def entries_for(ids: Iterable[str], cat: Catalog) -> list[Entry]:
    return [e for i in ids if (e := cat.get(i)) is not None]


__all__ = [
    "MAX_LICENSE_BYTES",
    "OpenBase",
    "analyze",
    "analyze_text",
    "entries_for",
    "gguf_license",
    "is_license_file",
    "license_files",
]
