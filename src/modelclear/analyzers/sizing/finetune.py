"""Fine-tuning memory: full, LoRA and QLoRA, per GPU, under each ZeRO/FSDP stage.

Calculators tend to quote "16 bytes per parameter" and stop; the run then dies on
activations (at 4k tokens the logits of a 128k vocabulary alone outweigh a LoRA
adapter a thousand times) or fits where the calculator said it would not (QLoRA's
frozen base is a quarter of bf16). Here every term is computed from the same
parameter entries as serving (headers or the family formula), the rules are data
(``data/finetune.toml``), and each term is shown with its formula so a user can
check it against their trainer.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ...errors import UsageError
from ...findings import Finding
from ...jsonout import JsonFields
from ..architecture import Architecture, Quantization
from ..paramcount import LINEAR, ParamEntry
from .gpus import GPU
from .obligations import Obligation
from .weights import module_matches, native_linear_bytes

METHODS = ("full", "lora", "qlora")
STAGES = ("ddp", "zero1", "zero2", "zero3", "zero3-offload")
#: short target names → the module names families use for them
TARGETS: dict[str, tuple[str, ...]] = {
    "q": ("q_proj", "q_a_proj", "q_b_proj", "query_key_value", "c_attn", "W_pack", "qkv_proj",
          "Wqkv", "wqkv", "attn_q", "attn_qkv"),
    "k": ("k_proj", "kv_a_proj_with_mqa", "kv_b_proj", "attn_k"),
    "v": ("v_proj", "attn_v"),
    "o": ("o_proj", "dense", "out_proj", "c_proj", "wo", "attn_output"),
    "gate": ("gate_proj", "w1", "gate_up_proj", "ffn_gate", "ffn_gate_exps"),
    "up": ("up_proj", "w3", "fc1", "c_fc", "dense_h_to_4h", "fc_in", "ffn_up", "ffn_up_exps"),
    "down": ("down_proj", "w2", "fc2", "dense_4h_to_h", "fc_out", "ffn_down",
             "ffn_down_exps"),
}
DEFAULT_TARGETS = ("q", "k", "v", "o", "gate", "up", "down")
#: QLoRA's base: NF4 with double-quantized absmax, blocks of 64 (Dettmers et al., 2023)
NF4 = Quantization("bitsandbytes", 4, 64, None, "nf4", "block", None, True)


@cache
def rules() -> dict[str, Any]:
    text = (resources.files("modelclear") / "data" / "finetune.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class FinetuneOptions(JsonFields):
    method: str
    rank: int = 16
    targets: tuple[str, ...] = DEFAULT_TARGETS
    seq: int = 4096
    batch: int = 8  # micro-batch per GPU
    optimizer: str = "adamw"
    gradient_checkpointing: bool = False
    pure_bf16: bool = False
    fused_optimizer: bool = False
    chunked_loss: bool = False

    def check(self) -> None:
        """Usage errors name the flag (exit 2 from the CLI)."""
        if self.method not in METHODS:
            raise UsageError(f"--finetune must be one of {', '.join(METHODS)}")
        if self.optimizer not in rules()["optimizers"]:
            raise UsageError(f"unknown --optimizer {self.optimizer!r}; use one of "
                             + ", ".join(rules()["optimizers"]))
        for name, v in (("--rank", self.rank), ("--seq", self.seq), ("--batch", self.batch)):
            if v < 1:
                raise UsageError(f"{name} must be at least 1")
        if not self.targets:
            raise UsageError("--targets names no module")


@dataclass(frozen=True)
class Memory(JsonFields):
    """One GPU's bytes, term by term."""

    json_extra = ("total",)

    frozen_weights: int
    trainable_weights: int
    gradients: int
    master_weights: int
    optimizer_states: int
    activations: int
    gathered_weights: int
    runtime: int
    #: bytes kept in host (CPU) memory instead, per GPU (zero3-offload), not in the total
    host_offloaded: int = 0

    @property
    def total(self) -> int:
        return (self.frozen_weights + self.trainable_weights + self.gradients
                + self.master_weights + self.optimizer_states + self.activations
                + self.gathered_weights + self.runtime)


@dataclass(frozen=True)
class StagePlan(JsonFields):
    """The fewest GPUs of one kind that hold the run under one sharding stage."""

    gpu: str
    stage: str
    gpus: int | None  # None: not within the counts tried
    per_gpu: Memory
    capacity_per_gpu: int


@dataclass(frozen=True)
class FinetunePlan(JsonFields):
    json_omit = frozenset({"largest_layer_bytes", "largest_tensor_bytes"})

    options: FinetuneOptions
    total_params: int
    trainable_params: int
    adapter_bytes: int  # the saved LoRA adapter (bf16), 0 for full fine-tuning
    adapted_modules: int
    base_bytes: int  # frozen or trainable base weights as held on one GPU unsharded
    activation_bytes_per_token: int
    formulas: dict[str, str]
    single_gpu: Memory
    stages: tuple[StagePlan, ...]
    largest_layer_bytes: int = 0
    largest_tensor_bytes: int = 0
    notes: tuple[str, ...] = field(default=())
    obligations: tuple[Obligation, ...] = ()
    findings: tuple[Finding, ...] = ()

    def memory_at(self, stage: str, gpus: int) -> Memory:
        """Per-GPU bytes under ``stage`` on ``gpus`` data-parallel GPUs."""
        if stage not in STAGES:
            raise UsageError(f"unknown sharding stage {stage!r}; use {', '.join(STAGES)}")
        return _memory(self, self.largest_tensor_bytes, stage, gpus)


def _target_names(targets: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for t in targets:
        out.extend(TARGETS.get(t.lower(), (t,)))
    return tuple(out)


def adapted(e: ParamEntry, names: tuple[str, ...]) -> bool:
    """Whether LoRA wraps this linear: its module name is one of the targets."""
    if e.kind != LINEAR or e.mtp or e.layer is None:
        return False
    module = e.name.removesuffix(".weight").removesuffix("_blocks")
    leaf = module.rsplit(".", 1)[-1]
    return leaf in names or any(module_matches(module, n) for n in names if "." in n)


def lora_params(entries: Sequence[ParamEntry], rank: int, targets: Sequence[str]
                ) -> tuple[int, int]:
    """Adapter parameters r·(in + out) per adapted matrix, and the matrices adapted."""
    names = _target_names(targets)
    total = count = 0
    for e in entries:
        if adapted(e, names):
            rows, cols = e.matrix
            total += rank * (rows + cols) * e.slices
            count += e.slices
    return total, count


def activation_bytes_per_token(arch: Architecture, opts: FinetuneOptions,
                               adapters_per_layer: float) -> tuple[int, str]:
    """Bytes autograd keeps per token (all layers, plus the loss's logits), and the formula."""
    H, L = arch.hidden_size or 0, arch.num_layers or 0
    nh, kv, hd = arch.num_attention_heads or 0, arch.num_kv_heads or 0, arch.head_dim or 0
    norms = arch.norms_per_layer * 2 * H
    attn = 2 * H + 2 * (nh * hd + 2 * kv * hd) + 2 * nh * hd
    per_gated = 8 if arch.mlp_gated else 4
    lora = int(2 * opts.rank * adapters_per_layer) if opts.method != "full" else 0
    layers = []
    for i in range(L):
        if arch.is_moe_layer(i):
            k = arch.experts_per_token or 1
            mlp = k * (2 * H + 8 * (arch.moe_intermediate_size or 0)) \
                + 4 * (arch.num_experts or 0)
            shared = (arch.num_shared_experts or 0) * (arch.moe_intermediate_size or 0) \
                + (arch.shared_expert_intermediate_size or 0)
            mlp += 8 * shared
        else:
            mlp = 2 * H + per_gated * (arch.intermediate_size or 0)
        layers.append(norms + attn + mlp + lora)
    key = "logits_bytes_per_vocab_chunked" if opts.chunked_loss else "logits_bytes_per_vocab"
    logits = int(rules()["activations"][key]) * (arch.vocab_size or 0)
    if opts.gradient_checkpointing:
        kept = L * 2 * H + max(layers, default=0)
        how = (f"checkpointing: {L} layer inputs × 2·{H} + one layer recomputed "
               f"({max(layers, default=0):,})")
    else:
        kept = sum(layers)
        how = f"all {L} layers' saved tensors ({sum(layers):,})"
    formula = (f"{how} + logits {logits // max(arch.vocab_size or 1, 1)} B × vocab "
               f"{arch.vocab_size:,} = {kept + logits:,} bytes per token")
    return kept + logits, formula


def _base_bytes(entries: Sequence[ParamEntry], method: str) -> int:
    """The base model's weights as held for training: bf16, or NF4 linears for QLoRA."""
    wb = int(rules()["precision"]["weight_bytes"])
    out = 0
    for e in entries:
        if e.mtp:
            continue
        b = None
        if method == "qlora" and e.kind == LINEAR:
            b = native_linear_bytes(e, NF4)
        out += b if b is not None else e.numel * wb
    return out


def _layer_bytes(entries: Sequence[ParamEntry]) -> int:
    by: dict[int, int] = {}
    for e in entries:
        if e.layer is not None and not e.mtp:
            by[e.layer] = by.get(e.layer, 0) + e.numel
    return 2 * max(by.values(), default=0)


def _memory(p: FinetunePlan, entries_largest: int, stage: str, n: int) -> Memory:
    """Per-GPU bytes of one run under ``stage`` across ``n`` data-parallel GPUs."""
    o = p.options
    pr = rules()["precision"]
    opt = rules()["optimizers"][o.optimizer]
    T = p.trainable_params
    full = o.method == "full"
    w_bytes = int(pr["weight_bytes"]) if full else int(pr["weight_bytes"] if o.pure_bf16
                                                       else pr["adapter_bytes"])
    g_bytes = int(pr["grad_bytes"]) if full else w_bytes
    master = T * int(pr["master_bytes"]) if full and not o.pure_bf16 else 0
    bpm = opt["bytes_per_moment_pure"] if o.pure_bf16 else opt["bytes_per_moment"]
    states = T * int(opt["moments"]) * int(bpm)
    grads = T * g_bytes
    if o.fused_optimizer:
        grads = entries_largest * g_bytes // 2  # the largest tensor's gradient at a time
    frozen = 0 if full else p.base_bytes
    trainable = p.base_bytes if full else T * w_bytes
    gathered = 0
    if stage == "zero3-offload":
        # ZeRO-3-Offload / FSDP cpu_offload: weights, gradients and optimizer states live
        # in host memory; the GPU holds the gathered layers, one layer's gradients in
        # flight, activations and the runtime
        host = math.ceil((frozen + trainable + grads + master + states) / n)
        layer = p.largest_layer_bytes
        return Memory(0, 0, 0, 0, 0, o.batch * o.seq * p.activation_bytes_per_token,
                      int(rules()["runtime"]["gathered_layers"]) * layer + layer,
                      int(rules()["runtime"]["bytes"]), host)
    if stage in ("zero1", "zero2", "zero3"):
        states, master = math.ceil(states / n), math.ceil(master / n)
    if stage in ("zero2", "zero3") and not o.fused_optimizer:
        grads = math.ceil(grads / n)
    if stage == "zero3" and n > 1:
        frozen, trainable = math.ceil(frozen / n), math.ceil(trainable / n)
        gathered = int(rules()["runtime"]["gathered_layers"]) * p.largest_layer_bytes
    acts = o.batch * o.seq * p.activation_bytes_per_token
    return Memory(frozen, trainable, grads, master, states, acts, gathered,
                  int(rules()["runtime"]["bytes"]))


def gpu_counts_for_training(gpu: GPU) -> list[int]:
    counts = [1, 2, 4, 8]
    if gpu.unified:
        return [1]
    n = gpu.max_per_node * 2
    while n <= 512:
        counts.append(n)
        n *= 2
    return sorted(set(c for c in counts if c <= gpu.max_per_node or c % gpu.max_per_node == 0))


def plan_finetune(arch: Architecture, entries: Sequence[ParamEntry], opts: FinetuneOptions,
                  gpus: Sequence[GPU]) -> FinetunePlan:
    """Memory per GPU for one fine-tuning run, and the fewest GPUs per sharding stage."""
    opts.check()
    main = [e for e in entries if not e.mtp]
    total = sum(e.numel for e in main)
    if opts.method == "full":
        trainable, n_mod = total, 0
    else:
        trainable, n_mod = lora_params(main, opts.rank, opts.targets)
        if trainable == 0:
            raise UsageError("--targets " + ",".join(opts.targets) + " match no linear layer "
                             "of this model")
    per_layer = n_mod / max(arch.num_layers or 1, 1)
    act, act_formula = activation_bytes_per_token(arch, opts, per_layer)
    base = _base_bytes(main, opts.method)
    largest_layer = _layer_bytes(main)
    largest_tensor = max((e.numel // max(e.count, 1) * 2 for e in main), default=0)
    opt = rules()["optimizers"][opts.optimizer]
    formulas = {
        "weights": ("bf16 weights: 2 B × parameters" if opts.method != "qlora" else
                    "NF4 linears (4 bit + double-quantized absmax per 64) + bf16 rest"),
        "trainable": ("all parameters" if opts.method == "full" else
                      f"LoRA: rank {opts.rank} × (in + out) per adapted matrix "
                      f"({n_mod} matrices: {','.join(opts.targets)})"),
        "optimizer": f"{opt['title']}: {opt['moments']} moment(s) per trainable parameter",
        "activations": act_formula + f"; × batch {opts.batch} × seq {opts.seq:,}",
        "sharding": "zero1 shards optimizer states and master weights; zero2 also "
                    "gradients; zero3/FSDP also weights, plus 2 gathered layers; "
                    "zero3-offload keeps weights, gradients and optimizer states in host "
                    "memory (GPU: gathered layers + one layer's gradients + activations)",
    }
    stub = FinetunePlan(opts, total, trainable, trainable * 2 if opts.method != "full" else 0,
                        n_mod, base, act, formulas, Memory(0, 0, 0, 0, 0, 0, 0, 0), (),
                        largest_layer, largest_tensor)
    single = _memory(stub, largest_tensor, "ddp", 1)
    stages: list[StagePlan] = []
    for g in gpus:
        cap = int(g.memory_bytes * (g.memory_fraction or 1.0))
        for st in STAGES:
            found: tuple[int, Memory] | None = None
            for n in gpu_counts_for_training(g):
                m = _memory(stub, largest_tensor, st, n)
                if m.total <= cap:
                    found = (n, m)
                    break
            if found is None:
                stages.append(StagePlan(g.key, st, None, _memory(stub, largest_tensor, st, 512),
                                        cap))
            else:
                stages.append(StagePlan(g.key, st, found[0], found[1], cap))
    notes = []
    if opts.method != "full":
        notes.append(f"adapter file: {trainable:,} parameters × 2 B (bf16 safetensors) = "
                     f"{trainable * 2:,} bytes")
    return FinetunePlan(opts, total, trainable, stub.adapter_bytes, n_mod, base, act,
                        formulas, single, tuple(stages), largest_layer, largest_tensor,
                        tuple(notes))
