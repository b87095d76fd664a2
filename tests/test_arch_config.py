"""Architecture facts from config.json and GGUF metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.architecture import (
    analyze,
    from_gguf_metadata,
    parse_config_text,
    read_architecture,
)
from modelclear.errors import InputError
from modelclear.sources import open_release

MODELS = SHARED / "corpus" / "models"

LLAMA = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}


def corpus(name: str) -> tuple[dict, str]:
    if not MODELS.is_dir():
        pytest.skip("../shared corpus not present")
    p = MODELS / name / "config.json"
    text = p.read_text()
    return json.loads(text), text


def test_llama_facts_and_line_evidence():
    text = json.dumps(LLAMA, indent=2)
    a = read_architecture(json.loads(text), "config.json", text)
    assert (a.num_layers, a.hidden_size, a.num_attention_heads, a.num_kv_heads) == (32, 4096,
                                                                                     32, 8)
    assert a.head_dim == 128 and a.family == "dense" and not a.is_moe and not a.is_mla
    assert a.lines["num_key_value_heads"] == text.splitlines().index(
        '  "num_key_value_heads": 8,') + 1
    assert a.to_json()["moe"] is None


def test_deepseek_v3_mla_moe_and_fp8():
    cfg, text = corpus("DeepSeek-V3")
    a = read_architecture(cfg, "config.json", text)
    assert a.family == "mla-moe"
    assert (a.kv_lora_rank, a.qk_rope_head_dim, a.q_lora_rank) == (512, 64, 1536)
    assert a.num_experts == 256 and a.experts_per_token == 8 and a.num_shared_experts == 1
    assert [i for i in range(61) if not a.is_moe_layer(i)] == [0, 1, 2]
    assert a.num_nextn_predict_layers == 1 and a.router_bias
    q = a.quantization
    assert q is not None and q.method == "fp8" and q.block_size == (128, 128) and q.bits == 8
    assert a.rope_scaling and a.rope_scaling["factor"] == 40


def test_qwen_families():
    cfg, text = corpus("Qwen2.5-7B")
    a = read_architecture(cfg, "config.json", text)
    assert a.qkv_bias and not a.attention_bias
    assert a.sliding_window is None  # use_sliding_window false switches the field off
    cfg, text = corpus("Qwen3-235B-A22B")
    a = read_architecture(cfg, "config.json", text)
    assert a.qk_norm and a.head_dim == 128 and a.num_experts == 128
    assert all(a.is_moe_layer(i) for i in range(94))


def test_gemma2_alternating_sliding_layers_and_tied_default():
    cfg, text = corpus("Gemma-2-9B")
    a = read_architecture(cfg, "config.json", text)
    assert a.tie_word_embeddings  # absent in the file: Gemma's default
    assert a.sliding_window == 4096
    assert a.layer_types is not None and a.layer_types[:2] == ("sliding_attention",
                                                               "full_attention")
    assert sum(t == "sliding_attention" for t in a.layer_types) == 21
    assert a.norms_per_layer == 4


def test_mistral_sliding_window_size_alias():
    cfg, text = corpus("Mistral-7B-v0.1")
    a = read_architecture(cfg, "config.json", text)
    assert a.sliding_window == 4096 and a.layer_types == ("sliding_attention",) * 32


def test_explicit_layer_types_and_qwen2_max_window_layers():
    cfg = dict(LLAMA, num_hidden_layers=4, sliding_window=512,
               layer_types=["sliding_attention", "full_attention"] * 2)
    a = read_architecture(cfg, "c.json")
    assert [a.layer_is_sliding(i) for i in range(4)] == [True, False, True, False]
    cfg = dict(LLAMA, model_type="qwen2", num_hidden_layers=4, sliding_window=512,
               use_sliding_window=True, max_window_layers=2)
    a = read_architecture(cfg, "c.json")
    assert [a.layer_is_sliding(i) for i in range(4)] == [False, False, True, True]
    with pytest.raises(InputError, match="layer_types has 2 entries for 4 layers"):
        read_architecture(dict(cfg, layer_types=["full_attention"] * 2), "c.json")


def test_multimodal_wrapper_reads_text_config():
    cfg = {
        "model_type": "llama4",
        "architectures": ["Llama4ForConditionalGeneration"],
        "text_config": {
            "model_type": "llama4_text", "hidden_size": 5120, "num_hidden_layers": 48,
            "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
            "vocab_size": 202048, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
            "num_local_experts": 16, "num_experts_per_tok": 1,
            "interleave_moe_layer_step": 1,
        },
        "vision_config": {"hidden_size": 1408},
    }
    a = read_architecture(cfg, "config.json")
    assert a.wrapper_model_type == "llama4" and a.model_type == "llama4_text"
    assert a.num_experts == 16 and a.moe_intermediate_size == 8192
    assert a.intermediate_size == 16384 and a.num_shared_experts == 1


def test_quantization_configs():
    gptq = read_architecture(dict(LLAMA, quantization_config={
        "quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True}), "c.json")
    assert gptq.quantization and (gptq.quantization.method, gptq.quantization.bits,
                                  gptq.quantization.group_size) == ("gptq", 4, 128)
    awq = read_architecture(dict(LLAMA, quantization_config={
        "quant_method": "awq", "bits": 4, "group_size": 64, "zero_point": True}), "c.json")
    assert awq.quantization and awq.quantization.group_size == 64
    bnb = read_architecture(dict(LLAMA, quantization_config={
        "quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
        "bnb_4bit_use_double_quant": True}), "c.json")
    assert bnb.quantization and bnb.quantization.bits == 4 and bnb.quantization.double_quant
    ct = read_architecture(dict(LLAMA, quantization_config={
        "quant_method": "compressed-tensors", "ignore": ["lm_head"],
        "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
            "num_bits": 4, "type": "int", "symmetric": True, "strategy": "group",
            "group_size": 128}}}}), "c.json")
    q = ct.quantization
    assert q and (q.method, q.bits, q.strategy, q.group_size) == ("compressed-tensors", 4,
                                                                  "group", 128)
    assert q.not_converted == ("lm_head",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must hold a JSON object, not a list"),
        ('"x"', "must hold a JSON object, not a str"),
    ],
)
def test_bad_config_text(text, problem):
    with pytest.raises(InputError, match=problem) as exc:
        parse_config_text(text, "config.json")
    assert exc.value.file == "config.json"


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        ({"num_hidden_layers": "32"}, "num_hidden_layers must be an integer"),
        ({"hidden_size": -1}, "hidden_size must be a positive integer"),
        ({"num_attention_heads": True}, "num_attention_heads must be an integer"),
        ({"vocab_size": 2**60}, "plausible size"),
        ({"num_key_value_heads": 5}, "not a multiple of num_key_value_heads 5"),
        ({"tie_word_embeddings": "no"}, "tie_word_embeddings must be true or false"),
        ({"rope_scaling": [1]}, "rope_scaling must be an object"),
        ({"quantization_config": {"quant_method": "fp8", "weight_block_size": [1, 2, 3]}},
         "weight_block_size must have 2 entries"),
        ({"text_config": 3}, "text_config must be an object"),
        ({"architectures": "Llama"}, "architectures must be a list of strings"),
        ({"kv_lora_rank": 512}, "qk_rope_head_dim"),
        ({"num_local_experts": 4, "num_experts_per_tok": 8}, "exceeds the 4 experts"),
    ],
)
def test_wrong_types_name_the_file_and_key(patch, problem):
    with pytest.raises(InputError, match=problem) as exc:
        read_architecture(dict(LLAMA, **patch), "models/x/config.json")
    assert exc.value.file == "models/x/config.json"


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)
_KEYS = list(LLAMA) + ["head_dim", "num_local_experts", "num_experts_per_tok",
                       "sliding_window", "layer_types", "quantization_config", "text_config",
                       "kv_lora_rank", "first_k_dense_replace", "mlp_only_layers"]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS), _json, max_size=8))
def test_fuzz_config_values_give_result_or_input_error(patch):
    try:
        a = read_architecture(dict(LLAMA, **patch), "config.json")
    except InputError as exc:
        assert exc.file == "config.json"
        return
    a.to_json()


def test_analyze_release_with_config_and_incomplete_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(LLAMA))
    a = analyze(open_release(str(tmp_path)))
    assert a is not None and a.num_layers == 32 and not a.findings
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "clip"}))
    a = analyze(open_release(str(tmp_path)))
    assert a is not None and [f.code for f in a.findings] == ["MC403"]
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(InputError, match="config.json: not valid JSON"):
        analyze(open_release(str(tmp_path)))


def test_gguf_metadata_to_architecture(tmp_path):
    gguf = pytest.importorskip("gguf")
    path = tmp_path / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(2)
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_context_length(4096)
    w.add_expert_count(4)
    w.add_expert_used_count(2)
    w.add_token_list([f"t{i}" for i in range(100)])
    w.add_tensor("token_embd.weight", np.zeros((100, 64), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    a = analyze(open_release(str(path)))
    assert a is not None and a.source == "gguf"
    assert (a.num_layers, a.hidden_size, a.num_attention_heads, a.num_kv_heads,
            a.head_dim, a.vocab_size) == (2, 64, 4, 2, 16, 100)
    assert a.num_experts == 4 and a.experts_per_token == 2 and a.max_position_embeddings == 4096


def test_gguf_metadata_mla_and_bad_values():
    meta = {
        "general.architecture": "deepseek2", "deepseek2.block_count": 62,
        "deepseek2.nextn_predict_layers": 1, "deepseek2.embedding_length": 7168,
        "deepseek2.attention.head_count": 128, "deepseek2.attention.head_count_kv": 128,
        "deepseek2.attention.kv_lora_rank": 512, "deepseek2.rope.dimension_count": 64,
        "deepseek2.attention.key_length": 192, "deepseek2.attention.value_length": 128,
        "deepseek2.vocab_size": 129280,
    }
    a = from_gguf_metadata(meta, "m.gguf")
    assert a.is_mla and a.num_layers == 61 and a.num_nextn_predict_layers == 1
    assert (a.kv_lora_rank, a.qk_rope_head_dim, a.qk_nope_head_dim) == (512, 64, 128)
    with pytest.raises(InputError, match="block_count must be a non-negative integer"):
        from_gguf_metadata(dict(meta, **{"deepseek2.block_count": "x"}), "m.gguf")
    with pytest.raises(InputError, match="lacks general.architecture"):
        from_gguf_metadata({}, "m.gguf")


def test_gguf_sliding_layers_follow_llama_cpp_rules():
    base = {"general.architecture": "gemma2", "gemma2.block_count": 4,
            "gemma2.embedding_length": 64, "gemma2.attention.head_count": 4,
            "gemma2.attention.sliding_window": 128, "gemma2.vocab_size": 10}
    a = from_gguf_metadata(base, "g.gguf")
    assert a.layer_types == ("sliding_attention", "full_attention") * 2
    g3 = {k.replace("gemma2", "gemma3"): v for k, v in base.items()}
    g3["gemma3.block_count"] = 12
    g3["general.architecture"] = "gemma3"
    a = from_gguf_metadata(g3, "g.gguf")
    assert a.layer_types is not None
    assert [i for i, t in enumerate(a.layer_types) if t == "full_attention"] == [5, 11]
    explicit = dict(base, **{"gemma2.attention.sliding_window_pattern":
                             [False, True, True, False]})
    a = from_gguf_metadata(explicit, "g.gguf")
    assert a.layer_types == ("full_attention", "sliding_attention", "sliding_attention",
                             "full_attention")
