"""Serving metrics with vLLM's ``benchmark_serving`` definitions, computed from timed chunks.

Definitions (all times from the moment the request is sent):

- **TTFB**: first byte of the response body.
- **TTFT**: first chunk that carries generated text (content or reasoning). vLLM's client
  stamps TTFT on the first chunk with ``choices``, which on llama.cpp and vLLM is a role-only
  chunk with no token; we wait for a token and report TTFB separately.
- **E2EL**: end of the stream (``[DONE]`` or the last event).
- **TPOT**: ``(E2EL - TTFT) / (output_tokens - 1)``; undefined for one-token outputs. The first
  token is excluded, as in vLLM.
- **ITL per chunk**: gap between consecutive token-bearing chunks (vLLM's ``itl``).
- **ITL per token**: each chunk's gap divided evenly over the tokens it carried, so a server
  that batches several tokens per chunk is not credited with one long "inter-token" pause.
- **Throughput**: completed requests, output tokens and input+output tokens per second of
  benchmark duration (first send to last completion).
- **Goodput**: completed requests per second that met every given SLO (``<=``).

Token counts come from ``usage`` when the server sends it, else from llama.cpp ``timings``,
else they are counted: output tokens as token-bearing chunks (exact for servers that stream
one token per chunk, such as llama.cpp), input tokens estimated from the prompt text. The
source is recorded for every request and summarised.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .client import Completion

DEFAULT_PERCENTILES = (50.0, 90.0, 99.0)


@dataclass(frozen=True)
class RequestMetrics:
    ok: bool
    error: str | None
    start: float  # seconds since the level started
    ttfb: float | None
    ttft: float | None
    e2el: float | None
    tpot: float | None
    itl_chunk: tuple[float, ...]
    itl_token: tuple[float, ...]
    input_tokens: int | None
    output_tokens: int
    input_source: str
    output_source: str
    chunks: int


def token_split(chunk_lens: Sequence[int], total: int) -> list[int]:
    """Spread ``total`` tokens over chunks in proportion to their text length.

    Every chunk carried at least one token, so each gets one first; the remainder goes by
    largest fractional share (stable: ties go to the earlier chunk). When the server reports
    fewer tokens than chunks we trust the chunks.
    """
    n = len(chunk_lens)
    if n == 0:
        return []
    if total <= n:
        return [1] * n
    extra = total - n
    weights = [max(0, x - 1) for x in chunk_lens]
    wsum = sum(weights)
    if wsum == 0:
        weights = [1] * n
        wsum = n
    shares = [extra * w / wsum for w in weights]
    base = [math.floor(s) for s in shares]
    left = extra - sum(base)
    order = sorted(range(n), key=lambda i: (-(shares[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return [1 + b for b in base]


def request_metrics(
    rec: Completion,
    origin: float,
    input_estimate: int | None = None,
    input_tokenized: int | None = None,
) -> RequestMetrics:
    """Per-request metrics from one timed stream. ``origin`` is the level's start time."""
    start = rec.start - origin
    ttfb = rec.first_byte - rec.start if rec.first_byte is not None else None
    chunks = rec.chunks
    if rec.usage and isinstance(rec.usage.get("completion_tokens"), int):
        out_tokens, out_src = int(rec.usage["completion_tokens"]), "usage"
    elif rec.timings and isinstance(rec.timings.get("predicted_n"), int):
        out_tokens, out_src = int(rec.timings["predicted_n"]), "timings"
    else:
        out_tokens, out_src = len(chunks), "counted"
    if rec.usage and isinstance(rec.usage.get("prompt_tokens"), int):
        in_tokens, in_src = int(rec.usage["prompt_tokens"]), "usage"
    elif input_tokenized is not None:
        in_tokens, in_src = input_tokenized, "tokenized"
    elif input_estimate is not None:
        in_tokens, in_src = input_estimate, "estimated"
    else:
        in_tokens, in_src = None, "unknown"
    if not rec.ok or not chunks:
        return RequestMetrics(
            ok=rec.ok,
            error=rec.error,
            start=start,
            ttfb=ttfb,
            ttft=None,
            e2el=(rec.end - rec.start) if rec.ok and rec.end else None,
            tpot=None,
            itl_chunk=(),
            itl_token=(),
            input_tokens=in_tokens,
            output_tokens=out_tokens if rec.ok else 0,
            input_source=in_src,
            output_source=out_src,
            chunks=len(chunks),
        )
    ttft = chunks[0].time - rec.start
    end = rec.end if rec.end is not None else chunks[-1].time
    e2el = end - rec.start
    tpot = (e2el - ttft) / (out_tokens - 1) if out_tokens > 1 else None
    itl_chunk = tuple(chunks[i].time - chunks[i - 1].time for i in range(1, len(chunks)))
    split = token_split([c.text_len for c in chunks], out_tokens)
    itl_token: list[float] = []
    for i in range(1, len(chunks)):
        k = split[i]
        itl_token += [itl_chunk[i - 1] / k] * k
    return RequestMetrics(
        ok=True,
        error=None,
        start=start,
        ttfb=ttfb,
        ttft=ttft,
        e2el=e2el,
        tpot=tpot,
        itl_chunk=itl_chunk,
        itl_token=tuple(itl_token),
        input_tokens=in_tokens,
        output_tokens=out_tokens,
        input_source=in_src,
        output_source=out_src,
        chunks=len(chunks),
    )


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    if not sorted_values:
        raise ValueError("percentile of nothing")
    pos = (len(sorted_values) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


@dataclass(frozen=True)
class Stats:
    count: int
    mean: float | None
    median: float | None
    std: float | None
    min: float | None
    max: float | None
    percentiles: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls, values: Sequence[float], pcts: Sequence[float] = DEFAULT_PERCENTILES, scale: float = 1
    ) -> Stats:
        vals = sorted(v * scale for v in values)
        if not vals:
            return cls(0, None, None, None, None, None, {})
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
        return cls(
            count=len(vals),
            mean=mean,
            median=percentile(vals, 50),
            std=std,
            min=vals[0],
            max=vals[-1],
            percentiles={f"p{p:g}": percentile(vals, p) for p in pcts},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean": self.mean,
            "median": self.median,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            **self.percentiles,
        }


@dataclass(frozen=True)
class SLO:
    """Service-level objectives in milliseconds; ``None`` means not constrained."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None
    e2el_ms: float | None = None

    @property
    def empty(self) -> bool:
        return self.ttft_ms is None and self.tpot_ms is None and self.e2el_ms is None

    def met(self, m: RequestMetrics) -> bool:
        if not m.ok or m.ttft is None or m.e2el is None:
            return False
        if self.ttft_ms is not None and m.ttft * 1000 > self.ttft_ms:
            return False
        # vLLM treats a one-token output's TPOT as 0.
        if self.tpot_ms is not None and (m.tpot or 0.0) * 1000 > self.tpot_ms:
            return False
        return not (self.e2el_ms is not None and m.e2el * 1000 > self.e2el_ms)

    def to_json(self) -> dict[str, float | None]:
        return {"ttft_ms": self.ttft_ms, "tpot_ms": self.tpot_ms, "e2el_ms": self.e2el_ms}


def parse_slo(text: str) -> SLO:
    """``ttft:500,tpot:50,e2el:5000`` (milliseconds) → :class:`SLO`."""
    from ..errors import UsageError

    vals: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, num = part.partition(":")
        key = key.strip().lower()
        if not sep or key not in ("ttft", "tpot", "e2el"):
            raise UsageError(f"--slo: expected ttft:MS,tpot:MS,e2el:MS, got {part!r}")
        try:
            v = float(num)
        except ValueError:
            raise UsageError(f"--slo: {key} needs a number of milliseconds, got {num!r}") from None
        if not math.isfinite(v) or v <= 0:
            raise UsageError(f"--slo: {key} must be a positive number of milliseconds")
        vals[f"{key}_ms"] = v
    return SLO(**vals)


@dataclass(frozen=True)
class LevelSummary:
    """One load level (a concurrency or a request rate), summarised."""

    label: str
    mode: str  # concurrency | rate
    value: float
    requests: int
    completed: int
    failed: int
    duration: float
    errors: dict[str, int]
    request_throughput: float
    output_throughput: float
    total_token_throughput: float
    goodput: float | None
    good_requests: int | None
    total_input_tokens: int
    total_output_tokens: int
    token_sources: dict[str, dict[str, int]]
    ttfb_ms: Stats
    ttft_ms: Stats
    tpot_ms: Stats
    itl_ms: Stats
    itl_token_ms: Stats
    e2el_ms: Stats
    output_tokens: Stats
    stopped_by: str

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            out[k] = v.to_json() if isinstance(v, Stats) else v
        return out


def _error_key(msg: str) -> str:
    # Group errors by kind, not by their variable details (ports, ids).
    return msg.split(":")[0][:60] if msg else "error"


def summarise(
    label: str,
    mode: str,
    value: float,
    metrics: Sequence[RequestMetrics],
    duration: float,
    slo: SLO | None = None,
    pcts: Sequence[float] = DEFAULT_PERCENTILES,
    stopped_by: str = "requests",
) -> LevelSummary:
    ok = [m for m in metrics if m.ok]
    failed = [m for m in metrics if not m.ok]
    errors = Counter(_error_key(m.error or "empty response") for m in failed)
    tot_in = sum(m.input_tokens or 0 for m in ok)
    tot_out = sum(m.output_tokens for m in ok)
    dur = duration if duration > 0 else math.inf
    good = sum(1 for m in ok if slo.met(m)) if slo is not None and not slo.empty else None
    sources = {
        "input": dict(Counter(m.input_source for m in ok)),
        "output": dict(Counter(m.output_source for m in ok)),
    }

    def st(vals: list[float], scale: float = 1000.0) -> Stats:
        return Stats.of(vals, pcts, scale)

    return LevelSummary(
        label=label,
        mode=mode,
        value=value,
        requests=len(metrics),
        completed=len(ok),
        failed=len(failed),
        duration=duration,
        errors=dict(errors),
        request_throughput=len(ok) / dur,
        output_throughput=tot_out / dur,
        total_token_throughput=(tot_in + tot_out) / dur,
        goodput=(good / dur) if good is not None else None,
        good_requests=good,
        total_input_tokens=tot_in,
        total_output_tokens=tot_out,
        token_sources=sources,
        ttfb_ms=st([m.ttfb for m in ok if m.ttfb is not None]),
        ttft_ms=st([m.ttft for m in ok if m.ttft is not None]),
        tpot_ms=st([m.tpot for m in ok if m.tpot is not None]),
        itl_ms=st([x for m in ok for x in m.itl_chunk]),
        itl_token_ms=st([x for m in ok for x in m.itl_token]),
        e2el_ms=st([m.e2el for m in ok if m.e2el is not None]),
        output_tokens=st([float(m.output_tokens) for m in ok], 1.0),
        stopped_by=stopped_by,
    )
