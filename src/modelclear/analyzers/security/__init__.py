"""Is the release safe to load? Pickles, archives, remote code and chat templates.

Nothing in the release is executed: pickles run on a symbolic machine, Python files are
parsed with ``ast``, templates with jinja2's parser, archives with our own readers. Every
file gets a status — clean, warning, unsafe, malformed or unsupported — and what could not be
opened is said so, never reported as clean.

``analyze(release) -> SecurityReport`` is the entry point; ``audit``/``check`` consume the
report (``has_pickle_weights``, per-file statuses, findings with MC3xx codes).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace

from ...errors import InputError, UnreadError
from ...findings import Finding, Severity, finding
from ...parsers.detect import detect_format
from ...parsers.formats import FormatSpec, report_kind, spec, spec_for_name
from ...parsers.sniff import LFS_POINTER
from ...progress import SILENT, ProgressSink
from ...release import Release, ReleaseFile
from ...utf8 import encodes
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
_WEAK = frozenset({"empty", "binary"})


def analyze(release: Release, progress: ProgressSink = SILENT) -> SecurityReport:
    total = sum(f.size for f in release.files)
    progress.start("security", "scanning", total=total, bytes_=True)
    reports = []
    for f in release.files:
        reports.append(analyze_file(f, release))
        progress.advance("security", f.size)
    return SecurityReport(
        files=tuple(_scope_scripts(reports)),
        allowlist_version=allowlist_version(),
        target=release.source.location,
    )


#: the configs whose presence says which loader reads the release (and so which Python
#: files it imports: the auto_map closures)
_LOADER_CONFIGS = ("config.json", "model_index.json")


def _scope_scripts(reports: list[FileReport]) -> list[FileReport]:
    """Scope a code repository's scripts apart from the code loaders import.

    In a model release (a ``config.json`` or ``model_index.json`` is present) the Python
    that loading runs is exactly the auto_map closures (MC330 ``runs``). Any other
    ``.py`` — a demo, CLI or training script — runs only when someone runs it: its
    findings are capped at low and an MC346 note says why, so a ``cli_demo.py`` calling
    ``os.system`` never makes the model unsafe. Diffusers custom components (MC340)
    name modules by other rules, so a release with one keeps every finding as is.
    """
    names = {r.path.rsplit("/", 1)[-1] for r in reports}
    if not names & set(_LOADER_CONFIGS):
        return reports
    found = [x for r in reports for x in r.findings]
    if any(x.code == "MC340" for x in found):
        return reports
    imported = {p for x in found if x.code == "MC330" for p in x.extra.get("runs", ())}
    out = []
    for r in reports:
        if r.kind != "python" or r.path in imported:
            out.append(r)
            continue
        capped = tuple(
            replace(x, severity=Severity.LOW) if x.severity.rank > Severity.LOW.rank else x
            for x in r.findings)
        note = finding("MC346", "no loader imports this file (no auto_map entry reaches "
                       "it): a script, reviewed apart; its findings are capped at low",
                       file=r.path)
        ft = (*capped, note) if r.findings else ()
        malformed = any(x.code == "MC342" for x in ft)
        out.append(replace(r, findings=ft, status=status_for(ft, malformed, False)))
    return out


def analyze_file(f: ReleaseFile, release: Release | None = None) -> FileReport:
    """One file's report; input problems become findings, never exceptions."""
    fmt: FormatSpec | None = None
    try:
        out, fmt = _dispatch(f, release)
    except UnreadError as exc:
        out = Outcome(kind="other")
        out.not_examined(exc.problem, f"not read: {exc.problem}", file=f.path)
    except InputError as exc:
        out = Outcome(kind="other")
        out.malformed.append(exc.problem)
    except (RecursionError, MemoryError) as exc:  # pragma: no cover - defensive bound
        out = Outcome(kind="other")
        out.not_examined(
            f"too complex to examine ({type(exc).__name__})",
            "file too complex to examine",
            file=f.path,
        )
    except Exception as exc:  # noqa: BLE001 - fail closed: unexamined is never clean
        out = Outcome(kind="other")
        out.not_examined(
            f"{type(exc).__name__}: {exc}",
            f"could not be examined ({type(exc).__name__}: {str(exc)[:200]})",
            file=f.path,
        )
    findings = list(out.findings)
    _sidecars(f, out, release, findings)
    if not encodes(f.abspath.name):
        findings.append(finding(
            "MC347", f"the file name is not valid UTF-8; it is shown escaped as {f.path!r}",
            file=f.path))
    severe = _loader_runs_partial(f, fmt, out)
    for msg in dict.fromkeys(out.malformed):
        findings.append(finding(
            "MC107", msg, file=f.path, severity=Severity.HIGH if severe else None,
        ))
    if out.pickle and not any(x.code == "MC311" for x in findings):
        findings.insert(
            0, finding("MC311", f"{f.path} is loaded with pickle ({out.kind})", file=f.path)
        )
    # worst first: consumers (policy, terminal) show the first finding as the reason
    ft = tuple(sorted(findings, key=lambda x: -x.severity.rank))
    unparsable = any(x.code in ("MC342", "MC353") for x in ft)
    unread = bool(out.unsupported) or any(x.code == "MC341" for x in ft)
    status = status_for(ft, bool(out.malformed) or unparsable, unread)
    return FileReport(
        path=f.path,
        kind=out.kind,
        status=status,
        findings=ft,
        imports=tuple(dict.fromkeys(out.imports)),
        pickle=out.pickle,
    )


def _sidecars(f: ReleaseFile, out: Outcome, release: Release | None,
              findings: list[Finding]) -> None:
    """Judge the files an old-format joblib pickle loads beside itself.

    joblib joins the wrapper's ``filename`` to the pickle's directory and loads it
    (``np.load(allow_pickle=True)`` or a ZF file), so a name inside the release is
    scanned as that file; a name that leaves the release directory, or that the release
    lacks, is a load of bytes nobody examined: high, and the pickle is unsupported.
    """
    folder = posixpath.dirname(f.path)
    for name, offset in dict.fromkeys(out.sidecars):
        target = posixpath.normpath(posixpath.join(folder, name))
        inside = not (posixpath.isabs(name) or target.startswith("../") or target == "..")
        present = release is not None and inside and release.get(target) is not None
        if present:
            findings.append(finding(
                "MC344", f"joblib loads {target!r} beside this pickle (np.load with "
                "allow_pickle=True); that file is scanned on its own", file=f.path,
                offset=offset))
            continue
        why = ("outside the release directory" if not inside
               else "not in the release")
        out.unsupported.append(f"joblib array file {name!r} is {why}")
        findings.append(finding(
            "MC345", f"joblib would load {name!r} ({why}) with np.load(allow_pickle=True) "
            "while unpickling; its content was not examined", file=f.path, offset=offset))


#: report kinds of containers: a lenient reader may still load what we could not parse
_CONTAINER_KINDS = ("zip", "7z", "gzip", "tar", "npz", "torch-zip", "torch-legacy", "joblib",
                    "keras")


def _loader_runs_partial(f: ReleaseFile, fmt: FormatSpec | None, out: Outcome) -> bool:
    """Could a loader run part of a file we could not parse? Then malformed is high.

    Pickle loaders execute opcodes as they read, and stream/zip readers hand them what
    they could decode, so a pickle-loading format (by content, by name, or because a
    pickle was found inside) or a container we failed to parse fails closed: MC107 high.
    Formats whose loaders validate before use (safetensors, GGUF, NPY headers, JSON)
    keep MC107 at medium: a loader rejects them before running anything.
    """
    if out.pickle or out.kind.split("+")[0] in _CONTAINER_KINDS:
        return True
    claimed = spec_for_name(f.name)
    return any(s is not None and (s.unpickles or s.name in _CONTAINER_FORMATS)
               for s in (fmt, claimed))


_CONTAINER_FORMATS = frozenset({"zip", "7z", "gzip", "tar", "npz", "pytorch-zip", "keras"})


def _dispatch(f: ReleaseFile, release: Release | None) -> tuple[Outcome, FormatSpec | None]:
    """Pick the scanner from the format registry: content first, the name when it must.

    Text formats go by name (a ``.json`` is reviewed as a config whatever it holds), as
    detection itself does. Otherwise the content decides, except that content which says
    little (empty, unrecognised bytes, text) leaves the choice to the format the name
    claims, so a broken ``.safetensors`` gets its parser's precise error. A Git LFS
    pointer stands in for a file that is not there, whatever its name (MC106 high). A
    format no scanner reads is ``unsupported``: what could not be examined is never
    reported clean.
    """
    head = f.head(SNIFF_BYTES)
    claimed = spec_for_name(f.name)
    if head.startswith(LFS_POINTER):
        return _lfs_pointer(f, head), claimed
    if claimed is not None and claimed.text and claimed.scanner is not None:
        return claimed.scanner(f, release), claimed
    chosen = spec(detect_format(head, f.name))
    if claimed is not None and (chosen.name in _WEAK or chosen.text):
        chosen = claimed
    elif claimed is not None and claimed.name == "keras" and chosen.name == "zip":
        chosen = claimed  # a .keras zip is read for its config.json, whatever else it holds
    if chosen.scanner is None:
        return _unsupported(f, chosen), chosen
    return chosen.scanner(f, release), chosen


def _lfs_pointer(f: ReleaseFile, head: bytes) -> Outcome:
    out = Outcome(kind="lfs-pointer")
    out.unsupported.append("Git LFS pointer: the file's content is not in the release")
    out.findings.append(finding(
        "MC106", "a Git LFS pointer stands where the file should be: the download is "
        "incomplete and its content was not examined", file=f.path, offset=0,
        quote=head[:80].decode("ascii", "replace"),
    ))
    return out

def _unsupported(f: ReleaseFile, fmt: FormatSpec) -> Outcome:
    """Still look for pickles and archive members, then say the format was not read."""
    out = scan_buffer(f)
    if out.kind == "other":
        out.kind = report_kind(fmt.name)
    out.not_examined(
        f"no scanner reads {fmt.name} files",
        f"{fmt.name} file: no scanner reads this format, so it was not examined "
        "for code it could run on load",
        file=f.path,
    )
    return out
