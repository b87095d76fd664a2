"""What a tensor is, from its name: kind, layer, routed expert, MTP layer, side tensor.

Checkpoint writers agree on no naming scheme (transformers, DeepSeek, Mixtral,
gpt-oss, GGUF ``blk.N``); these patterns are the one place that knows them all.
"""

from __future__ import annotations

import re

from .model import BIAS, EMBED, LINEAR, LM_HEAD, NORM, ROUTER

LAYER_RE = re.compile(r"(?:^|\.)(?:layers|h|blocks|layer)\.(\d+)\.|^blk\.(\d+)\.")
EXPERT_RE = re.compile(r"\.experts\.(\d+)\.")
#: a tensor name's shape: layers.7.experts.12.w1.weight → layers.#.experts.#.w1.weight
NUMBERS_RE = re.compile(r"\.\d+(?=\.)")
STACKED_EXPERT_RE = re.compile(
    r"\.experts\.(?:gate_up_proj|gate_proj|up_proj|down_proj|w1|w2|w3)(?:_bias|_blocks)?$"
    r"|\.experts\.(?:gate_up_proj|down_proj)\.(?:weight|bias)$"
    r"|\bffn_(?:gate|up|down|gate_up)_exps\."
)
#: quantization side tensors: scales, zero points, group indices — not parameters
SIDE_RE = re.compile(
    r"(?:[._](?:weight_scale_inv|weight_scale|weight_scale_2|input_scale|output_scale|"
    r"k_scale|v_scale|q_scale|weight_global_scale|input_global_scale|weight_zero_point|"
    r"weight_g_idx|weight_shape|qzeros|scales|g_idx|SCB|weight_format|absmax|quant_map|"
    r"nested_absmax|nested_quant_map|_scales)$)|\.quant_state\.|_scales$"
)
PACKED_RE = re.compile(r"[._](?:qweight|weight_packed)$")
EMBED_RE = re.compile(r"(?:embed_tokens|\bwte|token_embd|tok_embeddings|word_embeddings|"
                       r"embed_in)\.weight$")
HEAD_RE = re.compile(r"(?:^|\.)(?:lm_head|embed_out|shared_head\.head)\.weight$|^output\.weight$")
ROUTER_RE = re.compile(r"(?:\.mlp\.gate|block_sparse_moe\.gate|\.router|ffn_gate_inp|"
                        r"shared_expert_gate|feed_forward\.router)\.(?:weight|bias)$"
                        r"|e_score_correction_bias$|exp_probs_b")


def classify(name: str, ndim: int) -> str:
    if EMBED_RE.search(name):
        return EMBED
    if HEAD_RE.search(name):
        return LM_HEAD
    if ROUTER_RE.search(name):
        return ROUTER
    if ndim >= 2:
        return LINEAR
    if name.endswith("bias"):
        return BIAS
    return NORM


def layer_of(name: str) -> int | None:
    m = LAYER_RE.search(name)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


#: towers of multimodal checkpoints whose layer numbers are not the decoder's
_NON_DECODER = ("vision", "visual", "audio", "encoder", "mm_projector", "multi_modal",
                "image", "speech")


def is_mtp(name: str, layer: int | None, n_layers: int | None) -> bool:
    """A decoder layer beyond ``num_hidden_layers``: a multi-token-prediction layer."""
    if layer is None or n_layers is None or layer < n_layers:
        return False
    return not any(k in name for k in _NON_DECODER)


def is_side_tensor(name: str) -> bool:
    """Whether a tensor is quantization bookkeeping (scale, zero point, index), not weights."""
    return bool(SIDE_RE.search(name))


#: leading names of multimodal towers and projectors: stored and served, but no text
#: token passes through them, so they are not "active" parameters
_TOWER_PREFIXES = ("vision_tower.", "vision_model.", "visual.", "model.vision_tower.",
                   "model.visual.", "multi_modal_projector.", "model.multi_modal_projector.",
                   "audio_tower.", "model.vision_model.", "mm_projector.")


def is_tower(name: str) -> bool:
    """Whether a tensor belongs to a vision/audio tower or its projector."""
    return name.startswith(_TOWER_PREFIXES)
