"""Result types of the security analysis (frozen; reports render them, policy reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...findings import Finding, Severity

#: bump when the JSON shape changes (documented in docs/security.md)

STATUSES = ("clean", "warning", "unsafe", "malformed", "unsupported")

#: findings about code a loader would run (auto_map entries, diffusers custom components)
#: and about the Python it imports: the remote-code policy check judges these, once
REMOTE_CODE_CODES = frozenset({"MC330", "MC331", "MC332", "MC333", "MC334", "MC335",
                               "MC336", "MC337", "MC338", "MC339", "MC340", "MC346"})
#: one finding per auto_map entry / custom component
ENTRY_CODES = ("MC330", "MC331", "MC332", "MC340")
#: entries whose code is not in the release: it would be downloaded at load time
ABSENT_CODES = frozenset({"MC331", "MC332"})


@dataclass(frozen=True)
class FileReport:
    """One file of the release: what it is, whether loading it is safe, and why."""

    path: str
    kind: str  # pickle | torch-zip | torch-legacy | npy | npz | joblib | zip | 7z | tar | gzip |
    #            python | chat-template | config | safetensors | gguf | other
    status: str  # clean | warning | unsafe | malformed | unsupported
    findings: tuple[Finding, ...] = ()
    #: every global the file's pickles import (allowed ones included), for review
    imports: tuple[str, ...] = ()
    #: does loading this file run pickle (torch.load, joblib, np.load(allow_pickle))?
    pickle: bool = False

    @property
    def status_without_remote_code(self) -> str:
        """The status once what the remote-code check judges is set aside.

        Python files are entirely remote code's business; a config's auto_map findings
        too. Other findings (a chat template's, a pickle's) keep their weight.
        """
        if self.kind == "python":
            return "clean"
        rest = tuple(x for x in self.findings if x.code not in REMOTE_CODE_CODES)
        if len(rest) == len(self.findings) or self.status not in ("unsafe", "warning"):
            return self.status
        return status_for(rest, False, False)

    @property
    def max_severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "pickle": self.pickle,
            "imports": list(self.imports),
            "findings": [_finding_json(f) for f in self.findings],
        }


def _finding_json(f: Finding) -> dict[str, Any]:
    out = f.to_json()
    out.setdefault("callable", None)
    return out


@dataclass(frozen=True)
class SecurityReport:
    files: tuple[FileReport, ...]
    allowlist_version: str
    target: str = ""

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.files for f in r.findings)

    @property
    def unsafe(self) -> tuple[FileReport, ...]:
        return tuple(r for r in self.files if r.status == "unsafe")

    @property
    def remote_code_entries(self) -> tuple[tuple[Finding, bool], ...]:
        """One finding per auto_map entry or custom component, with whether its code is
        absent from the release (downloaded at load time), in file order."""
        return tuple((f, f.code in ABSENT_CODES) for f in self.findings
                     if f.code in ENTRY_CODES)

    @property
    def has_pickle_weights(self) -> bool:
        return any(r.pickle for r in self.files)

    def reaches(self, severity: Severity) -> bool:
        return any(f.severity.rank >= severity.rank for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for r in self.files:
            out[r.status] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "allowlist_version": self.allowlist_version,
            "summary": self.counts(),
            "files": [r.to_json() for r in self.files],
        }


def status_for(findings: tuple[Finding, ...], malformed: bool, unsupported: bool) -> str:
    """One story for status, severity and exit code (docs/security.md, "Statuses").

    ``unsafe``: a danger finding of high severity or above (a broken file that ran code
    first is unsafe, not malformed). ``unsupported`` / ``malformed``: not every byte a
    loader would interpret was read; the finding that says so carries its own severity
    (high whenever a loader could still run the unread part). ``warning``: the worst
    danger is medium, below the default ``--fail-on high`` gate. ``clean``: examined,
    nothing at medium or above.
    """
    danger = [f.severity.rank for f in findings if f.code not in _NOT_UNSAFE]
    worst = max(danger, default=-1)
    if worst >= Severity.HIGH.rank:
        return "unsafe"
    if unsupported:
        return "unsupported"
    if malformed:
        return "malformed"
    if worst >= Severity.MEDIUM.rank:
        return "warning"
    return "clean"


#: findings that describe the file rather than a danger in it
_NOT_UNSAFE = frozenset({"MC106", "MC107", "MC341", "MC342", "MC353"})
