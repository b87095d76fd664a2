"""MC2xx findings: where what a release says about its license and what it ships disagree.

These are the checks a reviewer does by hand and most often gets wrong: the card
says ``apache-2.0`` but the LICENSE is a custom agreement; a fine-tune of Llama
relabels itself MIT; the text is a silently edited copy of a known license.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from ...errors import InputError
from ...findings import Finding, finding
from ...release import Release
from .catalog import Catalog, Entry
from .model import LicenseMatch, LicenseReport


def _model_licenses(report: LicenseReport) -> list[LicenseMatch]:
    """License documents that could bind the weights (not code licenses, not policies)."""
    lic = [m for m in report.licenses if m.kind == "license" and m.match != "unknown"]
    not_code = [m for m in lic if "CODE" not in m.file.rsplit("/", 1)[-1].upper()]
    custom = [m for m in not_code if not m.osi_approved]
    return custom or not_code


def _base_license(base: str, cat: Catalog) -> tuple[Entry | None, str]:
    """The license of a base model: from its copy in the local HF cache, else the catalog."""
    from ...sources import hfcache

    try:
        if hfcache.SOURCE.matches(base):
            rel = hfcache.SOURCE.open(base)
            from .analyze import analyze_text, license_files

            for f in license_files(rel):
                try:
                    rep = analyze_text(f.read_text(), f.path, cat)
                except InputError:
                    continue
                prim = rep.primary()
                if prim is not None and (e := cat.get(prim.id)) is not None:
                    return e, f"its {f.path} in the local Hugging Face cache"
    except InputError:
        pass
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


def document_findings(m: LicenseMatch) -> list[Finding]:
    """Findings about one license document on its own: edited, partial or unknown text."""
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
    if m.match == "partial":
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


def check(
    release: Release,
    report: LicenseReport,
    cat: Catalog,
    card: Any = None,
    license_paths: list[str] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
) -> list[Finding]:
    out: list[Finding] = []
    declared = report.declared
    for path, problem in unreadable or []:
        out.append(finding("MC212", f"{path}: {problem}", file=path))
    if not license_paths and not any(m.match != "unknown" for m in report.licenses):
        out.append(finding("MC200", "no license file found in the release"))

    card_file = getattr(card, "file", None)
    lic_line = card.line_of("license") if card is not None else None
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
                line=lic_line,
                quote="license: other",
            )
        )

    text_ids = {m.id for m in report.licenses if m.match in ("exact", "modified", "partial")}
    models = _model_licenses(report)
    primary = report.primary()
    resolved = set(declared.resolved_ids)
    if resolved and primary is not None and primary.match in ("exact", "modified"):
        if not resolved & text_ids:
            shown = (
                declared.license
                if (declared.license or "").lower() != "other"
                else declared.license_name
            )
            out.append(
                finding(
                    "MC202",
                    f"card declares {shown!r} but {primary.file} is {primary.title} ({primary.id})",
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
        shown = (
            declared.license
            if (declared.license or "").lower() != "other"
            else (declared.license_name)
        )
        out.append(
            finding(
                "MC202",
                f"card declares {shown!r} but {unknown[0].file} is not that license "
                "(unrecognised text)",
                file=card_file,
                line=lic_line,
                quote=f"license: {declared.license}",
                declared=sorted(resolved),
                found=None,
            )
        )

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

    for m in report.licenses:
        out.extend(document_findings(m))

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

    if declared.gguf_license:
        g = {e.id for e in cat.resolve_declared(declared.gguf_license, declared.gguf_license)}
        ours = text_ids | resolved
        if g and ours and not g & ours:
            out.append(
                finding(
                    "MC211",
                    f"GGUF general.license is {declared.gguf_license!r}; the release is "
                    f"{', '.join(sorted(ours))}",
                    gguf_license=declared.gguf_license,
                )
            )

    ours_ids = text_ids | resolved
    ours_entries = [e for i in ours_ids if (e := cat.get(i)) is not None]
    for base in declared.base_model:
        entry, how = _base_license(base, cat)
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
