"""A small but realistic release to show every analyzer at work, offline.

The files are real formats written by the reference writers (``safetensors``,
``gguf``): two safetensors shards with an index, a Mixtral-style MoE config, a
tokenizer, a chat template, a model card with front matter, a LICENSE and a GGUF
file. The license is our own text, written for the demo, so the license engine
has to read an unknown document rather than recognise a catalogued one.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

#: written verbatim as config.json, so it has JSON's loose value types
CONFIG: dict[str, Any] = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "vocab_size": 256,
    "max_position_embeddings": 4096,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "rms_norm_eps": 1e-5,
    "rope_theta": 1000000.0,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
    "bos_token_id": 1,
    "eos_token_id": 2,
}

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' }}{{ message['content'] }}{{ '<|end|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)

LICENSE = """\
ACME DEMO MODEL LICENSE
Version 1.0, 1 March 2026

1. Definitions.
"Model" means the weights, configuration and tokenizer published by Acme Labs
under this license. "You" means the person or organisation exercising the rights
granted here.

2. Grant.
Acme Labs grants You a worldwide, royalty-free, non-exclusive license to use,
copy, modify, fine-tune and distribute the Model, including for commercial
purposes, subject to the conditions below.

3. Scale.
If the products or services You offer that use the Model had more than
5 million monthly active users in the preceding calendar month, You must request
a separate license from Acme Labs, which Acme Labs may grant at its discretion.

4. Attribution.
Any product built on the Model must display the notice "Powered by Acme Demo"
in its documentation or user interface.

5. Outputs.
You may not use the Model or its outputs to train, distil or improve any other
large language model, except derivatives of the Model itself.

6. Acceptable use.
Your use must comply with the Acme Acceptable Use Policy, which Acme Labs may
update from time to time.

7. Governing law.
This license is governed by the laws of the State of New York, and the courts
of New York County have exclusive jurisdiction.
"""

CARD = """\
---
license: other
license_name: acme-demo-model-license
license_link: LICENSE
language:
- en
pipeline_tag: text-generation
library_name: transformers
datasets:
- acme/demo-pretraining-mix
tags:
- moe
- demo
---
# Acme Demo MoE

A tiny Mixtral-style mixture-of-experts model used to demonstrate modelclear.

## Model details

- Architecture: decoder-only transformer, 4 experts, 2 active per token
- Context length: 4096 tokens

## Training data

Pretrained on the Acme demo mix (see the `datasets` field).

## License

Released under the Acme Demo Model License (see LICENSE).
"""


def _tensors(cfg: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    h, inter, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (v, h)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes[p + "input_layernorm.weight"] = (h,)
        shapes[p + "post_attention_layernorm.weight"] = (h,)
        shapes[p + "self_attn.q_proj.weight"] = (nh * hd, h)
        shapes[p + "self_attn.k_proj.weight"] = (nkv * hd, h)
        shapes[p + "self_attn.v_proj.weight"] = (nkv * hd, h)
        shapes[p + "self_attn.o_proj.weight"] = (h, nh * hd)
        shapes[p + "block_sparse_moe.gate.weight"] = (cfg["num_local_experts"], h)
        for e in range(cfg["num_local_experts"]):
            q = f"{p}block_sparse_moe.experts.{e}."
            shapes[q + "w1.weight"] = (inter, h)
            shapes[q + "w2.weight"] = (h, inter)
            shapes[q + "w3.weight"] = (inter, h)
    shapes["model.norm.weight"] = (h,)
    shapes["lm_head.weight"] = (v, h)
    return shapes


def _tokenizer(vocab_size: int) -> dict[str, Any]:
    specials = ["<unk>", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]
    vocab = {tok: i for i, tok in enumerate(specials)}
    for b in range(vocab_size - len(specials)):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, t in enumerate(specials)
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": True, "vocab": vocab, "merges": []},
    }


def build_demo(folder: Path) -> Path:
    """Write the demo release into ``folder/acme-demo-moe`` and return that path."""
    import numpy as np
    from safetensors.numpy import save_file

    root = folder / "acme-demo-moe"
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20260301)
    gen = np.random.default_rng(20260301)
    shapes = _tensors(CONFIG)
    names = list(shapes)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half],
              "model-00002-of-00002.safetensors": names[half:]}
    weight_map: dict[str, str] = {}
    total = 0
    for shard, members in shards.items():
        tensors = {}
        for name in members:
            tensors[name] = gen.standard_normal(shapes[name], dtype=np.float32).astype(np.float16)
            weight_map[name] = shard
            total += tensors[name].nbytes
        save_file(tensors, str(root / shard), metadata={"format": "pt"})
    (root / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2)
    )
    (root / "config.json").write_text(json.dumps(CONFIG, indent=2))
    (root / "generation_config.json").write_text(
        json.dumps({"bos_token_id": 1, "eos_token_id": 2, "temperature": 0.7}, indent=2)
    )
    (root / "tokenizer.json").write_text(json.dumps(_tokenizer(CONFIG["vocab_size"])))
    (root / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "model_max_length": 4096, "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": CHAT_TEMPLATE,
    }, indent=2))
    (root / "README.md").write_text(CARD)
    (root / "LICENSE").write_text(LICENSE)
    _write_gguf(root / "acme-demo-moe-Q8_0.gguf", rng)
    return root


def _write_gguf(path: Path, rng: random.Random) -> None:
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFWriter
    from gguf.quants import quantize

    h, v = 64, 256
    w = GGUFWriter(str(path), "llama")
    w.add_name("Acme Demo MoE")
    w.add_string("general.license", "other")
    w.add_string("general.license.name", "acme-demo-model-license")
    w.add_context_length(4096)
    w.add_embedding_length(h)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_file_type(7)  # MOSTLY_Q8_0
    w.add_chat_template(CHAT_TEMPLATE)
    seed = np.random.default_rng(rng.randrange(2**32))
    emb = seed.standard_normal((v, h), dtype=np.float32)
    w.add_tensor("token_embd.weight", quantize(emb, GGMLQuantizationType.Q8_0),
                 raw_dtype=GGMLQuantizationType.Q8_0)
    w.add_tensor("output_norm.weight", np.ones(h, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
