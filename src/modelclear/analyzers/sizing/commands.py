"""The serve command lines (vLLM, SGLang, llama.cpp) for one plan, and the notes they need."""

from __future__ import annotations

from ..architecture import Architecture
from .gpus import GPU, serving_rules
from .layout import Layout
from .weights import INT4_GROUP, WeightBytes


def gb(n: int | float) -> str:
    """Decimal GB (10^9), or MB (10^6) below 1 GB so small models do not read as 0.0."""
    if abs(n) >= 1e9 or n == 0:
        return f"{n / 1e9:,.1f} GB"
    return f"{n / 1e6:,.1f} MB"


def label(precision: str, weights: WeightBytes) -> str:
    if precision == "native":
        return f"native ({weights.native_format})"
    return {
        "bf16": "bf16",
        "fp8": "fp8 e4m3, 128x128 block scales",
        "int8": "int8, per-channel scales",
        "int4": f"int4, group {INT4_GROUP} (GPTQ/AWQ)",
    }.get(precision, f"GGUF {precision.upper()}")


#: quantization_config methods vLLM/SGLang accept by the same --quantization name
ENGINE_QUANTIZATIONS = ("fp8", "gptq", "awq", "compressed-tensors", "bitsandbytes", "mxfp4",
                        "modelopt", "fbgemm_fp8", "quark")


def _quantization(precision: str, native_q: str | None, weights: WeightBytes,
                  notes: list[str]) -> str | None:
    """The --quantization flag a command needs (naming the checkpoint's own), with notes."""
    quant_flag: str | None = None
    if precision == "native" and native_q in ENGINE_QUANTIZATIONS:
        # name the checkpoint's quantization: the command says what it loads
        quant_flag = native_q
        notes.append(f"the checkpoint is {weights.native_format}: engines load it as stored")
    elif precision == "native" and native_q:
        notes.append(f"vLLM/SGLang have no loader named {native_q!r}: check the engine "
                     "supports this checkpoint's quantization before serving it")
    elif precision == "fp8" and native_q != "fp8":
        quant_flag = "fp8"
        notes.append("vLLM/SGLang quantize to fp8 on load (--quantization fp8, per-tensor "
                     "scales); a pre-quantized block-fp8 checkpoint matches the bytes shown")
    elif precision in ("int8", "int4") and native_q not in ("gptq", "awq",
                                                             "compressed-tensors"):
        notes.append(f"{precision} needs a pre-quantized checkpoint of this model (GPTQ/AWQ or "
                     "compressed-tensors); engines read its quantization_config, so serve that "
                     "checkpoint with the same flags")
    return quant_flag


def serve_commands(
    model: str, arch: Architecture, gpu: GPU, precision: str, lay: Layout, context: int,
    concurrency: int, kv_dtype: str, weights: WeightBytes, gguf: bool,
) -> tuple[dict[str, str | None], list[str]]:
    notes: list[str] = []
    util = serving_rules()["engine"]["gpu_memory_utilization"]
    native_q = arch.quantization.method if arch.quantization else None
    vllm: str | None = None
    sglang: str | None = None
    quant_flag = _quantization(precision, native_q, weights, notes)
    if "vllm" in gpu.engines and not gguf:
        parts = [f"vllm serve {model}", f"--tensor-parallel-size {lay.tensor_parallel}"]
        if lay.pipeline_parallel > 1:
            parts.append(f"--pipeline-parallel-size {lay.pipeline_parallel}")
        if lay.expert_parallel:
            parts.append("--enable-expert-parallel")
        parts += [f"--max-model-len {context}", f"--gpu-memory-utilization {util}"]
        if quant_flag:
            parts.append(f"--quantization {quant_flag}")
        if kv_dtype == "fp8":
            parts.append("--kv-cache-dtype fp8")
        parts.append(f"--max-num-seqs {max(1, min(concurrency, lay.max_concurrency or 1))}")
        vllm = " ".join(parts)
    if "sglang" in gpu.engines and not gguf:
        nodes = max(1, lay.gpus // gpu.max_per_node) if lay.gpus > gpu.max_per_node else 1
        parts = [f"python -m sglang.launch_server --model-path {model}",
                 f"--tp {lay.tensor_parallel}"]
        if lay.pipeline_parallel > 1:
            parts.append(f"--pp-size {lay.pipeline_parallel}")
        if lay.expert_parallel:
            parts.append(f"--ep-size {lay.gpus}")
        parts.append(f"--context-length {context}")
        if quant_flag:
            parts.append(f"--quantization {quant_flag}")
        if kv_dtype == "fp8":
            parts.append("--kv-cache-dtype fp8_e4m3")
        if nodes > 1:
            parts.append(f"--nnodes {nodes}")
            notes.append(f"SGLang across {nodes} nodes: run the command on each node adding "
                         "--node-rank <i> --dist-init-addr <first node>:<port>")
        sglang = " ".join(parts)
    if lay.pipeline_parallel > 1 and vllm:
        notes.append("vLLM across nodes: start a Ray cluster spanning the nodes first")
    llama: str | None = None
    if "llama.cpp" in gpu.engines and lay.gpus <= gpu.max_per_node:
        if gguf and precision != "native":
            notes.insert(0, f"{model} is one quantization ({weights.native_format}); the "
                         f"{precision} row needs a different GGUF file of this model")
            gguf_path = f"<{precision.upper()} GGUF of this model>"
        elif gguf:
            gguf_path = model
        else:
            native_suffix = (weights.native_format.split()[0] if weights.native_format
                             else "BF16")
            if arch.quantization is not None:  # llama.cpp re-quantizes from the 16-bit model
                native_suffix = "Q4_K_M" if (arch.quantization.bits or 8) <= 4 else "Q8_0"
            suffix = {"native": native_suffix,
                      "bf16": "BF16", "fp8": "Q8_0", "int8": "Q8_0", "int4": "Q4_K_M"}.get(
                precision, precision.upper())
            stem = "<model>" if model.startswith("<") else model.rstrip("/").rsplit("/", 1)[-1]
            gguf_path = f"{stem}-{suffix.upper()}.gguf"
            notes.append(f"llama.cpp needs a GGUF: convert with convert_hf_to_gguf.py and "
                         f"llama-quantize to {gguf_path}")
        slots = max(1, min(concurrency, lay.max_concurrency or 1))
        parts = [f"llama-server -m {gguf_path}", "-ngl 999", f"-c {context * slots}"]
        if slots > 1:
            parts.append(f"-np {slots}")
        if kv_dtype == "fp8":
            parts += ["-fa on", "--cache-type-k q8_0", "--cache-type-v q8_0"]
            notes.append("llama.cpp has no fp8 KV cache; q8_0 (8.5 bits) is the nearest")
        llama = " ".join(parts)
    return {"vllm": vllm, "sglang": sglang, "llama_cpp": llama}, notes
