"""Baselines of a served model's outputs and drift against them.

A baseline is the model's answers to a fixed prompt set at temperature 0 with a fixed seed.
Rerunning later with the same settings should reproduce them; when it does not, something
changed under the same name: the weights, the quantization, the chat template, the serving
engine or its sampling defaults. Distance is a normalized *word* edit distance (Levenshtein
over whitespace tokens divided by the longer length): word level because a one-word change
in a long answer matters, and character level would dilute it; normalized so one threshold
fits short and long answers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError
from ..findings import Finding, finding
from ..schemas import VERSIONS
from .client import EndpointConfig, OpenAIClient
from .options import now_iso, target_json, tool_version
from .probes import clean
from .prompts import _load_prompt_file

MAX_BASELINE_BYTES = 256 * 1024 * 1024
#: Word sequences are truncated to this length before the O(n·m) edit distance.
MAX_WORDS = 4000


@dataclass(frozen=True)
class BaselineParams:
    temperature: float = 0.0
    seed: int = 1234
    max_tokens: int = 256
    concurrency: int = 1
    request_timeout: float = 300.0


def builtin_prompts() -> tuple[str, list[dict[str, Any]]]:
    path = resources.files("modelclear") / "data" / "probes" / "baseline.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [{"id": p["id"], "messages": [{"role": "user", "content": p["prompt"]}]}
             for p in data["prompts"]]
    return f"modelclear:probes/baseline.yaml@{data['version']}", items


def file_prompts(path: Path) -> tuple[str, list[dict[str, Any]]]:
    msgs = _load_prompt_file(path)
    return str(path), [{"id": f"p{i + 1:03d}", "messages": m} for i, m in enumerate(msgs)]


async def _collect(ep: EndpointConfig, items: Sequence[dict[str, Any]], p: BaselineParams,
                   on_done: Callable[[], None] | None) -> tuple[list[dict[str, Any]], list[str]]:
    sem = asyncio.Semaphore(p.concurrency)
    async with OpenAIClient(ep, max_connections=p.concurrency) as client:
        served = await client.models()

        async def one(item: dict[str, Any]) -> dict[str, Any]:
            async with sem:
                try:
                    rec = await asyncio.wait_for(
                        client.stream(item["messages"], max_tokens=p.max_tokens,
                                      temperature=p.temperature, seed=p.seed),
                        timeout=p.request_timeout)
                    out = {"output": clean(rec.text), "finish_reason": rec.finish_reason,
                           "usage": rec.usage, "system_fingerprint": rec.system_fingerprint,
                           "model": rec.model, "error": rec.error}
                except TimeoutError:
                    out = {"output": "", "finish_reason": None, "usage": None,
                           "system_fingerprint": None, "model": None,
                           "error": f"timeout: over {p.request_timeout:g} s"}
            if on_done:
                on_done()
            return {"id": item["id"], "messages": item["messages"], **out}

        results = await asyncio.gather(*(one(it) for it in items))
    return list(results), served


def record_baseline(ep: EndpointConfig, prompt_set: str, items: Sequence[dict[str, Any]],
                    params: BaselineParams, on_done: Callable[[], None] | None = None
                    ) -> dict[str, Any]:
    created = now_iso()
    results, served = asyncio.run(_collect(ep, items, params, on_done))
    return {
        "schema_version": VERSIONS["baseline"],
        "kind": "modelclear.baseline",
        "tool_version": tool_version(),
        "created": created,
        "target": {**target_json(ep), "served_models": served},
        "params": params.__dict__,
        "prompt_set": prompt_set,
        "items": results,
    }


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(str(path), f"cannot read baseline: {exc.strerror}") from None
    if size > MAX_BASELINE_BYTES:
        raise InputError(str(path), f"baseline larger than {MAX_BASELINE_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(str(path), f"not a JSON baseline ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "modelclear.baseline":
        raise InputError(str(path), "not a modelclear baseline (kind != modelclear.baseline)")
    if data.get("schema_version") != VERSIONS["baseline"]:
        raise InputError(str(path), f"unsupported baseline schema_version "
                                    f"{data.get('schema_version')!r}")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise InputError(str(path), "baseline has no items")
    for i, it in enumerate(items):
        if (not isinstance(it, dict) or not isinstance(it.get("id"), str)
                or not isinstance(it.get("messages"), list)
                or not isinstance(it.get("output"), str)):
            raise InputError(str(path), f"item {i} needs id, messages and output")
    return data


def word_edit_distance(a: str, b: str) -> float:
    """Levenshtein distance over whitespace tokens, divided by the longer token count."""
    x, y = a.split()[:MAX_WORDS], b.split()[:MAX_WORDS]
    if not x and not y:
        return 0.0
    if not x or not y:
        return 1.0
    prev = list(range(len(y) + 1))
    for i, wx in enumerate(x, 1):
        cur = [i] + [0] * len(y)
        for j, wy in enumerate(y, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wx != wy))
        prev = cur
    return prev[-1] / max(len(x), len(y))


def normalized(text: str) -> str:
    return " ".join(text.lower().split())


EmbedFn = Callable[[list[str]], list[list[float]]]


def _cosine(u: Sequence[float], v: Sequence[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v, strict=True))
    nu = sum(a * a for a in u) ** 0.5
    nv = sum(b * b for b in v) ** 0.5
    return dot / (nu * nv) if nu and nv else 0.0


def load_embedder(model_path: Path) -> EmbedFn:
    """Embedding similarity from a *local* sentence-transformers model directory. Optional:
    used only when the package is installed and a local model path is given (nothing is
    downloaded)."""
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is None:
        raise InputError(str(model_path), "embedding similarity needs the optional "
                                          "sentence-transformers package")
    if not model_path.is_dir():
        raise InputError(str(model_path), "not a local model directory")
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)

    def embed(texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in model.encode(texts)]

    return embed


def compare(baseline: dict[str, Any], rerun: Sequence[dict[str, Any]], threshold: float,
            embed: EmbedFn | None = None) -> list[dict[str, Any]]:
    now = {r["id"]: r for r in rerun}
    out = []
    sims: list[float | None] = [None] * len(baseline["items"])
    if embed is not None:
        pairs = [(b["output"], now[b["id"]]["output"] or "") for b in baseline["items"]]
        vecs = embed([t for p in pairs for t in p])
        sims = [_cosine(vecs[2 * i], vecs[2 * i + 1]) for i in range(len(pairs))]
    for k, b in enumerate(baseline["items"]):
        r = now[b["id"]]
        new = r["output"] or ""
        dist = word_edit_distance(b["output"], new)
        ndist = word_edit_distance(normalized(b["output"]), normalized(new))
        failed = bool(r.get("error")) and not b.get("error")
        out.append({
            "id": b["id"],
            "exact": new == b["output"],
            "normalized_exact": normalized(new) == normalized(b["output"]),
            "edit_distance": dist,
            "normalized_edit_distance": ndist,
            "embedding_similarity": sims[k],
            "drifted": failed or ndist > threshold,
            "error": r.get("error"),
            "baseline_output": b["output"],
            "output": new,
        })
    return out


def drift_findings(baseline: dict[str, Any], rows: Sequence[dict[str, Any]],
                   rerun: Sequence[dict[str, Any]], served: Sequence[str], file: str
                   ) -> list[Finding]:
    out = []
    for r in rows:
        if r["error"]:
            out.append(finding("MC595", f"{r['id']}: {r['error']}", file=file, prompt=r["id"]))
        elif r["drifted"]:
            out.append(finding(
                "MC594", f"{r['id']}: normalized word edit distance "
                f"{r['normalized_edit_distance']:.3f}", file=file,
                quote=(r["output"] or "")[:200], prompt=r["id"],
            ))
    old_fp = {f for i in baseline["items"] if (f := i.get("system_fingerprint")) is not None}
    new_fp = {f for i in rerun if (f := i.get("system_fingerprint")) is not None}
    old_models = set(baseline.get("target", {}).get("served_models") or [])
    if (old_fp and new_fp and old_fp != new_fp) or (old_models and served
                                                    and set(served) != old_models):
        out.append(finding(
            "MC596", f"server reports {sorted(new_fp) or sorted(served)}, baseline recorded "
            f"{sorted(old_fp) or sorted(old_models)}", file=file,
        ))
    return out


def run_drift(ep: EndpointConfig, baseline: dict[str, Any], file: str, threshold: float,
              max_fraction: float, embed: EmbedFn | None = None,
              on_done: Callable[[], None] | None = None, concurrency: int = 1
              ) -> tuple[dict[str, Any], list[Finding], bool]:
    bp = baseline.get("params") or {}
    params = BaselineParams(
        temperature=float(bp.get("temperature", 0.0)), seed=int(bp.get("seed", 1234)),
        max_tokens=int(bp.get("max_tokens", 256)), concurrency=concurrency,
    )
    items = [{"id": i["id"], "messages": i["messages"]} for i in baseline["items"]]
    created = now_iso()
    rerun, served = asyncio.run(_collect(ep, items, params, on_done))
    rows = compare(baseline, rerun, threshold, embed)
    found = drift_findings(baseline, rows, rerun, served, file)
    drifted = sum(1 for r in rows if r["drifted"])
    frac = drifted / len(rows)
    failed = frac > max_fraction
    doc = {
        "schema_version": VERSIONS["drift"],
        "kind": "modelclear.drift",
        "tool_version": tool_version(),
        "created": created,
        "baseline": {"file": file, "created": baseline.get("created"),
                     "target": baseline.get("target"), "params": baseline.get("params")},
        "target": {**target_json(ep), "served_models": served},
        "thresholds": {"normalized_edit_distance": threshold, "max_drift_fraction": max_fraction},
        "summary": {
            "prompts": len(rows),
            "exact": sum(1 for r in rows if r["exact"]),
            "drifted": drifted,
            "drift_fraction": frac,
            "mean_normalized_edit_distance": sum(r["normalized_edit_distance"] for r in rows)
            / len(rows),
            "failed": failed,
        },
        "items": rows,
        "findings": [f.to_json() for f in found],
    }
    return doc, found, failed
