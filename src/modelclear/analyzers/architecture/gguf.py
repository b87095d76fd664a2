"""Architecture facts from GGUF metadata (``<arch>.block_count`` …).

GGUF stores the same facts llama.cpp needs to run the model, so the KV-cache and
tensor-parallel arithmetic work the same as for config.json.
"""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ...parsers.gguf import read_gguf
from ...release import ReleaseFile
from .model import Architecture


def _gguf_int(meta: dict[str, Any], arch_name: str, key: str, file: str) -> int | None:
    """An integer ``<arch>.<key>``; the largest entry of a per-layer array."""
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


def from_gguf_metadata(meta: dict[str, Any], file: str) -> Architecture:
    """Architecture facts from GGUF keys (``<arch>.block_count`` …).

    GGUF stores the same facts llama.cpp needs to run the model, so the KV-cache
    and tensor-parallel arithmetic work the same as for config.json.
    """
    arch_name = meta.get("general.architecture")
    if not isinstance(arch_name, str):
        raise InputError(file, "GGUF metadata lacks general.architecture")

    def get_int(key: str) -> int | None:
        return _gguf_int(meta, arch_name, key, file)

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


def gguf_metadata(f: ReleaseFile) -> dict[str, Any]:
    """GGUF key/values via the bounded GGUF reader (arrays truncated, counts exact)."""
    meta = read_gguf(f).metadata
    out: dict[str, Any] = {}
    for k, v in meta.items():
        out[k] = v.value
        if v.count is not None:
            out[f"{k}.count"] = v.count  # arrays are kept truncated; the count is exact
    return out
