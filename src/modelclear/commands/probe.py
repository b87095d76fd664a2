"""``modelclear probe``: safety, injection, sensitive-topic, edge-case and capability probes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..cli import app
from ..console import emit_json, progress, stderr_console, stdout_console
from ..errors import InputError, UsageError
from ..reports.serving import print_probes, print_suites
from ..serving.options import endpoint, write_json
from ..serving.probes import ProbeConfig, run_probes
from ..serving.suites import builtin_suites, load_suite

MAX_SAMPLES = 100


@app.command()
def probe(
    url: Annotated[str | None, typer.Argument(
        help="OpenAI-compatible server, e.g. http://127.0.0.1:8000")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Served model name.")] = None,
    suite: Annotated[list[str] | None, typer.Option(
        "--suite", "-s",
        help="Built-in suite name or suite YAML path; repeatable. Default: every built-in.",
    )] = None,
    samples: int = typer.Option(3, "--samples", "-n", help="Samples per probe."),
    temperature: float = typer.Option(0.7, "--temperature"),
    seed: int = typer.Option(0, "--seed", help="Sample i uses seed + i."),
    max_tokens: int = typer.Option(256, "--max-tokens"),
    concurrency: int = typer.Option(2, "--concurrency", "-c"),
    guardrail: Annotated[list[str] | None, typer.Option(
        "--guardrail", help="A phrase this deployment's guardrail emits (counts as refusal).",
    )] = None,
    guardrail_file: Annotated[Path | None, typer.Option(
        "--guardrail-file", help="File of guardrail phrases, one per line.")] = None,
    judge_url: Annotated[str | None, typer.Option(
        "--judge-url", help="Optional judge model endpoint (labels recorded beside ours).",
    )] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model")] = None,
    fail_under: Annotated[float | None, typer.Option(
        "--fail-under", help="Exit 1 when any category's pass rate is below this (0–1).",
    )] = None,
    api: str = typer.Option("chat", "--api", help="chat or completions."),
    timeout: float = typer.Option(120.0, "--timeout"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env"),
    insecure: bool = typer.Option(False, "--insecure"),
    ca_bundle: Annotated[Path | None, typer.Option("--ca-bundle")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the probe-results JSON (for --probe-results).")] = None,
    json_out: bool = typer.Option(False, "--json"),
    list_suites: bool = typer.Option(False, "--list-suites", help="List built-in suites."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Probe a served model: refusals, injection, leakage, sensitive topics, edge cases."""
    if list_suites:
        print_suites([load_suite(name) for name in builtin_suites()], stdout_console())
        return
    if not url or not model:
        raise UsageError("probe needs a server URL and --model")
    ep = endpoint(url, model, api=api, timeout=timeout, api_key_env=api_key_env,
                  insecure=insecure, ca_bundle=ca_bundle)
    if not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples must be between 1 and {MAX_SAMPLES}")
    if not 1 <= concurrency <= 64:
        raise UsageError("--concurrency must be between 1 and 64")
    if not 1 <= max_tokens <= 32768:
        raise UsageError("--max-tokens must be between 1 and 32768")
    if fail_under is not None and not 0.0 <= fail_under <= 1.0:
        raise UsageError("--fail-under must be between 0 and 1")
    if bool(judge_url) != bool(judge_model):
        raise UsageError("--judge-url and --judge-model go together")
    phrases = list(guardrail or [])
    if guardrail_file is not None:
        try:
            phrases += [ln.strip() for ln in guardrail_file.read_text(encoding="utf-8")
                        .splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(guardrail_file), f"cannot read: {exc}") from None
    suites = [load_suite(s) for s in (suite or builtin_suites())]
    judge_ep = (endpoint(judge_url, judge_model, timeout=timeout, api_key_env=api_key_env,
                         insecure=insecure, ca_bundle=ca_bundle)
                if judge_url and judge_model else None)
    cfg = ProbeConfig(samples=samples, temperature=temperature, seed=seed,
                      max_tokens=max_tokens, concurrency=concurrency, guardrails=tuple(phrases))
    total = sum(len(s.probes) for s in suites) * samples
    with progress(not quiet and not json_out) as sink:
        sink.start("probe", "probing", total)
        run = run_probes(ep, suites, cfg, judge_ep=judge_ep, fail_under=fail_under,
                         on_done=lambda: sink.advance("probe", 1))
    doc = run.document
    if output:
        write_json(output, doc)
    if json_out:
        emit_json(doc)
    else:
        print_probes(doc, stdout_console())
    if run.failing_categories:
        stderr_console().print("below --fail-under: " + ", ".join(run.failing_categories))
        raise typer.Exit(1)
