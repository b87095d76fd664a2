"""Findings with stable codes, like a linter's.

Codes live in data files (``data/codes/mc*.toml``), one per role, so each code
has exactly one title, severity and docs entry. Analyzers create findings with
:func:`finding`, which refuses unknown codes: a typo in a code is a bug, not a
new finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from .datatables import DATA, load_toml
from .jsonout import JsonFields


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class CodeInfo:
    code: str
    title: str
    severity: Severity
    docs: str


@dataclass(frozen=True)
class Finding(JsonFields):
    """One observation with the evidence a user needs to check it."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    offset: int | None = None
    quote: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def title(self) -> str:
        info = code_info(self.code)
        return info.title if info is not None else codes()[self.code].title

    def to_json(self) -> dict[str, Any]:
        """The shape every document uses for a finding: its per-code extras inline."""
        out: dict[str, Any] = {
            "code": self.code,
            "severity": str(self.severity),
            "title": self.title,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "offset": self.offset,
            "quote": self.quote,
        }
        out.update(self.extra)
        return out


@cache
def codes() -> dict[str, CodeInfo]:
    """All finding codes from the package's data files."""
    out: dict[str, CodeInfo] = {}
    folder = DATA / "codes"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        for code, info in _codes_of(entry.name).items():
            if code in out:
                raise RuntimeError(f"finding code {code} defined twice ({entry.name})")
            out[code] = info
    return out


@cache
def _codes_of(name: str) -> dict[str, CodeInfo]:
    """The codes one data file defines (``mc3-security.toml``)."""
    return {
        code: CodeInfo(code=code, title=info["title"], severity=Severity(info["severity"]),
                       docs=info.get("docs", ""))
        for code, info in load_toml("codes", name).items()
    }


@cache
def _code_files() -> dict[str, tuple[str, ...]]:
    """Data files by family (``mc3`` → the MC3xx files), from their names."""
    folder = DATA / "codes"
    out: dict[str, list[str]] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            out.setdefault(entry.name[:3].lower(), []).append(entry.name)
    return {k: tuple(v) for k, v in out.items()}


def code_info(code: str) -> CodeInfo | None:
    """One code's entry, parsing only its family's files (a ``scan`` of one file makes
    security findings only: the other families' data need not be read at start-up)."""
    for name in _code_files().get(code[:3].lower(), ()):
        info = _codes_of(name).get(code)
        if info is not None:
            return info
    return None


def finding(
    code: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    offset: int | None = None,
    quote: str | None = None,
    severity: Severity | None = None,
    **extra: Any,
) -> Finding:
    info = code_info(code)
    if info is None:
        raise KeyError(f"unknown finding code {code}")
    return Finding(
        code=code,
        severity=severity or info.severity,
        message=message,
        file=file,
        line=line,
        offset=offset,
        quote=quote,
        extra=extra,
    )
