"""``modelclear codes``: every finding code with its title, severity and explanation."""

from __future__ import annotations

import typer
from rich.table import Table

from ..cli import app
from ..console import emit_json, stdout_console
from ..errors import UsageError
from ..findings import codes as all_codes
from ..schemas import document


@app.command()
def codes(
    code: str | None = typer.Argument(None, help="One code (e.g. MC301) or a prefix (MC3)."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List finding codes (MC1xx inventory/format … MC5xx policy) and what each means."""
    out = stdout_console()
    table = all_codes()
    chosen = [c for k, c in sorted(table.items()) if code is None or k.startswith(code.upper())]
    if not chosen:
        raise UsageError(f"no finding code starts with {code!r}")
    if json_out:
        emit_json(document("codes", {"codes": [
            {"code": c.code, "title": c.title, "severity": str(c.severity), "docs": c.docs}
            for c in chosen]}))
        return
    t = Table(header_style="bold")
    t.add_column("code")
    t.add_column("severity")
    t.add_column("title")
    if code is not None and len(chosen) <= 5:
        t.add_column("explanation")
        for c in chosen:
            t.add_row(c.code, str(c.severity), c.title, c.docs)
    else:
        for c in chosen:
            t.add_row(c.code, str(c.severity), c.title)
    out.print(t)
