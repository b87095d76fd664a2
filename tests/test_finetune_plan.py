"""Fine-tuning plan: memory against published measurements, sharding, inherited obligations.

Measurements compared (docs/sizing.md, "Fine-tuning: side by side"):
- Unsloth README (unslothai/unsloth, "context length" tables): Llama-3.1-8B-Instruct and
  Llama-3.3-70B-Instruct, 4-bit QLoRA on all linear layers, rank 32, batch 1, sequences
  padded to the length; the "Hugging Face + FA2" column is the longest sequence that fits a
  GPU of that size (8B: 5,789 tokens in 24 GB and 28,454 in 80 GB; 70B: 6,916 in 80 GB).
  transformers' loss path and gradient checkpointing; compared with our total incl. runtime.
- torchtune README (pytorch/torchtune@bd2a0fc, "Memory and training speed"): batch 2,
  sequences packed to 2,048, peak memory per GPU from torch's allocator (no CUDA context:
  compared without our runtime term); recipes recipes/configs/llama3_1/*.yaml: LoRA rank 8
  (q, v, output + MLP), QLoRA the same on NF4, full = bf16 + PagedAdamW8bit +
  optimizer_in_bwd, activation checkpointing on, chunked cross-entropy; 70B LoRA rank 16
  on 8 × A100 with FSDP; 70B full with FSDP CPU offload on 8 × A100 (13.9 GiB).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.architecture import read_architecture
from modelclear.analyzers.paramcount import entries_from_config
from modelclear.analyzers.sizing import FinetuneOptions, find_gpu, plan_finetune
from modelclear.cli import main

CONFIGS = Path(__file__).parent / "data" / "configs"
LICENSES = SHARED / "corpus" / "licenses"
GIB = 1024**3
TT_TARGETS = ("q", "v", "o", "gate", "up", "down")


def _plan(name: str, **kw):
    arch = read_architecture(json.loads((CONFIGS / f"{name}.json").read_text()), name)
    return plan_finetune(arch, entries_from_config(arch), FinetuneOptions(**kw),
                         [find_gpu("H100")])


def _within(ours: float, measured: float, tol: float = 0.15) -> bool:
    return abs(ours - measured) / measured <= tol


@pytest.mark.parametrize(("name", "seq", "gpu_bytes"), [
    ("mlc-llama3_1_8b", 5_789, 24e9),
    ("mlc-llama3_1_8b", 28_454, 80e9),
    ("mlc-llama3_1_70b", 6_916, 80e9),
])
def test_qlora_against_unsloth_hf_fa2_measurements(name, seq, gpu_bytes) -> None:
    p = _plan(name, method="qlora", rank=32, seq=seq, batch=1, gradient_checkpointing=True)
    assert _within(p.single_gpu.total, gpu_bytes), p.single_gpu.total


def test_llama_8b_lora_and_full_against_torchtune() -> None:
    lora = _plan("mlc-llama3_1_8b", method="lora", rank=8, targets=TT_TARGETS, seq=2048,
                 batch=2, gradient_checkpointing=True, chunked_loss=True)
    m = lora.single_gpu
    assert _within(m.total - m.runtime, 16.2 * GIB)  # 1 × RTX 4090
    full = _plan("mlc-llama3_1_8b", method="full", optimizer="paged-adamw-8bit",
                 pure_bf16=True, fused_optimizer=True, seq=2048, batch=2,
                 gradient_checkpointing=True, chunked_loss=True)
    m = full.single_gpu
    assert _within(m.total - m.runtime, 37.4 * GIB)  # 1 × A6000


def test_llama_70b_lora_fsdp_against_torchtune() -> None:
    p = _plan("mlc-llama3_1_70b", method="lora", rank=16, targets=TT_TARGETS, seq=2048,
              batch=2, gradient_checkpointing=True, chunked_loss=True)
    m = p.memory_at("zero3", 8)
    assert _within(m.total - m.runtime, 27.6 * GIB)  # 8 × A100, FSDP


def test_llama_70b_full_with_cpu_offload_against_torchtune() -> None:
    # 70B_full.yaml: bf16, AdamW, fsdp_cpu_offload, checkpointing, batch 2; "uses CPU offload"
    p = _plan("mlc-llama3_1_70b", method="full", pure_bf16=True, seq=2048, batch=2,
              gradient_checkpointing=True, chunked_loss=True)
    m = p.memory_at("zero3-offload", 8)
    assert _within(m.total - m.runtime, 13.9 * GIB)  # 8 × A100
    assert m.host_offloaded == -(-(p.total_params * (2 + 2 + 4)) // 8)  # w + g + 2 moments


def test_lora_trainable_parameters_hand_computed() -> None:
    p = _plan("mlc-llama3_1_8b", method="lora", rank=16, targets=("q", "v"))
    # per layer: q 16·(4096+4096) + v 16·(4096+1024); 32 layers
    assert p.trainable_params == 32 * (16 * 8192 + 16 * 5120)
    assert p.adapted_modules == 64 and p.adapter_bytes == p.trainable_params * 2


def test_sharding_stages_and_checkpointing_shrink_memory() -> None:
    p = _plan("mlc-llama3_1_8b", method="full", seq=2048, batch=1, gradient_checkpointing=True)
    # mixed-precision AdamW: 2 (bf16) + 2 (grads) + 4 (master) + 8 (moments) = 16 B/param
    m = p.single_gpu
    assert m.trainable_weights + m.gradients + m.master_weights + m.optimizer_states \
        == 16 * p.total_params
    totals = [p.memory_at(s, 8).total for s in ("ddp", "zero1", "zero2", "zero3",
                                                  "zero3-offload")]
    assert totals == sorted(totals, reverse=True) and len(set(totals)) == 5
    z1 = p.memory_at("zero1", 8)
    assert z1.optimizer_states == -(-8 * p.total_params // 8)
    no_ckpt = _plan("mlc-llama3_1_8b", method="full", seq=2048, batch=1)
    assert no_ckpt.single_gpu.activations > 2.5 * m.activations  # logits are in both
    q = _plan("mlc-llama3_1_8b", method="qlora")
    lo = _plan("mlc-llama3_1_8b", method="lora")
    assert q.base_bytes < 0.4 * lo.base_bytes


def _release(tmp_path: Path, license_file: str, card: str | None) -> Path:
    if not (LICENSES / license_file).is_file():
        pytest.skip("../shared corpus not present")
    d = tmp_path / license_file.removesuffix(".txt")
    d.mkdir()
    shutil.copy(CONFIGS / "mlc-qwen2_0_5b.json", d / "config.json")
    shutil.copy(LICENSES / license_file, d / "LICENSE")
    if card is not None:
        (d / "README.md").write_text(card)
    return d


def _obligations(d: Path, capsys) -> tuple[dict[str, dict], list[str]]:
    assert main(["plan", str(d), "--finetune", "lora", "--gpu", "H100", "--batch", "1",
                 "--seq", "1024", "--gradient-checkpointing", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 2
    ft = doc["finetune"]
    return {o["term"]: o for o in ft["obligations"]}, [f["code"] for f in ft["findings"]]


def test_llama_license_obligations(tmp_path, capsys) -> None:
    d = _release(tmp_path, "llama-3.1-community-license.txt",
                 "---\nlicense: llama3.1\ndatasets:\n- tatsu-lab/alpaca\n---\n# model\n")
    ob, codes = _obligations(d, capsys)
    assert ob["fine_tuning_allowed"]["status"] == "allowed"
    assert "Llama" in ob["derivative_naming_requirement"]["text"]
    assert ob["derivative_naming_requirement"]["line"] and ob["license"]["file"] == "LICENSE"
    assert "Built with Llama" in ob["attribution_required"]["text"]
    assert ob["acceptable_use_policy"]["status"] == "obligation"
    assert ob["commercial_use"]["status"] == "review" and "700,000,000" in ob[
        "commercial_use"]["text"]
    assert ob["training_data"]["status"] == "obligation"  # the card names its dataset
    assert "MC418" not in codes and "MC416" in codes


def test_qwen_license_obligations(tmp_path, capsys) -> None:
    d = _release(tmp_path, "tongyi-qianwen-license.txt", None)
    ob, codes = _obligations(d, capsys)
    assert ob["use_outputs_to_train_other_models"]["status"] == "prohibited"
    assert ob["redistribution_conditions"]["status"] == "obligation"
    assert ob["training_data"]["status"] == "review" and "MC418" in codes


def test_deepseek_license_obligations(tmp_path, capsys) -> None:
    d = _release(tmp_path, "deepseek-license-v1.txt", "# DeepSeek\n")
    ob, codes = _obligations(d, capsys)
    assert ob["acceptable_use_policy"]["status"] == "obligation"
    assert "downstream" in ob["redistribution_conditions"]["text"]
    assert ob["use_outputs_to_train_other_models"]["status"] == "obligation"
    assert ob["training_data"]["status"] == "review"


def test_no_license_is_review_not_silence(tmp_path, capsys) -> None:
    d = tmp_path / "bare"
    d.mkdir()
    shutil.copy(CONFIGS / "mlc-qwen2_0_5b.json", d / "config.json")
    ob, codes = _obligations(d, capsys)
    assert ob["license"]["status"] == "review" and "MC416" in codes


@pytest.mark.parametrize(("args", "message"), [
    (["--finetune", "partial"], "--finetune must be one of"),
    (["--finetune", "lora", "--optimizer", "adam9"], "unknown --optimizer"),
    (["--finetune", "lora", "--rank", "0"], "--rank must be at least 1"),
    (["--finetune", "lora", "--targets", "nothing_here"], "match no linear layer"),
])
def test_bad_finetune_usage_exit_2(args, message, capsys) -> None:
    assert main(["plan", str(CONFIGS / "mlc-qwen2_0_5b.json"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_does_not_fit_is_a_finding_with_the_way_out(capsys) -> None:
    assert main(["plan", str(CONFIGS / "mlc-llama3_1_70b.json"), "--finetune", "full",
                 "--gpu", "RTX4090", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    f = next(f for f in doc["finetune"]["findings"] if f["code"] == "MC413")
    assert "--gradient-checkpointing" in f["message"]


@settings(max_examples=40, deadline=None)
@given(method=st.sampled_from(["full", "lora", "qlora"]), seq=st.integers(1, 8192),
       batch=st.integers(1, 8), ckpt=st.booleans(),
       optimizer=st.sampled_from(["adamw", "adamw-8bit", "sgd", "adafactor", "lion"]),
       n=st.sampled_from([2, 4, 8, 16]))
def test_fuzz_memory_grows_with_work_and_shrinks_with_sharding(method, seq, batch, ckpt,
                                                              optimizer, n) -> None:
    kw = dict(method=method, seq=seq, batch=batch, gradient_checkpointing=ckpt,
              optimizer=optimizer)
    p = _plan("mlc-qwen2_0_5b", **kw)
    bigger = _plan("mlc-qwen2_0_5b", **dict(kw, batch=batch + 1))
    assert bigger.single_gpu.total > p.single_gpu.total
    totals = [p.memory_at(s, n).total for s in ("ddp", "zero1", "zero2", "zero3")]
    assert totals[1] <= totals[0] and totals[2] <= totals[1]
    assert p.memory_at("zero3", 2 * n).total <= p.memory_at("zero3", n).total
    assert all(v >= 0 for v in p.single_gpu.to_json().values())


def test_long_sequence_and_quantized_checkpoint_findings(tmp_path, capsys) -> None:
    cfg = json.loads((CONFIGS / "mlc-qwen2_0_5b.json").read_text())
    cfg["quantization_config"] = {"quant_method": "gptq", "bits": 4, "group_size": 128}
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    assert main(["plan", str(p), "--finetune", "qlora", "--seq", "65536", "--batch", "1",
                 "--gradient-checkpointing", "--gpu", "H100", "--json"]) == 0
    ft = json.loads(capsys.readouterr().out)["finetune"]
    codes = {f["code"]: f["message"] for f in ft["findings"]}
    assert "65,536" in codes["MC414"] and "32,768" in codes["MC414"]
    assert "gptq" in codes["MC419"]
    # 65,536 tokens × (checkpointed layers + 16 B × 151,936 logits) ≈ 163 GB of
    # activations, never sharded: nothing fits, and the finding says what to lower
    assert all(s["gpus"] is None for s in ft["stages"]) and "MC413" in codes
    assert ft["options"]["targets"] == ["q", "k", "v", "o", "gate", "up", "down"]
