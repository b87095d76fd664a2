"""``modelclear verify``: what changed since the release was recorded."""

from __future__ import annotations

import typer

from ..cli import app
from ..console import emit_json, progress, stdout_console
from ..errors import InputError


@app.command()
def verify(
    target: str = typer.Argument(..., help="Directory, weights/GGUF file, or org/name[@rev]."),
    record_ref: str | None = typer.Option(
        None, "--record", help="Record id (or prefix); default: the model's latest record."
    ),
    registry: str | None = typer.Option(None, "--registry", help="Database URL or SQLite path."),
    fail_on: str = typer.Option(
        "info", "--fail-on",
        help="Exit 1 when a drift finding reaches this severity: info (any drift), low, "
        "medium, high, critical, or never.",
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Re-read every file."),
    config: str | None = typer.Option(
        None, "--config", help="modelclear.toml or pyproject.toml (ignored codes, severities)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Compare a release with its clearance record; exit 1 when it drifted."""
    out = stdout_console()
    from ..config import load_config
    from ..record.cli_support import check_fail_on
    from ..record.model import Record
    from ..record.registry import Registry
    from ..record.verify import verify as verify_release
    from ..reports.record import drift_view
    from ..sources import open_release

    fail_on = check_fail_on(fail_on)
    from ..sources.base import require_bytes

    release = open_release(target)
    require_bytes(release, "verify")
    with Registry(registry) as reg:
        rec: Record | None
        if record_ref:
            rec = reg.get(record_ref)
        else:
            rec = reg.latest(release.source.model_id, release.source.location)
        if rec is None:
            raise InputError(
                target, f"no record of {release.source.model_id or release.source.location} in "
                f"{reg.display_url}; run `modelclear record {target}` first"
            )
    with progress(not quiet and not json_out, transfer=True) as sink:
        report = verify_release(release, rec, progress=sink, use_cache=not no_cache)
    report = report.with_config(load_config(config))
    if json_out:
        emit_json(report.to_json())
    else:
        out.print(drift_view(report, target))
    if report.fails(fail_on):
        raise typer.Exit(1)
