"""What it takes to run a model: weight bytes per precision, KV cache, GPU plans.

Popular calculators go wrong in known ways (issue 6): they size a float32 meta
model and divide by 4 or 8 for int8/int4, ignore the checkpoint's own
quantization, ignore grouped-query attention (overstating Llama-3.1-8B's KV cache
about 8×), MoE and DeepSeek's MLA. Here every byte comes from one list of
parameter entries (headers when weights are present, the config formula
otherwise — see ``paramcount``): linear layers are priced per precision with the
real scale/zero-point layout of that format, embeddings, norms, routers and the
lm_head stay at their real dtype, and the KV cache follows the attention kind
layer by layer. Runtime overhead rules and the GPU catalog are data files
(``data/serving.toml``, ``data/gpus.toml``). Sizes are bytes; reports print GB =
10^9 bytes.
"""

from .commands import serve_commands
from .finetune import DEFAULT_TARGETS, METHODS, STAGES, FinetuneOptions, FinetunePlan, plan_finetune
from .gpus import GPU, find_gpu, gpu_catalog, serving_rules
from .kvcache import ATTENTION_LAYER_TYPES, KV_DTYPE_BYTES, KVCache, kv_cache
from .layout import Layout, Overhead, gpu_counts, overhead, usable_bytes
from .obligations import Obligation, inherited
from .planner import ExpertParallel, Plan, SizingReport, plan, plan_one
from .weights import (
    FP8_BLOCK,
    INT4_GROUP,
    PRECISIONS,
    WeightBytes,
    linear_bytes,
    module_matches,
    native_linear_bytes,
    weight_bytes,
)

__all__ = [
    "ATTENTION_LAYER_TYPES",
    "DEFAULT_TARGETS",
    "METHODS",
    "STAGES",
    "FinetuneOptions",
    "FinetunePlan",
    "Obligation",
    "inherited",
    "plan_finetune",
    "FP8_BLOCK",
    "GPU",
    "INT4_GROUP",
    "KV_DTYPE_BYTES",
    "PRECISIONS",
    "ExpertParallel",
    "KVCache",
    "Layout",
    "Overhead",
    "Plan",
    "SizingReport",
    "WeightBytes",
    "find_gpu",
    "gpu_catalog",
    "gpu_counts",
    "kv_cache",
    "linear_bytes",
    "module_matches",
    "native_linear_bytes",
    "overhead",
    "plan",
    "plan_one",
    "serve_commands",
    "serving_rules",
    "usable_bytes",
    "weight_bytes",
]
