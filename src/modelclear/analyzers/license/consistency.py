"""MC2xx findings: where what a release says about its license and what it ships disagree.

These are the checks a reviewer does by hand and most often gets wrong: the card
says ``apache-2.0`` but the LICENSE is a custom agreement; a fine-tune of Llama
relabels itself MIT; the text is a silently edited copy of a known license.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import TypedDict

from ...errors import InputError
from ...findings import Finding, finding
from ...release import Release
from ..card import Card
from .catalog import Catalog, Entry
from .files import license_files
from .model import Declared, Evidence, LicenseMatch, LicenseReport
from .text import analyze_text

#: Opens a base model's release (``org/name``) when the caller has a local copy,
#: None when it has none. Opening sources is the caller's business, not an analyzer's.
OpenBase = Callable[[str], Release | None]


def _model_licenses(report: LicenseReport) -> list[LicenseMatch]:
    """License documents that could bind the weights (not code licenses, not policies)."""
    lic = [m for m in report.licenses if m.kind == "license" and m.match != "unknown"]
    not_code = [m for m in lic if "CODE" not in m.file.rsplit("/", 1)[-1].upper()]
    custom = [m for m in not_code if not m.osi_approved]
    return custom or not_code


def _base_license(base: str, cat: Catalog, open_base: OpenBase | None) -> tuple[Entry | None, str]:
    """The license of a base model: from its local copy when given one, else the catalog."""
    if open_base is not None:
        rel = open_base(base)
        if rel is not None:
            for f in license_files(rel):
                try:
                    rep = analyze_text(f.read_text(), f.path, cat)
                except InputError:
                    continue
                prim = rep.primary()
                if prim is not None and (e := cat.get(prim.id)) is not None:
                    return e, f"its {f.path} in the local Hugging Face cache"
    hits = cat.for_base_model(base)
    if hits:
        return hits[0], "the catalog's list of models released under it"
    # a re-upload (unsloth/…, a quantizer's copy) keeps the upstream repo name
    name = base.rsplit("/", 1)[-1].lower()
    for e in cat.entries:
        names = [p.rsplit("/", 1)[-1].lower() for p in e.base_models]
        if any(n != "*" and fnmatch.fnmatch(name, n) for n in names):
            return e, "the catalog (matched on the base model's name)"
    return None, ""


class _Where(TypedDict):
    file: str
    line: int
    quote: str | None


def _located(m: LicenseMatch, ev: Evidence | None) -> _Where:
    """Where a finding about ``m`` points: the clause quoted, else the document's start."""
    if ev is None:
        return {"file": m.file, "line": m.line_start, "quote": None}
    return {"file": ev.file, "line": ev.line_start, "quote": ev.quote}


def _term_differences(m: LicenseMatch) -> list[Finding]:
    """MC213: a term whose facts in the file differ from the known version's."""
    out: list[Finding] = []
    for d in m.term_differences:
        ev = d.evidence
        out.append(
            finding(
                "MC213",
                f"{m.file}: {d.term} reads {d.file!r} in the file, the known {m.title} says "
                f"{d.catalog!r} ({d.why}); the file's value is reported",
                **_located(m, ev),
                license_id=m.id,
                term=d.term,
                catalog_value=d.catalog,
                file_value=d.file,
            )
        )
    return out


def _language_differences(m: LicenseMatch) -> list[Finding]:
    """MC214: the English and Chinese versions of a bilingual text read differently."""
    out: list[Finding] = []
    for d in m.language_differences:
        ev = d.chinese_evidence or d.english_evidence
        out.append(
            finding(
                "MC214",
                f"{m.file}: {d.term} reads {d.english!r} in the English version and "
                f"{d.chinese!r} in the Chinese version; {d.reported!r} is reported",
                **_located(m, ev),
                license_id=m.id,
                term=d.term,
                english_value=d.english,
                chinese_value=d.chinese,
                english_line=d.english_evidence.line_start if d.english_evidence else None,
                chinese_line=d.chinese_evidence.line_start if d.chinese_evidence else None,
            )
        )
    return out


def _reference_findings(m: LicenseMatch) -> list[Finding]:
    """MC216: a document names a license whose text is not there to read."""
    if not m.reference or m.resolved_to is not None:
        return []
    ev = next((t.evidence for t in m.terms.values() if t.evidence is not None), None)
    return [
        finding(
            "MC216",
            f"{m.file} only names {m.title} ({m.id}); its text is absent, so its terms are "
            "the catalog's summary, not read from a text",
            file=m.file,
            line=m.line_start,
            quote=ev.quote if ev is not None else None,
            license_id=m.id,
        )
    ]


def document_findings(m: LicenseMatch) -> list[Finding]:
    """Findings about one license document on its own: edited, partial or unknown text."""
    return (
        _document_kind_findings(m) + _term_differences(m) + _language_differences(m)
        + _reference_findings(m)
    )


def _document_kind_findings(m: LicenseMatch) -> list[Finding]:
    """MC206/207/208: the document is an edited, partial or unrecognised text."""
    if m.match == "modified":
        changed = ", ".join(m.changed_terms) or "no term we track"
        return [
            finding(
                "MC206",
                f"{m.file} lines {m.line_start}-{m.line_end} is a modified {m.title} "
                f"({len(m.diff)} new sentence(s), {m.missing_sentences} missing; "
                f"changed: {changed})",
                file=m.file,
                line=m.line_start,
                quote=m.diff[0] if m.diff else None,
                license_id=m.id,
                changed_terms=list(m.changed_terms),
            )
        ]
    if m.match == "partial" and not m.reference:  # a reference holds no text: MC216 says so
        return [
            finding(
                "MC208",
                f"{m.file} lines {m.line_start}-{m.line_end} holds only part of {m.title}",
                file=m.file,
                line=m.line_start,
                license_id=m.id,
            )
        ]
    if m.match == "unknown":
        return [
            finding(
                "MC207",
                f"{m.file} lines {m.line_start}-{m.line_end}: license text not recognised",
                file=m.file,
                line=m.line_start,
            )
        ]
    return []


def _release_name(release: Release) -> str:
    if release.source.model_id:
        return release.source.model_id.rsplit("/", 1)[-1]
    return release.root.name


def _shown(declared: Declared) -> str | None:
    """The declared license as the card spells it (its name when it says ``other``)."""
    if (declared.license or "").lower() != "other":
        return declared.license
    return declared.license_name


def _card_findings(
    report: LicenseReport,
    card: Card | None,
    license_paths: list[str] | None,
    unreadable: list[tuple[str, str]] | None,
) -> list[Finding]:
    """MC200/201/210/212: license files or declarations missing or unreadable."""
    out: list[Finding] = []
    declared = report.declared
    for path, problem in unreadable or []:
        out.append(finding("MC212", f"{path}: {problem}", file=path))
    if not license_paths and not any(m.match != "unknown" for m in report.licenses):
        out.append(finding("MC200", "no license file found in the release"))
    card_file = card.file if card is not None else None
    if card is not None and not declared.license:
        out.append(
            finding("MC210", "the model card front matter has no `license` key", file=card_file)
        )
    if (
        declared.license
        and declared.license.lower() == "other"
        and not (declared.license_name or declared.license_link)
    ):
        out.append(
            finding(
                "MC201",
                "`license: other` with neither `license_name` nor `license_link`",
                file=card_file,
                line=card.line_of("license") if card is not None else None,
                quote="license: other",
            )
        )
    return out


def _declared_vs_text(report: LicenseReport, cat: Catalog, card: Card | None) -> list[Finding]:
    """MC202/203: the card names one license and the files hold another, or several."""
    out: list[Finding] = []
    declared = report.declared
    card_file = card.file if card is not None else None
    lic_line = card.line_of("license") if card is not None else None
    text_ids = {m.id for m in report.licenses if m.match in ("exact", "modified", "partial")}
    primary = report.primary()
    resolved = set(declared.resolved_ids)
    if resolved and primary is not None and primary.match in ("exact", "modified"):
        if not resolved & text_ids:
            out.append(
                finding(
                    "MC202",
                    f"card declares {_shown(declared)!r} but {primary.file} is "
                    f"{primary.title} ({primary.id})",
                    file=card_file,
                    line=lic_line,
                    quote=f"license: {declared.license}",
                    declared=sorted(resolved),
                    found=primary.id,
                )
            )

    unknown = [m for m in report.licenses if m.match == "unknown"]
    fingerprinted = {fp.license_id for fp in cat.fingerprints}
    if resolved and primary is None and unknown and resolved <= fingerprinted:
        # the declared license is one we would recognise, and the file is not it
        out.append(
            finding(
                "MC202",
                f"card declares {_shown(declared)!r} but {unknown[0].file} is not that license "
                "(unrecognised text)",
                file=card_file,
                line=lic_line,
                quote=f"license: {declared.license}",
                declared=sorted(resolved),
                found=None,
            )
        )

    models = _model_licenses(report)
    distinct = {m.id for m in models if m.match in ("exact", "modified")}
    if len(distinct) > 1:
        files = sorted({m.file for m in models})
        out.append(
            finding(
                "MC203",
                f"several model licenses: {', '.join(sorted(distinct))} (in {', '.join(files)})",
                file=files[0],
                ids=sorted(distinct),
            )
        )
    return out


def _incorporated(report: LicenseReport) -> list[Finding]:
    """MC209: a license pulls in a document its publisher can change (an AUP by URL)."""
    out: list[Finding] = []
    seen_inc: set[str] = set()
    for m in report.licenses:
        for inc in m.incorporates:
            key = inc.url or inc.title
            if inc.can_change_without_notice and key not in seen_inc:
                seen_inc.add(key)
                out.append(
                    finding(
                        "MC209",
                        f"{m.title} incorporates {inc.title}"
                        + (f" ({inc.url})" if inc.url else "")
                        + ", which its publisher can change",
                        file=m.file,
                        line=m.line_start,
                        url=inc.url,
                    )
                )
    return out


def _ours(report: LicenseReport) -> set[str]:
    """Ids of the licenses the release carries: in its files or declared by its card."""
    text_ids = {m.id for m in report.licenses if m.match in ("exact", "modified", "partial")}
    return text_ids | set(report.declared.resolved_ids)


def _gguf_disagrees(report: LicenseReport, cat: Catalog) -> list[Finding]:
    """MC211: the GGUF metadata names another license than the release's."""
    declared = report.declared
    if not declared.gguf_license:
        return []
    g = {e.id for e in cat.resolve_declared(declared.gguf_license, declared.gguf_license)}
    ours = _ours(report)
    if g and ours and not g & ours:
        return [
            finding(
                "MC211",
                f"GGUF general.license is {declared.gguf_license!r}; the release is "
                f"{', '.join(sorted(ours))}",
                gguf_license=declared.gguf_license,
            )
        ]
    return []


def _base_model_findings(
    release: Release,
    report: LicenseReport,
    cat: Catalog,
    card: Card | None,
    open_base: OpenBase | None,
) -> list[Finding]:
    """MC204/205: a base model whose license binds derivatives (terms, naming)."""
    out: list[Finding] = []
    card_file = card.file if card is not None else None
    ours_ids = _ours(report)
    ours_entries = [e for i in ours_ids if (e := cat.get(i)) is not None]
    for base in report.declared.base_model:
        entry, how = _base_license(base, cat, open_base)
        if entry is None:
            continue
        base_line = card.line_of("base_model") if card is not None else None
        if entry.derivatives_inherit_terms:
            same = entry.id in ours_ids or any(
                e.family is not None and e.family == entry.family and e.kind == "license"
                for e in ours_entries
            )
            if not same:
                carried = ", ".join(sorted(ours_ids)) or "no license"
                out.append(
                    finding(
                        "MC204",
                        f"base model {base} is under {entry.title} (found via {how}), "
                        "whose terms bind "
                        f"derivatives; this release carries {carried}",
                        file=card_file,
                        line=base_line,
                        quote=f"base_model: {base}",
                        base_model=base,
                        base_license=entry.id,
                    )
                )
        prefix = entry.derivative_name_prefix
        name = _release_name(release)
        if prefix and not name.lower().replace("-", " ").startswith(
            prefix.lower().replace("-", " ")
        ):
            out.append(
                finding(
                    "MC205",
                    f"{entry.title} requires derived models to be named starting with {prefix!r}; "
                    f"this release is {name!r}",
                    file=card_file,
                    line=base_line,
                    quote=f"base_model: {base}",
                    base_model=base,
                    required_prefix=prefix,
                    name=name,
                )
            )
    return out


def check(
    release: Release,
    report: LicenseReport,
    cat: Catalog,
    card: Card | None = None,
    license_paths: list[str] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
    open_base: OpenBase | None = None,
) -> list[Finding]:
    """Every consistency finding, in the order a reviewer reads them."""
    out = _card_findings(report, card, license_paths, unreadable)
    out.extend(_declared_vs_text(report, cat, card))
    for m in report.licenses:
        out.extend(document_findings(m))
    out.extend(_incorporated(report))
    out.extend(_gguf_disagrees(report, cat))
    out.extend(_base_model_findings(release, report, cat, card, open_base))
    return out
