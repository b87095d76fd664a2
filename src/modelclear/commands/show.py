"""``modelclear show``: one record, checked against its schema and self-hash."""

from __future__ import annotations

import typer

from ..cli import app
from ..console import emit_json, stdout_console


@app.command()
def show(
    record_ref: str = typer.Argument(
        ..., help="Record id (or unique prefix), or a record JSON file."
    ),
    registry: str | None = typer.Option(None, "--registry", help="Database URL or SQLite path."),
    json_out: bool = typer.Option(False, "--json", help="The whole record as JSON."),
) -> None:
    """Print a clearance record."""
    out = stdout_console()
    from ..record.cli_support import resolve_record
    from ..reports.record import record_details

    rec = resolve_record(record_ref, registry)
    if json_out:
        emit_json(rec.to_json())
    else:
        out.print(record_details(rec))
