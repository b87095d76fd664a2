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
from .model import Architecture
from .reader import Reader

#: config keys that state the context length, in the order they are trusted
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "seq_length", "max_sequence_length",
                "max_seq_len", "model_max_length")


def context_length(r: Reader, scaling: dict[str, Any] | None) -> tuple[int | None, str | None]:
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
    if scaling and base is not None:
        kind = str(scaling.get("rope_type") or scaling.get("type") or "").lower()
        factor = scaling.get("factor")
        original = scaling.get("original_max_position_embeddings")
        if kind in ("yarn", "linear", "dynamic") and isinstance(factor, int | float) \
                and not isinstance(factor, bool) and factor > 1:
            start = original if isinstance(original, int) and not isinstance(original, bool) \
                else base
            scaled = int(start * factor)
            if scaled > base:
                return scaled, f"{key} with rope_scaling {kind} × {factor:g}"
    return base, key


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


def apply_family(arch: Architecture, r: Reader, top: Reader) -> Architecture:
    """The architecture with its family's rules applied (unchanged when not modelled)."""
    scaling = arch.rope_scaling
    ctx, ctx_key = context_length(r, scaling)
    arch = replace(arch, context_length=ctx, context_key=ctx_key)
    fam = family_of(arch.model_type)
    if fam is None:
        return arch
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
    if ctx is None and fam.default_context:
        changes["context_length"] = fam.default_context
        changes["context_key"] = f"{fam.key} default {fam.default_context} (config omits it)"
    return replace(arch, **changes)
