"""Findings as a table: the same look in every command."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from ..findings import Finding
from .style import SEVERITY_STYLE


def location(f: Finding) -> str:
    if f.file is None:
        return ""
    if f.line is not None:
        return f"{f.file}:{f.line}"
    if f.offset is not None:
        return f"{f.file}@{f.offset}"
    return f.file


def findings_table(findings: Sequence[Finding], title: str = "findings") -> Table:
    t = Table(title=title, header_style="bold", expand=False)
    t.add_column("code")
    t.add_column("severity")
    t.add_column("where")
    t.add_column("message")
    order = sorted(findings, key=lambda f: (-f.severity.rank, f.code))
    for f in order:
        t.add_row(f.code, Text(str(f.severity), SEVERITY_STYLE[str(f.severity)]),
                  location(f), f.message)
    return t
