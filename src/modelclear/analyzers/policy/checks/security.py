"""Is the release safe to load: pickle weights, remote code, and the security scan's grades.

These run on releases only (a bare license text has no files). The profile can
forbid pickle weights or remote code outright; otherwise their presence is
decided by the security scan, and without one the answer is "not analysed".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....parsers.formats import unpickling_names, unpickling_suffixes
from ..model import EvidenceRef, Status
from .registry import CheckContext, Report, check

if TYPE_CHECKING:
    from ...security.model import FileReport

#: Weight formats whose loading runs pickle (and so can run code): the format registry's.
PICKLE_SUFFIXES = unpickling_suffixes()
PICKLE_FORMATS = unpickling_names()


def _pickle_weights(ctx: CheckContext) -> list[str]:
    """Weight files a loader would unpickle: by inventory format or name, and by the scan."""
    weights = [(p, fmt) for p, comp, fmt in ctx.inputs.files if comp in ("weights", None)]
    pickles = [p for p, fmt in weights
               if (fmt and fmt.lower() in PICKLE_FORMATS)
               or (fmt is None and "." in p and p[p.rfind("."):].lower() in PICKLE_SUFFIXES)]
    # the security scan knows best which files a loader would unpickle (content, not name)
    scanned = ctx.inputs.security.files if ctx.inputs.security is not None else ()
    return list(dict.fromkeys(pickles + [f.path for f in scanned if f.pickle]))


@check("MC513", "serialization", order=210, release_only=True)
def serialization(ctx: CheckContext, out: Report) -> None:
    """Pickle-based weights: forbidden by the profile, or left to the security scan."""
    pickles = _pickle_weights(ctx)
    evidence = tuple(EvidenceRef(source="inventory", file=p, note="pickle-based format")
                     for p in pickles)
    if pickles and ctx.profile.rules.forbid_pickle:
        out.add(Status.BLOCKED, f"{len(pickles)} weight file(s) use a pickle-based format and "
                "the profile forbids pickle weights (rules.forbid_pickle)", evidence)
    elif pickles and ctx.inputs.security is None:
        out.not_analysed("security")
    elif pickles:
        out.add(Status.CLEAR, f"{len(pickles)} pickle-based weight file(s), scanned (see "
                "security findings)", evidence)
    else:
        out.add(Status.CLEAR, "no pickle-based weights", ())


def _auto_map_refs(ctx: CheckContext) -> list[EvidenceRef]:
    """Configs whose auto_map makes loading run the release's Python code (no scan)."""
    refs: list[EvidenceRef] = []
    for name, cfg in ctx.inputs.configs.items():
        if isinstance(cfg, dict) and isinstance(cfg.get("auto_map"), dict):
            targets = ", ".join(sorted({str(v) if not isinstance(v, list) else ", ".join(
                map(str, v)) for v in cfg["auto_map"].values()}))
            refs.append(EvidenceRef(source="inventory", file=name,
                                    quote=f"auto_map: {targets}"[:240],
                                    note="loading needs trust_remote_code"))
    return refs


def _entries(ctx: CheckContext) -> list[tuple[bool, str, EvidenceRef]]:
    """(code absent?, severity, evidence) per auto_map entry or custom component."""
    sec = ctx.inputs.security
    if sec is None:
        return []
    return [(absent, f.severity.value, EvidenceRef(
        source="security", file=f.file or "", line=f.line,
        quote=(f.extra.get("callable") or f.quote),
        note=f"{f.code} {f.severity.value}: {f.message}"[:300]))
        for f, absent in sec.remote_code_entries]


@check("MC514", "remote-code", order=220, release_only=True)
def remote_code(ctx: CheckContext, out: Report) -> None:
    """trust_remote_code, judged once: the profile decides, the code's own grade informs.

    Forbidden by the profile → BLOCKED. Otherwise each auto_map entry is graded by what
    can run: code a loader imports that is unsafe (high or worse) → BLOCKED; code that is
    not in the release (downloaded at load time) or graded medium → REVIEW; code present
    and clean → CLEAR. Scripts no loader imports never count (the scan caps them at low).
    """
    entries = _entries(ctx)
    refs = [e[2] for e in entries] or _auto_map_refs(ctx)
    py = [p for p, _comp, _ in ctx.inputs.files if p.endswith(".py")]
    if refs and ctx.profile.rules.forbid_remote_code:
        out.add(Status.BLOCKED, "loading the model needs trust_remote_code (auto_map) and the "
                "profile forbids remote code (rules.forbid_remote_code)", refs)
    elif refs and ctx.inputs.security is None:
        out.not_analysed("security")
    elif refs:
        unsafe = [ev for gone, sev, ev in entries if sev in ("high", "critical") and not gone]
        absent = [ev for gone, _sev, ev in entries if gone]
        medium = [ev for gone, sev, ev in entries if sev == "medium" and not gone]
        if unsafe:
            out.add(Status.BLOCKED, f"{len(unsafe)} auto_map entr(y/ies) import code the scan "
                    "grades unsafe; trust_remote_code would run it", unsafe)
        elif absent or medium:
            out.add(Status.REVIEW, f"{len(absent)} auto_map entr(y/ies) would download code "
                    f"at load time, {len(medium)} import code with medium findings: review "
                    "before trusting remote code", absent + medium)
        else:
            out.add(Status.CLEAR, f"{len(refs)} auto_map entr(y/ies) import code in the "
                    "release that the review does not flag; the profile allows remote code",
                    refs)
    else:
        out.add(Status.CLEAR, "no auto_map: loads without trust_remote_code"
                + (f" ({len(py)} Python file(s) ship but are not loaded automatically)"
                   if py else ""), ())


def _scan_ref(f: FileReport) -> EvidenceRef:
    """A graded file as evidence: its worst finding's location and what it calls."""
    worst = max(f.findings, key=lambda x: x.severity.rank, default=None)
    return EvidenceRef(
        source="security", file=f.path,
        offset=worst.offset if worst else None, line=worst.line if worst else None,
        quote=(worst.extra.get("callable") or worst.quote) if worst else None,
        note=f"{f.status}: " + (f"{worst.code} {worst.message}" if worst else ""),
    )


@check("MC524", "security-scan", order=230, release_only=True)
def security_scan(ctx: CheckContext, out: Report) -> None:
    """Files the scan graded unsafe block; files it could not read need a reader.

    Remote code (auto_map entries and the Python they import) is judged once, by
    remote_code (MC514): those findings are left out here.
    """
    sec = ctx.inputs.security
    if sec is None:
        out.not_analysed("security")
        return
    status = {f.path: f.status_without_remote_code for f in sec.files}
    unsafe = [_scan_ref(f) for f in sec.files if status[f.path] == "unsafe"]
    malformed = [_scan_ref(f) for f in sec.files
                 if status[f.path] in ("malformed", "unsupported")]
    warning = [_scan_ref(f) for f in sec.files if status[f.path] == "warning"]
    if unsafe:
        out.add(Status.BLOCKED, f"{len(unsafe)} file(s) would run code or are otherwise unsafe "
                "to load", unsafe + malformed + warning)
    elif malformed:
        out.add(Status.REVIEW, f"{len(malformed)} file(s) could not be fully checked (malformed "
                "or unsupported)", malformed + warning)
    elif warning:
        out.add(Status.REVIEW, f"{len(warning)} file(s) with medium-severity security findings "
                "(status warning)", warning)
    else:
        out.add(Status.CLEAR, f"{len(sec.files)} file(s) scanned, none unsafe", ())
