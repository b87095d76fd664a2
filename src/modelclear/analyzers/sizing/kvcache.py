"""KV-cache bytes per token, following the attention kind layer by layer.

Calculators that assume multi-head attention overstate a GQA model's cache
(Llama-3.1-8B about 8×) and miss MLA's compressed latent entirely; hybrid models'
linear-attention layers hold no per-token cache at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import InputError, UsageError
from ..architecture import Architecture

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
    #: fixed per-sequence state (Mamba: conv + SSM state per layer), whatever the context
    state_bytes_per_sequence: int = 0

    @property
    def bytes_per_token(self) -> int:
        return self.elements_per_token * self.bytes_per_element

    def bytes_per_sequence(self, context: int, window_aware: bool = False) -> int:
        """KV bytes one sequence of ``context`` tokens holds (all layers full unless asked)."""
        if not window_aware or not self.sliding_window or not self.sliding_layers:
            return self.bytes_per_token * context + self.state_bytes_per_sequence
        full_layers = self.layers - self.sliding_layers
        per = self.elements_per_layer * self.bytes_per_element
        return per * (full_layers * context + self.sliding_layers * min(
            context, self.sliding_window)) + self.state_bytes_per_sequence

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
            "state_bytes_per_sequence": self.state_bytes_per_sequence,
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
    if arch.is_ssm and not arch.is_hybrid_ssm:
        return _ssm_state(arch, kv_dtype)
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
    state = 0
    if arch.is_hybrid_ssm:
        n_ssm = sum(1 for i in range(arch.num_layers or 0) if arch.layer_is_ssm(i))
        per_ssm = (arch.ssm_inner or 0) * ((arch.ssm_conv_kernel or 0)
                                           + (arch.ssm_state_size or 0))
        state = n_ssm * per_ssm * bpe
        formula += (f"; plus per sequence {n_ssm} Mamba layers × {arch.ssm_inner:,} channels × "
                    f"(conv {arch.ssm_conv_kernel} + state {arch.ssm_state_size}) × {bpe} B = "
                    f"{state:,} bytes")
    n_lin = sum(1 for i in range(arch.num_layers or 0) if arch.layer_is_linear(i))
    if n_lin:
        lin = n_lin * (arch.linear_state_per_layer or 0) * bpe
        state += lin
        if arch.linear_kind == "gated_deltanet":
            what = (f"Gated DeltaNet layers × {arch.linear_state_per_layer:,} elements (conv "
                    f"window + {arch.linear_value_heads} value heads × {arch.linear_key_dim} × "
                    f"{arch.linear_value_dim} recurrent state)")
        else:
            what = (f"lightning-attention layers × {arch.num_attention_heads} heads × "
                    f"{arch.head_dim}² (head_dim × head_dim state)")
        formula += (f"; plus per sequence {n_lin} {what} × {bpe} B = {lin:,} bytes, "
                    "whatever the context")
    return KVCache(kind, layers, per, total, dtype, bpe, formula,
                   arch.sliding_window if sliding else None, sliding, kvh, state)


def _ssm_state(arch: Architecture, kv_dtype: str) -> KVCache:
    """Mamba keeps no per-token cache: a conv window and an SSM state per layer."""
    bpe = KV_DTYPE_BYTES[kv_dtype]
    dtype = "bf16" if kv_dtype == "auto" else kv_dtype
    layers, inner = arch.num_layers or 0, arch.ssm_inner or 0
    per_layer = inner * ((arch.ssm_conv_kernel or 0) + (arch.ssm_state_size or 0))
    state = per_layer * layers * bpe
    formula = (f"no KV cache: per sequence {layers} layers × {inner:,} channels × "
               f"(conv_kernel {arch.ssm_conv_kernel} + state_size {arch.ssm_state_size}) = "
               f"{per_layer * layers:,} elements × {bpe} byte(s) ({dtype}) = {state:,} bytes, "
               "whatever the context")
    return KVCache("ssm", layers, 0, 0, dtype, bpe, formula, None, 0, None, state)
