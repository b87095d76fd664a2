"""``modelclear audit``: every analyzer on one release, as one report for a ticket."""

from __future__ import annotations

from typing import Annotated

import typer

from ..analyzers.policy.model import FailOn, reaches
from ..analyzers.policy.profile import resolve_profile
from ..cli import app
from ..config import load_config
from ..console import progress, stdout_console
from ..pipeline import load_probe_results, run_target
from ..reports import audit as report
from ..reports.audit import PROFILE_HELP, Format, write_output


@app.command()
def audit(
    target: str = typer.Argument(..., help="Release directory, weights/GGUF file, org/name[@rev],"
                                 " hf://org/name[@rev] on the hub, or a bare license text file."),
    profile: str | None = typer.Option(None, "--profile", "-p", help=PROFILE_HELP),
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.terminal,
    output: str | None = typer.Option(None, "--output", "-o", help="Write the report here."),
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Exit 1 when the verdict reaches this level.")] = FailOn.blocked,
    probe_results: str | None = typer.Option(None, "--probe-results",
                                             help="JSON from `modelclear probe --json`."),
    config: str | None = typer.Option(None, "--config", help="Configuration file to use."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Audit a release: contents, license terms, security, sizing, verdicts and obligations."""
    cfg = load_config(config)
    prof = resolve_profile(profile, cfg.profile, required=False)
    probes = load_probe_results(probe_results) if probe_results else None
    with progress(not quiet and fmt is Format.terminal and output is None) as sink:
        result = run_target(target, prof, progress=sink, probe_results=probes, config=cfg)
    if fmt is Format.terminal and output is None:
        report.print_terminal(result, stdout_console())
    else:
        write_output(report.render(result, fmt.value), output)
    if result.policy is not None and reaches(result.policy.verdict, fail_on):
        raise typer.Exit(1)
