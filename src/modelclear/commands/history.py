"""``modelclear history``: the records of a model, oldest first."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app
from ..console import emit_json, stdout_console
from ..schemas import document


@app.command()
def history(
    model: str | None = typer.Argument(
        None, help="Model id (org/name), or a release path; all records when omitted."
    ),
    registry: str | None = typer.Option(None, "--registry", help="Database URL or SQLite path."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List clearance records."""
    out = stdout_console()
    from ..record.registry import Registry
    from ..reports.record import history_table

    model_id = model
    location = None
    if model is not None and Path(model).exists():
        from ..sources import open_release

        src = open_release(model).source
        model_id, location = src.model_id, src.location
    with Registry(registry) as reg:
        rows = reg.history(model_id)
        url = reg.display_url
    if location is not None and any(r.location == location for r in rows):
        rows = [r for r in rows if r.location == location]
    if json_out:
        emit_json(document("history", {"registry": url,
                                        "records": [r.to_json() for r in rows]}))
        return
    if not rows:
        out.print(f"no records{f' of {model}' if model else ''} in {url}")
        return
    out.print(history_table(rows))
