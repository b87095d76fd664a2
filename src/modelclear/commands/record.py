"""``modelclear record``: write a clearance record into the registry."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app
from ..console import emit_json, progress, stdout_console
from ..errors import InputError


@app.command()
def record(
    target: str = typer.Argument(..., help="Directory, weights/GGUF file, "
                                 "org/name[@rev], or hf://org/name[@rev] on the hub."),
    profile: str | None = typer.Option(
        None, "--profile", "-p", help="Deployment profile (built-in name or YAML file)."
    ),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Who cleared the release."),
    note: str | None = typer.Option(None, "--note", help="Free text kept with the record."),
    retrieved_at: str | None = typer.Option(
        None, "--retrieved-at", help="When the files were downloaded (ISO 8601), if the "
        "file times are not right."
    ),
    registry: str | None = typer.Option(
        None, "--registry", help="Database URL or SQLite path (default: $MODELCLEAR_REGISTRY, "
        "else the user data directory)."
    ),
    config: str | None = typer.Option(
        None, "--config", help="modelclear.toml or pyproject.toml (its default profile)."
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Also write the record JSON to this file."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the record as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Record what was cleared: files and hashes, license texts, terms, verdicts, reviewer."""
    out = stdout_console()
    from ..config import load_config
    from ..record.builder import build
    from ..record.cli_support import load_profile
    from ..record.registry import Registry
    from ..reports.record import record_summary
    from ..sources import open_release

    release = open_release(target)
    cfg = load_config(config)
    prof = load_profile(profile or cfg.profile)
    # Open the registry first: a wrong URL or a missing driver should fail before hashing
    # a few hundred gigabytes, not after.
    with Registry(registry) as reg:
        with progress(not quiet and not json_out, transfer=True) as sink:
            rec = build(release, profile=prof, reviewer=reviewer, note=note,
                        retrieved_at=retrieved_at, progress=sink, config=cfg)
        reg.add(rec)
        url = reg.display_url
    if output is not None:
        try:
            Path(output).write_text(rec.canonical().decode("utf-8") + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(str(output), f"cannot write: {exc.strerror or exc}") from None
    if json_out:
        emit_json(rec.to_json())
    else:
        out.print(record_summary(rec, url))
