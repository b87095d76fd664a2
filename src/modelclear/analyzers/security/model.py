"""Result types of the security analysis (frozen; reports render them, policy reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...findings import Finding, Severity

#: bump when the JSON shape changes (documented in docs/security.md)

STATUSES = ("clean", "warning", "unsafe", "malformed", "unsupported")


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
