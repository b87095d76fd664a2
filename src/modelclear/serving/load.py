"""Load generator: closed-loop concurrency levels and an open-loop Poisson arrival rate.

Closed loop (N workers, each sends its next request when the last one ends) answers "how does
latency grow with concurrent users"; open loop (requests arrive at random, at a mean rate,
whether or not earlier ones finished) answers "what happens at this traffic", including
queueing, which a closed loop hides. Both are bounded twice: by a request count and by a
duration after which no new request is sent; each request is itself bounded by a total
timeout, so a level can never run longer than ``max_duration + request_timeout``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .client import Completion, OpenAIClient
from .metrics import SLO, LevelSummary, RequestMetrics, request_metrics, summarise
from .prompts import BenchPrompt, PromptSource

MAX_REQUESTS_PER_LEVEL = 100_000
MAX_CONCURRENCY = 4096


@dataclass(frozen=True)
class BenchConfig:
    concurrency: tuple[int, ...] = (1,)
    rates: tuple[float, ...] = ()
    num_requests: int = 20
    max_duration: float = 120.0
    request_timeout: float = 300.0
    warmup: int = 1
    temperature: float = 0.0
    seed: int = 0
    max_in_flight: int = 256
    slo: SLO | None = None
    percentiles: tuple[float, ...] = (50.0, 90.0, 99.0)
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LevelResult:
    summary: LevelSummary
    requests: tuple[RequestMetrics, ...]


Callback = Callable[[str, int], None]


async def _one(
    client: OpenAIClient, p: BenchPrompt, cfg: BenchConfig, seed: int
) -> Completion:
    started = time.perf_counter()
    try:
        return await asyncio.wait_for(
            client.stream(
                p.messages,
                max_tokens=p.max_tokens,
                temperature=cfg.temperature,
                seed=seed,
                extra=cfg.extra_body or None,
            ),
            timeout=cfg.request_timeout,
        )
    except TimeoutError:
        return Completion(
            start=started,
            end=time.perf_counter(),
            error=f"timeout: request exceeded {cfg.request_timeout:g} s",
        )


async def warmup(client: OpenAIClient, prompts: PromptSource, cfg: BenchConfig) -> list[Completion]:
    """Sequential warm-up requests (excluded from results): load weights, fill allocators."""
    out = []
    for i in range(cfg.warmup):
        out.append(await _one(client, prompts.next(), cfg, cfg.seed + 1_000_000 + i))
    return out


async def closed_loop(
    client: OpenAIClient,
    prompts: PromptSource,
    cfg: BenchConfig,
    concurrency: int,
    on_done: Callback | None = None,
) -> LevelResult:
    label = f"concurrency={concurrency}"
    t0 = time.perf_counter()
    deadline = t0 + cfg.max_duration
    issued = 0
    stopped_by = "requests"
    results: list[tuple[Completion, BenchPrompt]] = []

    async def worker() -> None:
        nonlocal issued, stopped_by
        while True:
            if issued >= cfg.num_requests:
                return
            if time.perf_counter() >= deadline:
                stopped_by = "duration"
                return
            issued += 1
            p = prompts.next()
            rec = await _one(client, p, cfg, cfg.seed + prompts.index)
            results.append((rec, p))
            if on_done:
                on_done(label, 1)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    counts = await _tokenized(client, results)
    return _level(label, "concurrency", concurrency, results, t0, cfg, stopped_by, counts)


async def poisson(
    client: OpenAIClient,
    prompts: PromptSource,
    cfg: BenchConfig,
    rate: float,
    on_done: Callback | None = None,
) -> LevelResult:
    label = f"rate={rate:g}/s"
    rng = random.Random(cfg.seed ^ 0x5EED)
    sem = asyncio.Semaphore(cfg.max_in_flight)
    results: list[tuple[Completion, BenchPrompt]] = []
    t0 = time.perf_counter()
    stopped_by = "requests"

    async def send(p: BenchPrompt, seed: int) -> None:
        try:
            rec = await _one(client, p, cfg, seed)
        finally:
            sem.release()
        results.append((rec, p))
        if on_done:
            on_done(label, 1)

    tasks = []
    at = t0
    for i in range(cfg.num_requests):
        if i:
            at += rng.expovariate(rate)
        if at - t0 >= cfg.max_duration:
            stopped_by = "duration"
            break
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await sem.acquire()
        p = prompts.next()
        tasks.append(asyncio.create_task(send(p, cfg.seed + prompts.index)))
    await asyncio.gather(*tasks)
    counts = await _tokenized(client, results)
    return _level(label, "rate", rate, results, t0, cfg, stopped_by, counts)


async def _tokenized(
    client: OpenAIClient, results: list[tuple[Completion, BenchPrompt]]
) -> list[int | None]:
    """Input tokens by the server's tokenizer for requests whose stream carried no usage,
    asked after the level so the extra requests never overlap the timed ones."""
    counts: list[int | None] = [None] * len(results)
    for i, (rec, p) in enumerate(results):
        if rec.usage and isinstance(rec.usage.get("prompt_tokens"), int):
            continue
        got = await client.count_prompt_tokens(p.messages)
        if got is None:
            break  # the server has no tokenizer route: estimates it is
        counts[i] = got[0]
    return counts


def _level(
    label: str,
    mode: str,
    value: float,
    results: list[tuple[Completion, BenchPrompt]],
    t0: float,
    cfg: BenchConfig,
    stopped_by: str,
    tokenized: list[int | None] | None = None,
) -> LevelResult:
    counts = tokenized or [None] * len(results)
    metrics = [request_metrics(rec, t0, p.input_estimate, n)
               for (rec, p), n in zip(results, counts, strict=True)]
    metrics.sort(key=lambda m: m.start)
    ends = [rec.end for rec, _ in results if rec.end is not None]
    duration = (max(ends) - t0) if ends else 0.0
    summary = summarise(
        label, mode, value, metrics, duration, cfg.slo, cfg.percentiles, stopped_by
    )
    return LevelResult(summary, tuple(metrics))


async def run_levels(
    client: OpenAIClient,
    prompts: PromptSource,
    cfg: BenchConfig,
    on_done: Callback | None = None,
) -> list[LevelResult]:
    out = []
    for c in cfg.concurrency:
        out.append(await closed_loop(client, prompts, cfg, c, on_done))
    for r in cfg.rates:
        out.append(await poisson(client, prompts, cfg, r, on_done))
    return out
