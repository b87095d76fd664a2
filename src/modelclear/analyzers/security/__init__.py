"""Is the release safe to load? Pickles, archives, remote code and chat templates.

Nothing in the release is executed: pickles run on a symbolic machine, Python files are
parsed with ``ast``, templates with jinja2's parser, archives with our own readers. Every
file gets a status — clean, unsafe, malformed or unsupported — and what could not be
opened is said so, never reported as clean.

``analyze(release) -> SecurityReport`` is the entry point; ``audit``/``check`` consume the
report (``has_pickle_weights``, per-file statuses, findings with MC3xx codes).
"""

from __future__ import annotations

from ...errors import InputError
from ...findings import finding
from ...parsers.detect import detect_format
from ...parsers.formats import FormatSpec, report_kind, spec, spec_for_name
from ...progress import SILENT, ProgressSink
from ...release import Release, ReleaseFile
from .allowlist import allowlist_version
from .files import Outcome
from .model import FileReport, SecurityReport, status_for
from .scanners import MAX_JSON, scan_buffer

__all__ = [
    "MAX_JSON", "FileReport", "SecurityReport", "analyze", "analyze_file",
]

#: bytes read to recognise a file's format (as the inventory does)
SNIFF_BYTES = 64 * 1024
#: contents that say too little to overrule what the name claims
_WEAK = frozenset({"empty", "lfs-pointer", "binary"})


def analyze(release: Release, progress: ProgressSink = SILENT) -> SecurityReport:
    total = sum(f.size for f in release.files)
    progress.start("security", "scanning", total=total, bytes_=True)
    reports = []
    for f in release.files:
        reports.append(analyze_file(f, release))
        progress.advance("security", f.size)
    return SecurityReport(
        files=tuple(reports),
        allowlist_version=allowlist_version(),
        target=release.source.location,
    )


def analyze_file(f: ReleaseFile, release: Release | None = None) -> FileReport:
    """One file's report; input problems become findings, never exceptions."""
    try:
        out = _dispatch(f, release)
    except InputError as exc:
        out = Outcome(kind="other")
        out.malformed.append(exc.problem)
    except (RecursionError, MemoryError) as exc:  # pragma: no cover - defensive bound
        out = Outcome(kind="other")
        out.unsupported.append(f"too complex to examine ({type(exc).__name__})")
        out.findings.append(finding("MC341", "file too complex to examine", file=f.path))
    except Exception as exc:  # noqa: BLE001 - fail closed: unexamined is never clean
        out = Outcome(kind="other")
        out.unsupported.append(f"{type(exc).__name__}: {exc}")
        out.findings.append(
            finding(
                "MC341",
                f"could not be examined ({type(exc).__name__}: {str(exc)[:200]})",
                file=f.path,
            )
        )
    findings = list(out.findings)
    for msg in dict.fromkeys(out.malformed):
        findings.append(finding("MC107", msg, file=f.path))
    if out.pickle and not any(x.code == "MC311" for x in findings):
        findings.insert(
            0, finding("MC311", f"{f.path} is loaded with pickle ({out.kind})", file=f.path)
        )
    # worst first: consumers (policy, terminal) show the first finding as the reason
    ft = tuple(sorted(findings, key=lambda x: -x.severity.rank))
    unparsable = any(x.code in ("MC342", "MC353") for x in ft)
    status = status_for(ft, bool(out.malformed) or unparsable, bool(out.unsupported))
    return FileReport(
        path=f.path,
        kind=out.kind,
        status=status,
        findings=ft,
        imports=tuple(dict.fromkeys(out.imports)),
        pickle=out.pickle,
    )


def _dispatch(f: ReleaseFile, release: Release | None) -> Outcome:
    """Pick the scanner from the format registry: content first, the name when it must.

    Text formats go by name (a ``.json`` is reviewed as a config whatever it holds), as
    detection itself does. Otherwise the content decides, except that content which says
    little (empty, an LFS pointer, unrecognised bytes, text) leaves the choice to the
    format the name claims, so a broken ``.safetensors`` gets its parser's precise error.
    A format no scanner reads is ``unsupported``: what could not be examined is never
    reported clean.
    """
    claimed = spec_for_name(f.name)
    if claimed is not None and claimed.text and claimed.scanner is not None:
        return claimed.scanner(f, release)
    chosen = spec(detect_format(f.head(SNIFF_BYTES), f.name))
    if claimed is not None and (chosen.name in _WEAK or chosen.text):
        chosen = claimed
    if chosen.scanner is None:
        return _unsupported(f, chosen)
    return chosen.scanner(f, release)


def _unsupported(f: ReleaseFile, fmt: FormatSpec) -> Outcome:
    """Still look for pickles and archive members, then say the format was not read."""
    out = scan_buffer(f)
    if out.kind == "other":
        out.kind = report_kind(fmt.name)
    out.unsupported.append(f"no scanner reads {fmt.name} files")
    out.findings.append(finding(
        "MC341", f"{fmt.name} file: no scanner reads this format, so it was not examined "
        "for code it could run on load", file=f.path,
    ))
    return out
