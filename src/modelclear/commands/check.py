"""``modelclear check``: the deployment checklist for one release and one profile."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..analyzers.policy.model import FailOn, Status, reaches
from ..analyzers.policy.profile import resolve_profile
from ..cli import app
from ..config import load_config
from ..console import emit_json, progress, stdout_console
from ..pipeline import AuditResult, load_probe_results, run_target
from ..reports.audit import (
    PROFILE_HELP,
    assumption_rows,
    check_dict,
    obligation_dict,
    print_checks,
)
from ..schemas import VERSIONS


def check_json(result: AuditResult) -> dict[str, Any]:
    pol = result.policy
    assert pol is not None
    return {
        "schema_version": VERSIONS["check"],
        "target": result.target,
        "profile": pol.profile,
        "scope": pol.scope,
        "license": pol.license_id,
        "verdict": str(pol.verdict),
        "assumptions": assumption_rows(pol),
        "counts": {s.value: len(pol.by_status(s)) for s in Status},
        "checks": [check_dict(c) for c in pol.checks],
        "obligations": [obligation_dict(o) for o in pol.obligations],
        "notes": [n.model_dump(mode="json") for n in pol.notes],
        "analyzers": result.analyzers,
    }


@app.command()
def check(
    target: str = typer.Argument(..., help="Release directory, weights/GGUF file, org/name[@rev],"
                                 " hf://org/name[@rev] on the hub,"
                                 " or a bare license text file."),
    profile: str | None = typer.Option(None, "--profile", "-p", help=PROFILE_HELP),
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Exit 1 when the verdict reaches this level.")] = FailOn.blocked,
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    probe_results: str | None = typer.Option(None, "--probe-results",
                                             help="JSON from `modelclear probe --json`."),
    config: str | None = typer.Option(None, "--config", help="modelclear.toml or pyproject.toml "
                                      "to use instead of the nearest one."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Show the evidence of CLEAR checks too."),
    server: str | None = typer.Option(None, "--server", help="Review server URL: fetch the "
                                      "team's approved decision instead of analysing."),
    token_env: str = typer.Option("MODELCLEAR_TOKEN", "--token-env",
                                  help="Environment variable holding the server's API token."),
) -> None:
    """Check a release against a deployment profile: CLEAR / REVIEW / BLOCKED with reasons."""
    if server is not None:
        from ..server.client import describe, fetch_decision

        doc = fetch_decision(server, token_env, target, profile)
        if json_out:
            emit_json(doc)
        else:
            stdout_console().print(describe(doc), highlight=False, markup=False)
        raise typer.Exit(0 if doc["approved"] else 1)
    cfg = load_config(config)
    prof = resolve_profile(profile, cfg.profile, required=True)
    probes = load_probe_results(probe_results) if probe_results else None
    with progress(not quiet and not json_out) as sink:
        result = run_target(target, prof, progress=sink, probe_results=probes, config=cfg)
    if json_out:
        emit_json(check_json(result))
    else:
        print_checks(result, stdout_console(), verbose=verbose)
    if result.policy is not None and reaches(result.policy.verdict, fail_on):
        raise typer.Exit(1)
