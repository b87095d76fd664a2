"""``modelclear bench``: latency and throughput of a served model under load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..cli import app
from ..console import emit_json, progress, stderr_console, stdout_console
from ..errors import InputError, UsageError
from ..reports.bench_html import render_bench
from ..reports.serving import print_bench
from ..serving.bench import run_bench, samples_for_html
from ..serving.load import MAX_CONCURRENCY, MAX_REQUESTS_PER_LEVEL, BenchConfig
from ..serving.metrics import parse_slo
from ..serving.options import endpoint, parse_list, write_json
from ..serving.prompts import PromptSource


@app.command()
def bench(
    url: str = typer.Argument(..., help="OpenAI-compatible server, e.g. http://127.0.0.1:8000"),
    model: str = typer.Option(..., "--model", "-m", help="Served model name."),
    concurrency: str = typer.Option(
        "1", "--concurrency", "-c", help="Closed-loop concurrency levels, comma-separated."
    ),
    rate: str = typer.Option(
        "", "--rate", help="Open-loop Poisson arrival rates (requests/s), comma-separated."
    ),
    num_requests: int = typer.Option(20, "--num-requests", "-n", help="Requests per level."),
    max_duration: float = typer.Option(
        120.0, "--max-duration", help="Seconds per level after which no new request is sent."
    ),
    warmup_n: int = typer.Option(1, "--warmup", help="Warm-up requests, excluded from results."),
    input_len: int = typer.Option(128, "--input-len", help="Synthetic prompt length (tokens)."),
    output_len: int = typer.Option(64, "--output-len", help="max_tokens per request."),
    prompt_file: Annotated[Path | None, typer.Option(
        "--prompt-file", help="Prompts: text (one per line) or JSONL (prompt/messages)."
    )] = None,
    slo: str = typer.Option("", "--slo", help="Goodput SLO, e.g. ttft:500,tpot:50,e2el:5000 (ms)."),
    api: str = typer.Option("chat", "--api", help="chat or completions."),
    temperature: float = typer.Option(0.0, "--temperature"),
    seed: int = typer.Option(0, "--seed"),
    ignore_eos: bool = typer.Option(
        False, "--ignore-eos", help="Send ignore_eos=true (vLLM/SGLang) for fixed output lengths."
    ),
    max_in_flight: int = typer.Option(
        256, "--max-in-flight", help="Cap on concurrent requests in open-loop mode."
    ),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds without data, per request."),
    request_timeout: float = typer.Option(
        300.0, "--request-timeout", help="Total seconds per request."
    ),
    retries: int = typer.Option(0, "--retries", help="Retries on connection errors/5xx."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env"),
    insecure: bool = typer.Option(False, "--insecure", help="Skip TLS verification."),
    ca_bundle: Annotated[Path | None, typer.Option("--ca-bundle")] = None,
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document."),
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the JSON document.")] = None,
    html_out: Annotated[Path | None, typer.Option(
        "--html", help="Write a self-contained HTML report.")] = None,
    max_error_rate: float = typer.Option(
        1.0, "--max-error-rate", help="Exit 1 when a level's failed fraction exceeds this."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Benchmark latency and throughput (vLLM's metric definitions)."""
    ep = endpoint(url, model, api=api, timeout=timeout, retries=retries,
                  api_key_env=api_key_env, insecure=insecure, ca_bundle=ca_bundle)
    levels = parse_list(concurrency, int, "--concurrency") if concurrency else ()
    rates = parse_list(rate, float, "--rate") if rate else ()
    if not levels and not rates:
        raise UsageError("give at least one --concurrency level or --rate")
    if any(c > MAX_CONCURRENCY for c in levels):
        raise UsageError(f"--concurrency above {MAX_CONCURRENCY}")
    if not 1 <= num_requests <= MAX_REQUESTS_PER_LEVEL:
        raise UsageError(f"--num-requests must be between 1 and {MAX_REQUESTS_PER_LEVEL}")
    if max_duration <= 0 or request_timeout <= 0:
        raise UsageError("--max-duration and --request-timeout must be positive")
    if warmup_n < 0 or warmup_n > 100:
        raise UsageError("--warmup must be between 0 and 100")
    if not 1 <= max_in_flight <= MAX_CONCURRENCY:
        raise UsageError(f"--max-in-flight must be between 1 and {MAX_CONCURRENCY}")
    if not 0.0 <= max_error_rate <= 1.0:
        raise UsageError("--max-error-rate must be between 0 and 1")
    cfg = BenchConfig(
        concurrency=levels,
        rates=rates,
        num_requests=num_requests,
        max_duration=max_duration,
        request_timeout=request_timeout,
        warmup=warmup_n,
        temperature=temperature,
        seed=seed,
        max_in_flight=max_in_flight,
        slo=parse_slo(slo) if slo else None,
        extra_body={"ignore_eos": True} if ignore_eos else {},
    )
    prompts = PromptSource(input_len, output_len, seed, prompt_file)
    with progress(not quiet and not json_out) as sink:
        outcome = run_bench(
            ep, cfg, prompts,
            on_start=lambda label, n: sink.start(label, label, n),
            on_done=lambda label, n: sink.advance(label, n),
        )
    doc = outcome.document
    if output:
        write_json(output, doc)
    if html_out:
        try:
            html_out.write_text(render_bench(doc, samples_for_html(outcome.levels)),
                                encoding="utf-8")
        except OSError as exc:
            raise InputError(str(html_out), f"cannot write: {exc.strerror}") from None
    if json_out:
        emit_json(doc)
    else:
        print_bench(doc, stdout_console())
    bad = [lv for lv in doc["levels"]
           if lv["requests"] and (lv["failed"] / lv["requests"] > max_error_rate
                                  or lv["completed"] == 0)]
    if bad:
        stderr_console().print(f"{len(bad)} level(s) over the error budget: "
                     + ", ".join(lv["label"] for lv in bad))
        raise typer.Exit(1)
