"""Exact parameter counts: from tensor headers when weights are present, else from config.json.

Both methods produce the same intermediate form — a list of :class:`ParamEntry`
(one per tensor, or per group of identical expert tensors) tagged with what the
tensor is (embedding, linear, norm, router…), whether it is a routed expert and
whether it belongs to a multi-token-prediction (MTP/nextn) layer. Totals,
active-per-token counts and the sizing analyzer's per-precision byte counts are
all computed from that one list, so "what the config says" and "what the files
hold" are compared like for like.

Definitions (issue 2): *total* counts the main model once (tied embeddings once)
and excludes MTP layers, which are reported separately; *active* counts every
parameter one token passes through: embeddings, attention, dense MLPs, shared
experts, the ``num_experts_per_tok`` routed experts of each MoE layer, routers,
norms and the lm_head.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..parsers.tensors import TensorInfo
from ..release import Release
from .architecture import Architecture

SCHEMA_VERSION = 1

#: tensor kinds
EMBED, LM_HEAD, LINEAR, NORM, BIAS, ROUTER = "embed", "lm_head", "linear", "norm", "bias", "router"
KINDS = (EMBED, LM_HEAD, LINEAR, NORM, BIAS, ROUTER)

#: bytes per element of safetensors / torch dtype names (sub-byte types packed: see docs)
DTYPE_BYTES: dict[str, float] = {
    "F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2,
    "I16": 2, "U16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I8": 1, "U8": 1,
    "BOOL": 1, "F4": 0.5, "F6_E2M3": 0.75, "F6_E3M2": 0.75,
}

TORCH_DTYPES: dict[str, str] = {
    "bfloat16": "BF16", "float16": "F16", "half": "F16", "float32": "F32", "float": "F32",
    "float64": "F64", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}


def dtype_name(torch_dtype: str | None) -> str:
    """safetensors name of a config ``torch_dtype`` (BF16 when absent: what engines load)."""
    if not torch_dtype:
        return "BF16"
    key = torch_dtype.lower().removeprefix("torch.")
    return TORCH_DTYPES.get(key, "BF16")


@dataclass(frozen=True)
class ParamEntry:
    """One tensor (or ``count`` identical expert tensors) with its role."""

    name: str
    shape: tuple[int, ...]  # logical element shape of ONE tensor (packed int4 unpacked)
    kind: str
    count: int = 1  # identical copies (routed experts of one layer written once)
    layer: int | None = None
    routed: bool = False  # a routed expert: only top-k of them are active per token
    experts: int = 0  # experts stored in this entry (count, or stacked dim for 3-D tensors)
    mtp: bool = False
    dtype: str | None = None  # stored dtype (headers) — None when from config
    nbytes: int | None = None  # stored bytes of all `count` copies, incl. packing (headers)
    quantize: bool = True  # False: stays at its own dtype even in a quantized checkpoint

    @property
    def numel(self) -> int:
        return math.prod(self.shape) * self.count

    @property
    def matrix(self) -> tuple[int, int]:
        """(rows, columns) of one 2-D slice: output features × input features."""
        if len(self.shape) < 2:
            return (1, math.prod(self.shape))
        return (self.shape[-2], self.shape[-1])

    @property
    def slices(self) -> int:
        """How many 2-D matrices the entry holds (experts stacked or repeated)."""
        if len(self.shape) < 2:
            return self.count
        return math.prod(self.shape[:-2]) * self.count


@dataclass(frozen=True)
class ParameterCount:
    total: int
    active: int | None
    mtp: int
    by_dtype: dict[str, int]
    method: str  # "headers" | "config"
    breakdown: dict[str, int] = field(default_factory=dict)
    side_tensors: int = 0  # quantization side tensors (scales, zeros, g_idx) not counted
    side_bytes: int = 0
    #: active minus the input-embedding table (a lookup, not a matmul) when it is not tied
    #: to the lm_head — the convention some publishers quote (DeepSeek-V2-Lite's "2.4B")
    active_excluding_embedding: int | None = None
    config_total: int | None = None  # the config formula's total, for cross-checking headers
    config_active: int | None = None
    entries: tuple[ParamEntry, ...] = field(default=(), compare=False, hash=False, repr=False)
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "total": self.total,
            "active": self.active,
            "active_excluding_embedding": self.active_excluding_embedding,
            "mtp": self.mtp,
            "by_dtype": dict(self.by_dtype),
            "method": self.method,
            "breakdown": dict(self.breakdown),
            "quantization_side_tensors": self.side_tensors,
            "quantization_side_bytes": self.side_bytes,
            "config_total": self.config_total,
            "config_active": self.config_active,
            "findings": [f.to_json() for f in self.findings],
        }


# ---- from config.json ------------------------------------------------------------------------


def _layer_entries(arch: Architecture, i: int, mtp: bool) -> list[ParamEntry]:
    H = arch.hidden_size or 0
    nh = arch.num_attention_heads or 0
    nkv = arch.num_kv_heads or nh
    hd = arch.head_dim or 0
    p = f"model.layers.{i}."
    out: list[ParamEntry] = []

    def add(name: str, shape: tuple[int, ...], kind: str, **kw: Any) -> None:
        out.append(ParamEntry(p + name, shape, kind, layer=i, mtp=mtp, **kw))

    # attention
    if arch.is_mla:
        rope, nope = arch.qk_rope_head_dim or 0, arch.qk_nope_head_dim or 0
        vd = arch.v_head_dim or 0
        kvr = arch.kv_lora_rank or 0
        if arch.q_lora_rank:
            add("self_attn.q_a_proj.weight", (arch.q_lora_rank, H), LINEAR)
            add("self_attn.q_a_layernorm.weight", (arch.q_lora_rank,), NORM)
            add("self_attn.q_b_proj.weight", (nh * (nope + rope), arch.q_lora_rank), LINEAR)
        else:
            add("self_attn.q_proj.weight", (nh * (nope + rope), H), LINEAR)
        add("self_attn.kv_a_proj_with_mqa.weight", (kvr + rope, H), LINEAR)
        add("self_attn.kv_a_layernorm.weight", (kvr,), NORM)
        add("self_attn.kv_b_proj.weight", (nh * (nope + vd), kvr), LINEAR)
        add("self_attn.o_proj.weight", (H, nh * vd), LINEAR)
    else:
        add("self_attn.q_proj.weight", (nh * hd, H), LINEAR)
        add("self_attn.k_proj.weight", (nkv * hd, H), LINEAR)
        add("self_attn.v_proj.weight", (nkv * hd, H), LINEAR)
        add("self_attn.o_proj.weight", (H, nh * hd), LINEAR)
        if arch.attention_bias or arch.qkv_bias:
            add("self_attn.q_proj.bias", (nh * hd,), BIAS)
            add("self_attn.k_proj.bias", (nkv * hd,), BIAS)
            add("self_attn.v_proj.bias", (nkv * hd,), BIAS)
        if arch.attention_bias:
            add("self_attn.o_proj.bias", (H,), BIAS)
        if arch.qk_norm:
            add("self_attn.q_norm.weight", (hd,), NORM)
            add("self_attn.k_norm.weight", (hd,), NORM)
        if arch.attention_sinks:
            add("self_attn.sinks", (nh,), BIAS)
    # norms
    norm_names = ["input_layernorm", "post_attention_layernorm",
                  "pre_feedforward_layernorm", "post_feedforward_layernorm"]
    for n in norm_names[: arch.norms_per_layer]:
        add(f"{n}.weight", (H,), NORM)
    # feed-forward
    mixtral = (arch.model_type or "").startswith(("mixtral", "minimax", "phimoe"))
    if arch.is_moe_layer(i):
        E = arch.num_experts or 0
        mI = arch.moe_intermediate_size or 0
        if arch.expert_bias:
            # gpt-oss layout: a biased router and stacked experts with biases
            add("mlp.router.weight", (E, H), ROUTER)
            add("mlp.router.bias", (E,), ROUTER)
            add("mlp.experts.gate_up_proj", (E, 2 * mI, H), LINEAR, routed=True, experts=E)
            add("mlp.experts.gate_up_proj_bias", (E, 2 * mI), BIAS, routed=True, experts=E)
            add("mlp.experts.down_proj", (E, H, mI), LINEAR, routed=True, experts=E)
            add("mlp.experts.down_proj_bias", (E, H), BIAS, routed=True, experts=E)
        elif mixtral:
            add("block_sparse_moe.gate.weight", (E, H), ROUTER)
            for w, shape in (("w1", (mI, H)), ("w2", (H, mI)), ("w3", (mI, H))):
                add(f"block_sparse_moe.experts.{{e}}.{w}.weight", shape, LINEAR, count=E,
                    routed=True, experts=E)
        else:
            add("mlp.gate.weight", (E, H), ROUTER)
            if arch.router_bias:
                add("mlp.gate.e_score_correction_bias", (E,), ROUTER, dtype="F32")
            for w, shape in (("gate_proj", (mI, H)), ("up_proj", (mI, H)),
                             ("down_proj", (H, mI))):
                add(f"mlp.experts.{{e}}.{w}.weight", shape, LINEAR, count=E, routed=True,
                    experts=E)
            if arch.num_shared_experts:
                sI = mI * arch.num_shared_experts
                for w, shape in (("gate_proj", (sI, H)), ("up_proj", (sI, H)),
                                 ("down_proj", (H, sI))):
                    add(f"mlp.shared_experts.{w}.weight", shape, LINEAR)
            if arch.shared_expert_intermediate_size:
                sI = arch.shared_expert_intermediate_size
                for w, shape in (("gate_proj", (sI, H)), ("up_proj", (sI, H)),
                                 ("down_proj", (H, sI))):
                    add(f"mlp.shared_expert.{w}.weight", shape, LINEAR)
                add("mlp.shared_expert_gate.weight", (1, H), ROUTER)
    else:
        inter = arch.intermediate_size or 0
        for w, shape in (("gate_proj", (inter, H)), ("up_proj", (inter, H)),
                         ("down_proj", (H, inter))):
            add(f"mlp.{w}.weight", shape, LINEAR)
        if arch.mlp_bias:
            add("mlp.gate_proj.bias", (inter,), BIAS)
            add("mlp.up_proj.bias", (inter,), BIAS)
            add("mlp.down_proj.bias", (H,), BIAS)
    return out


def entries_from_config(arch: Architecture, include_mtp: bool = True) -> list[ParamEntry]:
    """The tensors a Hugging Face checkpoint of this config holds, by formula.

    Names follow the transformers / DeepSeek modeling code so a header list can be
    compared entry by entry. The MTP layer layout is DeepSeek-V3's (embedding, two
    norms, ``eh_proj`` 2H→H kept unquantized, one decoder layer, shared head).
    """
    if not arch.complete:
        raise InputError(arch.file, "lacks " + ", ".join(arch.missing())
                         + ": cannot count parameters from it")
    H, V, L = arch.hidden_size or 0, arch.vocab_size or 0, arch.num_layers or 0
    out = [ParamEntry("model.embed_tokens.weight", (V, H), EMBED)]
    for i in range(L):
        out.extend(_layer_entries(arch, i, mtp=False))
    out.append(ParamEntry("model.norm.weight", (H,), NORM))
    if not arch.tie_word_embeddings:
        out.append(ParamEntry("lm_head.weight", (V, H), LM_HEAD))
    if include_mtp:
        for i in range(L, L + arch.num_nextn_predict_layers):
            p = f"model.layers.{i}."
            out += [
                ParamEntry(p + "embed_tokens.weight", (V, H), EMBED, layer=i, mtp=True),
                ParamEntry(p + "enorm.weight", (H,), NORM, layer=i, mtp=True),
                ParamEntry(p + "hnorm.weight", (H,), NORM, layer=i, mtp=True),
                ParamEntry(p + "eh_proj.weight", (H, 2 * H), LINEAR, layer=i, mtp=True,
                           quantize=False),
            ]
            out.extend(_layer_entries(arch, i, mtp=True))
            out += [
                ParamEntry(p + "shared_head.norm.weight", (H,), NORM, layer=i, mtp=True),
                ParamEntry(p + "shared_head.head.weight", (V, H), LM_HEAD, layer=i, mtp=True),
            ]
    return out


def count_from_config(arch: Architecture) -> ParameterCount:
    """Parameter count by formula from config facts alone (method ``config``)."""
    entries = entries_from_config(arch)
    return _summarize(entries, arch, "config", _config_dtypes(arch))


def _config_dtypes(arch: Architecture) -> dict[str, str]:
    """kind → dtype name a checkpoint of this config stores (for by_dtype)."""
    base = dtype_name(arch.torch_dtype)
    q = arch.quantization
    lin = base
    if q is not None:
        if q.method == "fp8":
            lin = "F8_E4M3" if (q.fmt or "e4m3") == "e4m3" else "F8_E5M2"
        elif q.method in ("gptq", "awq", "compressed-tensors", "bitsandbytes", "mxfp4",
                          "modelopt") and q.bits:
            lin = f"INT{q.bits}" if (q.fmt or "int") == "int" else f"{q.fmt}{q.bits}".upper()
    return {LINEAR: lin, "default": base}


# ---- from tensor headers ---------------------------------------------------------------------

_LAYER_RE = re.compile(r"(?:^|\.)(?:layers|h|blocks|layer)\.(\d+)\.|^blk\.(\d+)\.")
_EXPERT_RE = re.compile(r"\.experts\.(\d+)\.")
#: a tensor name's shape: layers.7.experts.12.w1.weight → layers.#.experts.#.w1.weight
_NUMBERS = re.compile(r"\.\d+(?=\.)")
_STACKED_EXPERT_RE = re.compile(
    r"\.experts\.(?:gate_up_proj|gate_proj|up_proj|down_proj|w1|w2|w3)(?:_bias|_blocks)?$"
    r"|\.experts\.(?:gate_up_proj|down_proj)\.(?:weight|bias)$"
    r"|\bffn_(?:gate|up|down|gate_up)_exps\."
)
#: quantization side tensors: scales, zero points, group indices — not parameters
_SIDE_RE = re.compile(
    r"(?:[._](?:weight_scale_inv|weight_scale|weight_scale_2|input_scale|output_scale|"
    r"k_scale|v_scale|q_scale|weight_global_scale|input_global_scale|weight_zero_point|"
    r"weight_g_idx|weight_shape|qzeros|scales|g_idx|SCB|weight_format|absmax|quant_map|"
    r"nested_absmax|nested_quant_map|_scales)$)|\.quant_state\.|_scales$"
)
_PACKED_RE = re.compile(r"[._](?:qweight|weight_packed)$")
_EMBED_RE = re.compile(r"(?:embed_tokens|\bwte|token_embd|tok_embeddings|word_embeddings|"
                       r"embed_in)\.weight$")
_HEAD_RE = re.compile(r"(?:^|\.)(?:lm_head|embed_out|shared_head\.head)\.weight$|^output\.weight$")
_ROUTER_RE = re.compile(r"(?:\.mlp\.gate|block_sparse_moe\.gate|\.router|ffn_gate_inp|"
                        r"shared_expert_gate|feed_forward\.router)\.(?:weight|bias)$"
                        r"|e_score_correction_bias$|exp_probs_b")


def _classify(name: str, ndim: int) -> str:
    if _EMBED_RE.search(name):
        return EMBED
    if _HEAD_RE.search(name):
        return LM_HEAD
    if _ROUTER_RE.search(name):
        return ROUTER
    if ndim >= 2:
        return LINEAR
    if name.endswith("bias"):
        return BIAS
    return NORM


def _layer_of(name: str) -> int | None:
    m = _LAYER_RE.search(name)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


#: towers of multimodal checkpoints whose layer numbers are not the decoder's
_NON_DECODER = ("vision", "visual", "audio", "encoder", "mm_projector", "multi_modal",
                "image", "speech")


def is_mtp(name: str, layer: int | None, n_layers: int | None) -> bool:
    """A decoder layer beyond ``num_hidden_layers``: a multi-token-prediction layer."""
    if layer is None or n_layers is None or layer < n_layers:
        return False
    return not any(k in name for k in _NON_DECODER)


def is_side_tensor(name: str) -> bool:
    """Whether a tensor is quantization bookkeeping (scale, zero point, index), not weights."""
    return bool(_SIDE_RE.search(name))


def entries_from_tensors(
    tensors: Sequence[TensorInfo], arch: Architecture | None
) -> tuple[list[ParamEntry], int, int]:
    """Header tensors → entries (parameters only), side-tensor count and side bytes.

    Packed integer weights (GPTQ/AWQ ``qweight``, compressed-tensors ``weight_packed``,
    bitsandbytes 4-bit ``weight`` bytes) are counted by their logical element count:
    storage elements × (storage bits ÷ weight bits).
    """
    q = arch.quantization if arch else None
    qbits = (q.bits if q and q.bits else 4) if q else 4
    names: set[str] | None = None  # built only if a U8 tensor needs its siblings looked up
    n_layers = arch.num_layers if arch else None
    n_experts = arch.num_experts if arch else None
    out: list[ParamEntry] = []
    side_n = side_b = 0
    facts: dict[str, tuple[bool, bool, bool, bool]] = {}
    kinds: dict[tuple[str, int], str] = {}
    groups: dict[tuple[object, ...], list[int]] = {}
    for t in tensors:
        # Tensor names repeat with only their layer/expert numbers changed (92k names, a
        # few dozen shapes in DeepSeek-V3): judge each name shape once, not each name.
        template = _NUMBERS.sub(".#", t.name)
        f = facts.get(template)
        if f is None:
            f = facts[template] = (
                is_side_tensor(t.name), bool(_PACKED_RE.search(t.name)),
                bool(_STACKED_EXPERT_RE.search(t.name)), bool(_EXPERT_RE.search(t.name)),
            )
        side, packed, stacked, routed = f
        if side:
            side_n += 1
            side_b += t.nbytes
            continue
        shape = tuple(t.shape)
        factor = 1
        if packed and t.dtype in ("I32", "U32", "I64", "I16", "U8", "I8"):
            factor = max(1, round(DTYPE_BYTES[t.dtype] * 8 / qbits))
        elif t.dtype == "U8" and (names := names or {t.name for t in tensors}) and (
            f"{t.name}.absmax" in names
            or f"{t.name}.quant_state.bitsandbytes__nf4" in names
            or f"{t.name}.quant_state.bitsandbytes__fp4" in names
            or t.name.endswith("_blocks")
            or (q is not None and q.bits == 4 and _sibling(t.name, "weight_scale") in names)
        ):
            factor = 2
        if factor != 1 and len(shape) == 2 and shape[-1] == 1:
            # bitsandbytes stores a flat column of bytes; the matrix shape lives in the
            # quant_state JSON. Keep it a (1, n) linear so it is priced as one long row.
            shape = (1, shape[0] * factor)
        elif factor != 1:
            shape = shape[:-1] + (shape[-1] * factor,) if shape else shape
        kind = kinds.get((template, len(shape)))
        if kind is None:
            kind = kinds[(template, len(shape))] = _classify(t.name, len(shape))
        layer = _layer_of(t.name)
        mtp = is_mtp(t.name, layer, n_layers)
        routed = routed or stacked
        experts = 0
        if stacked:
            experts = n_experts or (shape[0] if len(shape) >= 3 else 0)
        elif routed:
            # One entry per (layer, tensor shape) with a count, as the config formula
            # writes them: 256 experts × 3 projections are 3 entries, not 768.
            key = (template, layer, shape, t.dtype, mtp)
            group = groups.get(key)
            if group is not None:
                group[1] += 1
                continue
            groups[key] = [len(out), 1]
        out.append(
            ParamEntry(
                name=t.name, shape=shape, kind=kind, layer=layer, routed=routed,
                experts=experts, mtp=mtp, dtype=t.dtype, nbytes=t.nbytes,
            )
        )
    for index, count in groups.values():
        if count > 1:
            out[index] = replace(out[index], count=count, experts=count,
                                 nbytes=out[index].nbytes * count)  # type: ignore[operator]
    return out, side_n, side_b


def _sibling(name: str, leaf: str) -> str:
    return name.rsplit(".", 1)[0] + "." + leaf if "." in name else leaf


def count_from_tensors(
    tensors: Sequence[TensorInfo], arch: Architecture | None
) -> ParameterCount:
    """Exact count from weight headers (method ``headers``)."""
    entries, side_n, side_b = entries_from_tensors(tensors, arch)
    return _summarize(entries, arch, "headers", None, side_n, side_b)


# ---- shared summary --------------------------------------------------------------------------


def _component(e: ParamEntry) -> str:
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


def _summarize(
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
    for e in entries:
        n = e.numel
        if e.mtp:
            mtp += n
            continue
        total += n
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
    active: int | None = total
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
        m = _EXPERT_RE.search(e.name)
        if m:
            ids.add(int(m.group(1)))
    if ids:
        return len(ids)
    return max((e.experts for e in entries), default=0)


# ---- reading the release's weight headers ----------------------------------------------------


@dataclass(frozen=True)
class WeightHeaders:
    """The tensors of the weight files a model loads, and which files they came from."""

    format: str  # safetensors | gguf | pytorch
    files: tuple[str, ...]
    tensors: tuple[TensorInfo, ...]
    quantization: str | None = None  # GGUF file type label (Q4_K_M…)
    findings: tuple[Finding, ...] = ()


def weight_headers(release: Release) -> WeightHeaders | None:
    """Headers of the release's main weights: safetensors first, else a GGUF (split) set.

    Only the files a loader would read are taken: the shards beside the model's
    config.json, without Mistral-style ``consolidated*.safetensors`` duplicates, and
    one GGUF model (the first split set or file by name) when several quantizations
    sit side by side — otherwise parameters would be counted twice.
    """
    from ..parsers.gguf import read_gguf_split
    from ..parsers.safetensors import read_safetensors

    cfg = release.find("config.json")
    base = cfg.path.rsplit("/", 1)[0] if cfg is not None and "/" in cfg.path else ""
    st = [f for f in release.files if f.suffix == ".safetensors"
          and (f.path.rsplit("/", 1)[0] if "/" in f.path else "") == base]
    if any(not f.name.startswith("consolidated") for f in st):
        st = [f for f in st if not f.name.startswith("consolidated")]
    if st:
        tensors: list[TensorInfo] = []
        findings: list[Finding] = []
        for f in sorted(st, key=lambda f: f.path):
            parsed = read_safetensors(f)
            tensors.extend(parsed.tensors)
            findings.extend(parsed.findings)
        return WeightHeaders("safetensors", tuple(f.path for f in st), tuple(tensors),
                             None, tuple(findings))
    ggufs = sorted((f for f in release.files if f.suffix == ".gguf"), key=lambda f: f.path)
    if not ggufs:
        return _torch_headers(release, base)
    first = ggufs[0]
    m = re.match(r"^(?P<stem>.+)-\d{5}-of-(?P<n>\d{5})\.gguf$", first.name)
    if m:
        stem = m["stem"]
        parts = [f for f in ggufs if re.match(re.escape(stem) + r"-\d{5}-of-\d{5}\.gguf$",
                                                f.name)]
    else:
        parts = [first]
    split = read_gguf_split(parts)
    tensors = [t for p in split.parts for t in p.tensors]
    findings = [f for p in split.parts for f in p.findings] + list(split.findings)
    return WeightHeaders("gguf", tuple(p.file for p in split.parts), tuple(tensors),
                         split.parts[0].quantization, tuple(findings))


#: PyTorch files that hold the model's weights (not optimizer or training state).
_TORCH_WEIGHTS = re.compile(r"^(?:pytorch_model|model|consolidated|adapter_model)[\w.-]*\."
                            r"(?:bin|pt|pth|ckpt)$")


def _torch_headers(release: Release, base: str) -> WeightHeaders | None:
    """PyTorch checkpoints read statically, when every one lists its tensors."""
    from ..parsers.detect import detect_format
    from ..parsers.torchzip import read_torch_checkpoint

    single = len(release.files) == 1
    files = [f for f in release.files
             if (single or _TORCH_WEIGHTS.match(f.name))
             and (f.path.rsplit("/", 1)[0] if "/" in f.path else "") == base
             and detect_format(f.head(64 * 1024), f.name) in ("pytorch-zip", "pytorch-legacy")]
    if not files:
        return None
    tensors: list[TensorInfo] = []
    findings: list[Finding] = []
    for f in sorted(files, key=lambda f: f.path):
        arc = read_torch_checkpoint(f)
        if not arc.tensors_known:
            return None
        tensors.extend(arc.tensors)
        findings.extend(arc.findings)
    return WeightHeaders("pytorch", tuple(f.path for f in files), tuple(tensors), None,
                         tuple(findings))


# ---- release-level analyzer ------------------------------------------------------------------

#: relative difference between header and config counts above which we say so
AGREEMENT = 0.005


def analyze(
    release: Release | None, arch: Architecture | None, tensors: Sequence[TensorInfo] | None
) -> ParameterCount | None:
    """Counts for a release: headers when tensors are given, else the config formula.

    ``tensors=None`` with a release reads the release's weight headers
    (:func:`weight_headers`); pass ``()`` to force the config formula.

    When both are available the config formula is computed too and a disagreement
    above 0.5% is a finding (MC401): either the config does not describe these weights
    or the release carries extra modules (a vision tower, adapters…).
    """
    findings: list[Finding] = []
    if tensors is None and release is not None:
        headers = weight_headers(release)
        tensors = headers.tensors if headers else None
    cfg: ParameterCount | None = None
    if arch is not None and arch.complete and arch.source == "config":
        cfg = count_from_config(arch)
    if tensors:
        result = count_from_tensors(tensors, arch)
        if cfg is not None:
            diff = abs(result.total - cfg.total) / max(cfg.total, 1)
            if diff > AGREEMENT:
                findings.append(finding(
                    "MC401",
                    f"weights hold {result.total:,} parameters but config.json describes "
                    f"{cfg.total:,} ({diff:.1%} apart)"
                    + (f"; the {arch.wrapper_model_type} wrapper's non-text modules are "
                       "not in the config formula" if arch and arch.wrapper_model_type else ""),
                    file=arch.file if arch else None,
                    headers_total=result.total,
                    config_total=cfg.total,
                ))
        if result.mtp:
            findings.append(_mtp_finding(result, arch))
        return _replace(result, cfg, findings)
    if cfg is None:
        return None
    findings.append(finding(
        "MC400",
        f"no weights to read: {cfg.total:,} parameters computed from config.json",
        file=arch.file if arch else None,
    ))
    if cfg.mtp:
        findings.append(_mtp_finding(cfg, arch))
    return _replace(cfg, cfg, findings)


def _mtp_finding(count: ParameterCount, arch: Architecture | None) -> Finding:
    n = arch.num_nextn_predict_layers if arch else 0
    return finding(
        "MC402",
        f"{count.mtp:,} parameters in {n or 'extra'} multi-token-prediction layer(s) are "
        "counted separately, not in the total",
        file=arch.file if arch else None,
        line=arch.lines.get("num_nextn_predict_layers") if arch else None,
    )


def _replace(
    result: ParameterCount, cfg: ParameterCount | None, findings: list[Finding]
) -> ParameterCount:
    from dataclasses import replace

    return replace(
        result,
        config_total=cfg.total if cfg else None,
        config_active=cfg.active if cfg else None,
        findings=result.findings + tuple(findings),
    )
