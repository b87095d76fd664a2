"""``modelclear baseline`` and ``modelclear drift``: has the served model changed?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..cli import app
from ..console import emit_json, progress, stderr_console, stdout_console
from ..errors import UsageError
from ..reports.serving import print_baseline, print_drift
from ..serving.drift import (
    BaselineParams,
    builtin_prompts,
    file_prompts,
    load_baseline,
    load_embedder,
    record_baseline,
    run_drift,
)
from ..serving.options import endpoint, write_json


@app.command()
def baseline(
    url: str = typer.Argument(..., help="OpenAI-compatible server, e.g. http://127.0.0.1:8000"),
    model: str = typer.Option(..., "--model", "-m", help="Served model name."),
    output: Path = typer.Option(..., "--output", "-o", help="Baseline JSON file to write."),  # noqa: B008
    prompts: Annotated[Path | None, typer.Option(
        "--prompts", help="Prompt file (text lines or JSONL); default: built-in set.")] = None,
    seed: int = typer.Option(1234, "--seed"),
    max_tokens: int = typer.Option(256, "--max-tokens"),
    concurrency: int = typer.Option(1, "--concurrency", "-c"),
    api: str = typer.Option("chat", "--api"),
    timeout: float = typer.Option(120.0, "--timeout"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env"),
    insecure: bool = typer.Option(False, "--insecure"),
    json_out: bool = typer.Option(False, "--json"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Save the model's temperature-0 outputs for a fixed prompt set."""
    ep = endpoint(url, model, api=api, timeout=timeout, api_key_env=api_key_env,
                  insecure=insecure)
    if not 1 <= max_tokens <= 32768 or not 1 <= concurrency <= 64:
        raise UsageError("--max-tokens must be 1–32768 and --concurrency 1–64")
    name, items = file_prompts(prompts) if prompts else builtin_prompts()
    params = BaselineParams(temperature=0.0, seed=seed, max_tokens=max_tokens,
                            concurrency=concurrency)
    with progress(not quiet and not json_out) as sink:
        sink.start("baseline", "baseline", len(items))
        doc = record_baseline(ep, name, items, params, lambda: sink.advance("baseline", 1))
    write_json(output, doc)
    errors = [i for i in doc["items"] if i["error"]]
    if json_out:
        emit_json(doc)
    else:
        print_baseline(doc, output, stdout_console())
    if errors and len(errors) == len(doc["items"]):
        stderr_console().print(f"every prompt failed: {errors[0]['error']}")
        raise typer.Exit(1)


@app.command()
def drift(
    url: str = typer.Argument(..., help="OpenAI-compatible server, e.g. http://127.0.0.1:8000"),
    baseline_file: Path = typer.Option(..., "--baseline", "-b", help="Baseline JSON."),  # noqa: B008
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Served model name (default: the baseline's).")] = None,
    threshold: float = typer.Option(
        0.0, "--threshold",
        help="Normalized word edit distance above which a prompt counts as drifted.",
    ),
    max_drift: float = typer.Option(
        0.0, "--max-drift", help="Exit 1 when the drifted fraction exceeds this (0–1)."
    ),
    embedding_model: Annotated[Path | None, typer.Option(
        "--embedding-model",
        help="Local sentence-transformers model dir for embedding similarity (optional).",
    )] = None,
    concurrency: int = typer.Option(1, "--concurrency", "-c"),
    api: str = typer.Option("chat", "--api"),
    timeout: float = typer.Option(120.0, "--timeout"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env"),
    insecure: bool = typer.Option(False, "--insecure"),
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    json_out: bool = typer.Option(False, "--json"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Rerun a baseline's prompts and report per-prompt changes; exit 1 past the threshold."""
    if not 0.0 <= threshold <= 1.0 or not 0.0 <= max_drift <= 1.0:
        raise UsageError("--threshold and --max-drift must be between 0 and 1")
    if not 1 <= concurrency <= 64:
        raise UsageError("--concurrency must be between 1 and 64")
    base = load_baseline(baseline_file)
    ep = endpoint(url, model or str(base["target"]["model"]), api=api, timeout=timeout,
                  api_key_env=api_key_env, insecure=insecure)
    embed = load_embedder(embedding_model) if embedding_model else None
    with progress(not quiet and not json_out) as sink:
        sink.start("drift", "drift", len(base["items"]))
        doc, found, failed = run_drift(ep, base, str(baseline_file), threshold, max_drift, embed,
                                       lambda: sink.advance("drift", 1), concurrency)
    if output:
        write_json(output, doc)
    if json_out:
        emit_json(doc)
    else:
        print_drift(doc, found, baseline_file, stdout_console())
    if failed:
        raise typer.Exit(1)
