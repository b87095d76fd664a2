"""What it takes to run a model: weight bytes per precision, KV cache, GPU plans.

Popular calculators go wrong in known ways (issue 6): they size a float32 meta
model and divide by 4 or 8 for int8/int4, ignore the checkpoint's own
quantization, ignore grouped-query attention (overstating Llama-3.1-8B's KV cache
about 8×), MoE and DeepSeek's MLA. Here every byte comes from one list of
parameter entries (headers when weights are present, the config formula
otherwise — see ``params.py``): linear layers are priced per precision with the
real scale/zero-point layout of that format, embeddings, norms, routers and the
lm_head stay at their real dtype, and the KV cache follows the attention kind
layer by layer. Runtime overhead rules and the GPU catalog are data files
(``data/serving.toml``, ``data/gpus.toml``). Sizes are bytes; reports print GB =
10^9 bytes.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..errors import InputError, UsageError
from ..findings import Finding, finding
from ..parsers.ggml import GGMLType, ggml_type
from ..parsers.tensors import TensorInfo
from .architecture import Architecture, Quantization
from .params import (
    DTYPE_BYTES,
    LINEAR,
    ROUTER,
    ParamEntry,
    ParameterCount,
    dtype_name,
    entries_from_config,
    entries_from_tensors,
)

SCHEMA_VERSION = 1

#: precisions every plan considers, besides the checkpoint's native one
PRECISIONS = ("bf16", "fp8", "int8", "int4")

#: quantization layout of the what-if precisions (docs/sizing.md)
FP8_BLOCK = (128, 128)  # DeepSeek-style fp8 block scales, float32 each
INT4_GROUP = 128  # GPTQ/AWQ group size: fp16 scale + packed 4-bit zero point per group


# ---- data files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GPU:
    key: str
    name: str
    vendor: str
    memory_bytes: int
    marketed: str
    capacity_source: str
    max_per_node: int
    fp8: bool
    engines: tuple[str, ...]
    memory_fraction: float | None = None

    @property
    def unified(self) -> bool:
        return self.memory_fraction is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "vendor": self.vendor,
            "memory_bytes": self.memory_bytes,
            "marketed": self.marketed,
            "capacity_source": self.capacity_source,
            "max_per_node": self.max_per_node,
        }


def _data(name: str) -> dict[str, Any]:
    text = (resources.files("modelclear") / "data" / name).read_text("utf-8")
    return tomllib.loads(text)


@cache
def gpu_catalog() -> dict[str, GPU]:
    out: dict[str, GPU] = {}
    for key, row in _data("gpus.toml")["gpus"].items():
        out[key] = GPU(
            key=key,
            name=row["name"],
            vendor=row["vendor"],
            memory_bytes=int(row["memory_mib"]) * 1024 * 1024,
            marketed=row["marketed"],
            capacity_source=row["capacity_source"],
            max_per_node=int(row["max_per_node"]),
            fp8=bool(row["fp8"]),
            engines=tuple(row["engines"]),
            memory_fraction=row.get("memory_fraction"),
        )
    return out


def find_gpu(name: str) -> GPU:
    """A catalog GPU by key, case- and punctuation-insensitively (``h100``, ``a100-80``)."""
    cat = gpu_catalog()

    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    wanted = norm(name)
    for key, gpu in cat.items():
        if norm(key) == wanted:
            return gpu
    prefixed = [g for k, g in cat.items() if norm(k).startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    raise UsageError(f"unknown GPU {name!r}; known: {', '.join(cat)}")


@cache
def serving_rules() -> dict[str, Any]:
    return _data("serving.toml")


# ---- weight bytes ----------------------------------------------------------------------------


def _quantized_in_native(e: ParamEntry, q: Quantization | None) -> bool:
    if q is None or e.kind != LINEAR or not e.quantize:
        return False
    return not any(module_matches(e.name, m) for m in q.not_converted if m)


def module_matches(name: str, pattern: str) -> bool:
    """Whether a tensor belongs to a module named in modules_to_not_convert / ignore.

    Writers use three styles: plain module names (``lm_head``, matched as a dotted
    component run anywhere), globs (``model.layers.*.self_attn``) and
    compressed-tensors regexes (``re:.*mlp.gate$``).
    """
    if pattern.startswith("re:"):
        try:
            return re.search(pattern[3:], name.removesuffix(".weight")) is not None
        except re.error:
            return False
    rx = re.escape(pattern).replace(r"\*", r"[^.]+")
    return re.search(r"(?:^|\.)" + rx + r"(?:\.|$)", name) is not None


def _scale_count(e: ParamEntry, rows_per: int | None, cols_per: int | None) -> int:
    """Scales per entry for blocks of rows_per × cols_per (None = the whole dimension)."""
    rows, cols = e.matrix
    r = math.ceil(rows / rows_per) if rows_per else 1
    c = math.ceil(cols / cols_per) if cols_per else 1
    return e.slices * r * c


def linear_bytes(e: ParamEntry, precision: str) -> int:
    """Bytes of one linear entry stored at a what-if precision, scales included."""
    n = e.numel
    if precision in ("bf16", "fp16"):
        return n * 2
    if precision == "fp8":
        return n + _scale_count(e, *FP8_BLOCK) * 4
    if precision == "int8":
        return n + _scale_count(e, 1, None) * 2  # one bf16 scale per output channel
    if precision == "int4":
        groups = _scale_count(e, 1, INT4_GROUP)
        return math.ceil(n / 2) + groups * 2 + math.ceil(groups / 2)
    t = _ggml(precision)
    if t is not None:
        return math.ceil(n / t.block_size) * t.type_size
    raise UsageError(f"unknown precision {precision!r}")


def _ggml(precision: str) -> GGMLType | None:
    """A ggml quantization type (Q4_K, Q8_0, IQ2_XXS…) from the one ggml table."""
    t = ggml_type(precision.upper())
    return t if t is not None and t.block_size > 0 and not t.removed else None


def native_linear_bytes(e: ParamEntry, q: Quantization) -> int | None:
    """Bytes of a linear entry in the checkpoint's own quantized format (None: unknown)."""
    n = e.numel
    bits = q.bits or 0
    m = q.method
    if m == "fp8":
        if q.block_size:
            return n + _scale_count(e, q.block_size[0], q.block_size[1]) * 4
        return n + e.slices * 4
    if m in ("gptq", "awq") and bits:
        g = q.group_size
        groups = _scale_count(e, 1, g) if g else _scale_count(e, 1, None)
        packed = math.ceil(n * bits / 8)
        out = packed + groups * 2 + math.ceil(groups * bits / 8)
        if m == "gptq":
            out += e.slices * e.matrix[1] * 4  # g_idx: one int32 per input feature
        return out
    if m == "bitsandbytes":
        if bits == 4:
            blocks = math.ceil(n / 64)
            if q.double_quant:
                return math.ceil(n / 2) + blocks + math.ceil(blocks / 256) * 4 + 16 * 4
            return math.ceil(n / 2) + blocks * 4 + 16 * 4
        return n + _scale_count(e, 1, None) * 4
    if m == "compressed-tensors" and bits:
        packed = math.ceil(n * bits / 8)
        strategy = (q.strategy or "channel").lower()
        if strategy == "tensor":
            scales = e.slices
        elif strategy == "group" and q.group_size:
            scales = _scale_count(e, 1, q.group_size)
        elif strategy == "block" and q.block_size:
            scales = _scale_count(e, q.block_size[0], q.block_size[1])
        else:
            scales = _scale_count(e, 1, None)
        scale_bytes = 4 if (q.fmt or "") == "float" and strategy == "block" else 2
        zeros = scales if q.symmetric is False else 0
        return packed + scales * scale_bytes + zeros
    if m == "mxfp4":
        return math.ceil(n / 2) + math.ceil(n / 32)
    if m == "modelopt":
        if bits == 4:
            return math.ceil(n / 2) + math.ceil(n / 16) + e.slices * 4
        return n + e.slices * 4
    return None


def _kept_bytes(e: ParamEntry, default_dtype: str) -> int:
    """An unquantized tensor at the dtype it is served in."""
    dt = e.dtype or default_dtype
    size = DTYPE_BYTES.get(dt, 2)
    return math.ceil(e.numel * size)


def _whatif_kept_bytes(e: ParamEntry) -> int:
    """Unquantized tensors when serving at a what-if precision: 16-bit, except fp32 routers."""
    return e.numel * (4 if e.kind == ROUTER and e.dtype == "F32" else 2)


@dataclass(frozen=True)
class WeightBytes:
    """Weight memory: the checkpoint as stored, and the served model per precision."""

    native: int  # the checkpoint as stored (headers) or as config describes it, MTP included
    native_main: int  # the same without MTP layers: what an engine loads to serve
    mtp: int
    native_format: str  # e.g. "fp8 block 128x128 + bf16", "bf16", "Q4_K_M"
    method: str  # headers | config
    by_precision: dict[str, int]  # bf16, fp8, int8, int4 (+ ggml types asked for), MTP excluded
    kept_bytes: int  # the unquantized part (embeddings, norms, routers, lm_head) at 16 bit
    findings: tuple[Finding, ...] = ()

    def served(self, precision: str) -> int:
        """Bytes an engine loads at ``precision`` (MTP layers excluded)."""
        if precision == "native":
            return self.native_main
        if precision not in self.by_precision:
            raise UsageError(f"precision {precision!r} was not sized; use native, "
                             + ", ".join(self.by_precision))
        return self.by_precision[precision]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"native": self.native, "native_main": self.native_main,
                               "mtp": self.mtp}
        out.update(self.by_precision)
        out["native_format"] = self.native_format
        out["method"] = self.method
        out["unquantized_bytes"] = self.kept_bytes
        return out


def weight_bytes(
    arch: Architecture | None,
    tensors: Sequence[TensorInfo] | None = None,
    extra_precisions: Sequence[str] = (),
    native_format: str | None = None,
) -> WeightBytes:
    """Weight bytes from headers (exact) or from the config formula."""
    findings: list[Finding] = []
    precisions = tuple(dict.fromkeys((*PRECISIONS, *extra_precisions)))
    if tensors:
        entries, _, _ = entries_from_tensors(tensors, arch)
        if arch is not None and arch.complete and arch.source == "config":
            # Packed checkpoints lose matrix shapes (bitsandbytes, GPTQ's transposed
            # qweight). When the files hold exactly the parameters the config describes,
            # price the what-if precisions on the config's shapes instead.
            cfg_entries = entries_from_config(arch)
            if _numel(cfg_entries) == _numel(entries):
                entries = cfg_entries
        n_layers = arch.num_layers if arch else None
        native = sum(t.nbytes for t in tensors)
        mtp = 0
        if n_layers is not None:
            from .params import _layer_of, is_mtp

            for t in tensors:
                if is_mtp(t.name, _layer_of(t.name), n_layers):
                    mtp += t.nbytes
        method = "headers"
        fmt = native_format or _format_from_tensors(tensors)
    else:
        if arch is None or not arch.complete:
            raise InputError(arch.file if arch else None,
                             "no weight headers and no complete config: cannot size weights")
        entries = entries_from_config(arch)
        q = arch.quantization
        base = dtype_name(arch.torch_dtype)
        native = mtp = 0
        unknown = False
        for e in entries:
            b: int | None = None
            if _quantized_in_native(e, q):
                assert q is not None
                b = native_linear_bytes(e, q)
                unknown = unknown or b is None
            if b is None:
                b = _kept_bytes(e, base)
            native += b
            if e.mtp:
                mtp += b
        if unknown and q is not None:
            findings.append(finding(
                "MC420",
                f"quantization method {q.method!r} has no byte formula; native bytes assume "
                f"{base} for its linear layers",
                file=arch.file,
                line=arch.lines.get("quantization_config"),
            ))
        method = "config"
        fmt = _format_from_config(arch)
    main = [e for e in entries if not e.mtp]
    kept = sum(_whatif_kept_bytes(e) for e in main if e.kind != LINEAR)
    linear = [e for e in main if e.kind == LINEAR]
    by_precision = {p: kept + sum(linear_bytes(e, p) for e in linear) for p in precisions}
    return WeightBytes(
        native=native,
        native_main=native - mtp,
        mtp=mtp,
        native_format=fmt,
        method=method,
        by_precision=by_precision,
        kept_bytes=kept,
        findings=tuple(findings),
    )


def _numel(entries: Sequence[ParamEntry]) -> tuple[int, int]:
    main = sum(e.numel for e in entries if not e.mtp)
    return main, sum(e.numel for e in entries) - main


def _format_from_config(arch: Architecture) -> str:
    base = dtype_name(arch.torch_dtype).lower()
    q = arch.quantization
    if q is None:
        return base
    if q.method == "fp8":
        blk = "x".join(str(b) for b in q.block_size) if q.block_size else "per-tensor"
        return f"fp8 {q.fmt or 'e4m3'} (block {blk}) + {base}"
    if q.bits:
        grp = f" group {q.group_size}" if q.group_size else ""
        return f"{q.method} {q.bits}-bit{grp} + {base}"
    return f"{q.method} + {base}"


def _format_from_tensors(tensors: Sequence[TensorInfo]) -> str:
    by: dict[str, int] = {}
    for t in tensors:
        by[t.dtype] = by.get(t.dtype, 0) + t.nbytes
    return " + ".join(k for k, _ in sorted(by.items(), key=lambda kv: -kv[1])[:3])


# ---- KV cache --------------------------------------------------------------------------------


KV_DTYPE_BYTES = {"bf16": 2, "fp16": 2, "auto": 2, "fp8": 1, "fp32": 4}
#: layer_types entries that keep keys and values per token
ATTENTION_LAYER_TYPES = ("full_attention", "sliding_attention", "chunked_attention",
                         "attention")


@dataclass(frozen=True)
class KVCache:
    """KV-cache size per token; sliding-window layers reported separately."""

    kind: str  # mha | gqa | mqa | mla
    layers: int
    elements_per_layer: int  # per token, one layer
    elements_per_token: int  # all layers at full context (the corpus figure)
    dtype: str
    bytes_per_element: int
    formula: str
    sliding_window: int | None
    sliding_layers: int
    kv_heads: int | None

    @property
    def bytes_per_token(self) -> int:
        return self.elements_per_token * self.bytes_per_element

    def bytes_per_sequence(self, context: int, window_aware: bool = False) -> int:
        """KV bytes one sequence of ``context`` tokens holds (all layers full unless asked)."""
        if not window_aware or not self.sliding_window or not self.sliding_layers:
            return self.bytes_per_token * context
        full_layers = self.layers - self.sliding_layers
        per = self.elements_per_layer * self.bytes_per_element
        return per * (full_layers * context + self.sliding_layers * min(context,
                                                                          self.sliding_window))

    def to_json(self, context: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "layers": self.layers,
            "elements_per_layer": self.elements_per_layer,
            "elements_per_token": self.elements_per_token,
            "dtype": self.dtype,
            "bytes_per_element": self.bytes_per_element,
            "bytes_per_token": self.bytes_per_token,
            "formula": self.formula,
            "sliding_window": self.sliding_window,
            "sliding_layers": self.sliding_layers,
        }
        if context:
            full = self.bytes_per_sequence(context)
            windowed = self.bytes_per_sequence(context, window_aware=True)
            out["context"] = context
            out["bytes_per_sequence"] = full
            out["bytes_per_sequence_window_aware"] = windowed
            out["sliding_window_savings_bytes"] = full - windowed
        return out


def kv_cache(arch: Architecture, kv_dtype: str = "auto") -> KVCache:
    """Per-token KV cache: 2·kv_heads·head_dim per layer (MHA/GQA/MQA) or MLA's latent."""
    if kv_dtype not in KV_DTYPE_BYTES:
        raise UsageError(f"unknown KV-cache dtype {kv_dtype!r}; use one of "
                         + ", ".join(KV_DTYPE_BYTES))
    if not arch.complete:
        raise InputError(arch.file, "lacks " + ", ".join(arch.missing())
                         + ": cannot size the KV cache")
    layers = arch.num_layers or 0
    skipped = 0
    if arch.layer_types:
        # hybrid models (Qwen3-Next, Jamba-style): linear-attention / state-space layers
        # keep a fixed-size state, not a per-token cache
        attn = sum(1 for t in arch.layer_types[:layers] if t in ATTENTION_LAYER_TYPES)
        skipped, layers = layers - attn, attn
    bpe = KV_DTYPE_BYTES[kv_dtype]
    dtype = "bf16" if kv_dtype == "auto" else kv_dtype
    if arch.is_mla:
        per = (arch.kv_lora_rank or 0) + (arch.qk_rope_head_dim or 0)
        kind = "mla"
        formula = (f"kv_lora_rank {arch.kv_lora_rank} + qk_rope_head_dim "
                   f"{arch.qk_rope_head_dim} = {per:,} elements per layer per token "
                   "(compressed KV latent + shared rope key)")
        kvh = None
    else:
        kvh = arch.num_kv_heads or arch.num_attention_heads or 0
        hd = arch.head_dim or 0
        per = 2 * kvh * hd
        heads = arch.num_attention_heads or 0
        kind = "mha" if kvh == heads else ("mqa" if kvh == 1 else "gqa")
        formula = (f"2 (K and V) × {kvh} kv_heads × {hd} head_dim = {per:,} elements per "
                   "layer per token")
    total = per * layers
    formula += (f"; × {layers} layers = {total:,} elements per token; × {bpe} byte(s) "
                f"({dtype}) = {total * bpe:,} bytes per token")
    if skipped:
        formula += (f"; {skipped} linear-attention/state-space layer(s) hold a fixed state "
                    "instead and are not counted")
    sliding = 0
    if arch.sliding_window and arch.layer_types:
        sliding = sum(1 for t in arch.layer_types[:layers] if t == "sliding_attention")
        formula += (f"; {sliding} of {layers} layers use a {arch.sliding_window:,}-token "
                    "sliding window (savings reported separately)")
    return KVCache(kind, layers, per, total, dtype, bpe, formula,
                   arch.sliding_window if sliding else None, sliding, kvh)


# ---- plans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overhead:
    runtime: int
    cuda_graphs: int
    activations: int
    logits: int

    @property
    def total(self) -> int:
        return self.runtime + self.cuda_graphs + self.activations + self.logits

    def to_json(self) -> dict[str, int]:
        return {"runtime": self.runtime, "cuda_graphs": self.cuda_graphs,
                "activations": self.activations, "logits": self.logits, "total": self.total}


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
    frac = gpu.memory_fraction if gpu.unified else serving_rules()["engine"][
        "gpu_memory_utilization"]
    return int(gpu.memory_bytes * frac)


def _tp_problem(arch: Architecture, tp: int, group: int | None, ep: bool) -> str | None:
    """Why tensor parallel size ``tp`` cannot shard this model (None: it can)."""
    heads = arch.num_attention_heads or 1
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


def _layout(
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
        if kv.kind == "mla":
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
    expert_parallel_alternative: dict[str, Any] | None
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
            "expert_parallel_alternative": self.expert_parallel_alternative,
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

    def plan_for(self, gpu: str, precision: str = "native") -> Plan | None:
        """The plan for one catalog GPU and precision, if it was computed."""
        key = find_gpu(gpu).key
        return next((p for p in self.plans if p.gpu.key == key and p.precision == precision),
                    None)

    def to_json(self) -> dict[str, Any]:
        rules = serving_rules()
        return {
            "schema_version": SCHEMA_VERSION,
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
        }


def _gb(n: int | float) -> str:
    """Decimal GB (10^9), or MB (10^6) below 1 GB so small models do not read as 0.0."""
    if abs(n) >= 1e9 or n == 0:
        return f"{n / 1e9:,.1f} GB"
    return f"{n / 1e6:,.1f} MB"


def _label(precision: str, weights: WeightBytes) -> str:
    if precision == "native":
        return f"native ({weights.native_format})"
    return {
        "bf16": "bf16",
        "fp8": "fp8 e4m3, 128x128 block scales",
        "int8": "int8, per-channel scales",
        "int4": f"int4, group {INT4_GROUP} (GPTQ/AWQ)",
    }.get(precision, f"GGUF {precision.upper()}")


def _commands(
    model: str, arch: Architecture, gpu: GPU, precision: str, lay: Layout, context: int,
    concurrency: int, kv_dtype: str, weights: WeightBytes, gguf: bool,
) -> tuple[dict[str, str | None], list[str]]:
    notes: list[str] = []
    util = serving_rules()["engine"]["gpu_memory_utilization"]
    native_q = arch.quantization.method if arch.quantization else None
    vllm: str | None = None
    sglang: str | None = None
    quant_flag: str | None = None
    if precision == "fp8" and native_q != "fp8":
        quant_flag = "fp8"
        notes.append("vLLM/SGLang quantize to fp8 on load (--quantization fp8, per-tensor "
                     "scales); a pre-quantized block-fp8 checkpoint matches the bytes shown")
    elif precision in ("int8", "int4") and native_q not in ("gptq", "awq",
                                                             "compressed-tensors"):
        notes.append(f"{precision} needs a pre-quantized checkpoint of this model (GPTQ/AWQ or "
                     "compressed-tensors); engines read its quantization_config, so serve that "
                     "checkpoint with the same flags")
    if "vllm" in gpu.engines and not gguf:
        parts = [f"vllm serve {model}", f"--tensor-parallel-size {lay.tensor_parallel}"]
        if lay.pipeline_parallel > 1:
            parts.append(f"--pipeline-parallel-size {lay.pipeline_parallel}")
        if lay.expert_parallel:
            parts.append("--enable-expert-parallel")
        parts += [f"--max-model-len {context}", f"--gpu-memory-utilization {util}"]
        if quant_flag:
            parts.append(f"--quantization {quant_flag}")
        if kv_dtype == "fp8":
            parts.append("--kv-cache-dtype fp8")
        parts.append(f"--max-num-seqs {max(1, min(concurrency, lay.max_concurrency or 1))}")
        vllm = " ".join(parts)
    if "sglang" in gpu.engines and not gguf:
        nodes = max(1, lay.gpus // gpu.max_per_node) if lay.gpus > gpu.max_per_node else 1
        parts = [f"python -m sglang.launch_server --model-path {model}",
                 f"--tp {lay.tensor_parallel}"]
        if lay.pipeline_parallel > 1:
            parts.append(f"--pp-size {lay.pipeline_parallel}")
        if lay.expert_parallel:
            parts.append(f"--ep-size {lay.gpus}")
        parts.append(f"--context-length {context}")
        if quant_flag:
            parts.append(f"--quantization {quant_flag}")
        if kv_dtype == "fp8":
            parts.append("--kv-cache-dtype fp8_e4m3")
        if nodes > 1:
            parts.append(f"--nnodes {nodes}")
            notes.append(f"SGLang across {nodes} nodes: run the command on each node adding "
                         "--node-rank <i> --dist-init-addr <first node>:<port>")
        sglang = " ".join(parts)
    if lay.pipeline_parallel > 1 and vllm:
        notes.append("vLLM across nodes: start a Ray cluster spanning the nodes first")
    llama: str | None = None
    if "llama.cpp" in gpu.engines and lay.gpus <= gpu.max_per_node:
        if gguf:
            gguf_path = model
        else:
            suffix = {"native": (weights.native_format.split()[0] if weights.native_format
                                 else "BF16"),
                      "bf16": "BF16", "fp8": "Q8_0", "int8": "Q8_0", "int4": "Q4_K_M"}.get(
                precision, precision.upper())
            gguf_path = f"{model.rstrip('/').rsplit('/', 1)[-1]}-{suffix.upper()}.gguf"
            notes.append(f"llama.cpp needs a GGUF: convert with convert_hf_to_gguf.py and "
                         f"llama-quantize to {gguf_path}")
        slots = max(1, min(concurrency, lay.max_concurrency or 1))
        parts = [f"llama-server -m {gguf_path}", "-ngl 999", f"-c {context * slots}"]
        if slots > 1:
            parts.append(f"-np {slots}")
        if kv_dtype == "fp8":
            parts += ["-fa on", "--cache-type-k q8_0", "--cache-type-v q8_0"]
            notes.append("llama.cpp has no fp8 KV cache; q8_0 (8.5 bits) is the nearest")
        llama = " ".join(parts)
    return {"vllm": vllm, "sglang": sglang, "llama_cpp": llama}, notes


def plan_one(
    arch: Architecture, weights: WeightBytes, kv: KVCache, gpu: GPU, precision: str, *,
    context: int, concurrency: int, kv_dtype: str = "auto", gpu_count: int | None = None,
    model: str = "MODEL", gguf: bool = False,
) -> Plan:
    """One (GPU, precision) plan: the smallest GPU count that serves the target."""
    w = weights.served(precision)
    layouts = [_layout(arch, gpu, n, w, kv, context, precision) for n in gpu_counts(gpu)]
    fitting = [lay for lay in layouts if lay.fits]
    min_gpus = fitting[0].gpus if fitting else None
    if gpu_count is not None:
        if gpu_count < 1:
            raise UsageError("--gpus must be at least 1")
        lay = _layout(arch, gpu, gpu_count, w, kv, context, precision)
    else:
        enough = [lay for lay in layouts if lay.fits and lay.max_concurrency >= concurrency]
        lay = (enough or fitting or layouts[-1:])[0]
    meets = lay.fits and lay.max_concurrency >= concurrency
    commands, notes = _commands(model, arch, gpu, precision, lay, context, concurrency,
                                kv_dtype, weights, gguf)
    if lay.problem:
        notes.insert(0, lay.problem)
    if lay.expert_parallel:
        notes.append("experts are spread whole across GPUs (expert parallel): their widths "
                     "do not split into the quantization blocks")
    ep_alt: dict[str, Any] | None = None
    if arch.is_moe and lay.gpus > 1:
        ep_alt = {
            "size": lay.gpus,
            "experts_per_gpu": math.ceil((arch.num_experts or 0) / lay.gpus),
            "vllm": "--enable-expert-parallel",
            "sglang": f"--ep-size {lay.gpus}",
            "memory": "same weight bytes per GPU; experts stay whole instead of sliced",
        }
        if not lay.expert_parallel:
            notes.append(f"expert-parallel alternative: --enable-expert-parallel (vLLM) / "
                         f"--ep-size {lay.gpus} (SGLang) puts {arch.num_experts} experts, "
                         f"{ep_alt['experts_per_gpu']} per GPU; same memory")
    arith = (
        f"{lay.gpus} × {gpu.key}: usable {_gb(lay.usable_per_gpu)} per GPU "
        f"({_gb(gpu.memory_bytes)} × "
        f"{gpu.memory_fraction or serving_rules()['engine']['gpu_memory_utilization']}) "
        f"− weights {_gb(lay.weights_per_gpu)} ({_gb(w)} / {lay.gpus}) − overhead "
        f"{_gb(lay.overhead.total)} = KV budget {_gb(lay.kv_budget_per_gpu)} per GPU; "
        f"one {context:,}-token sequence needs {_gb(lay.kv_bytes_per_sequence_per_gpu)} per "
        f"GPU → {lay.max_concurrency} concurrent sequence(s)"
    )
    return Plan(gpu, precision, _label(precision, weights), w, context, concurrency,
                kv_dtype, lay, meets, min_gpus, ep_alt, commands, tuple(notes), arith)


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
) -> SizingReport:
    """Size a model and plan it on GPUs (every catalog GPU and precision by default)."""
    if not arch.complete:
        raise InputError(arch.file, "lacks " + ", ".join(arch.missing())
                         + ": cannot plan hardware for it")
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    ctx = context if context is not None else min(arch.max_position_embeddings or 32768,
                                                  32768)
    if ctx < 1:
        raise UsageError("--context must be at least 1")
    precs = list(precisions) if precisions else ["native", *PRECISIONS]
    for p in precs:
        if p not in ("native", *PRECISIONS) and _ggml(p) is None:
            raise UsageError(f"unknown precision {p!r}; use native, "
                             + ", ".join(PRECISIONS) + " or a GGUF type such as Q4_K")
    extra = [p for p in precs if p not in ("native", *PRECISIONS)]
    weights = weight_bytes(arch, tensors, extra, native_format)
    if not precisions:
        # a what-if precision that prices exactly like the checkpoint adds nothing
        precs = ["native"] + [p for p in PRECISIONS
                              if weights.by_precision[p] != weights.native_main]
    kv = kv_cache(arch, kv_dtype)
    findings: list[Finding] = list(weights.findings)
    if arch.max_position_embeddings and ctx > arch.max_position_embeddings:
        findings.append(finding(
            "MC411",
            f"target context {ctx:,} exceeds max_position_embeddings "
            f"{arch.max_position_embeddings:,}",
            file=arch.file, line=arch.lines.get("max_position_embeddings"),
        ))
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


__all__ = [
    "GPU", "KVCache", "Layout", "Plan", "SizingReport", "WeightBytes",
    "find_gpu", "gpu_catalog", "kv_cache", "plan", "plan_one", "weight_bytes",
]
