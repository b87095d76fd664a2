"""Family rules applied to the facts read from a config (``data/architectures.toml``).

The generic reader takes the keys most families share; this step applies what
the family description says the keys mean (Falcon's KV groups and norms, GPT-2's
learned positions, MPT's ``no_bias``…) and decides the served context length.
A model_type without a family keeps ``family_key=None``: not modelled.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from ...errors import InputError
from .families import Family, family_of
from .model import Architecture, VisionTower
from .reader import Reader

#: config keys that state the context length, in the order they are trusted
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "seq_length", "max_sequence_length",
                "max_seq_len", "model_max_length")


def context_length(r: Reader, scaling: dict[str, Any] | None,
                   extends: bool = True) -> tuple[int | None, str | None]:
    """Context from the config, with rope scaling that extends it (YaRN, linear, dynamic).

    ``llama3`` and ``longrope`` scaling already state the extended length in
    max_position_embeddings; YaRN/linear/dynamic multiply the original length.
    """
    base, key = None, None
    for k in CONTEXT_KEYS:
        v = r.int_(k)
        if v is not None:
            base, key = v, k
            break
    if scaling and base is not None and extends:
        kind = str(scaling.get("rope_type") or scaling.get("type") or "").lower()
        factor = scaling.get("factor")
        original = scaling.get("original_max_position_embeddings")
        if kind in ("yarn", "linear", "dynamic") and isinstance(factor, int | float) \
                and not isinstance(factor, bool) and factor > 1:
            start = original if isinstance(original, int) and not isinstance(original, bool) \
                and original > 0 else base
            if not math.isfinite(factor) or start * factor > 1 << 40:
                raise InputError(r.file, f"{r.prefix}rope_scaling.factor {factor} is not a "
                                 "plausible context multiplier")
            scaled = int(start * factor)
            if scaled > base:
                return scaled, f"{key} with rope_scaling {kind} × {factor:g}"
    return base, key


def flatten_nested(inner: dict[str, Any], model_type: object, file: str) -> dict[str, Any]:
    """A family that nests its facts (DBRX's attn_config / ffn_config) read as flat keys.

    Keys already at the top level win; only the families that declare ``nested`` in
    the data file are flattened, so a stray sub-object elsewhere changes nothing.
    """
    fam = family_of(model_type if isinstance(model_type, str) else None)
    if fam is None or not (fam.nested or fam.defaults):
        return inner
    out = dict(inner)
    for k, v in fam.defaults:
        out.setdefault(k, v)
    for key in fam.nested:
        sub = inner.get(key)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            raise InputError(file, f"{key} must be an object, got {type(sub).__name__}")
        for k, v in sub.items():
            if k != "model_type":
                out.setdefault(k, v)
    return out


def _bias(fam: Family, r: Reader, current_attn: bool, current_qkv: bool,
          current_mlp: bool) -> tuple[bool, bool, bool]:
    """attention (q,k,v,o), q,k,v-only and MLP biases under the family's keys."""
    attn = {"config": current_attn, "all": True, "qkv": False, "none": False}[fam.attention_bias]
    qkv = current_qkv or fam.attention_bias == "qkv"
    mlp = current_mlp or fam.mlp_bias
    if fam.bias_key == "no_bias":  # MPT: true (its default) switches every bias off
        attn = mlp = not r.bool_("no_bias", True)
    elif fam.bias_key and fam.bias_key in r.data:
        on = r.bool_(fam.bias_key, False)
        attn = on
        if fam.bias_covers_mlp:
            mlp = on
    if fam.qkv_bias_key:
        qkv = qkv or r.bool_(fam.qkv_bias_key, False)
    return attn, qkv and not attn, mlp


def _falcon(r: Reader, heads: int | None) -> tuple[int | None, int]:
    """Falcon KV heads and norms per layer, from its three layouts."""
    new = r.bool_("new_decoder_architecture", False)
    if new:
        kv = r.first_int("num_kv_heads", "n_head_kv", "num_key_value_heads") or heads
        return kv, 2
    kv = 1 if r.bool_("multi_query", True) else heads
    return kv, 1 if r.bool_("parallel_attn", True) else 2


def _ssm(r: Reader, hidden: int, file: str) -> dict[str, int]:
    """Mamba: inner width (expand × hidden), state size, conv kernel and dt rank."""
    state = r.int_("state_size") or r.int_("d_state") or 16
    expand = r.int_("expand") or 2
    conv = r.int_("conv_kernel") or r.int_("d_conv") or 4
    dt = r.data.get("time_step_rank", "auto")
    if dt == "auto" or dt is None:
        dt_rank = math.ceil(hidden / 16)
    elif isinstance(dt, int) and not isinstance(dt, bool) and dt > 0:
        dt_rank = dt
    else:
        raise InputError(file, "time_step_rank must be a positive integer or \"auto\"")
    inner = r.int_("intermediate_size") or expand * hidden
    return {"ssm_state_size": state, "ssm_inner": inner, "ssm_conv_kernel": conv,
            "ssm_dt_rank": dt_rank}


def _jamba(r: Reader, hidden: int, layers: int, file: str) -> dict[str, Any]:
    """Jamba: attention on i % attn_layer_period == attn_layer_offset, Mamba elsewhere;
    MoE on i % expert_layer_period == expert_layer_offset; mamba_* mixer facts."""
    period = r.int_("attn_layer_period") or 8
    offset = r.int_("attn_layer_offset", allow_zero=True) or 0
    if offset >= period:
        raise InputError(file, f"attn_layer_offset {offset} must be below attn_layer_period "
                         f"{period}")
    dt = r.data.get("mamba_dt_rank", "auto")
    dt_rank = math.ceil(hidden / 16) if dt in ("auto", None) else dt
    if isinstance(dt_rank, bool) or not isinstance(dt_rank, int) or dt_rank < 1:
        raise InputError(file, "mamba_dt_rank must be a positive integer or \"auto\"")
    return {
        "layer_types": tuple("full_attention" if i % period == offset else "mamba"
                             for i in range(layers)),
        "ssm_state_size": r.int_("mamba_d_state") or 16,
        "ssm_conv_kernel": r.int_("mamba_d_conv") or 4,
        "ssm_inner": (r.int_("mamba_expand") or 2) * hidden,
        "ssm_dt_rank": dt_rank,
        "ssm_inner_norms": True,
        "expert_layer_period": r.int_("expert_layer_period") or 1,
        "expert_layer_offset": r.int_("expert_layer_offset", allow_zero=True) or 0,
    }


def _lightning(r: Reader, arch: Architecture) -> dict[str, Any] | None:
    """MiniMax-01: which layers are lightning (linear) attention, and their per-sequence state.

    The schedule is ``attn_type_list`` (remote code: 0 lightning, 1 softmax) or
    ``layer_types`` (transformers: linear_attention / full_attention). None when the
    config leaves the layout outside the family description — no schedule, a shared
    expert, or q/k norms (MiniMax-M2-style keys) — so the model stays not modelled.
    """
    layers = arch.num_layers or 0
    codes = r.int_list("attn_type_list")
    if codes:
        if len(codes) != layers or any(c not in (0, 1) for c in codes):
            raise InputError(arch.file, f"{r.prefix}attn_type_list must hold {layers} entries "
                             "of 0 (lightning) or 1 (softmax attention)")
        types = tuple("full_attention" if c else "linear_attention" for c in codes)
    elif arch.layer_types and set(arch.layer_types) <= {"linear_attention", "full_attention"}:
        types = arch.layer_types
    else:
        return None
    shared = r.data.get("shared_intermediate_size", 0)
    widths = shared if isinstance(shared, list) else [shared]
    if any(w not in (0, None) for w in widths) or r.data.get("use_qk_norm"):
        return None
    heads, hd = arch.num_attention_heads or 0, arch.head_dim or 0
    return {"layer_types": types, "linear_state_per_layer": heads * hd * hd,
            "linear_kind": "lightning"}


def _gated_deltanet(r: Reader, arch: Architecture) -> dict[str, Any] | None:
    """Qwen3-Next: Gated DeltaNet on every layer but each ``full_attention_interval``-th.

    The schedule is ``layer_types`` or Qwen3NextConfig's rule from the interval (layer i
    is full attention when (i + 1) % interval == 0); without either, or without the
    linear_* widths, the model stays not modelled. Per sequence a DeltaNet layer keeps
    a causal-conv window (conv_dim × kernel, as transformers' cache holds it) and a
    value_heads × key_dim × value_dim recurrent state.
    """
    layers = arch.num_layers or 0
    interval = r.int_("full_attention_interval")
    if arch.layer_types and set(arch.layer_types) <= {"linear_attention", "full_attention"}:
        types = arch.layer_types
    elif interval:
        types = tuple("linear_attention" if (i + 1) % interval else "full_attention"
                      for i in range(layers))
    else:
        return None
    nk, nv = r.int_("linear_num_key_heads"), r.int_("linear_num_value_heads")
    dk, dv = r.int_("linear_key_head_dim"), r.int_("linear_value_head_dim")
    kernel = r.int_("linear_conv_kernel_dim")
    if nk is None or nv is None or dk is None or dv is None or kernel is None:
        return None
    if nv % nk:
        raise InputError(arch.file, f"{r.prefix}linear_num_value_heads {nv} is not a multiple "
                         f"of linear_num_key_heads {nk}")
    conv_dim = 2 * nk * dk + nv * dv
    return {"layer_types": types, "linear_kind": "gated_deltanet",
            "linear_state_per_layer": conv_dim * kernel + nv * dk * dv,
            "linear_key_heads": nk, "linear_value_heads": nv, "linear_key_dim": dk,
            "linear_value_dim": dv, "linear_conv_kernel": kernel,
            "attention_output_gate": True}


_LINEAR_STATES = {"lightning": _lightning, "gated_deltanet": _gated_deltanet}


def _hunyuan_described(r: Reader, arch: Architecture) -> bool:
    """Whether a Hunyuan config is the layout transformers' hunyuan_v1_moe builds.

    That code gives every layer one shared MLP and E routed experts, all of
    ``intermediate_size`` width, and has no cross-layer attention. Configs outside
    it stay not modelled (MC404): ``use_cla`` (Hunyuan-Large shares K/V across layers
    in Tencent's remote code only), a dense model, a shared-expert count other than
    one, or a ``moe_intermediate_size`` that differs from ``intermediate_size`` (the
    remote code and transformers would then build different experts).
    """
    if r.data.get("use_cla") or not arch.is_moe:
        return False
    if r.data.get("use_mixed_mlp_moe") is False or arch.num_shared_experts not in (None, 1):
        return False
    return arch.moe_intermediate_size in (None, arch.intermediate_size)


_STRUCTURE_CHECKS = {"hunyuan": _hunyuan_described}


def _vision(top: Reader) -> Reader | None:
    cfg = top.dict_("vision_config")
    return None if cfg is None else Reader(cfg, top.file, "vision_config.")


def _encoder(v: Reader, kind: str, text_hidden: int, *, hidden: int, intermediate: int,
             layers: int, patch: int, image: int, **adapter: int) -> VisionTower:
    """A ViT encoder's sizes as its config states them, else the family's defaults."""
    return VisionTower(
        kind=kind,
        hidden=v.int_("hidden_size") or hidden,
        intermediate=v.int_("intermediate_size") or intermediate,
        layers=v.int_("num_hidden_layers") or layers,
        channels=v.int_("num_channels") or 3,
        patch=v.int_("patch_size") or patch,
        image=v.int_("image_size") or image,
        projector_out=text_hidden,
        **adapter,
    )


def siglip_tower(top: Reader, text_hidden: int) -> VisionTower | None:
    """The wrapper's SigLIP vision_config (Gemma-3), with SiglipVisionConfig's defaults."""
    v = _vision(top)
    if v is None:
        return None
    if v.bool_("vision_use_head", False):
        raise InputError(top.file, "vision_config.vision_use_head: a SigLIP pooling head is not "
                         "modelled")
    return _encoder(v, "siglip", text_hidden, hidden=768, intermediate=3072, layers=12,
                    patch=16, image=224)


def llama4_tower(top: Reader, text_hidden: int) -> VisionTower | None:
    """The wrapper's Llama-4 vision_config: ViT encoder, pixel-shuffle MLP, projector."""
    v = _vision(top)
    if v is None:
        return None
    hidden = v.int_("hidden_size") or 768
    ratio = v.float_("pixel_shuffle_ratio") or 0.5
    if not 0 < ratio <= 1:
        raise InputError(top.file, "vision_config.pixel_shuffle_ratio must be in (0, 1]")
    return _encoder(
        v, "llama4", text_hidden, hidden=768, intermediate=5632, layers=34, patch=14,
        image=336, adapter_in=int(hidden / (ratio * ratio)),
        adapter_hidden=v.int_("projector_input_dim") or 4096,
        adapter_out=v.int_("vision_output_dim") or v.int_("projector_output_dim") or 4096,
    )


def apply_family(arch: Architecture, r: Reader, top: Reader) -> Architecture:
    """The architecture with its family's rules applied (unchanged when not modelled)."""
    fam = family_of(arch.model_type)
    ctx, ctx_key = context_length(r, arch.rope_scaling,
                                  fam.rope_scaling_extends if fam is not None else True)
    arch = replace(arch, context_length=ctx, context_key=ctx_key)
    if fam is None:
        return arch
    check = _STRUCTURE_CHECKS.get(fam.key)
    if check is not None and not check(r, arch):
        return arch  # outside the family description: not modelled (MC404)
    linear_rule = _LINEAR_STATES.get(fam.state)
    linear = linear_rule(r, arch) if linear_rule is not None else None
    if linear_rule is not None and linear is None:
        return arch  # outside the family description: not modelled (MC404)
    changes: dict[str, Any] = {"family_key": fam.key, "mlp_gated": fam.mlp == "gated",
                               "norm_params": fam.norm_params_per_dim,
                               "embedding_norm": fam.embedding_norm,
                               "lm_head_bias": fam.lm_head_bias}
    H = arch.hidden_size or 0
    if fam.norms_per_layer and arch.norms_per_layer == 2:
        changes["norms_per_layer"] = fam.norms_per_layer
    if fam.kv_heads == "multi_query" and r.bool_("multi_query", False):
        changes["num_kv_heads"] = 1
    elif fam.kv_heads == "falcon":
        changes["num_kv_heads"], changes["norms_per_layer"] = _falcon(
            r, arch.num_attention_heads)
    elif fam.kv_heads == "chatglm":
        if r.bool_("multi_query_attention", False):
            changes["num_kv_heads"] = r.int_("multi_query_group_num") or 1
        kvc = r.int_("kv_channels")
        if kvc:
            changes["head_dim"] = kvc
    if fam.intermediate == "4h" and arch.intermediate_size is None:
        ratio = r.int_("expansion_ratio") or 4
        changes["intermediate_size"] = ratio * H
    elif fam.intermediate == "half" and arch.intermediate_size:
        changes["intermediate_size"] = arch.intermediate_size // 2
    if fam.qk_norm != "none":
        changes["qk_norm"] = True
        changes["qk_norm_scope"] = fam.qk_norm
    attn, qkv, mlp = _bias(fam, r, arch.attention_bias, arch.qkv_bias, arch.mlp_bias)
    changes.update(attention_bias=attn, qkv_bias=qkv, mlp_bias=mlp)
    if fam.bias_key == "no_bias" and r.bool_("no_bias", True):
        changes["norm_params"] = 1  # MPT's no_bias also drops the LayerNorm biases
    if fam.positions == "learned":
        changes["learned_positions"] = r.first_int("n_positions", "max_position_embeddings") \
            or 0
    if not any("tie_word_embeddings" in d for d in (r.data, top.data)):
        changes["tie_word_embeddings"] = fam.tied
    if fam.state == "mamba":
        changes.update(_ssm(r, H, arch.file))
    elif fam.state == "jamba":
        changes.update(_jamba(r, H, arch.num_layers or 0, arch.file))
    elif linear is not None:
        changes.update(linear)
    if fam.vision == "siglip" and arch.wrapper_model_type:
        changes["vision"] = siglip_tower(top, H)
    elif fam.vision == "llama4" and arch.wrapper_model_type:
        changes["vision"] = llama4_tower(top, H)
    if ctx is None and fam.default_context:
        changes["context_length"] = fam.default_context
        changes["context_key"] = f"{fam.key} default {fam.default_context} (config omits it)"
    return replace(arch, **changes)
