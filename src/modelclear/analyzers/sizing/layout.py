"""How a model splits over ``n`` GPUs: runtime overhead, TP×PP layouts, what is left for KV."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...jsonout import JsonFields
from ..architecture import Architecture
from .gpus import GPU, serving_rules
from .kvcache import KVCache
from .weights import INT4_GROUP


@dataclass(frozen=True)
class Overhead(JsonFields):
    json_extra = ("total",)

    runtime: int
    cuda_graphs: int
    activations: int
    logits: int

    @property
    def total(self) -> int:
        return self.runtime + self.cuda_graphs + self.activations + self.logits

def overhead(arch: Architecture, gpu: GPU, tp: int) -> Overhead:
    """Per-GPU runtime memory by the documented rules in data/serving.toml."""
    rules = serving_rules()
    ov = rules["overhead"]
    eng = rules["engine"]
    um = rules["unified_memory"]
    tokens = um["max_num_batched_tokens"] if gpu.unified else eng["max_num_batched_tokens"]
    H = arch.hidden_size or 0
    dense = ov["ffn_factor"] * (arch.intermediate_size or 0) // max(tp, 1)
    moe = 0
    if arch.is_moe:
        moe = (arch.experts_per_token or 1) * (
            2 * (arch.moe_intermediate_size or 0) // max(tp, 1) + H
        )
    per_token = ov["hidden_factor"] * H + max(dense, moe)
    activations = tokens * per_token * ov["activation_bytes_per_element"]
    logits = eng["max_num_seqs"] * (arch.vocab_size or 0) * ov["logits_bytes_per_element"]
    if gpu.unified:
        return Overhead(um["runtime_bytes"], um["cuda_graph_bytes"], activations, logits)
    return Overhead(ov["runtime_bytes"], ov["cuda_graph_bytes"], activations, logits)


def usable_bytes(gpu: GPU) -> int:
    """Memory an engine may fill: the unified-memory share, else the engine's utilisation."""
    frac = gpu.memory_fraction
    if frac is None:
        frac = float(serving_rules()["engine"]["gpu_memory_utilization"])
    return int(gpu.memory_bytes * frac)


def _tp_problem(arch: Architecture, tp: int, group: int | None, ep: bool) -> str | None:
    """Why tensor parallel size ``tp`` cannot shard this model (None: it can)."""
    heads = arch.num_attention_heads or 1
    if arch.is_ssm and not arch.is_hybrid_ssm:
        return None if (arch.ssm_inner or 0) % tp == 0 else f"{arch.ssm_inner} channels / {tp}"
    if heads % tp:
        return f"{heads} attention heads are not divisible by {tp}"
    if not arch.is_mla:
        kv = arch.num_kv_heads or heads
        if kv % tp and tp % kv:
            return f"{kv} KV heads and tensor-parallel {tp} do not divide one another"
    if group:
        dims: dict[str, int | None] = {}
        if not arch.is_moe or any(
            not arch.is_moe_layer(i) for i in range(arch.num_layers or 0)
        ):
            dims["intermediate_size"] = arch.intermediate_size  # dense MLP layers exist
        if arch.is_moe and not ep:
            dims["moe_intermediate_size"] = arch.moe_intermediate_size
        for name, d in dims.items():
            if d and (d % tp or (d // tp) % group):
                return (f"{name} {d} / {tp} is not a multiple of the {group}-wide "
                        "quantization blocks")
    return None


def _precision_group(precision: str, arch: Architecture) -> int | None:
    """Input-dimension block that each tensor-parallel shard must keep whole."""
    if precision == "native":
        q = arch.quantization
        if q is None:
            return None
        if q.block_size:
            return q.block_size[-1]
        return q.group_size
    if precision == "int4":
        return INT4_GROUP
    return None


@dataclass(frozen=True)
class Layout:
    gpus: int
    tensor_parallel: int
    pipeline_parallel: int
    expert_parallel: bool
    weights_per_gpu: int
    overhead: Overhead
    usable_per_gpu: int
    kv_budget_per_gpu: int
    kv_bytes_per_sequence_per_gpu: int
    max_concurrency: int
    problem: str | None = None

    @property
    def fits(self) -> bool:
        return self.problem is None and self.max_concurrency >= 1

    def to_json(self) -> dict[str, Any]:
        return {
            "gpus": self.gpus,
            "tensor_parallel": self.tensor_parallel,
            "pipeline_parallel": self.pipeline_parallel,
            "expert_parallel": self.expert_parallel,
            "weights_bytes_per_gpu": self.weights_per_gpu,
            "overhead_bytes_per_gpu": self.overhead.to_json(),
            "usable_bytes_per_gpu": self.usable_per_gpu,
            "kv_budget_bytes_per_gpu": self.kv_budget_per_gpu,
            "kv_bytes_per_sequence_per_gpu": self.kv_bytes_per_sequence_per_gpu,
            "max_concurrency": self.max_concurrency,
            "fits": self.fits,
            "problem": self.problem,
        }


def best_layout(
    arch: Architecture, gpu: GPU, n: int, weights: int, kv: KVCache, context: int,
    precision: str,
) -> Layout:
    """Best TP×PP split of ``n`` GPUs: tensor parallel inside a node, pipeline across."""
    group = _precision_group(precision, arch)
    best: Layout | None = None
    tp_options = [t for t in _pow2_upto(min(n, gpu.max_per_node)) if n % t == 0]
    for tp in sorted(tp_options, reverse=True):
        pp = n // tp
        if pp > (arch.num_layers or 1):
            continue
        ep = False
        problem = _tp_problem(arch, tp, group, ep=False)
        if problem and arch.is_moe and _tp_problem(arch, tp, group, ep=True) is None:
            ep, problem = True, None
        ov = overhead(arch, gpu, tp)
        usable = usable_bytes(gpu)
        w = math.ceil(weights / n)
        budget = usable - w - ov.total
        if kv.kind in ("mla", "ssm"):
            shard = 1  # the latent is replicated on every tensor-parallel rank
        else:
            shard = min(tp, kv.kv_heads or 1)
        per_seq = math.ceil(kv.bytes_per_sequence(context) / shard / pp)
        conc = max(0, budget // per_seq) if per_seq else 0
        lay = Layout(n, tp, pp, ep, w, ov, usable, budget, per_seq, int(conc), problem)
        if problem is None:
            return lay
        best = best or lay
    if best is not None:
        return best
    ov = overhead(arch, gpu, 1)
    return Layout(n, 1, n, False, math.ceil(weights / n), ov, usable_bytes(gpu), 0, 0, 0,
                  f"no tensor/pipeline split of {n} GPUs fits {arch.num_layers} layers")


def _pow2_upto(n: int) -> list[int]:
    out, v = [], 1
    while v <= n:
        out.append(v)
        v *= 2
    return out


def gpu_counts(gpu: GPU, limit_nodes: int = 8) -> list[int]:
    """GPU counts a plan tries: powers of two inside a node, then whole nodes."""
    counts = _pow2_upto(gpu.max_per_node)
    if not gpu.unified:
        nodes = 2
        while nodes <= limit_nodes:
            counts.append(nodes * gpu.max_per_node)
            nodes *= 2
    return counts
