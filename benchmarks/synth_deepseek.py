"""Write a synthetic release shaped like DeepSeek-V3: 163 safetensors shards with real
headers (the tensor names, dtypes, shapes and offsets of the FP8 checkpoint) and
sparse data, plus the index and config. A 689 GB release costs a few MB of disk.

    python benchmarks/synth_deepseek.py OUT_DIR
"""

from __future__ import annotations

import json
import struct
from math import ceil
from pathlib import Path

CONFIG = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
    "num_hidden_layers": 61, "num_nextn_predict_layers": 1, "first_k_dense_replace": 3,
    "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
    "moe_layer_freq": 1, "num_attention_heads": 128, "num_key_value_heads": 128,
    "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
    "v_head_dim": 128, "vocab_size": 129280, "max_position_embeddings": 163840,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3",
                            "quant_method": "fp8", "weight_block_size": [128, 128]},
}
SIZES = {"F8_E4M3": 1, "BF16": 2, "F32": 4}
SHARDS = 163


def tensors(cfg: dict) -> list[tuple[str, str, tuple[int, ...]]]:
    h, v = cfg["hidden_size"], cfg["vocab_size"]
    nh, rope, nope, vd = (cfg["num_attention_heads"], cfg["qk_rope_head_dim"],
                          cfg["qk_nope_head_dim"], cfg["v_head_dim"])
    out: list[tuple[str, str, tuple[int, ...]]] = []

    def fp8(name: str, rows: int, cols: int) -> None:
        out.append((name + ".weight", "F8_E4M3", (rows, cols)))
        out.append((name + ".weight_scale_inv", "F32", (ceil(rows / 128), ceil(cols / 128))))

    def mlp(p: str, inter: int) -> None:
        fp8(p + "gate_proj", inter, h)
        fp8(p + "up_proj", inter, h)
        fp8(p + "down_proj", h, inter)

    def layer(i: int) -> None:
        p = f"model.layers.{i}."
        out.append((p + "input_layernorm.weight", "BF16", (h,)))
        out.append((p + "post_attention_layernorm.weight", "BF16", (h,)))
        a = p + "self_attn."
        fp8(a + "q_a_proj", cfg["q_lora_rank"], h)
        out.append((a + "q_a_layernorm.weight", "BF16", (cfg["q_lora_rank"],)))
        fp8(a + "q_b_proj", nh * (nope + rope), cfg["q_lora_rank"])
        fp8(a + "kv_a_proj_with_mqa", cfg["kv_lora_rank"] + rope, h)
        out.append((a + "kv_a_layernorm.weight", "BF16", (cfg["kv_lora_rank"],)))
        fp8(a + "kv_b_proj", nh * (nope + vd), cfg["kv_lora_rank"])
        fp8(a + "o_proj", h, nh * vd)
        if i < cfg["first_k_dense_replace"]:
            mlp(p + "mlp.", cfg["intermediate_size"])
            return
        out.append((p + "mlp.gate.weight", "BF16", (cfg["n_routed_experts"], h)))
        out.append((p + "mlp.gate.e_score_correction_bias", "F32", (cfg["n_routed_experts"],)))
        for e in range(cfg["n_routed_experts"]):
            mlp(f"{p}mlp.experts.{e}.", cfg["moe_intermediate_size"])
        mlp(p + "mlp.shared_experts.", cfg["moe_intermediate_size"] * cfg["n_shared_experts"])

    out.append(("model.embed_tokens.weight", "BF16", (v, h)))
    for i in range(cfg["num_hidden_layers"]):
        layer(i)
    out.append(("model.norm.weight", "BF16", (h,)))
    out.append(("lm_head.weight", "BF16", (v, h)))
    for j in range(cfg["num_nextn_predict_layers"]):
        i = cfg["num_hidden_layers"] + j
        layer(i)
        p = f"model.layers.{i}."
        out.append((p + "embed_tokens.weight", "BF16", (v, h)))
        out.append((p + "enorm.weight", "BF16", (h,)))
        out.append((p + "hnorm.weight", "BF16", (h,)))
        out.append((p + "eh_proj.weight", "BF16", (h, 2 * h)))
        out.append((p + "shared_head.norm.weight", "BF16", (h,)))
        out.append((p + "shared_head.head.weight", "BF16", (v, h)))
    return out


def nbytes(dtype: str, shape: tuple[int, ...]) -> int:
    n = SIZES[dtype]
    for d in shape:
        n *= d
    return n


def write(out_dir: Path, cfg: dict = CONFIG, shards: int = SHARDS) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    items = tensors(cfg)
    total = sum(nbytes(d, s) for _, d, s in items)
    per_shard = total / shards
    groups: list[list[tuple[str, str, tuple[int, ...]]]] = [[] for _ in range(shards)]
    acc = 0
    for item in items:
        groups[min(int(acc / per_shard), shards - 1)].append(item)
        acc += nbytes(item[1], item[2])
    weight_map: dict[str, str] = {}
    for k, group in enumerate(groups, start=1):
        name = f"model-{k:05d}-of-{shards:06d}.safetensors"
        header: dict[str, object] = {"__metadata__": {"format": "pt"}}
        off = 0
        for tname, dtype, shape in group:
            size = nbytes(dtype, shape)
            header[tname] = {"dtype": dtype, "shape": list(shape),
                             "data_offsets": [off, off + size]}
            weight_map[tname] = name
            off += size
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)
        with open(out_dir / name, "wb") as fh:
            fh.write(struct.pack("<Q", len(raw)))
            fh.write(raw)
            fh.truncate(8 + len(raw) + off)  # sparse: tensor data is never written
    (out_dir / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=1))
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=2))
    return out_dir


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Write a DeepSeek-V3-shaped release of sparse "
                                 "safetensors shards (headers real, data holes).")
    ap.add_argument("folder", type=Path, help="where to write it (created)")
    print(f"wrote {write(ap.parse_args().folder)}")
