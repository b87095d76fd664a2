"""References resolved against the license texts a release ships (MC215).

A notice that names a license points at a text: when the release ships that text,
the notice is resolved to it (``resolved_to``) and carries no terms of its own — the
text's terms govern; when the release ships another license instead, the two
disagree and MC215 says so. A reference left unresolved keeps the named license's
catalogued terms, marked ``referenced`` (MC216 is raised per document).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...findings import Finding, finding
from .model import LicenseMatch


def resolve_references(
    matches: list[LicenseMatch],
) -> tuple[list[LicenseMatch], list[Finding]]:
    """Each reference checked against the release's license texts; MC215 on disagreement."""
    texts = [
        m for m in matches
        if not m.reference and m.kind == "license" and m.match != "unknown"
        and not m.from_declaration
    ]
    out: list[LicenseMatch] = []
    found: list[Finding] = []
    for m in matches:
        if not m.references:
            out.append(m)
            continue
        same = [t for t in texts if t.id in m.references]
        if same:
            update: dict[str, Any] = {"resolved_to": same[0].file}
            if m.reference:  # the text governs; the pointer adds nothing of its own
                update.update(kind="notice", terms={})
            out.append(replace(m, **update))
            continue
        if m.reference and texts:
            other = texts[0]
            found.append(
                finding(
                    "MC215",
                    f"{m.file} names {', '.join(m.references)}, but the release's license "
                    f"text {other.file} is {other.title} ({other.id})",
                    file=m.file,
                    line=m.line_start,
                    quote=next(
                        (t.evidence.quote for t in m.terms.values() if t.evidence), None
                    ),
                    license_id=other.id,
                    referenced=list(m.references),
                )
            )
        out.append(m)
    return out, found
