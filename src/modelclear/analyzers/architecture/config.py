"""Architecture facts from ``config.json``.

Multimodal wrappers (Llama-4, Gemma-3, Qwen-VL, Mistral-3, …) keep the language
model's facts in ``text_config``; those are read and the wrapper's model_type is
kept beside them, because the hardware question is about the language model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...errors import InputError
from ...release import ReleaseFile
from .family_facts import apply_family, flatten_nested
from .model import TEXT_CONFIG_KEYS, Architecture
from .quantization import read_quantization
from .reader import Reader, key_lines, parse_config_text


def _text_config(config: dict[str, Any], file: str) -> tuple[dict[str, Any], str | None, str]:
    """The language model's config dict, the wrapper's model_type, and the key path."""
    for key in TEXT_CONFIG_KEYS:
        inner = config.get(key)
        if inner is None:
            continue
        if not isinstance(inner, dict):
            raise InputError(file, f"{key} must be an object, got {type(inner).__name__}")
        if "hidden_size" in inner or "num_hidden_layers" in inner:
            wrapper = config.get("model_type")
            return inner, wrapper if isinstance(wrapper, str) else None, f"{key}."
    return config, None, ""


#: keys some families (Hunyuan) state once per layer as a list
PER_LAYER_KEYS = ("moe_topk", "moe_intermediate_size", "num_shared_expert", "num_experts")


def _per_layer_lists(inner: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Per-layer lists read as one value when every layer agrees.

    Hunyuan's configs spell ``moe_topk``, ``moe_intermediate_size`` and
    ``num_shared_expert`` once per layer; a list whose entries all agree states the
    same fact as its value. A list that varies over layers is not described by any
    formula here: the key is dropped and named, so the model is reported as not
    modelled (sizes from headers/index) instead of rejected as bad input.
    """
    out, varying = dict(inner), []
    for key in PER_LAYER_KEYS:
        v = inner.get(key)
        if isinstance(v, list) and v:
            if all(x == v[0] for x in v):
                out[key] = v[0]
            else:
                del out[key]
                varying.append(key)
    return out, tuple(varying)


@dataclass(frozen=True)
class _MoE:
    num_experts: int | None
    intermediate: int | None
    moe_intermediate: int | None
    dense_intermediate: int | None
    interleave: int | None
    num_shared: int | None
    shared_intermediate: int | None
    topk: int | None


def _moe_facts(r: Reader, mt: str, prefix: str, file: str) -> _MoE:
    """Expert counts and widths, under each family's key names."""
    n_experts = r.first_int("n_routed_experts", "num_local_experts", "num_experts",
                            "moe_num_experts", allow_zero=True)
    intermediate = r.first_int("intermediate_size", "ffn_hidden_size", "n_inner")
    moe_inter = r.int_("moe_intermediate_size")
    dense_inter = r.int_("intermediate_size_mlp")
    interleave = r.int_("interleave_moe_layer_step")
    n_shared = r.int_("n_shared_experts", allow_zero=True)
    shared_inter = r.int_("shared_expert_intermediate_size", allow_zero=True)
    if mt.startswith("llama4") and n_experts:
        # Llama-4: intermediate_size is the expert width, one shared expert of that width,
        # intermediate_size_mlp is the dense layers' width.
        moe_inter = moe_inter or intermediate
        n_shared = 1 if n_shared is None else n_shared
        intermediate = dense_inter or intermediate
    topk = r.first_int("num_experts_per_tok", "moe_topk", "num_experts_per_token",
                       "moe_top_k")
    if n_shared is None and mt.startswith("hunyuan"):
        n_shared = r.int_("num_shared_expert", allow_zero=True)
    if n_experts and topk and topk > n_experts:
        raise InputError(file, f"{prefix}num_experts_per_tok {topk} exceeds the {n_experts} "
                         "experts")

    return _MoE(n_experts, intermediate, moe_inter, dense_inter, interleave, n_shared,
                shared_inter, topk)


def _attention_pattern(
    r: Reader, inner: dict[str, Any], mt: str, layers: int | None, prefix: str, file: str
) -> tuple[int | None, tuple[str, ...] | None]:
    """The sliding window and which layers use it (explicit, or each family's rule)."""
    window = r.first_int("sliding_window", "sliding_window_size")
    use_sw = inner.get("use_sliding_window")
    if use_sw is False:
        window = None  # Qwen2 family: the field is present but switched off
    layer_types = r.str_list("layer_types")
    if layer_types is not None and layers is not None and len(layer_types) != layers:
        raise InputError(file, f"{prefix}layer_types has {len(layer_types)} entries for "
                         f"{layers} layers")
    if window is not None and layer_types is None and layers:
        pattern = r.int_("sliding_window_pattern")
        max_window_layers = r.int_("max_window_layers", allow_zero=True)
        if mt.startswith("gemma2") or mt == "gemma2_text":
            layer_types = tuple(
                "sliding_attention" if i % 2 == 0 else "full_attention" for i in range(layers)
            )
        elif pattern:
            layer_types = tuple(
                "sliding_attention" if (i + 1) % pattern else "full_attention"
                for i in range(layers)
            )
        elif use_sw is True and max_window_layers is not None:
            layer_types = tuple(
                "sliding_attention" if i >= max_window_layers else "full_attention"
                for i in range(layers)
            )
        else:
            layer_types = ("sliding_attention",) * layers
    if window is not None and layer_types is not None and (
        "sliding_attention" not in layer_types
    ):
        window = None
    return window, layer_types


def _bias_and_norms(r: Reader, mt: str) -> tuple[bool, bool, bool, int]:
    """attention_bias, qkv_bias, qk_norm and norms per layer: family rules the keys omit."""
    attention_bias = r.bool_("attention_bias", False)
    qkv_bias = False
    if mt.startswith("qwen2") or mt in ("qwen", "qwen2_vl", "qwen2_5_vl"):
        qkv_bias = True
        attention_bias = False
    if mt.startswith("glm4"):
        # GLM-4.x: attention_bias puts biases on q, k and v only (o_proj has none)
        qkv_bias, attention_bias = attention_bias, False
    # Llama-4's use_qk_norm is a weightless L2 norm: no parameters to count
    qk_norm = mt.startswith(("qwen3", "gemma3", "olmo2", "olmoe", "qwen3_next")) or (
        r.bool_("use_qk_norm", False) and not mt.startswith("llama4"))
    norms = 4 if mt.startswith(("gemma2", "gemma3")) else 2
    return attention_bias, qkv_bias, qk_norm, norms


def _attention_dims(
    r: Reader, prefix: str, file: str
) -> tuple[int | None, int | None, int | None, int | None, int | None]:
    """hidden_size, heads, KV heads, vocab size and head_dim, checked against each other."""
    hidden = r.first_int("hidden_size", "n_embd", "d_model", "n_embed")
    heads = r.first_int("num_attention_heads", "n_head", "num_heads", "n_heads")
    kv_heads = r.first_int("num_key_value_heads", "num_kv_heads", "n_head_kv",
                           "kv_n_heads") or heads
    vocab = r.first_int("padded_vocab_size", "vocab_size")
    head_dim = r.int_("head_dim")
    if head_dim is None and hidden and heads:
        if hidden % heads:
            raise InputError(file, f"{prefix}hidden_size {hidden} is not a multiple of "
                             f"num_attention_heads {heads} and head_dim is not given")
        head_dim = hidden // heads
    if heads and kv_heads and heads % kv_heads:
        raise InputError(file, f"{prefix}num_attention_heads {heads} is not a multiple of "
                         f"num_key_value_heads {kv_heads}")
    return hidden, heads, kv_heads, vocab, head_dim


def _checkpoint_form(
    r: Reader, top: Reader, mt: str
) -> tuple[str | None, dict[str, Any] | None, bool]:
    """dtype, quantization_config and tied embeddings: on the wrapper or the text config."""
    torch_dtype = r.str_("torch_dtype") or top.str_("torch_dtype") or r.str_("dtype") \
        or top.str_("dtype")
    qcfg = top.dict_("quantization_config") or r.dict_("quantization_config") \
        or top.dict_("compression_config")
    tie_default = mt.startswith(("gemma",))
    tie = top.bool_("tie_word_embeddings", r.bool_("tie_word_embeddings", tie_default))
    return torch_dtype, qcfg, tie


def read_architecture(
    config: dict[str, Any], file: str, text: str | None = None
) -> Architecture:
    """Validate a parsed config.json and return its architecture facts.

    ``text`` (the raw file) only adds line numbers as evidence.
    """
    # Long on purpose: the Architecture(...) call names each of its ~45 fields once;
    # the reading itself is in the helpers above.
    if not isinstance(config, dict):
        raise InputError(file, f"must hold a JSON object, not a {type(config).__name__}")
    inner, wrapper, prefix = _text_config(config, file)
    inner = flatten_nested(inner, inner.get("model_type") or config.get("model_type"), file)
    inner, varying = _per_layer_lists(inner)
    r = Reader(inner, file, prefix)
    top = Reader(config, file)

    model_type = r.str_("model_type") or top.str_("model_type")
    archs_v = config.get("architectures")
    if archs_v is not None and (
        not isinstance(archs_v, list) or not all(isinstance(a, str) for a in archs_v)
    ):
        raise InputError(file, "architectures must be a list of strings")
    architectures = tuple(archs_v or ())
    mt = (model_type or "").lower()

    layers = r.first_int("num_hidden_layers", "n_layer", "num_layers", "n_layers")
    hidden, heads, kv_heads, vocab, head_dim = _attention_dims(r, prefix, file)

    moe = _moe_facts(r, mt, prefix, file)

    window, layer_types = _attention_pattern(r, inner, mt, layers, prefix, file)

    attention_bias, qkv_bias, qk_norm, norms = _bias_and_norms(r, mt)
    gpt_oss = mt.startswith("gpt_oss")

    torch_dtype, qcfg, tie = _checkpoint_form(r, top, mt)

    topk_method = r.str_("topk_method")
    lines = key_lines(text)
    arch = Architecture(
        file=file,
        source="config",
        model_type=model_type,
        architectures=architectures,
        wrapper_model_type=wrapper,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        vocab_size=vocab,
        intermediate_size=moe.intermediate,
        moe_intermediate_size=moe.moe_intermediate
        or (moe.intermediate if moe.num_experts else None),
        num_experts=moe.num_experts or None,
        num_shared_experts=moe.num_shared,
        shared_expert_intermediate_size=moe.shared_intermediate,
        experts_per_token=moe.topk,
        first_k_dense_replace=r.int_("first_k_dense_replace", allow_zero=True),
        moe_layer_freq=r.int_("moe_layer_freq"),
        decoder_sparse_step=r.int_("decoder_sparse_step"),
        mlp_only_layers=r.int_list("mlp_only_layers"),
        interleave_moe_layer_step=moe.interleave,
        dense_intermediate_size=moe.dense_intermediate,
        router_bias=topk_method == "noaux_tc" or gpt_oss,
        expert_bias=gpt_oss,
        attention_sinks=gpt_oss,
        tie_word_embeddings=tie,
        attention_bias=attention_bias,
        qkv_bias=qkv_bias,
        mlp_bias=r.bool_("mlp_bias", False),
        qk_norm=qk_norm,
        norms_per_layer=norms,
        q_lora_rank=r.int_("q_lora_rank"),
        kv_lora_rank=r.int_("kv_lora_rank"),
        qk_rope_head_dim=r.int_("qk_rope_head_dim"),
        qk_nope_head_dim=r.int_("qk_nope_head_dim"),
        v_head_dim=r.int_("v_head_dim"),
        max_position_embeddings=r.first_int("max_position_embeddings", "n_positions",
                                            "max_sequence_length"),
        rope_theta=r.float_("rope_theta"),
        rope_scaling=r.dict_("rope_scaling"),
        sliding_window=window,
        layer_types=layer_types,
        torch_dtype=torch_dtype,
        quantization=read_quantization(qcfg, file),
        num_nextn_predict_layers=r.int_("num_nextn_predict_layers", allow_zero=True) or 0,
        lines=lines,
    )
    if arch.is_mla and None in (arch.qk_rope_head_dim, arch.qk_nope_head_dim, arch.v_head_dim):
        raise InputError(file, "kv_lora_rank is set but qk_rope_head_dim, qk_nope_head_dim or "
                         "v_head_dim is missing")
    arch = apply_family(arch, r, top)
    if varying:  # per-layer values that differ: no formula describes them (MC404)
        arch = replace(arch, family_key=None)
    return arch


def read_config_file(f: ReleaseFile) -> Architecture:
    text = f.read_text(limit=16 * 1024 * 1024)
    return read_architecture(parse_config_text(text, f.path), f.path, text)
