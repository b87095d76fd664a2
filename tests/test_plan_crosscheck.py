"""Never silently wrong: every count names its method and is cross-checked (issue 15)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modelclear.analyzers.sizing import find_gpu
from modelclear.cli import main

CONFIGS = Path(__file__).parent / "data" / "configs"
FALCON_INDEX = 359_045_130_240  # tiiuae/falcon-180B model.safetensors.index.json total_size


def _release(tmp_path: Path, config: str | dict, total_size: int | None = None,
             readme: str | None = None) -> Path:
    d = tmp_path / "rel"
    d.mkdir()
    if isinstance(config, str):
        shutil.copy(CONFIGS / f"{config}.json", d / "config.json")
    else:
        (d / "config.json").write_text(json.dumps(config))
    if total_size is not None:
        (d / "model.safetensors.index.json").write_text(json.dumps({
            "metadata": {"total_size": total_size},
            "weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors",
                           "model.embed_tokens.weight": "model-00001-of-00002.safetensors"}}))
    if readme is not None:
        (d / "README.md").write_text(readme)
    return d


def _plan(args: list[str], capsys) -> tuple[int, dict]:
    code = main(["plan", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else {}


def test_falcon_180b_index_wins_context_clamped(tmp_path, capsys) -> None:
    d = _release(tmp_path, "falcon-180B", FALCON_INDEX)
    code, doc = _plan([str(d / "config.json"), "--gpu", "H100", "--context", "32768"], capsys)
    assert code == 0
    p = doc["parameters"]
    assert p["method"] == "index" and p["total"] == FALCON_INDEX // 2
    assert p["sources"]["config"] == 178_557_088_768  # formula, 0.5% below: no MC405
    assert doc["weights_bytes"]["native"] == FALCON_INDEX
    codes = [f["code"] for f in doc["findings"]]
    assert "MC411" in codes and "MC405" not in codes
    assert doc["context"] == 2048
    for pl in doc["plans"]:
        assert "--max-model-len 2048" in pl["commands"]["vllm"]
        assert "32768" not in pl["commands"]["vllm"]
    native = next(pl for pl in doc["plans"] if pl["precision"] == "native")
    assert native["gpus"] == 8  # 359 GB of bf16 does not fit 4 × H100


def test_index_far_from_formula_is_a_finding_naming_both(tmp_path, capsys) -> None:
    d = _release(tmp_path, "mlc-llama2_7b", 2 * 7_000_000_000)
    code, doc = _plan([str(d / "config.json"), "--gpu", "H100"], capsys)
    assert code == 0
    f = next(f for f in doc["parameters"]["findings"] if f["code"] == "MC405")
    assert "7,000,000,000" in f["message"] and "6,738,415,616" in f["message"]
    assert doc["weights_bytes"]["native"] == 14_000_000_000


def test_unmodelled_architecture_sized_from_index_only(tmp_path, capsys) -> None:
    cfg = {"model_type": "brand_new", "hidden_size": 1024, "num_hidden_layers": 4,
           "num_attention_heads": 8, "vocab_size": 1000, "torch_dtype": "bfloat16",
           "max_position_embeddings": 4096}
    d = _release(tmp_path, cfg, 2 * 60_000_000)
    code, doc = _plan([str(d / "config.json"), "--gpu", "L4"], capsys)
    assert code == 0
    assert doc["parameters"]["method"] == "index"
    assert doc["parameters"]["total"] == 60_000_000
    msgs = [f["message"] for f in doc["parameters"]["findings"] if f["code"] == "MC404"]
    assert len(msgs) == 1
    assert msgs[0].startswith("architecture brand_new is not modelled: sizes from headers/index "
                              "only; the KV cache assumes standard attention")
    assert [p["precision"] for p in doc["plans"]] == ["native"]


def test_unmodelled_without_witnesses_is_a_clear_error(tmp_path, capsys) -> None:
    cfg = {"model_type": "brand_new", "hidden_size": 1024, "num_hidden_layers": 4,
           "num_attention_heads": 8, "vocab_size": 1000}
    d = _release(tmp_path, cfg)
    assert main(["plan", str(d / "config.json")]) == 2
    err = capsys.readouterr().err
    assert "brand_new is not modelled" in err and "Traceback" not in err


def test_card_stated_size_cross_checked(tmp_path, capsys) -> None:
    d = _release(tmp_path, "mlc-qwen2_7b", readme="# Qwen2-7B\n\n- Number of Parameters: 9.61B\n")
    code, doc = _plan([str(d / "config.json"), "--gpu", "H100"], capsys)
    assert code == 0
    f = next(f for f in doc["parameters"]["findings"] if f["code"] == "MC406")
    assert f["line"] == 3 and "7,615,616,512" in f["message"]
    d2 = tmp_path / "ok"
    shutil.copytree(d, d2)
    (d2 / "README.md").write_text("Number of Parameters: 7.61B\n")
    _, doc2 = _plan([str(d2 / "config.json"), "--gpu", "H100"], capsys)
    assert doc2["parameters"]["sources"]["card"] == 7_610_000_000
    assert "MC406" not in [f["code"] for f in doc2["parameters"]["findings"]]


def test_bare_config_serves_the_repo_id_not_the_folder_name(tmp_path, capsys) -> None:
    cfg = json.loads((CONFIGS / "mlc-llama2_13b.json").read_text())
    assert cfg["_name_or_path"] == "meta-llama/Llama-2-13b-hf"
    d = _release(tmp_path, cfg)
    _, doc = _plan([str(d / "config.json"), "--gpu", "A100"], capsys)
    cmd = doc["plans"][0]["commands"]["vllm"]
    assert cmd.startswith("vllm serve meta-llama/Llama-2-13b-hf ")
    d2 = tmp_path / "bare"
    d2.mkdir()
    (d2 / "config.json").write_text((CONFIGS / "mlc-llama2_7b.json").read_text())
    _, doc2 = _plan([str(d2 / "config.json"), "--gpu", "A100"], capsys)
    assert "vllm serve <repo-id-or-path-of-the-model>" in doc2["plans"][0]["commands"]["vllm"]
    assert "bare" not in json.dumps(doc2["plans"][0]["commands"])


@pytest.mark.parametrize(("typed", "key"), [
    ("A100", "A100-80"), ("A100-80GB", "A100-80"), ("a100 40gb", "A100-40"), ("h100", "H100"),
    ("H100 SXM", "H100"), ("MI300X", "MI300X"), ("mi300x", "MI300X"), ("RTX 4090", "RTX4090"),
])
def test_gpu_names_as_people_type_them(typed: str, key: str) -> None:
    assert find_gpu(typed).key == key


def test_unknown_gpu_is_a_usage_error(capsys) -> None:
    assert main(["plan", str(CONFIGS / "falcon-7b.json"), "--gpu", "V100"]) == 2


def test_legacy_quantize_config_json_makes_it_gptq(tmp_path, capsys) -> None:
    d = _release(tmp_path, "wizardcoder-15b")
    (d / "quantize_config.json").write_text(json.dumps(
        {"bits": 4, "group_size": 128, "damp_percent": 0.01, "desc_act": False, "sym": True,
         "true_sequential": True, "model_name_or_path": None,
         "model_file_base_name": "model"}))
    code, doc = _plan([str(d / "config.json"), "--gpu", "L4"], capsys)
    assert code == 0
    assert doc["architecture"]["quantization"]["method"] == "gptq"
    w = doc["weights_bytes"]
    assert w["native"] < 0.3 * w["bf16"]  # 4-bit + scales, not "native f16 31 GB"
    native = next(p for p in doc["plans"] if p["precision"] == "native")
    assert "--quantization gptq" in native["commands"]["vllm"]
    assert native["gpus"] == 1
