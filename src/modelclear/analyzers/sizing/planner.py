"""Plans: the smallest GPU count that serves a target, per GPU and precision."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import InputError, UsageError
from ...findings import Finding, finding
from ...parsers.tensors import TensorInfo
from ..architecture import Architecture
from ..paramcount import ParameterCount
from ..paramcount.sources import ShardIndex
from .commands import gb, label, serve_commands
from .finetune import FinetunePlan
from .gpus import GPU, find_gpu, gpu_catalog, serving_rules
from .kvcache import KVCache, kv_cache
from .layout import Layout, best_layout, gpu_counts
from .weights import PRECISIONS, WeightBytes, ggml_precision, weight_bytes


@dataclass(frozen=True)
class ExpertParallel:
    """Expert parallelism as the other way to spread an MoE model over the same GPUs."""

    size: int
    experts_per_gpu: int

    def to_json(self) -> dict[str, int | str]:
        return {
            "size": self.size,
            "experts_per_gpu": self.experts_per_gpu,
            "vllm": "--enable-expert-parallel",
            "sglang": f"--ep-size {self.size}",
            "memory": "same weight bytes per GPU; experts stay whole instead of sliced",
        }


@dataclass(frozen=True)
class Plan:
    gpu: GPU
    precision: str  # native | bf16 | fp8 | int8 | int4 | a ggml type
    precision_label: str
    weights_bytes: int
    context: int
    concurrency: int
    kv_dtype: str
    layout: Layout
    meets_concurrency: bool
    min_gpus: int | None  # fewest GPUs (of the counts tried) that serve one full sequence
    expert_parallel_alternative: ExpertParallel | None
    commands: dict[str, str | None]
    notes: tuple[str, ...]
    arithmetic: str

    @property
    def fits(self) -> bool:
        return self.layout.fits

    def to_json(self) -> dict[str, Any]:
        lay = self.layout
        return {
            "gpu": self.gpu.key,
            "gpu_name": self.gpu.name,
            "gpu_memory_bytes": self.gpu.memory_bytes,
            "precision": self.precision,
            "precision_label": self.precision_label,
            "weights_bytes": self.weights_bytes,
            "gpus": lay.gpus,
            "tensor_parallel": lay.tensor_parallel,
            "pipeline_parallel": lay.pipeline_parallel,
            "expert_parallel": lay.expert_parallel,
            "max_concurrency": lay.max_concurrency,
            "concurrency_target": self.concurrency,
            "meets_concurrency": self.meets_concurrency,
            "min_gpus": self.min_gpus,
            "expert_parallel_alternative": (
                self.expert_parallel_alternative.to_json()
                if self.expert_parallel_alternative is not None
                else None
            ),
            "fits": self.fits,
            "context": self.context,
            "kv_dtype": self.kv_dtype,
            "layout": lay.to_json(),
            "commands": dict(self.commands),
            "notes": list(self.notes),
            "arithmetic": self.arithmetic,
        }


@dataclass(frozen=True)
class SizingReport:
    model: str
    architecture: Architecture
    parameters: ParameterCount | None
    weights: WeightBytes
    kv: KVCache
    context: int
    concurrency: int
    plans: tuple[Plan, ...]
    findings: tuple[Finding, ...] = ()
    finetune: FinetunePlan | None = None

    def plan_for(self, gpu: str, precision: str = "native") -> Plan | None:
        """The plan for one catalog GPU and precision, if it was computed."""
        key = find_gpu(gpu).key
        return next((p for p in self.plans if p.gpu.key == key and p.precision == precision),
                    None)

    def to_json(self) -> dict[str, Any]:
        rules = serving_rules()
        return {
            "model": self.model,
            "units": "bytes (GB in text output = 10^9 bytes)",
            "architecture": self.architecture.to_json(),
            "parameters": self.parameters.to_json() if self.parameters else None,
            "weights_bytes": self.weights.to_json(),
            "kv_cache_bytes_per_token": self.kv.bytes_per_token,
            "kv_cache": self.kv.to_json(self.context),
            "context": self.context,
            "concurrency": self.concurrency,
            "rules": {"engine": dict(rules["engine"]), "overhead": dict(rules["overhead"])},
            "plans": [p.to_json() for p in self.plans],
            "findings": [f.to_json() for f in self.findings],
            "finetune": self.finetune.to_json() if self.finetune is not None else None,
        }


def plan_one(
    arch: Architecture, weights: WeightBytes, kv: KVCache, gpu: GPU, precision: str, *,
    context: int, concurrency: int, kv_dtype: str = "auto", gpu_count: int | None = None,
    model: str = "MODEL", gguf: bool = False,
) -> Plan:
    """One (GPU, precision) plan: the smallest GPU count that serves the target."""
    w = weights.served(precision)
    layouts = [best_layout(arch, gpu, n, w, kv, context, precision) for n in gpu_counts(gpu)]
    fitting = [lay for lay in layouts if lay.fits]
    min_gpus = fitting[0].gpus if fitting else None
    if gpu_count is not None:
        if gpu_count < 1:
            raise UsageError("--gpus must be at least 1")
        lay = best_layout(arch, gpu, gpu_count, w, kv, context, precision)
    else:
        enough = [lay for lay in layouts if lay.fits and lay.max_concurrency >= concurrency]
        lay = (enough or fitting or layouts[-1:])[0]
    meets = lay.fits and lay.max_concurrency >= concurrency
    commands, notes = serve_commands(model, arch, gpu, precision, lay, context, concurrency,
                                kv_dtype, weights, gguf)
    if lay.problem:
        notes.insert(0, lay.problem)
    if lay.expert_parallel:
        notes.append("experts are spread whole across GPUs (expert parallel): their widths "
                     "do not split into the quantization blocks")
    ep_alt: ExpertParallel | None = None
    if arch.is_moe and lay.gpus > 1:
        ep_alt = ExpertParallel(lay.gpus, math.ceil((arch.num_experts or 0) / lay.gpus))
        if not lay.expert_parallel:
            notes.append(f"expert-parallel alternative: --enable-expert-parallel (vLLM) / "
                         f"--ep-size {lay.gpus} (SGLang) puts {arch.num_experts} experts, "
                         f"{ep_alt.experts_per_gpu} per GPU; same memory")
    arith = (
        f"{lay.gpus} × {gpu.key}: usable {gb(lay.usable_per_gpu)} per GPU "
        f"({gb(gpu.memory_bytes)} × "
        f"{gpu.memory_fraction or serving_rules()['engine']['gpu_memory_utilization']}) "
        f"− weights {gb(lay.weights_per_gpu)} ({gb(w)} / {lay.gpus}) − overhead "
        f"{gb(lay.overhead.total)} = KV budget {gb(lay.kv_budget_per_gpu)} per GPU; "
        f"one {context:,}-token sequence needs {gb(lay.kv_bytes_per_sequence_per_gpu)} per "
        f"GPU → {lay.max_concurrency} concurrent sequence(s)"
    )
    return Plan(gpu, precision, label(precision, weights), w, context, concurrency,
                kv_dtype, lay, meets, min_gpus, ep_alt, commands, tuple(notes), arith)


#: context planned when the config states none (MC407)
DEFAULT_CONTEXT = 2048


def _context(arch: Architecture, asked: int | None) -> tuple[int, list[Finding]]:
    """The planned context and the findings about it (MC407 unstated, MC411 too long)."""
    findings: list[Finding] = []
    limit = arch.context_length or arch.max_position_embeddings
    if limit is None:
        ctx = asked or DEFAULT_CONTEXT
        findings.append(finding(
            "MC407",
            f"config.json states no context length; the plan uses {ctx:,} tokens"
            + ("" if asked else " (--context to change)"),
            file=arch.file,
        ))
        return ctx, findings
    if asked is None:
        return min(limit, 32768), findings
    if asked > limit:
        key = arch.context_key or "max_position_embeddings"
        findings.append(finding(
            "MC411",
            f"requested context {asked:,} exceeds the model's {limit:,} ({key}); the plan "
            f"and its serve commands use {limit:,}",
            file=arch.file, line=arch.lines.get(key.split()[0]),
        ))
        return limit, findings
    return asked, findings


def plan(
    arch: Architecture,
    *,
    params: ParameterCount | None = None,
    tensors: Sequence[TensorInfo] | None = None,
    gpus: Sequence[str] | None = None,
    precisions: Sequence[str] | None = None,
    context: int | None = None,
    concurrency: int = 16,
    kv_dtype: str = "auto",
    gpu_count: int | None = None,
    model: str = "MODEL",
    gguf: bool = False,
    native_format: str | None = None,
    index: ShardIndex | None = None,
) -> SizingReport:
    """Size a model and plan it on GPUs (every catalog GPU and precision by default).

    The context is the model's own (config, rope scaling included) unless a shorter one
    is asked; a longer one is a finding (MC411) and the plan keeps the model's, so no
    serve command asks an engine for more than the model serves.
    """
    if not arch.complete:
        raise InputError(arch.file, "lacks " + ", ".join(arch.missing())
                         + ": cannot plan hardware for it")
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if context is not None and context < 1:
        raise UsageError("--context must be at least 1")
    ctx, findings = _context(arch, context)
    if gguf and precisions:
        precs = list(precisions)
    elif gguf:
        precs = ["native"]  # a GGUF file is one quantization: it serves as it is
    else:
        precs = list(precisions) if precisions else ["native", *PRECISIONS]
    for p in precs:
        if p not in ("native", *PRECISIONS) and ggml_precision(p) is None:
            raise UsageError(f"unknown precision {p!r}; use native, "
                             + ", ".join(PRECISIONS) + " or a GGUF type such as Q4_K")
    extra = [p for p in precs if p not in ("native", *PRECISIONS)]
    weights = weight_bytes(arch, tensors, extra, native_format, index)
    if not precisions and not gguf:
        # a what-if precision that prices exactly like the checkpoint adds nothing
        precs = ["native"] + [p for p in PRECISIONS
                              if weights.by_precision.get(p) not in (None, weights.native_main)]
    kv = kv_cache(arch, kv_dtype)
    findings += list(weights.findings)
    gpu_list = [find_gpu(g) for g in gpus] if gpus else list(gpu_catalog().values())
    plans = []
    for g in gpu_list:
        for p in precs:
            pl = plan_one(arch, weights, kv, g, p, context=ctx, concurrency=concurrency,
                          kv_dtype=kv_dtype, gpu_count=gpu_count, model=model, gguf=gguf)
            plans.append(pl)
    if gpus:
        for pl in plans:
            if not pl.fits:
                findings.append(finding(
                    "MC410",
                    f"{pl.precision_label} on {pl.layout.gpus} × {pl.gpu.key} does not fit: "
                    + pl.arithmetic,
                    file=arch.file, gpu=pl.gpu.key, precision=pl.precision,
                ))
            elif not pl.meets_concurrency:
                findings.append(finding(
                    "MC412",
                    f"{pl.precision_label} on {pl.layout.gpus} × {pl.gpu.key}: "
                    f"{pl.layout.max_concurrency} sequences of {ctx:,} tokens fit, "
                    f"{concurrency} asked",
                    file=arch.file, gpu=pl.gpu.key, precision=pl.precision,
                ))
    return SizingReport(
        model=model,
        architecture=arch,
        parameters=params,
        weights=weights,
        kv=kv,
        context=ctx,
        concurrency=concurrency,
        plans=tuple(plans),
        findings=tuple(findings),
    )
