"""Full serving benchmark against a real OpenAI-compatible server, with two side-by-sides.

    python benchmarks/serving_bench.py URL MODEL [--out DIR] [--quick]

1. ``modelclear bench`` at closed-loop concurrency 1, 2, 4 and an open-loop Poisson rate,
   written as JSON and HTML into DIR.
2. Prefix-cache side-by-side: the same number of sequential requests with ONE repeated prompt
   (what a naive benchmark loop sends) against modelclear's nonce-varied prompts. On a server
   with a prefix cache, the repeated prompt's TTFT is much smaller: the ratio shows how much a
   naive benchmark would flatter the server.
3. TTFT definition side-by-side: vLLM's client stamps TTFT on the first chunk with
   ``choices`` (for llama.cpp a role-only chunk), which is our TTFB; we wait for the first
   token. The ratio shows how far apart the two definitions are on this server.

With the CI server started by ``.ci/llama-server.sh``, URL and MODEL default to
MODELCLEAR_TEST_SERVER_URL / MODELCLEAR_TEST_SERVER_MODEL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from pathlib import Path

from modelclear.reports.bench_html import render_bench
from modelclear.serving.bench import run_bench, samples_for_html
from modelclear.serving.client import EndpointConfig, OpenAIClient
from modelclear.serving.load import BenchConfig
from modelclear.serving.metrics import request_metrics
from modelclear.serving.prompts import PromptSource


async def _sequential(ep: EndpointConfig, prompts: list[list[dict[str, str]]], max_tokens: int
                      ) -> list[float]:
    out = []
    async with OpenAIClient(ep) as c:
        for msgs in prompts:
            rec = await c.stream(msgs, max_tokens=max_tokens, temperature=0.0, seed=0)
            m = request_metrics(rec, rec.start)
            if m.ttft is not None:
                out.append(m.ttft * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", nargs="?", default=os.environ.get("MODELCLEAR_TEST_SERVER_URL"))
    ap.add_argument("model", nargs="?", default=os.environ.get("MODELCLEAR_TEST_SERVER_MODEL"))
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    ap.add_argument("--quick", action="store_true", help="Small counts (CI smoke run).")
    args = ap.parse_args()
    if not args.url or not args.model:
        print("give URL and MODEL (or start .ci/llama-server.sh)", file=sys.stderr)
        return 2
    n = 4 if args.quick else 20
    ep = EndpointConfig(url=args.url, model=args.model, timeout=120)
    cfg = BenchConfig(concurrency=(1, 2, 4), rates=(1.0,), num_requests=n, max_duration=300,
                      warmup=2, seed=0)
    prompts = PromptSource(input_len=128, output_len=64, seed=0)
    outcome = run_bench(ep, cfg, prompts)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(outcome.document, indent=2), "utf-8")
    (args.out / "bench.html").write_text(
        render_bench(outcome.document, samples_for_html(outcome.levels)), "utf-8")

    print(f"modelclear bench {args.model} @ {args.url}: {n} requests per level, input ~128 "
          "tokens (estimated), max_tokens 64")
    hdr = ("level", "ok", "req/s", "out tok/s", "TTFB med", "TTFT med", "TTFT p99", "TPOT med",
           "ITL med", "ITL p99", "E2EL med", "E2EL p99")
    print(" | ".join(hdr))
    for lv in outcome.document["levels"]:
        row = [lv["label"], f"{lv['completed']}/{lv['requests']}",
               f"{lv['request_throughput']:.2f}", f"{lv['output_throughput']:.1f}"]
        for key, stat in (("ttfb_ms", "median"), ("ttft_ms", "median"), ("ttft_ms", "p99"),
                          ("tpot_ms", "median"), ("itl_ms", "median"), ("itl_ms", "p99"),
                          ("e2el_ms", "median"), ("e2el_ms", "p99")):
            v = lv[key].get(stat)
            row.append("-" if v is None else f"{v:.1f}")
        print(" | ".join(row))

    k = 3 if args.quick else 8
    fixed = [[{"role": "user", "content": "Describe a lighthouse on a stormy night in detail. "
               * 8}]] * (k + 1)
    varied_src = PromptSource(input_len=128, output_len=8, seed=99)
    varied = [varied_src.next().messages for _ in range(k)]
    rep = asyncio.run(_sequential(ep, fixed, 8))[1:]  # first one fills the cache
    var = asyncio.run(_sequential(ep, varied, 8))
    if rep and var:
        r, v = statistics.median(rep), statistics.median(var)
        print(f"\nprefix cache: median TTFT repeated prompt {r:.1f} ms vs varied prompts "
              f"{v:.1f} ms (ratio varied/repeated {v / r:.1f}x)")
    lv0 = outcome.document["levels"][0]
    ttfb, ttft = lv0["ttfb_ms"]["median"], lv0["ttft_ms"]["median"]
    if ttfb and ttft:
        print(f"TTFT definitions at concurrency 1: first chunk (vLLM client) {ttfb:.1f} ms vs "
              f"first token (modelclear) {ttft:.1f} ms (ratio {ttft / ttfb:.3f})")
    print(f"\nJSON and HTML report in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
