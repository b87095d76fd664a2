"""Weight bytes, KV cache and GPU plans — against the corpus and hand-computed values."""

from __future__ import annotations

import json
import math

import pytest
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.architecture import read_architecture
from modelclear.analyzers.paramcount import ParamEntry
from modelclear.analyzers.sizing import (
    find_gpu,
    gpu_catalog,
    kv_cache,
    linear_bytes,
    native_linear_bytes,
    plan,
    plan_one,
    weight_bytes,
)
from modelclear.cli import main
from modelclear.errors import InputError

MODELS = SHARED / "corpus" / "models"

LLAMA_8B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}

SMALL_MOE = {
    "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 256,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 64, "vocab_size": 1000, "num_experts": 8, "num_experts_per_tok": 2,
    "moe_intermediate_size": 128, "intermediate_size": 512, "decoder_sparse_step": 1,
    "mlp_only_layers": [], "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "max_position_embeddings": 4096,
}


def facts() -> list[dict]:
    if not (MODELS / "facts.jsonl").is_file():
        pytest.skip("../shared corpus not present")
    return [json.loads(x) for x in (MODELS / "facts.jsonl").read_text().splitlines() if x]


def corpus_arch(name: str):
    for f in facts():
        if f["name"] == name:
            p = MODELS / f["config"]
            return read_architecture(json.loads(p.read_text()), str(p)), f
    raise AssertionError(name)


def test_kv_elements_per_token_match_corpus():
    for f in facts():
        p = MODELS / f["config"]
        kv = kv_cache(read_architecture(json.loads(p.read_text()), f["config"]))
        assert kv.elements_per_token == f["kv_cache_elements_per_token"], f["name"]


def test_deepseek_v3_native_bytes_within_1_percent_of_checkpoint():
    a, f = corpus_arch("DeepSeek-V3")
    w = weight_bytes(a)
    assert abs(w.native - 688.6e9) / 688.6e9 < 0.01
    # exact against the corpus' own tensor-by-tensor computation
    assert w.native == f["checkpoint"]["total_size_bytes_computed"]
    assert w.native_main == f["checkpoint"]["main_model_only_bytes_computed"]
    # what-if fp8 with the same 128×128 blocks equals the native main model
    assert w.by_precision["fp8"] == w.native_main
    assert w.native_format.startswith("fp8 e4m3 (block 128x128)")


def test_llama_8b_gqa_kv_hand_computed():
    a = read_architecture(LLAMA_8B, "config.json")
    kv = kv_cache(a)
    # 2 (K,V) × 8 KV heads × 128 head_dim × 32 layers
    assert kv.kind == "gqa" and kv.elements_per_layer == 2048
    assert kv.elements_per_token == 65_536 and kv.bytes_per_token == 131_072
    assert kv.bytes_per_sequence(131_072) == 17_179_869_184  # 17.2 GB at 128K
    # naive MHA sizing (32 heads) would be 4× larger; fp8 halves it
    assert 2 * 32 * 128 * 32 * 2 == 4 * kv.bytes_per_token
    assert kv_cache(a, "fp8").bytes_per_token == 65_536
    assert "2 (K and V) × 8 kv_heads × 128 head_dim" in kv.formula


def test_mla_kv_hand_computed():
    a, _ = corpus_arch("DeepSeek-V3")
    kv = kv_cache(a)
    assert kv.kind == "mla" and kv.elements_per_layer == 512 + 64
    assert kv.bytes_per_token == 576 * 61 * 2 == 70_272


def test_sliding_window_savings_reported_separately():
    a, _ = corpus_arch("Gemma-2-9B")
    kv = kv_cache(a)
    assert kv.sliding_layers == 21 and kv.sliding_window == 4096
    per_layer_bytes = 2 * 8 * 256 * 2
    full = kv.bytes_per_sequence(8192)
    assert full == 42 * per_layer_bytes * 8192
    windowed = kv.bytes_per_sequence(8192, window_aware=True)
    assert full - windowed == 21 * per_layer_bytes * 4096
    j = kv.to_json(8192)
    assert j["sliding_window_savings_bytes"] == full - windowed
    assert j["elements_per_token"] == 172_032  # every layer at full context


def test_small_moe_weights_hand_computed():
    a = read_architecture(SMALL_MOE, "config.json")
    w = weight_bytes(a)
    H, V, E, mI, hd = 256, 1000, 8, 128, 64
    attn = H * 4 * hd * 2 + H * 2 * hd * 2  # q,o + k,v
    experts = E * 3 * H * mI
    router = E * H
    norms = 2 * H + 2 * hd  # input/post norms + q/k norms
    params = 2 * V * H + 2 * (attn + experts + router + norms) + H
    assert w.native == w.by_precision["bf16"] == params * 2
    # int4: every linear at 4 bits + per 128-input group a fp16 scale and a 4-bit zero
    linear_shapes = ([(4 * hd, H), (2 * hd, H), (2 * hd, H), (H, 4 * hd)]
                     + [(mI, H), (mI, H), (H, mI)] * E) * 2
    int4 = 0
    for out, inp in linear_shapes:
        groups = out * math.ceil(inp / 128)
        int4 += out * inp // 2 + groups * 2 + math.ceil(groups / 2)
    kept = (2 * V * H + 2 * (router + norms) + H) * 2
    assert w.by_precision["int4"] == kept + int4
    # fp8: 1 byte per weight + one fp32 scale per 128×128 block
    fp8 = sum(o * i + math.ceil(o / 128) * math.ceil(i / 128) * 4 for o, i in linear_shapes)
    assert w.by_precision["fp8"] == kept + fp8


def test_quantized_formats_byte_formulas():
    e = ParamEntry("x.weight", (4096, 4096), "linear")
    assert linear_bytes(e, "bf16") == 4096 * 4096 * 2
    assert linear_bytes(e, "int8") == 4096 * 4096 + 4096 * 2
    gptq = read_architecture(dict(LLAMA_8B, quantization_config={
        "quant_method": "gptq", "bits": 4, "group_size": 128}), "c").quantization
    assert native_linear_bytes(e, gptq) == (4096 * 4096 // 2 + 4096 * 32 * 2 + 4096 * 32 // 2
                                            + 4096 * 4)
    awq = read_architecture(dict(LLAMA_8B, quantization_config={
        "quant_method": "awq", "bits": 4, "group_size": 128}), "c").quantization
    assert native_linear_bytes(e, awq) == 4096 * 4096 // 2 + 4096 * 32 * 2 + 4096 * 32 // 2
    # a GGUF k-quant through the ggml table: Q4_K is 144 bytes per 256 weights
    assert linear_bytes(e, "Q4_K") == 4096 * 4096 // 256 * 144


def test_gpu_catalog_is_data_and_lookup_is_forgiving():
    cat = gpu_catalog()
    for key in ("H100", "H200", "B200", "A100-80", "A100-40", "L40S", "L4", "RTX4090",
                "RTX5090", "MI300X", "MI325X"):
        assert key in cat
    assert find_gpu("h100").memory_bytes == 81559 * 2**20
    assert find_gpu("a100_80").key == "A100-80"
    with pytest.raises(InputError, match="unknown GPU"):
        find_gpu("TPUv9")


def test_deepseek_v3_eight_gpu_question():
    a, _ = corpus_arch("DeepSeek-V3")
    r = plan(a, gpus=["H100", "H200"], precisions=["native", "fp8", "int4"], gpu_count=8,
             context=32768)
    by = {(p.gpu.key, p.precision): p for p in r.plans}
    assert not by["H100", "native"].fits and not by["H100", "fp8"].fits
    assert by["H200", "fp8"].fits and by["H200", "native"].fits
    int4 = by["H100", "int4"]
    assert int4.fits and int4.layout.kv_budget_per_gpu > 20e9
    assert int4.layout.max_concurrency >= 8
    assert {f.code for f in r.findings} >= {"MC410"}


def test_plan_searches_minimal_gpu_count_and_valid_tp():
    a = read_architecture(LLAMA_8B, "config.json")
    r = plan(a, gpus=["H100"], precisions=["bf16"], context=8192, concurrency=1)
    p = r.plans[0]
    assert p.layout.gpus == 1 and p.fits and p.meets_concurrency
    assert p.commands["vllm"].startswith("vllm serve MODEL --tensor-parallel-size 1 "
                                         "--max-model-len 8192 --gpu-memory-utilization 0.9")
    # 28 attention heads (Qwen2.5-7B): tensor parallel 8 is impossible → 4 × 2 pipeline
    q = read_architecture(dict(LLAMA_8B, num_attention_heads=28, num_key_value_heads=4,
                               hidden_size=3584), "c")
    r = plan(q, gpus=["L4"], precisions=["bf16"], gpu_count=8, context=4096)
    lay = r.plans[0].layout
    assert (lay.tensor_parallel, lay.pipeline_parallel) == (4, 2)
    assert "--pipeline-parallel-size 2" in r.plans[0].commands["vllm"]
    assert "--tp 4 --pp-size 2" in r.plans[0].commands["sglang"]


def test_fp8_block_quantized_moe_falls_back_to_expert_parallel():
    # moe_intermediate_size 384 / TP 8 = 48: not a whole 128-wide fp8 block per shard
    cfg = dict(SMALL_MOE, hidden_size=1024, moe_intermediate_size=384, intermediate_size=1024,
               num_attention_heads=8, num_key_value_heads=8, head_dim=128,
               quantization_config={"quant_method": "fp8", "weight_block_size": [128, 128]})
    a = read_architecture(cfg, "c")
    r = plan(a, gpus=["L4"], precisions=["native"], gpu_count=8, context=1024)
    lay = r.plans[0].layout
    assert lay.expert_parallel and lay.fits
    assert "--enable-expert-parallel" in r.plans[0].commands["vllm"]


def test_bad_usage():
    a = read_architecture(LLAMA_8B, "c")
    with pytest.raises(InputError, match="unknown precision"):
        plan(a, precisions=["int3"])
    with pytest.raises(InputError, match="unknown KV-cache dtype"):
        plan(a, kv_dtype="int2")
    with pytest.raises(InputError, match="--concurrency must be at least 1"):
        plan(a, concurrency=0)


# ---- CLI -----------------------------------------------------------------------------------


def _json_plan(capsys, *args: str) -> dict:
    rc = main(["plan", *args, "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)


def test_cli_deepseek_v3_config(capsys):
    cfg = str(MODELS / "DeepSeek-V3" / "config.json")
    if not MODELS.is_dir():
        pytest.skip("../shared corpus not present")
    data = _json_plan(capsys, cfg, "--gpu", "H100", "--gpu", "H200", "--gpus", "8",
                      "--precision", "fp8", "--precision", "int4", "--context", "32768")
    assert data["schema_version"] == 2
    wb = data["weights_bytes"]
    assert set(wb) >= {"native", "bf16", "fp8", "int8", "int4"}
    assert abs(wb["native"] - 688.6e9) / 688.6e9 < 0.01
    assert data["kv_cache_bytes_per_token"] == 70_272
    plans = {(p["gpu"], p["precision"]): p for p in data["plans"]}
    assert plans["H100", "fp8"]["fits"] is False and plans["H100", "fp8"]["gpus"] == 8
    assert plans["H200", "fp8"]["fits"] is True
    int4 = plans["H100", "int4"]
    assert int4["fits"] is True and int4["max_concurrency"] >= 8
    assert int4["layout"]["kv_budget_bytes_per_gpu"] > 20e9
    for p in data["plans"]:
        assert set(p) >= {"gpu", "precision", "gpus", "tensor_parallel", "max_concurrency",
                          "fits", "commands", "arithmetic"}
        assert set(p["commands"]) == {"vllm", "sglang", "llama_cpp"}
    assert plans["H200", "fp8"]["commands"]["vllm"].startswith("vllm serve ")
    assert "--tp 8" in plans["H200", "fp8"]["commands"]["sglang"]
    ep = plans["H200", "fp8"]["expert_parallel_alternative"]
    assert ep["experts_per_gpu"] == 32 and ep["vllm"] == "--enable-expert-parallel"
    # the text table answers the same question
    assert main(["plan", cfg, "--gpu", "H100", "--gpus", "8", "--precision", "fp8"]) == 0
    out = capsys.readouterr().out
    assert "does not fit" in out and "vllm serve" in out


def test_cli_table_without_gpu_on_bare_config(tmp_path, capsys):
    p = tmp_path / "my-config.json"
    p.write_text(json.dumps(LLAMA_8B))
    assert main(["plan", str(p), "--context", "8192"]) == 0
    out = capsys.readouterr().out
    for gpu in ("H100", "RTX4090", "MI300X"):
        assert gpu in out
    data = _json_plan(capsys, str(p), "--kv-dtype", "fp8")
    assert data["kv_cache_bytes_per_token"] == 65_536
    # native is bf16 here, so the bf16 what-if row would repeat it
    assert len(data["plans"]) == len(gpu_catalog()) * 4
    assert {p["precision"] for p in data["plans"]} == {"native", "fp8", "int8", "int4"}
    assert all("--kv-cache-dtype fp8" in p["commands"]["vllm"]
               for p in data["plans"] if p["commands"]["vllm"])


def test_cli_on_safetensors_release_and_gguf(tmp_path, capsys):
    from test_params_counts import TINY_LLAMA, tiny_llama_tensors, write_release

    folder = write_release(tmp_path / "tiny", TINY_LLAMA, [tiny_llama_tensors()])
    data = _json_plan(capsys, str(folder), "--gpu", "L4")
    size = sum(t.numel() * 2 for t in tiny_llama_tensors().values())
    assert data["weights_bytes"]["native"] == size
    assert data["weights_bytes"]["method"] == "headers"
    assert data["parameters"]["method"] == "headers"
    assert data["weight_files"] == ["model.safetensors"]

    gguf = pytest.importorskip("gguf")
    import numpy as np

    path = tmp_path / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(4)
    w.add_context_length(2048)
    w.add_token_list([f"t{i}" for i in range(50)])
    w.add_tensor("token_embd.weight", np.zeros((50, 64), np.float16))
    w.add_tensor("blk.0.attn_q.weight", np.zeros((64, 64), np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = _json_plan(capsys, str(path), "--gpu", "M4-Max-128", "--context", "2048")
    assert data["weights_bytes"]["native"] == (50 * 64 + 64 * 64) * 2
    assert data["kv_cache_bytes_per_token"] == 2 * 4 * 16 * 2
    cmd = data["plans"][0]["commands"]
    assert cmd["vllm"] is None and cmd["llama_cpp"].startswith(f"llama-server -m {path}")
    # a GGUF file is one quantization: one row, unless other rows are asked for by name
    assert [p["precision"] for p in data["plans"]] == ["native"]
    data = _json_plan(capsys, str(path), "--gpu", "M4-Max-128", "--precision", "native",
                      "--precision", "Q4_K")
    q4 = next(p for p in data["plans"] if p["precision"] == "Q4_K")
    assert str(path) not in q4["commands"]["llama_cpp"]
    assert any("needs a different GGUF file" in n for n in q4["notes"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/model"], "does not exist"),
        (["BAD_JSON"], "not valid JSON"),
        (["CFG", "--gpu", "TPUv9"], "unknown GPU"),
        (["CFG", "--precision", "int3"], "unknown precision"),
    ],
)
def test_cli_bad_input_exit_2(tmp_path, capsys, args, message):
    bad = tmp_path / "config.json"
    bad.write_text("{oops")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(LLAMA_8B))
    args = [str(bad) if a == "BAD_JSON" else str(good) if a == "CFG" else a for a in args]
    assert main(["plan", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_header_sizing_of_fp8_checkpoint_matches_file_bytes(tmp_path):
    from test_params_counts import TINY_DSV3, tiny_dsv3_tensors, write_release

    from modelclear.analyzers import params
    from modelclear.analyzers.architecture import analyze as arch_analyze
    from modelclear.sources import open_release

    tensors = tiny_dsv3_tensors()
    rel = open_release(str(write_release(tmp_path / "ds", TINY_DSV3, [tensors])))
    arch = arch_analyze(rel)
    headers = params.weight_headers(rel)
    w = weight_bytes(arch, headers.tensors)
    on_disk = sum(t.numel() * t.element_size() for t in tensors.values())
    mtp = sum(t.numel() * t.element_size() for k, t in tensors.items()
              if k.startswith("model.layers.2."))
    assert w.method == "headers" and w.native == on_disk and w.mtp == mtp
    # re-pricing the same tensors as fp8 with 128×128 blocks reproduces the file
    assert w.by_precision["fp8"] == w.native_main == on_disk - mtp
    # and the config formula prices the checkpoint identically
    assert weight_bytes(arch).native == on_disk
    # params.analyze finds the headers itself when given the release only
    assert params.analyze(rel, arch, None).method == "headers"
    assert params.analyze(rel, arch, ()).method == "config"


def test_min_gpus_and_plan_lookup():
    a = read_architecture(LLAMA_8B, "c")
    r = plan(a, gpus=["L4", "H100"], precisions=["bf16", "int4"], context=32768,
             concurrency=64)
    p = r.plan_for("l4", "bf16")
    assert p is not None and p.min_gpus is not None and p.min_gpus <= p.layout.gpus
    assert p.min_gpus == 2  # 16.1 GB of bf16 weights do not leave room on one 24 GB L4
    assert r.plan_for("H100", "int4").min_gpus == 1
    assert r.plan_for("H100", "fp8") is None


def test_cli_gguf_type_precision(capsys):
    p = MODELS / "Llama-3.1-8B" / "config.json"
    if not p.is_file():
        pytest.skip("../shared corpus not present")
    data = _json_plan(capsys, str(p), "--gpu", "RTX4090", "--precision", "Q4_K",
                      "--context", "8192")
    q4k = data["weights_bytes"]["Q4_K"]
    # 4.5 bits per linear weight + 16-bit embeddings, norms and lm_head
    linear = 8_030_261_248 - 2 * 128_256 * 4096 - 65 * 4096
    assert q4k == linear // 256 * 144 + (2 * 128_256 * 4096 + 65 * 4096) * 2
    assert data["plans"][0]["fits"] and "Q4_K" in data["plans"][0]["commands"]["llama_cpp"]


def test_bnb_packed_checkpoint_priced_on_config_shapes():
    from modelclear.parsers.tensors import TensorInfo

    cfg = dict(LLAMA_8B, hidden_size=256, intermediate_size=512, num_attention_heads=4,
               num_key_value_heads=2, num_hidden_layers=1, vocab_size=1000,
               quantization_config={"quant_method": "bitsandbytes", "load_in_4bit": True})
    a = read_architecture(cfg, "c")
    tensors = []
    for n, shape in (("q_proj", (256, 256)), ("k_proj", (128, 256)), ("v_proj", (128, 256)),
                     ("o_proj", (256, 256))):
        name = f"model.layers.0.self_attn.{n}.weight"
        k = shape[0] * shape[1] // 2
        tensors += [TensorInfo(name, "U8", (k, 1), k, "m", 0),
                    TensorInfo(name + ".absmax", "F32", (k // 32,), k // 8, "m", 0)]
    for n, shape in (("gate_proj", (512, 256)), ("up_proj", (512, 256)),
                     ("down_proj", (256, 512))):
        name = f"model.layers.0.mlp.{n}.weight"
        k = shape[0] * shape[1] // 2
        tensors += [TensorInfo(name, "U8", (k, 1), k, "m", 0),
                    TensorInfo(name + ".absmax", "F32", (k // 32,), k // 8, "m", 0)]
    for name, shape in (("model.embed_tokens.weight", (1000, 256)),
                        ("lm_head.weight", (1000, 256)),
                        ("model.layers.0.input_layernorm.weight", (256,)),
                        ("model.layers.0.post_attention_layernorm.weight", (256,)),
                        ("model.norm.weight", (256,))):
        tensors.append(TensorInfo(name, "BF16", shape, math.prod(shape) * 2, "m", 0))
    w = weight_bytes(a, tensors)
    assert w.native == sum(t.nbytes for t in tensors)
    assert w.by_precision == weight_bytes(read_architecture(
        {k: v for k, v in cfg.items() if k != "quantization_config"}, "c")).by_precision


def test_cli_hf_cache_target_serves_repo_id(hf_hub, capsys):
    from conftest import make_hf_cache

    make_hf_cache(hf_hub, "acme/tiny-llama", {"config.json": json.dumps(LLAMA_8B).encode()},
                  "c" * 40)
    data = _json_plan(capsys, "acme/tiny-llama", "--gpu", "H100", "--precision", "bf16")
    assert data["model"] == "acme/tiny-llama"
    assert data["plans"][0]["commands"]["vllm"].startswith("vllm serve acme/tiny-llama ")
    assert data["parameters"]["total"] == 8_030_261_248


def test_cli_zero_context_is_a_usage_error(tmp_path, capsys):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(LLAMA_8B))
    assert main(["plan", str(p), "--context", "0"]) == 2
    assert "--context must be at least 1" in capsys.readouterr().err


@settings(max_examples=150, deadline=None)
@given(
    heads=st.integers(1, 64), kv_div=st.sampled_from([1, 2, 4, 8]), hd=st.integers(1, 256),
    layers=st.integers(1, 96), inter=st.integers(0, 50000), vocab=st.integers(1, 300000),
    experts=st.sampled_from([0, 2, 8, 64]), topk=st.integers(1, 8),
    mla=st.booleans(), window=st.one_of(st.none(), st.integers(1, 8192)),
    context=st.integers(1, 200_000), conc=st.integers(1, 512),
)
def test_fuzz_plan_on_random_architectures(heads, kv_div, hd, layers, inter, vocab, experts,
                                           topk, mla, window, context, conc):
    kv = heads // kv_div if heads % kv_div == 0 and heads >= kv_div else heads
    cfg = {"model_type": "llama", "hidden_size": heads * hd, "num_attention_heads": heads,
           "num_key_value_heads": kv, "num_hidden_layers": layers, "vocab_size": vocab,
           "intermediate_size": inter or None, "sliding_window": window}
    if experts:
        cfg.update(num_local_experts=experts, num_experts_per_tok=min(topk, experts),
                   moe_intermediate_size=max(inter // 4, 1))
    if mla:
        cfg.update(kv_lora_rank=64, qk_rope_head_dim=16, qk_nope_head_dim=32, v_head_dim=32)
    a = read_architecture(cfg, "c")
    r = plan(a, gpus=["L4", "H200"], context=context, concurrency=conc)
    data = r.to_json()
    assert data["kv_cache_bytes_per_token"] > 0
    for p in r.plans:
        assert p.layout.max_concurrency >= 0
        assert not p.fits or p.layout.kv_budget_per_gpu > 0


def test_plan_one_reuses_a_report_for_a_fixed_budget():
    a = read_architecture(LLAMA_8B, "c")
    r = plan(a, gpus=["H100"], context=8192)
    p = plan_one(
        r.architecture, r.weights, r.kv, find_gpu("L4"), "int4", context=8192,
        concurrency=4, gpu_count=1, model=r.model)
    assert p.fits and p.layout.gpus == 1 and p.meets_concurrency
    with pytest.raises(InputError, match="precision 'int3' was not sized"):
        r.weights.served("int3")


def test_mxfp4_checkpoint_keeps_unconverted_modules_16_bit():
    from test_params_counts import _GPT_OSS_120B

    from modelclear.analyzers.sizing import module_matches

    assert module_matches("model.layers.3.self_attn.q_proj.weight", "model.layers.*.self_attn")
    assert module_matches("lm_head.weight", "lm_head")
    assert not module_matches("model.layers.3.mlp.experts.gate_up_proj",
                              "model.layers.*.self_attn")
    assert module_matches("model.layers.3.mlp.gate.weight", "re:.*mlp.gate$")
    assert not module_matches("model.layers.3.mlp.gate_proj.weight", "re:.*mlp.gate$")
    a = read_architecture(_GPT_OSS_120B, "config.json")
    w = weight_bytes(a)
    H, E, L = 2880, 128, 36
    experts = L * E * 3 * H * H  # gate_up (2·I×H) + down (H×I), I = H
    # mxfp4: 4-bit values + one e8m0 scale per 32
    assert w.native == w.native_main == (experts // 2 + experts // 32
                                         + (count_from(a) - experts) * 2)
    assert w.native_format.startswith("mxfp4 4-bit group 32")


def count_from(a) -> int:
    from modelclear.analyzers.paramcount import count_from_config

    return count_from_config(a).total


def test_hybrid_linear_attention_layers_hold_no_kv():
    cfg = dict(LLAMA_8B, num_hidden_layers=8,
               layer_types=["linear_attention"] * 3 + ["full_attention"]
               + ["linear_attention"] * 3 + ["full_attention"])
    kv = kv_cache(read_architecture(cfg, "c"))
    assert kv.layers == 2 and kv.elements_per_token == 2 * 2048
    assert "6 linear-attention/state-space layer(s)" in kv.formula


def test_all_moe_model_expert_parallel_ignores_dense_width():
    # Mixtral-style: every layer is MoE, intermediate_size is the expert width (384)
    cfg = {"model_type": "mixtral", "hidden_size": 1024, "num_hidden_layers": 4,
           "num_attention_heads": 8, "num_key_value_heads": 8, "intermediate_size": 384,
           "num_local_experts": 8, "num_experts_per_tok": 2, "vocab_size": 1000}
    a = read_architecture(cfg, "c")
    r = plan(a, gpus=["L4"], precisions=["int4"], gpu_count=8, context=1024)
    assert r.plans[0].layout.expert_parallel and r.plans[0].fits
