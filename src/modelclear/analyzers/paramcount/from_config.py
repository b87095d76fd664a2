"""Parameter entries by formula from config facts: the tensors a checkpoint would hold."""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ..architecture import Architecture
from ..architecture.model import VisionTower
from .model import (
    BIAS,
    EMBED,
    LINEAR,
    LM_HEAD,
    NORM,
    ROUTER,
    ParamEntry,
    ParameterCount,
    dtype_name,
)
from .summary import summarize


class _Layer:
    """Entries of one decoder layer, named the way transformers' modeling code names them."""

    def __init__(self, i: int, mtp: bool) -> None:
        self.i = i
        self.mtp = mtp
        self.prefix = f"model.layers.{i}."
        self.out: list[ParamEntry] = []

    def add(self, name: str, shape: tuple[int, ...], kind: str, **kw: Any) -> None:
        self.out.append(ParamEntry(self.prefix + name, shape, kind, layer=self.i,
                                   mtp=self.mtp, **kw))


def _attention(arch: Architecture, layer: _Layer) -> None:
    add = layer.add
    H = arch.hidden_size or 0
    nh = arch.num_attention_heads or 0
    nkv = arch.num_kv_heads or nh
    hd = arch.head_dim or 0
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
        gate = 2 if arch.attention_output_gate else 1  # Qwen3-Next: query and its gate
        add("self_attn.q_proj.weight", (gate * nh * hd, H), LINEAR)
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
            heads = arch.qk_norm_scope == "heads"  # OLMo-2: one norm over all heads
            add("self_attn.q_norm.weight", (nh * hd if heads else hd,), NORM)
            add("self_attn.k_norm.weight", (nkv * hd if heads else hd,), NORM)
        if arch.attention_sinks:
            add("self_attn.sinks", (nh,), BIAS)


def _lightning(arch: Architecture, layer: _Layer) -> None:
    """A MiniMax lightning-attention layer: fused qkv, sigmoid output gate, a norm over all
    heads, out_proj (names as in the released MiniMax-01 checkpoints)."""
    H = arch.hidden_size or 0
    inner = (arch.num_attention_heads or 0) * (arch.head_dim or 0)
    layer.add("self_attn.qkv_proj.weight", (3 * inner, H), LINEAR)
    layer.add("self_attn.output_gate.weight", (inner, H), LINEAR)
    layer.add("self_attn.norm.weight", (inner,), NORM)
    layer.add("self_attn.out_proj.weight", (H, inner), LINEAR)


def _gated_deltanet(arch: Architecture, layer: _Layer) -> None:
    """A Qwen3-Next Gated DeltaNet layer (transformers' Qwen3NextGatedDeltaNet): fused
    q,k,v,z and b,a projections, a bias-free depthwise conv over q,k,v, per-value-head
    dt_bias and A_log, a gated RMSNorm of one value head's width, out_proj."""
    H = arch.hidden_size or 0
    key, value = arch.linear_key_heads * arch.linear_key_dim, \
        arch.linear_value_heads * arch.linear_value_dim
    conv = 2 * key + value
    layer.add("linear_attn.in_proj_qkvz.weight", (2 * key + 2 * value, H), LINEAR)
    layer.add("linear_attn.in_proj_ba.weight", (2 * arch.linear_value_heads, H), LINEAR)
    layer.add("linear_attn.conv1d.weight", (conv, 1, arch.linear_conv_kernel), NORM)
    layer.add("linear_attn.dt_bias", (arch.linear_value_heads,), NORM)
    layer.add("linear_attn.A_log", (arch.linear_value_heads,), NORM)
    layer.add("linear_attn.norm.weight", (arch.linear_value_dim,), NORM)
    layer.add("linear_attn.out_proj.weight", (H, value), LINEAR)


def _moe(arch: Architecture, layer: _Layer) -> None:
    add = layer.add
    H = arch.hidden_size or 0
    mixtral = (arch.model_type or "").startswith(("mixtral", "minimax", "phimoe"))
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
    elif (arch.model_type or "").startswith("hunyuan"):
        # transformers' hunyuan_v1_moe: an fp32 router (gate.wg), one shared MLP and E
        # experts, all of intermediate_size width
        width = arch.intermediate_size or 0
        add("mlp.gate.wg.weight", (E, H), ROUTER, dtype="F32")
        for w, shape in (("gate_proj", (width, H)), ("up_proj", (width, H)),
                         ("down_proj", (H, width))):
            add(f"mlp.shared_mlp.{w}.weight", shape, LINEAR)
            add(f"mlp.experts.{{e}}.{w}.weight", shape, LINEAR, count=E, routed=True,
                experts=E)
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


def _dense_mlp(arch: Architecture, layer: _Layer) -> None:
    add = layer.add
    H = arch.hidden_size or 0
    inter = arch.intermediate_size or 0
    names = ("gate_proj", "up_proj") if arch.mlp_gated else ("up_proj",)
    for w in names:
        add(f"mlp.{w}.weight", (inter, H), LINEAR)
        if arch.mlp_bias:
            add(f"mlp.{w}.bias", (inter,), BIAS)
    add("mlp.down_proj.weight", (H, inter), LINEAR)
    if arch.mlp_bias:
        add("mlp.down_proj.bias", (H,), BIAS)


def _mamba(arch: Architecture, layer: _Layer) -> None:
    """One Mamba block: in/out projections, depthwise conv, selective-scan parameters."""
    add = layer.add
    H, E = arch.hidden_size or 0, arch.ssm_inner or 0
    N, K, R = arch.ssm_state_size or 0, arch.ssm_conv_kernel or 0, arch.ssm_dt_rank or 0
    add("mixer.in_proj.weight", (2 * E, H), LINEAR)
    add("mixer.conv1d.weight", (E, 1, K), NORM)
    add("mixer.conv1d.bias", (E,), BIAS)
    add("mixer.x_proj.weight", (R + 2 * N, E), LINEAR)
    add("mixer.dt_proj.weight", (E, R), LINEAR)
    add("mixer.dt_proj.bias", (E,), BIAS)
    add("mixer.A_log", (E, N), NORM)
    add("mixer.D", (E,), NORM)
    add("mixer.out_proj.weight", (H, E), LINEAR)
    if arch.ssm_inner_norms:
        add("mixer.dt_layernorm.weight", (R,), NORM)
        add("mixer.b_layernorm.weight", (N,), NORM)
        add("mixer.c_layernorm.weight", (N,), NORM)
    if not arch.is_hybrid_ssm:
        add("norm.weight", (H,), NORM)  # a pure Mamba block: one norm, no MLP


def _norm(out: list[ParamEntry], name: str, arch: Architecture, **kw: Any) -> None:
    """A norm's weight, and its bias when the family uses LayerNorm."""
    H = arch.hidden_size or 0
    out.append(ParamEntry(name + ".weight", (H,), NORM, **kw))
    if arch.norm_params == 2:
        out.append(ParamEntry(name + ".bias", (H,), BIAS, **kw))


def _vit_layer(v: VisionTower, prefix: str, norms: tuple[str, str],
               out_proj: str) -> list[ParamEntry]:
    """One biased ViT encoder layer (two LayerNorms, q/k/v/out projections, a two-layer
    MLP), repeated ``v.layers`` times; only the families' tensor names differ."""
    d, i = v.hidden, v.intermediate
    per: list[tuple[str, tuple[int, ...], str]] = []
    for n in norms:
        per += [(f"{n}.weight", (d,), NORM), (f"{n}.bias", (d,), BIAS)]
    for n in ("q_proj", "k_proj", "v_proj", out_proj):
        per += [(f"self_attn.{n}.weight", (d, d), LINEAR), (f"self_attn.{n}.bias", (d,), BIAS)]
    per += [("mlp.fc1.weight", (i, d), LINEAR), ("mlp.fc1.bias", (i,), BIAS),
            ("mlp.fc2.weight", (d, i), LINEAR), ("mlp.fc2.bias", (d,), BIAS)]
    return [ParamEntry(prefix + name, shape, kind, count=v.layers) for name, shape, kind in per]


def _siglip(v: VisionTower) -> list[ParamEntry]:
    """A SigLIP vision tower (patch conv, position table, biased encoder layers, final
    LayerNorm) and Gemma-3's projector (a vision→text matrix and an RMSNorm)."""
    p = "vision_tower.vision_model."
    d = v.hidden
    out = [ParamEntry(p + "embeddings.patch_embedding.weight",
                      (d, v.channels, v.patch, v.patch), LINEAR, quantize=False),
           ParamEntry(p + "embeddings.patch_embedding.bias", (d,), BIAS),
           ParamEntry(p + "embeddings.position_embedding.weight",
                      ((v.image // v.patch) ** 2, d), EMBED)]
    out += _vit_layer(v, p + "encoder.layers.{l}.", ("layer_norm1", "layer_norm2"), "out_proj")
    out += [ParamEntry(p + "post_layernorm.weight", (d,), NORM),
            ParamEntry(p + "post_layernorm.bias", (d,), BIAS),
            ParamEntry("multi_modal_projector.mm_input_projection_weight",
                       (v.projector_out, d), LINEAR, quantize=False),
            ParamEntry("multi_modal_projector.mm_soft_emb_norm.weight", (d,), NORM)]
    return out


def _llama4_vision(v: VisionTower) -> list[ParamEntry]:
    """Llama-4's vision model: unfolded-patch linear, class token, position table, pre/post
    LayerNorms, biased encoder layers, the pixel-shuffle MLP, and the bias-free projector."""
    p = "vision_model."
    d = v.hidden
    out = [ParamEntry(p + "patch_embedding.linear.weight",
                      (d, v.channels * v.patch * v.patch), LINEAR, quantize=False),
           ParamEntry(p + "class_embedding", (d,), EMBED),
           ParamEntry(p + "positional_embedding_vlm", ((v.image // v.patch) ** 2 + 1, d),
                      EMBED)]
    for n in ("layernorm_pre", "layernorm_post"):
        out += [ParamEntry(p + f"{n}.weight", (d,), NORM), ParamEntry(p + f"{n}.bias", (d,),
                                                                       BIAS)]
    out += _vit_layer(v, p + "model.layers.{l}.", ("input_layernorm", "post_attention_layernorm"),
                      "o_proj")
    out += [ParamEntry(p + "vision_adapter.mlp.fc1.weight", (v.adapter_hidden, v.adapter_in),
                       LINEAR),
            ParamEntry(p + "vision_adapter.mlp.fc2.weight", (v.adapter_out, v.adapter_hidden),
                       LINEAR),
            ParamEntry("multi_modal_projector.linear_1.weight", (v.projector_out,
                                                                 v.adapter_out), LINEAR,
                       quantize=False)]
    return out


def _layer_entries(arch: Architecture, i: int, mtp: bool) -> list[ParamEntry]:
    layer = _Layer(i, mtp)
    if arch.layer_is_ssm(i) and not arch.is_hybrid_ssm:
        _mamba(arch, layer)
        return layer.out
    if arch.layer_is_ssm(i):
        _mamba(arch, layer)
    elif arch.layer_is_linear(i):
        if arch.linear_kind == "gated_deltanet":
            _gated_deltanet(arch, layer)
        else:
            _lightning(arch, layer)
    else:
        _attention(arch, layer)
    norm_names = ["input_layernorm", "post_attention_layernorm",
                  "pre_feedforward_layernorm", "post_feedforward_layernorm"]
    for n in norm_names[: arch.norms_per_layer]:
        layer.add(f"{n}.weight", (arch.hidden_size or 0,), NORM)
        if arch.norm_params == 2:
            layer.add(f"{n}.bias", (arch.hidden_size or 0,), BIAS)
    if arch.is_moe_layer(i):
        _moe(arch, layer)
    else:
        _dense_mlp(arch, layer)
    return layer.out


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
    if arch.learned_positions:
        out.append(ParamEntry("model.embed_positions.weight", (arch.learned_positions, H),
                              EMBED))
    if arch.embedding_norm:
        _norm(out, "model.embed_layernorm", arch)
    for i in range(L):
        out.extend(_layer_entries(arch, i, mtp=False))
    _norm(out, "model.norm", arch)
    if not arch.tie_word_embeddings:
        out.append(ParamEntry("lm_head.weight", (V, H), LM_HEAD))
    if arch.lm_head_bias:
        out.append(ParamEntry("lm_head.bias", (V,), BIAS))
    if arch.vision is not None:
        out.extend(_siglip(arch.vision) if arch.vision.kind == "siglip"
                   else _llama4_vision(arch.vision))
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
    return summarize(entries, arch, "config", _config_dtypes(arch))


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
