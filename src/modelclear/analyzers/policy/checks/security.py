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
    """Configs whose auto_map makes loading run the release's Python code."""
    refs: list[EvidenceRef] = []
    for name, cfg in ctx.inputs.configs.items():
        if isinstance(cfg, dict) and isinstance(cfg.get("auto_map"), dict):
            targets = ", ".join(sorted({str(v) if not isinstance(v, list) else ", ".join(
                map(str, v)) for v in cfg["auto_map"].values()}))
            refs.append(EvidenceRef(source="inventory", file=name,
                                    quote=f"auto_map: {targets}"[:240],
                                    note="loading needs trust_remote_code"))
    return refs


@check("MC514", "remote-code", order=220, release_only=True)
def remote_code(ctx: CheckContext, out: Report) -> None:
    """trust_remote_code: forbidden by the profile, else code a reviewer must read."""
    code_refs = _auto_map_refs(ctx)
    py = [p for p, _comp, _ in ctx.inputs.files if p.endswith(".py")]
    if code_refs and ctx.profile.rules.forbid_remote_code:
        out.add(Status.BLOCKED, "loading the model needs trust_remote_code (auto_map) and the "
                "profile forbids remote code (rules.forbid_remote_code)", code_refs)
    elif code_refs and ctx.inputs.security is None:
        out.not_analysed("security")
    elif code_refs:
        out.add(Status.REVIEW, "loading needs trust_remote_code: the release's Python code runs "
                "at load time; review it (security findings below grade it)", code_refs)
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
    """Files the scan graded unsafe block; files it could not read need a reader."""
    sec = ctx.inputs.security
    if sec is None:
        out.not_analysed("security")
        return
    unsafe = [_scan_ref(f) for f in sec.files if f.status == "unsafe"]
    malformed = [_scan_ref(f) for f in sec.files if f.status in ("malformed", "unsupported")]
    warning = [_scan_ref(f) for f in sec.files if f.status == "warning"]
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
