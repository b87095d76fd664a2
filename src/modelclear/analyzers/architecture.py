"""Architecture facts from ``config.json`` (or GGUF metadata).

Everything sizing needs — parameter formulas, KV-cache layout, tensor-parallel
constraints — is derived from these facts, so they are read once, validated
once (a wrong type is an input error naming config.json, never a traceback
deep inside a formula) and kept with the line each fact came from.

Multimodal wrappers (Llama-4, Gemma-3, Qwen-VL, Mistral-3, …) keep the language
model's facts in ``text_config``; those are read and the wrapper's model_type is
kept beside them, because the hardware question is about the language model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..release import Release, ReleaseFile

SCHEMA_VERSION = 1

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
    #: config key -> line in the file it was read from (evidence)
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    findings: tuple[Finding, ...] = ()

    # ---- derived facts -------------------------------------------------------------------

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def is_moe(self) -> bool:
        return bool(self.num_experts) and self.num_experts > 1

    @property
    def complete(self) -> bool:
        """Whether the facts the formulas need are all present."""
        return None not in (
            self.num_layers,
            self.hidden_size,
            self.num_attention_heads,
            self.vocab_size,
        )

    def missing(self) -> tuple[str, ...]:
        names = {
            "num_hidden_layers": self.num_layers,
            "hidden_size": self.hidden_size,
            "num_attention_heads": self.num_attention_heads,
            "vocab_size": self.vocab_size,
        }
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
            "schema_version": SCHEMA_VERSION,
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
            "lines": dict(self.lines),
        }


# ---- reading config.json -------------------------------------------------------------------


class _Reader:
    """Typed access to one config dict, with errors naming the file and key."""

    def __init__(self, data: dict[str, Any], file: str, prefix: str = "") -> None:
        self.data = data
        self.file = file
        self.prefix = prefix

    def _bad(self, key: str, want: str, value: Any) -> InputError:
        shown = json.dumps(value)[:60] if _jsonable(value) else repr(value)[:60]
        return InputError(self.file, f"{self.prefix}{key} must be {want}, got {shown}")

    def int_(self, key: str, *, positive: bool = True, allow_zero: bool = False) -> int | None:
        v = self.data.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise self._bad(key, "an integer", v)
        if v < 0 or (v == 0 and positive and not allow_zero):
            raise self._bad(key, "a positive integer", v)
        if v > 1 << 40:
            raise self._bad(key, "a plausible size (below 2^40)", v)
        return v

    def first_int(self, *keys: str, allow_zero: bool = False) -> int | None:
        for k in keys:
            v = self.int_(k, allow_zero=allow_zero)
            if v is not None:
                return v
        return None

    def bool_(self, key: str, default: bool) -> bool:
        v = self.data.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self._bad(key, "true or false", v)
        return v

    def float_(self, key: str) -> float | None:
        v = self.data.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self._bad(key, "a number", v)
        return float(v)

    def str_(self, key: str) -> str | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self._bad(key, "a string", v)
        return v

    def int_list(self, key: str) -> tuple[int, ...]:
        v = self.data.get(key)
        if v is None:
            return ()
        if not isinstance(v, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in v
        ):
            raise self._bad(key, "a list of integers", v)
        return tuple(v)

    def str_list(self, key: str) -> tuple[str, ...] | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self._bad(key, "a list of strings", v)
        return tuple(v)

    def dict_(self, key: str) -> dict[str, Any] | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, dict):
            raise self._bad(key, "an object", v)
        return v


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def parse_config_text(text: str, file: str) -> dict[str, Any]:
    """config.json text → dict, or an InputError naming the file and the problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(file, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InputError(file, "not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(file, f"must hold a JSON object, not a {type(data).__name__}")
    return data


def _key_lines(text: str | None) -> dict[str, int]:
    """First line on which each ``"key":`` appears — evidence for facts read from it."""
    if not text:
        return {}
    out: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r'"([A-Za-z0-9_]+)"\s*:', line):
            out.setdefault(m.group(1), n)
    return out


def _quantization(q: dict[str, Any] | None, file: str) -> Quantization | None:
    if q is None:
        return None
    r = _Reader(q, file, "quantization_config.")
    method = (r.str_("quant_method") or "").lower()
    not_conv = tuple(
        str(x)
        for x in (q.get("modules_to_not_convert") or q.get("ignore") or [])
        if isinstance(x, str)
    )
    if method == "fp8" or (not method and "weight_block_size" in q):
        block = r.int_list("weight_block_size") or None
        if block is not None and len(block) != 2:
            raise InputError(file, "quantization_config.weight_block_size must have 2 entries")
        fmt = r.str_("fmt") or "e4m3"
        return Quantization("fp8", 8, None, block, fmt, "block" if block else "tensor",
                            None, None, not_conv, q)
    if method in ("gptq", "awq", "marlin", "gptq_marlin", "awq_marlin", "exl2", "hqq"):
        bits = r.int_("bits") or r.int_("w_bit") or r.int_("nbits") or 4
        group = q.get("group_size", q.get("q_group_size", 128))
        if isinstance(group, bool) or not isinstance(group, int):
            raise InputError(file, "quantization_config.group_size must be an integer")
        sym = q.get("sym")
        return Quantization(
            method.split("_")[0], bits, group if group > 0 else None, None, "int",
            "group" if group > 0 else "channel",
            bool(sym) if isinstance(sym, bool) else None, None, not_conv, q,
        )
    if method == "bitsandbytes" or "load_in_4bit" in q or "load_in_8bit" in q:
        four = r.bool_("load_in_4bit", False)
        return Quantization(
            "bitsandbytes", 4 if four else 8, 64 if four else None, None,
            (r.str_("bnb_4bit_quant_type") or "nf4") if four else "int8",
            "block" if four else "channel", None,
            r.bool_("bnb_4bit_use_double_quant", False) if four else None,
            tuple(
                str(x) for x in (q.get("llm_int8_skip_modules") or []) if isinstance(x, str)
            ) or not_conv,
            q,
        )
    if method == "compressed-tensors" or "config_groups" in q:
        groups = q.get("config_groups")
        if groups is not None and not isinstance(groups, dict):
            raise InputError(file, "quantization_config.config_groups must be an object")
        for g in (groups or {}).values():
            w = g.get("weights") if isinstance(g, dict) else None
            if not isinstance(w, dict):
                continue
            wr = _Reader(w, file, "quantization_config.config_groups.weights.")
            return Quantization(
                "compressed-tensors",
                wr.int_("num_bits"),
                wr.int_("group_size"),
                wr.int_list("block_structure") or None,
                wr.str_("type"),
                wr.str_("strategy"),
                w.get("symmetric") if isinstance(w.get("symmetric"), bool) else None,
                None,
                not_conv,
                q,
            )
        return Quantization("compressed-tensors", raw=q, not_converted=not_conv)
    if method in ("mxfp4", "modelopt", "fbgemm_fp8", "quark"):
        algo = str(q.get("quant_algo") or "").lower()
        bits = 4 if ("4" in algo or method == "mxfp4") else 8
        group = 32 if method == "mxfp4" else (16 if "nvfp4" in algo else None)
        return Quantization(method, bits, group, None, algo or method, None, None, None,
                            not_conv, q)
    return Quantization(method or "unknown", r.int_("bits"), None, None, None, None, None, None,
                        not_conv, q)


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


def read_architecture(
    config: dict[str, Any], file: str, text: str | None = None
) -> Architecture:
    """Validate a parsed config.json and return its architecture facts.

    ``text`` (the raw file) only adds line numbers as evidence.
    """
    if not isinstance(config, dict):
        raise InputError(file, f"must hold a JSON object, not a {type(config).__name__}")
    inner, wrapper, prefix = _text_config(config, file)
    r = _Reader(inner, file, prefix)
    top = _Reader(config, file)

    model_type = r.str_("model_type") or top.str_("model_type")
    archs_v = config.get("architectures")
    if archs_v is not None and (
        not isinstance(archs_v, list) or not all(isinstance(a, str) for a in archs_v)
    ):
        raise InputError(file, "architectures must be a list of strings")
    architectures = tuple(archs_v or ())
    mt = (model_type or "").lower()

    layers = r.first_int("num_hidden_layers", "n_layer", "num_layers", "n_layers")
    hidden = r.first_int("hidden_size", "n_embd", "d_model")
    heads = r.first_int("num_attention_heads", "n_head", "num_heads")
    kv_heads = r.first_int("num_key_value_heads", "num_kv_heads", "n_head_kv") or heads
    vocab = r.int_("vocab_size")
    head_dim = r.int_("head_dim")
    if head_dim is None and hidden and heads:
        if hidden % heads:
            raise InputError(file, f"{prefix}hidden_size {hidden} is not a multiple of "
                             f"num_attention_heads {heads} and head_dim is not given")
        head_dim = hidden // heads
    if heads and kv_heads and heads % kv_heads:
        raise InputError(file, f"{prefix}num_attention_heads {heads} is not a multiple of "
                         f"num_key_value_heads {kv_heads}")

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
    topk = r.first_int("num_experts_per_tok", "moe_topk", "num_experts_per_token")
    if n_experts and topk and topk > n_experts:
        raise InputError(file, f"{prefix}num_experts_per_tok {topk} exceeds the {n_experts} "
                         "experts")

    # sliding window and per-layer attention kinds
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

    # biases and norms by family
    attention_bias = r.bool_("attention_bias", False)
    qkv_bias = False
    if mt.startswith("qwen2") or mt in ("qwen", "qwen2_vl", "qwen2_5_vl"):
        qkv_bias = True
        attention_bias = False
    if mt.startswith("glm4"):
        # GLM-4.x: attention_bias puts biases on q, k and v only (o_proj has none)
        qkv_bias, attention_bias = attention_bias, False
    qk_norm = mt.startswith(("qwen3", "gemma3", "olmo2", "olmoe", "qwen3_next")) or r.bool_(
        "use_qk_norm", False)
    norms = 4 if mt.startswith(("gemma2", "gemma3")) else 2
    gpt_oss = mt.startswith("gpt_oss")

    torch_dtype = r.str_("torch_dtype") or top.str_("torch_dtype") or r.str_("dtype") \
        or top.str_("dtype")
    qcfg = top.dict_("quantization_config") or r.dict_("quantization_config") \
        or top.dict_("compression_config")
    tie_default = mt.startswith(("gemma",))
    tie = top.bool_("tie_word_embeddings", r.bool_("tie_word_embeddings", tie_default))

    topk_method = r.str_("topk_method")
    lines = _key_lines(text)
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
        intermediate_size=intermediate,
        moe_intermediate_size=moe_inter or (intermediate if n_experts else None),
        num_experts=n_experts or None,
        num_shared_experts=n_shared,
        shared_expert_intermediate_size=shared_inter,
        experts_per_token=topk,
        first_k_dense_replace=r.int_("first_k_dense_replace", allow_zero=True),
        moe_layer_freq=r.int_("moe_layer_freq"),
        decoder_sparse_step=r.int_("decoder_sparse_step"),
        mlp_only_layers=r.int_list("mlp_only_layers"),
        interleave_moe_layer_step=interleave,
        dense_intermediate_size=dense_inter,
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
        quantization=_quantization(qcfg, file),
        num_nextn_predict_layers=r.int_("num_nextn_predict_layers", allow_zero=True) or 0,
        lines=lines,
    )
    if arch.is_mla and None in (arch.qk_rope_head_dim, arch.qk_nope_head_dim, arch.v_head_dim):
        raise InputError(file, "kv_lora_rank is set but qk_rope_head_dim, qk_nope_head_dim or "
                         "v_head_dim is missing")
    return arch


def read_config_file(f: ReleaseFile) -> Architecture:
    text = f.read_text(limit=16 * 1024 * 1024)
    return read_architecture(parse_config_text(text, f.path), f.path, text)


# ---- GGUF metadata ---------------------------------------------------------------------------


def from_gguf_metadata(meta: dict[str, Any], file: str) -> Architecture:
    """Architecture facts from GGUF keys (``<arch>.block_count`` …).

    GGUF stores the same facts llama.cpp needs to run the model, so the KV-cache
    and tensor-parallel arithmetic work the same as for config.json.
    """
    arch_name = meta.get("general.architecture")
    if not isinstance(arch_name, str):
        raise InputError(file, "GGUF metadata lacks general.architecture")

    def get_int(key: str) -> int | None:
        v = meta.get(f"{arch_name}.{key}")
        if isinstance(v, list | tuple):
            # per-layer arrays (e.g. head_count_kv on hybrid models): take the largest
            vals = [x for x in v if isinstance(x, int) and not isinstance(x, bool)]
            v = max(vals) if vals else None
        if v is None or isinstance(v, bool):
            return None
        if not isinstance(v, int) or v < 0:
            raise InputError(file, f"GGUF key {arch_name}.{key} must be a non-negative integer")
        return v

    heads = get_int("attention.head_count")
    hidden = get_int("embedding_length")
    key_len = get_int("attention.key_length")
    value_len = get_int("attention.value_length")
    head_dim = key_len if key_len and key_len == value_len else None
    if head_dim is None and hidden and heads:
        head_dim = hidden // heads
    vocab = get_int("vocab_size")
    if vocab is None:
        tokens = meta.get("tokenizer.ggml.tokens.count") or meta.get("tokenizer.ggml.tokens")
        if isinstance(tokens, int):
            vocab = tokens
        elif isinstance(tokens, list | tuple):
            vocab = len(tokens)
    kv_lora = get_int("attention.kv_lora_rank")
    nextn = get_int("nextn_predict_layers") or 0
    blocks = get_int("block_count")
    n_experts = get_int("expert_count")
    lead_dense = get_int("leading_dense_block_count")
    ftype = meta.get("general.file_type")
    if ftype is not None and (isinstance(ftype, bool) or not isinstance(ftype, int)):
        raise InputError(file, "GGUF key general.file_type must be an integer")
    window = get_int("attention.sliding_window")
    return Architecture(
        file=file,
        source="gguf",
        model_type=arch_name,
        architectures=(),
        wrapper_model_type=None,
        num_layers=(blocks - nextn) if blocks is not None else None,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=get_int("attention.head_count_kv") or heads,
        head_dim=head_dim,
        vocab_size=vocab,
        intermediate_size=get_int("feed_forward_length"),
        moe_intermediate_size=get_int("expert_feed_forward_length"),
        num_experts=n_experts or None,
        num_shared_experts=get_int("expert_shared_count"),
        experts_per_token=get_int("expert_used_count"),
        first_k_dense_replace=lead_dense,
        kv_lora_rank=kv_lora,
        q_lora_rank=get_int("attention.q_lora_rank"),
        qk_rope_head_dim=get_int("rope.dimension_count") if kv_lora else None,
        qk_nope_head_dim=(key_len - (get_int("rope.dimension_count") or 0))
        if kv_lora and key_len
        else None,
        v_head_dim=value_len if kv_lora else None,
        max_position_embeddings=get_int("context_length"),
        sliding_window=window,
        layer_types=_gguf_layer_types(arch_name, meta, window, blocks),
        torch_dtype=None,
        quantization=None,
        num_nextn_predict_layers=nextn,
        lines={},
        rope_theta=None,
        tie_word_embeddings=False,
        router_bias=False,
    )


def _gguf_layer_types(
    arch_name: str, meta: dict[str, Any], window: int | None, blocks: int | None
) -> tuple[str, ...] | None:
    """Which GGUF layers use the sliding window (llama.cpp's per-architecture rules)."""
    if not window or not blocks:
        return None
    pattern = meta.get(f"{arch_name}.attention.sliding_window_pattern")
    if isinstance(pattern, list | tuple) and len(pattern) == blocks:
        return tuple("sliding_attention" if p else "full_attention" for p in pattern)
    if isinstance(pattern, int) and not isinstance(pattern, bool) and pattern > 0:
        step = pattern
    elif arch_name == "gemma2":  # even layers slide
        return tuple("sliding_attention" if i % 2 == 0 else "full_attention"
                     for i in range(blocks))
    elif arch_name.startswith("gemma3"):
        step = 6  # five sliding layers, then one global
    else:
        return ("sliding_attention",) * blocks
    return tuple("sliding_attention" if (i + 1) % step else "full_attention"
                 for i in range(blocks))


# ---- release-level analyzer ------------------------------------------------------------------


def find_config(release: Release) -> ReleaseFile | None:
    """The model's config.json: top level first, then the shallowest one."""
    return release.find("config.json")


def analyze(release: Release) -> Architecture | None:
    """Architecture of a release: config.json if present, else GGUF metadata, else None."""
    cfg = find_config(release)
    if cfg is not None:
        arch = read_config_file(cfg)
        if not arch.complete:
            extra = finding(
                "MC403",
                "config.json lacks " + ", ".join(arch.missing())
                + ": parameters and memory cannot be derived from it",
                file=cfg.path,
            )
            arch = _with_findings(arch, (extra,))
        return arch
    ggufs = sorted((f for f in release.files if f.suffix == ".gguf"), key=lambda f: f.path)
    if ggufs:
        return from_gguf_metadata(gguf_metadata(ggufs[0]), ggufs[0].path)
    return None


def gguf_metadata(f: ReleaseFile) -> dict[str, Any]:
    """GGUF key/values via the bounded GGUF reader (arrays truncated, counts exact)."""
    from ..parsers.gguf import read_gguf

    meta = read_gguf(f).metadata
    out: dict[str, Any] = {}
    for k, v in meta.items():
        out[k] = getattr(v, "value", v)
        count = getattr(v, "count", None)
        if isinstance(count, int):
            out[f"{k}.count"] = count  # arrays are kept truncated; the count is exact
    return out


def _with_findings(arch: Architecture, extra: tuple[Finding, ...]) -> Architecture:
    from dataclasses import replace

    return replace(arch, findings=arch.findings + extra)
