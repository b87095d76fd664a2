"""The security scan in the terminal: a table of files that need a look, then findings."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..analyzers.security.model import SecurityReport
from ..findings import Severity
from .style import FILE_STATUS_STYLE, SEVERITY_STYLE


def print_terminal(report: SecurityReport, console: Console, *, quiet: bool = False) -> None:
    """Files that need a look, then their findings; ``quiet`` keeps only medium and up."""
    shown = [r for r in report.files if r.status != "clean" or (r.findings and not quiet)]
    if shown:
        table = Table(show_header=True, header_style="bold", expand=False)
        table.add_column("file", overflow="fold")
        table.add_column("kind")
        table.add_column("status")
        table.add_column("worst finding", overflow="fold")
        for r in shown:
            worst = r.findings[0] if r.findings else None
            cell = (
                f"[{SEVERITY_STYLE[str(worst.severity)]}]{worst.code}[/] {escape(worst.message)}"
                if worst
                else ""
            )
            st = FILE_STATUS_STYLE.get(r.status, "")
            table.add_row(escape(r.path), r.kind, f"[{st}]{r.status}[/]", cell)
        console.print(table)
    for r in report.files:
        relevant = [f for f in r.findings if f.severity.rank >= Severity.MEDIUM.rank or not quiet]
        if r.status == "clean" and quiet:
            continue
        if not relevant:
            continue
        console.print(f"\n[bold]{escape(r.path)}[/] ({r.kind}, {r.status})")
        for f in relevant:
            where = (
                f" (line {f.line})"
                if f.line is not None
                else (f" (offset {f.offset})" if f.offset is not None else "")
            )
            sev = str(f.severity)
            console.print(
                f"  [{SEVERITY_STYLE[sev]}]{f.code} {sev}[/] {escape(f.message)}"
                f"[dim]{escape(where)}[/]",
                highlight=False,
            )
            if f.quote:
                console.print(f"      [dim]{escape(f.quote)}[/]", highlight=False)
    c = report.counts()
    console.print(
        f"\n{len(report.files)} file(s): [green]{c['clean']} clean[/], "
        f"[yellow]{c['warning']} warning[/], [red]{c['unsafe']} unsafe[/], "
        f"[yellow]{c['malformed']} malformed[/], "
        f"[magenta]{c['unsupported']} unsupported[/]  (allowlist {report.allowlist_version})",
        highlight=False,
    )
