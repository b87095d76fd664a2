"""Totals, active-per-token counts and the per-component breakdown of a list of entries."""

from __future__ import annotations

from collections.abc import Iterable

from ...findings import Finding
from ..architecture import Architecture
from .model import BIAS, EMBED, LM_HEAD, NORM, ROUTER, ParamEntry, ParameterCount
from .names import EXPERT_RE, is_tower


def _component(e: ParamEntry) -> str:
    if is_tower(e.name):
        return "vision_tower"
    if e.kind in (EMBED, LM_HEAD, ROUTER, NORM, BIAS):
        return {EMBED: "embedding", LM_HEAD: "lm_head", ROUTER: "router", NORM: "norms",
                BIAS: "biases"}[e.kind]
    if e.routed:
        return "routed_experts"
    if "shared_expert" in e.name or "shexp" in e.name:
        return "shared_experts"
    if any(k in e.name for k in ("attn", "attention")):
        return "attention"
    if any(k in e.name for k in ("mlp", "ffn", "feed_forward")):
        return "mlp"
    return "other"


def summarize(
    entries: Iterable[ParamEntry],
    arch: Architecture | None,
    method: str,
    config_dtypes: dict[str, str] | None,
    side_n: int = 0,
    side_b: int = 0,
) -> ParameterCount:
    entries = list(entries)
    topk = arch.experts_per_token if arch else None
    total = mtp = 0
    by_dtype: dict[str, int] = {}
    breakdown: dict[str, int] = {}
    # routed params per layer and how many experts they span
    routed: dict[int | None, list[ParamEntry]] = {}
    towers = 0
    for e in entries:
        n = e.numel
        if e.mtp:
            mtp += n
            continue
        total += n
        if is_tower(e.name):
            towers += n
        if config_dtypes is not None:
            dt = e.dtype or config_dtypes.get(e.kind if e.quantize else "default",
                                              config_dtypes["default"])
        else:
            dt = e.dtype or "unknown"
        by_dtype[dt] = by_dtype.get(dt, 0) + n
        comp = _component(e)
        breakdown[comp] = breakdown.get(comp, 0) + n
        if e.routed:
            routed.setdefault(e.layer, []).append(e)
    active: int | None = total - towers
    for layer_entries in routed.values():
        layer_total = sum(e.numel for e in layer_entries)
        n_exp = _experts_in_layer(layer_entries)
        if topk is None or n_exp == 0:
            active = None
            break
        assert active is not None
        active -= layer_total - layer_total * min(topk, n_exp) // n_exp
    findings: list[Finding] = []
    return ParameterCount(
        total=total,
        active=active,
        active_excluding_embedding=None if active is None else active - (
            0 if arch is not None and arch.tie_word_embeddings else breakdown.get("embedding", 0)
        ),
        mtp=mtp,
        by_dtype=dict(sorted(by_dtype.items(), key=lambda kv: -kv[1])),
        method=method,
        breakdown=dict(sorted(breakdown.items(), key=lambda kv: -kv[1])),
        side_tensors=side_n,
        side_bytes=side_b,
        entries=tuple(entries),
        findings=tuple(findings),
    )


def _experts_in_layer(entries: list[ParamEntry]) -> int:
    stacked = [e.experts for e in entries if e.experts and e.count == 1 and len(e.shape) >= 3]
    if stacked:
        return max(stacked)
    counted = [e.count for e in entries if e.count > 1]
    if counted:
        return max(counted)
    ids = set()
    for e in entries:
        m = EXPERT_RE.search(e.name)
        if m:
            ids.add(int(m.group(1)))
    if ids:
        return len(ids)
    return max((e.experts for e in entries), default=0)
