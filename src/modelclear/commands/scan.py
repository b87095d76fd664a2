"""``modelclear scan``: is the release safe to load? (pickles, archives, code, templates)"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..analyzers.security import analyze
from ..analyzers.security.model import SecurityReport
from ..cli import app
from ..console import emit_json, progress, stdout_console
from ..errors import InputError
from ..findings import Severity
from ..reports.sarif import to_sarif
from ..sources import open_release


class FailOn(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    never = "never"


_STYLE = {"clean": "green", "unsafe": "bold red", "malformed": "yellow", "unsupported": "magenta"}
_SEV_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


@app.command()
def scan(
    target: str = typer.Argument(..., help="Directory, weights/GGUF file, or org/name[@rev]."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    sarif: str | None = typer.Option(None, "--sarif", help="Also write SARIF 2.1.0 to FILE."),
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a finding reaches this severity.")
    ] = FailOn.high,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars; only problems."),
) -> None:
    """Check that loading a release cannot run code: pickles, archives, auto_map, templates."""
    release = open_release(target)
    with progress(not quiet and not json_out) as sink:
        report = analyze(release, progress=sink)
    if sarif:
        try:
            Path(sarif).write_text(
                json.dumps(to_sarif(report, release.root), indent=2) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            raise InputError(sarif, f"cannot write: {exc.strerror or exc}") from None
    if json_out:
        emit_json(report.to_json())
    else:
        print_terminal(report, quiet=quiet)
    if fail_on is not FailOn.never and report.reaches(Severity(fail_on.value)):
        raise typer.Exit(1)


def print_terminal(report: SecurityReport, *, quiet: bool = False) -> None:
    out = stdout_console()
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
                f"[{_SEV_STYLE[str(worst.severity)]}]{worst.code}[/] {escape(worst.message)}"
                if worst
                else ""
            )
            st = _STYLE.get(r.status, "")
            table.add_row(escape(r.path), r.kind, f"[{st}]{r.status}[/]", cell)
        out.print(table)
    for r in report.files:
        relevant = [f for f in r.findings if f.severity.rank >= Severity.MEDIUM.rank or not quiet]
        if r.status == "clean" and quiet:
            continue
        if not relevant:
            continue
        out.print(f"\n[bold]{escape(r.path)}[/] ({r.kind}, {r.status})")
        for f in relevant:
            where = (
                f" (line {f.line})"
                if f.line is not None
                else (f" (offset {f.offset})" if f.offset is not None else "")
            )
            sev = str(f.severity)
            out.print(
                f"  [{_SEV_STYLE[sev]}]{f.code} {sev}[/] {escape(f.message)}"
                f"[dim]{escape(where)}[/]",
                highlight=False,
            )
            if f.quote:
                out.print(f"      [dim]{escape(f.quote)}[/]", highlight=False)
    c = report.counts()
    out.print(
        f"\n{len(report.files)} file(s): [green]{c['clean']} clean[/], "
        f"[red]{c['unsafe']} unsafe[/], [yellow]{c['malformed']} malformed[/], "
        f"[magenta]{c['unsupported']} unsupported[/]  (allowlist {report.allowlist_version})",
        highlight=False,
    )
