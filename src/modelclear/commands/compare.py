"""``modelclear compare``: the license comparison table across releases or license files."""

from __future__ import annotations

from typing import Annotated

import typer

from ..analyzers.policy.profile import resolve_profile
from ..cli import app
from ..config import load_config
from ..console import stdout_console
from ..pipeline import run_target
from ..reports import compare as report
from ..reports.audit import PROFILE_HELP, Format, write_output


@app.command()
def compare(
    targets: Annotated[list[str], typer.Argument(
        help="Releases (directory, file, org/name[@rev]) or bare license text files.")],
    profile: str | None = typer.Option(None, "--profile", "-p", help=PROFILE_HELP),
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Table format.")] = Format.terminal,
    output: str | None = typer.Option(None, "--output", "-o", help="Write the table here."),
    config: str | None = typer.Option(None, "--config", help="Configuration file to use."),
) -> None:
    """Compare license terms side by side; each cell cites its clause."""
    cfg = load_config(config)
    prof = resolve_profile(profile, cfg.profile, required=False)
    results = [run_target(t, prof, config=cfg) for t in targets]
    comp = report.build(results, prof.name if prof else None)
    if fmt is Format.terminal and output is None:
        report.print_terminal(comp, stdout_console())
    else:
        write_output(report.render(comp, fmt.value), output)
