"""``modelclear scan``: is the release safe to load? (pickles, archives, code, templates)"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..cli import app
from ..config import load_config
from ..console import emit_json, progress, stdout_console
from ..engine import Engine, RunOptions, stages
from ..errors import InputError
from ..findings import Severity
from ..reports.sarif import to_sarif
from ..reports.scan import print_terminal
from ..reports.scan_lean import plain_wanted, print_plain
from ..schemas import document
from ..sources import open_release


class FailOn(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    never = "never"


@app.command()
def scan(
    target: str = typer.Argument(..., help="Directory, weights/GGUF file, "
                                 "org/name[@rev], or hf://org/name[@rev] on the hub."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    sarif: str | None = typer.Option(None, "--sarif", help="Also write SARIF 2.1.0 to FILE."),
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a finding reaches this severity.")
    ] = FailOn.high,
    config: str | None = typer.Option(None, "--config", help="modelclear.toml or pyproject.toml "
                                      "to use instead of the nearest one."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars; only problems."),
) -> None:
    """Check that loading a release cannot run code: pickles, archives, auto_map, templates."""
    cfg = load_config(config)
    release = open_release(target)
    with progress(not quiet and not json_out) as sink:
        report = Engine(release, RunOptions(config=cfg), progress=sink).require(stages.SECURITY)
    if sarif:
        try:
            Path(sarif).write_text(
                json.dumps(to_sarif(report, release.root), indent=2) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            raise InputError(sarif, f"cannot write: {exc.strerror or exc}") from None
    if json_out:
        emit_json(document("scan", report.to_json()))
    elif plain_wanted():  # piped: the plain lines the lean path writes too
        print_plain(report, sys.stdout, quiet=quiet)
    else:
        print_terminal(report, stdout_console(), quiet=quiet)
    if fail_on is not FailOn.never and report.reaches(Severity(fail_on.value)):
        raise typer.Exit(1)
