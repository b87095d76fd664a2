"""Run a whole benchmark and turn it into the ``modelclear.bench`` JSON document."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..schemas import VERSIONS
from .client import EndpointConfig, OpenAIClient
from .load import BenchConfig, LevelResult, run_levels, warmup
from .metrics import LevelSummary
from .options import now_iso, target_json, tool_version
from .prompts import PromptSource

DEFINITIONS = {
    "TTFB": "Time from sending the request to the first byte of the response body.",
    "TTFT": "Time from sending the request to the first chunk carrying generated text "
    "(content or reasoning). Role-only chunks do not count (vLLM's client counts the first "
    "chunk with choices, which on llama.cpp and vLLM carries no token).",
    "TPOT": "(E2EL - TTFT) / (output_tokens - 1): time per output token excluding the first, "
    "as in vLLM; undefined for one-token outputs.",
    "ITL": "Inter-token latency per chunk: the gap between consecutive token-bearing chunks "
    "(vLLM's itl).",
    "ITL per token": "Each chunk's gap divided evenly over the tokens it carried (tokens split "
    "over chunks by text length when the count comes from usage).",
    "E2EL": "Time from sending the request to the end of its stream ([DONE]).",
    "request_throughput": "Completed requests / duration (first send to last completion).",
    "output_throughput": "Output tokens of completed requests / duration.",
    "total_token_throughput": "(Input + output tokens) / duration.",
    "goodput": "Completed requests meeting every --slo bound (<=) / duration, as in vLLM.",
    "percentiles": "Linear interpolation between closest ranks (numpy's default).",
    "token counts": "From usage when the server sends it, else llama.cpp timings, else counted: "
    "output = token-bearing chunks; input = the server's own tokenizer (vLLM or llama.cpp "
    "/tokenize, llama-cpp-python /extras/tokenize/count, asked after each level), else "
    "estimated from prompt words (1.3 tokens/word); token_sources says which.",
}


@dataclass(frozen=True)
class BenchOutcome:
    document: dict[str, Any]
    levels: tuple[LevelResult, ...]
    findings: tuple[Finding, ...]


def level_findings(s: LevelSummary) -> list[Finding]:
    out = []
    if s.failed:
        out.append(finding(
            "MC580",
            f"{s.label}: {s.failed} of {s.requests} requests failed "
            + ", ".join(f"{k} ×{v}" for k, v in s.errors.items()),
            level=s.label, failed=s.failed, requests=s.requests,
        ))
    if s.good_requests is not None and s.good_requests < s.completed:
        out.append(finding(
            "MC581",
            f"{s.label}: {s.completed - s.good_requests} of {s.completed} completed requests "
            f"missed the SLO (goodput {s.goodput:.3g} req/s vs {s.request_throughput:.3g} req/s)",
            level=s.label,
        ))
    counted = s.token_sources.get("output", {}).get("counted", 0)
    if counted:
        inputs = ", ".join(f"{k} ×{v}" for k, v in s.token_sources.get("input", {}).items())
        out.append(finding(
            "MC582",
            f"{s.label}: output tokens counted from chunks for {counted} requests; input "
            f"tokens: {inputs or 'unknown'}",
            level=s.label,
        ))
    if s.stopped_by == "duration":
        out.append(finding(
            "MC583", f"{s.label}: stopped at --max-duration after {s.requests} requests",
            level=s.label,
        ))
    return out


def run_bench(
    endpoint: EndpointConfig,
    cfg: BenchConfig,
    prompts: PromptSource,
    on_start: Callable[[str, int], None] | None = None,
    on_done: Callable[[str, int], None] | None = None,
) -> BenchOutcome:
    async def main() -> tuple[list[str], list[Any], list[LevelResult]]:
        width = max([*cfg.concurrency, 1]) + (cfg.max_in_flight if cfg.rates else 0)
        async with OpenAIClient(endpoint, max_connections=width) as client:
            served = await client.models()
            warm = await warmup(client, prompts, cfg)
            if warm and not any(w.ok for w in warm):
                raise InputError(endpoint.base_url, f"warm-up failed: {warm[-1].error}")
            if on_start:
                for c in cfg.concurrency:
                    on_start(f"concurrency={c}", cfg.num_requests)
                for r in cfg.rates:
                    on_start(f"rate={r:g}/s", cfg.num_requests)
            levels = await run_levels(client, prompts, cfg, on_done)
            return served, warm, levels

    started = now_iso()
    served, warm, levels = asyncio.run(main())
    found = [f for lv in levels for f in level_findings(lv.summary)]
    doc: dict[str, Any] = {
        "schema_version": VERSIONS["bench"],
        "kind": "modelclear.bench",
        "tool_version": tool_version(),
        "created": started,
        "target": {**target_json(endpoint), "served_models": served},
        "config": {
            "concurrency": list(cfg.concurrency),
            "rates": list(cfg.rates),
            "num_requests": cfg.num_requests,
            "max_duration_s": cfg.max_duration,
            "request_timeout_s": cfg.request_timeout,
            "warmup": cfg.warmup,
            "warmup_ok": sum(1 for w in warm if w.ok),
            "input_len": prompts.input_len,
            "output_len": prompts.output_len,
            "prompt_source": "file" if prompts.file_prompts is not None else "synthetic",
            "temperature": cfg.temperature,
            "seed": cfg.seed,
            "max_in_flight": cfg.max_in_flight,
            "slo": cfg.slo.to_json() if cfg.slo else None,
            "extra_body": cfg.extra_body,
        },
        "definitions": DEFINITIONS,
        "levels": [lv.summary.to_json() for lv in levels],
        "findings": [f.to_json() for f in found],
    }
    return BenchOutcome(doc, tuple(levels), tuple(found))


def samples_for_html(levels: tuple[LevelResult, ...]) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for lv in levels:
        ok = [m for m in lv.requests if m.ok]
        out[lv.summary.label] = {
            "ttft": [m.ttft * 1000 for m in ok if m.ttft is not None],
            "e2el": [m.e2el * 1000 for m in ok if m.e2el is not None],
            "tpot": [m.tpot * 1000 for m in ok if m.tpot is not None],
            "itl": [x * 1000 for m in ok for x in m.itl_chunk],
        }
    return out
