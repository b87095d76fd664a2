"""``modelclear export``: a record (stored, or made now) as CycloneDX or compliance docs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..cli import app
from ..console import progress
from ..errors import InputError, UsageError

if TYPE_CHECKING:
    from ..record.model import Record

FORMATS = ("cyclonedx", "markdown", "html")


def _resolve(ref: str, registry: str | None, profile: str | None, reviewer: str | None,
             quiet: bool, config: str | None = None) -> Record:
    """An existing path is a release (or a record JSON file); a hex id is a stored record;
    anything else is opened as a release. A release is recorded on the fly, not stored."""
    from ..record.builder import build
    from ..record.cli_support import load_profile, looks_like_id, record_from_file
    from ..record.model import RecordError
    from ..record.registry import Registry
    from ..sources import open_release

    p = Path(ref)
    if p.is_file() and p.suffix.lower() == ".json":
        try:
            return record_from_file(p)
        except RecordError:
            pass  # a JSON file that is not a record: treat it as a release below
    if not p.exists() and looks_like_id(ref):
        with Registry(registry) as reg:
            found = reg.find(ref)
            where = reg.display_url
        if found is not None:
            return found
        if "/" not in ref:
            raise InputError(ref, f"no record with this id in {where}, and no such release")
    from ..config import load_config

    cfg = load_config(config)
    release = open_release(ref)
    with progress(not quiet, transfer=True) as sink:
        return build(release, profile=load_profile(profile or cfg.profile), reviewer=reviewer,
                     progress=sink, config=cfg)


@app.command()
def export(
    target: str = typer.Argument(..., help="Record id, record JSON file, or a release."),
    fmt: str = typer.Option(..., "--format", "-f", help="cyclonedx, markdown or html."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
    registry: str | None = typer.Option(None, "--registry", help="Database URL or SQLite path."),
    profile: str | None = typer.Option(
        None, "--profile", "-p", help="Profile for a release exported without a record."
    ),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Reviewer, same case."),
    config: str | None = typer.Option(None, "--config", help="modelclear.toml or pyproject.toml "
                                      "for a release exported without a record."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Export a clearance record as a CycloneDX 1.6 ML-BOM or compliance documentation."""
    from ..reports import compliance, cyclonedx

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    rec = _resolve(target, registry, profile, reviewer, quiet or output is None, config)
    text = cyclonedx.render(rec) if fmt == "cyclonedx" else compliance.render(rec, fmt)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(str(output), f"cannot write: {exc.strerror or exc}") from None
