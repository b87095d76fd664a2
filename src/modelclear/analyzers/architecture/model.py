"""The architecture facts sizing and parameter counts are computed from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...findings import Finding

#: Keys under which a wrapper config nests its language model.
TEXT_CONFIG_KEYS = ("text_config", "language_config", "llm_config", "thinker_config")


@dataclass(frozen=True)
class Quantization:
    """What ``quantization_config`` says the checkpoint holds."""

    method: str  # fp8 | gptq | awq | bitsandbytes | compressed-tensors | <raw quant_method>
    bits: int | None = None  # weight bits (8 for fp8)
    group_size: int | None = None  # elements sharing one scale along the input dim (GPTQ/AWQ)
    block_size: tuple[int, ...] | None = None  # fp8 weight_block_size [out, in]
    fmt: str | None = None  # e4m3, nf4, int, float…
    strategy: str | None = None  # tensor | channel | group | block (compressed-tensors)
    symmetric: bool | None = None
    double_quant: bool | None = None  # bitsandbytes nested quantization of the absmax
    not_converted: tuple[str, ...] = ()  # modules_to_not_convert / ignore
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "bits": self.bits,
            "group_size": self.group_size,
            "block_size": list(self.block_size) if self.block_size else None,
            "format": self.fmt,
            "strategy": self.strategy,
            "symmetric": self.symmetric,
            "double_quant": self.double_quant,
            "not_converted": list(self.not_converted),
        }


@dataclass(frozen=True)
class VisionTower:
    """A multimodal wrapper's vision encoder and projector, counted beside the text model."""

    kind: str  # siglip
    hidden: int
    intermediate: int
    layers: int
    channels: int
    patch: int
    image: int
    projector_out: int  # the text model's hidden size
    # Llama-4: pixel-shuffle MLP (hidden/ratio² → adapter_hidden → adapter_out) and the
    # projector's input width
    adapter_in: int = 0
    adapter_hidden: int = 0
    adapter_out: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "hidden_size": self.hidden,
                "intermediate_size": self.intermediate, "num_hidden_layers": self.layers,
                "patch_size": self.patch, "image_size": self.image}


@dataclass(frozen=True)
class Architecture:
    """Facts about a decoder-only transformer, as its config states them."""

    file: str
    source: str  # "config" | "gguf"
    model_type: str | None
    architectures: tuple[str, ...]
    wrapper_model_type: str | None  # multimodal wrapper around the text model, if any
    num_layers: int | None
    hidden_size: int | None
    num_attention_heads: int | None
    num_kv_heads: int | None
    head_dim: int | None
    vocab_size: int | None
    intermediate_size: int | None
    # MoE
    moe_intermediate_size: int | None = None
    num_experts: int | None = None
    num_shared_experts: int | None = None
    shared_expert_intermediate_size: int | None = None
    experts_per_token: int | None = None
    first_k_dense_replace: int | None = None
    moe_layer_freq: int | None = None
    decoder_sparse_step: int | None = None
    mlp_only_layers: tuple[int, ...] = ()
    interleave_moe_layer_step: int | None = None  # Llama-4
    dense_intermediate_size: int | None = None  # Llama-4 intermediate_size_mlp
    router_bias: bool = False  # DeepSeek-V3 e_score_correction_bias, gpt-oss router bias
    expert_bias: bool = False  # biases on the routed experts' projections (gpt-oss)
    attention_sinks: bool = False  # one learned sink logit per attention head (gpt-oss)
    # embeddings and biases
    tie_word_embeddings: bool = False
    attention_bias: bool = False  # q,k,v,o biases (Llama attention_bias)
    qkv_bias: bool = False  # q,k,v biases only (Qwen2 family)
    mlp_bias: bool = False
    qk_norm: bool = False  # per-head q/k RMSNorm (Qwen3, Gemma-3, OLMo-2 style)
    norms_per_layer: int = 2
    # MLA
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    qk_nope_head_dim: int | None = None
    v_head_dim: int | None = None
    # context and attention pattern
    max_position_embeddings: int | None = None
    rope_theta: float | None = None
    rope_scaling: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    sliding_window: int | None = None
    layer_types: tuple[str, ...] | None = None  # per layer: "full_attention" | "sliding_attention"
    # dtypes and checkpoint form
    torch_dtype: str | None = None
    quantization: Quantization | None = None
    num_nextn_predict_layers: int = 0
    # family description (data/architectures.toml); None: not modelled, no formula
    family_key: str | None = None
    mlp_gated: bool = True
    norm_params: int = 1  # per normalised dimension: 1 (RMSNorm weight) or 2 (LayerNorm + bias)
    qk_norm_scope: str = "head"  # head: head_dim vectors; heads: over all q / kv heads
    learned_positions: int = 0  # rows of a learned position table (GPT-2, BigCode)
    embedding_norm: bool = False  # BLOOM's LayerNorm after the embedding
    lm_head_bias: bool = False
    # Mamba state-space facts (per-sequence state instead of a KV cache)
    ssm_state_size: int | None = None
    ssm_inner: int | None = None
    ssm_conv_kernel: int | None = None
    ssm_dt_rank: int | None = None
    ssm_inner_norms: bool = False  # Jamba: RMSNorms on dt, B and C inside the mixer
    # Jamba-style schedules: MoE on layers i % expert_layer_period == expert_layer_offset
    expert_layer_period: int | None = None
    expert_layer_offset: int = 0
    #: MiniMax lightning attention: state elements one linear-attention layer keeps per
    #: sequence (heads × head_dim × head_dim), whatever the context; None: no such layers
    linear_state_per_layer: int | None = None
    linear_kind: str | None = None  # lightning (MiniMax) | gated_deltanet (Qwen3-Next)
    # Qwen3-Next Gated DeltaNet: key/value heads and head widths, causal-conv kernel
    linear_key_heads: int = 0
    linear_value_heads: int = 0
    linear_key_dim: int = 0
    linear_value_dim: int = 0
    linear_conv_kernel: int = 0
    attention_output_gate: bool = False  # q_proj also emits a per-head sigmoid gate (2×)
    vision: VisionTower | None = None
    # context: what the model serves, and the config key that says so
    context_length: int | None = None
    context_key: str | None = None
    #: config key -> line in the file it was read from (evidence)
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    findings: tuple[Finding, ...] = ()

    # ---- derived facts -------------------------------------------------------------------

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def modelled(self) -> bool:
        """Whether a parameter formula describes this family (else headers/index only)."""
        return self.family_key is not None

    @property
    def is_ssm(self) -> bool:
        return self.ssm_state_size is not None

    @property
    def is_hybrid_ssm(self) -> bool:
        """State-space layers mixed with attention layers (Jamba): ``layer_types`` says which."""
        return self.is_ssm and self.layer_types is not None

    def layer_is_ssm(self, i: int) -> bool:
        if not self.is_ssm:
            return False
        if self.layer_types is None:
            return True
        return i < len(self.layer_types) and self.layer_types[i] == "mamba"

    def layer_is_linear(self, i: int) -> bool:
        """Whether layer ``i`` is a lightning (linear-attention) layer of a modelled family."""
        if self.linear_state_per_layer is None or self.layer_types is None:
            return False
        return i < len(self.layer_types) and self.layer_types[i] == "linear_attention"

    @property
    def is_moe(self) -> bool:
        return self.num_experts is not None and self.num_experts > 1

    @property
    def complete(self) -> bool:
        """Whether the facts the formulas need are all present."""
        return not self.missing()

    def missing(self) -> tuple[str, ...]:
        names = {
            "num_hidden_layers": self.num_layers,
            "hidden_size": self.hidden_size,
            "num_attention_heads": self.num_attention_heads,
            "vocab_size": self.vocab_size,
        }
        if self.is_ssm and not self.is_hybrid_ssm:  # pure state-space: no attention heads
            del names["num_attention_heads"]
        return tuple(k for k, v in names.items() if v is None)

    def is_moe_layer(self, i: int) -> bool:
        """Whether decoder layer ``i`` (0-based) routes through experts.

        Each family states this differently: DeepSeek keeps the first
        ``first_k_dense_replace`` layers dense, Qwen-MoE uses ``decoder_sparse_step``
        and ``mlp_only_layers``, Llama-4 interleaves, Mixtral is MoE everywhere.
        """
        if not self.is_moe:
            return False
        if i in self.mlp_only_layers:
            return False
        if self.expert_layer_period:
            return i % self.expert_layer_period == self.expert_layer_offset
        if self.first_k_dense_replace is not None or self.moe_layer_freq is not None:
            first = self.first_k_dense_replace or 0
            freq = self.moe_layer_freq or 1
            return i >= first and i % freq == 0
        if self.decoder_sparse_step is not None:
            step = self.decoder_sparse_step or 1
            return (i + 1) % step == 0
        if self.interleave_moe_layer_step is not None:
            step = self.interleave_moe_layer_step or 1
            return (i + 1) % step == 0
        return True

    def layer_is_sliding(self, i: int) -> bool:
        if self.sliding_window is None or self.layer_types is None:
            return False
        return i < len(self.layer_types) and self.layer_types[i] == "sliding_attention"

    @property
    def family(self) -> str:
        """The parameter-formula family (documented in docs/sizing.md)."""
        if self.is_mla:
            return "mla-moe" if self.is_moe else "mla"
        if self.is_moe:
            return "moe"
        return "dense"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "source": self.source,
            "model_type": self.model_type,
            "architectures": list(self.architectures),
            "wrapper_model_type": self.wrapper_model_type,
            "family": self.family,
            "num_layers": self.num_layers,
            "hidden_size": self.hidden_size,
            "num_attention_heads": self.num_attention_heads,
            "num_kv_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab_size,
            "intermediate_size": self.intermediate_size,
            "moe": None
            if not self.is_moe
            else {
                "num_experts": self.num_experts,
                "experts_per_token": self.experts_per_token,
                "moe_intermediate_size": self.moe_intermediate_size,
                "num_shared_experts": self.num_shared_experts,
                "shared_expert_intermediate_size": self.shared_expert_intermediate_size,
                "first_k_dense_replace": self.first_k_dense_replace,
                "moe_layer_freq": self.moe_layer_freq,
                "decoder_sparse_step": self.decoder_sparse_step,
                "mlp_only_layers": list(self.mlp_only_layers),
                "interleave_moe_layer_step": self.interleave_moe_layer_step,
                "dense_layers": [
                    i for i in range(self.num_layers or 0) if not self.is_moe_layer(i)
                ],
            },
            "mla": None
            if not self.is_mla
            else {
                "q_lora_rank": self.q_lora_rank,
                "kv_lora_rank": self.kv_lora_rank,
                "qk_rope_head_dim": self.qk_rope_head_dim,
                "qk_nope_head_dim": self.qk_nope_head_dim,
                "v_head_dim": self.v_head_dim,
            },
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": self.attention_bias,
            "qkv_bias": self.qkv_bias,
            "qk_norm": self.qk_norm,
            "max_position_embeddings": self.max_position_embeddings,
            "rope_theta": self.rope_theta,
            "rope_scaling": self.rope_scaling,
            "sliding_window": self.sliding_window,
            "sliding_layers": None
            if self.layer_types is None or self.sliding_window is None
            else sum(1 for t in self.layer_types if t == "sliding_attention"),
            "torch_dtype": self.torch_dtype,
            "quantization": self.quantization.to_json() if self.quantization else None,
            "num_nextn_predict_layers": self.num_nextn_predict_layers,
            "modelled_family": self.family_key,
            "vision": self.vision.to_json() if self.vision else None,
            "context_length": self.context_length,
            "context_key": self.context_key,
            "lines": dict(self.lines),
        }
