"""``modelclear plan``: weights, KV cache, GPUs and serving flags, with the arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer

from ..analyzers import architecture, params, sizing
from ..analyzers.architecture import Architecture
from ..analyzers.paramcount import ParamEntry, ParameterCount, entries_from_config
from ..analyzers.paramcount.sources import INDEX_NAMES, ShardIndex, StatedSize, stated_size
from ..cli import app
from ..config import Config, load_config
from ..console import emit_json, stdout_console
from ..engine import Engine, RunOptions, apply_config, stages
from ..errors import InputError
from ..findings import Finding, finding
from ..release import Release, stat_file
from ..reports.plan import print_finetune, print_plan
from ..schemas import document
from ..sources import open_release


@dataclass(frozen=True)
class Target:
    """What ``plan`` sizes: the architecture and every witness of its size."""

    arch: Architecture
    headers: params.WeightHeaders | None
    index: ShardIndex | None
    stated: tuple[StatedSize, str] | None
    ref: str  # what serve commands load: repo id, or the path of the release
    gguf: bool
    release: Release | None
    engine: Engine | None


_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _config_ref(path: Path, arch_raw: dict[str, object], has_weights: bool) -> str:
    """The model a bare config.json belongs to: its repo id, else its folder if it holds
    the weights; never the folder's name alone (engines would look it up on the hub)."""
    name = arch_raw.get("_name_or_path")
    if isinstance(name, str) and _REPO_ID.match(name) and not Path(name).exists():
        return name
    if has_weights:
        return str(path.resolve().parent)
    return "<repo-id-or-path-of-the-model>"


def load_target(target: str, config: Config | None = None) -> Target:
    """Architecture, headers, shard index, card size, model reference and GGUF-ness.

    A bare ``*.json`` file is read as a config.json with its siblings (shard index,
    README.md) as witnesses; anything else goes through the sources (directory, HF
    cache id, weights/GGUF file).
    """
    path = Path(target)
    if path.suffix.lower() == ".json" and (path.is_file() or path.is_symlink()):
        f = stat_file(path, target)
        text = f.read_text(limit=16 * 1024 * 1024)
        raw = architecture.parse_config_text(text, f.path)
        arch = architecture.read_architecture(raw, f.path, text)
        legacy = path.parent / "quantize_config.json"
        if arch.quantization is None and legacy.is_file():
            arch = architecture.with_quantize_config(arch, stat_file(legacy, str(legacy)))
        index = None
        for name in INDEX_NAMES:
            sib = path.parent / name
            if sib.is_file():
                index = params.load_index(stat_file(sib, str(sib)), arch)
                break
        stated = None
        readme = path.parent / "README.md"
        if readme.is_file():
            found = stated_size(stat_file(readme, str(readme)).read_text(limit=4 << 20))
            stated = (found, str(readme)) if found else None
        has_weights = index is not None or any(path.parent.glob("*.safetensors"))
        return Target(arch, None, index, stated, _config_ref(path, raw, has_weights), False,
                      None, None)
    release = open_release(target)
    engine = Engine(release, RunOptions(config=config or Config()))
    headers = engine.get(stages.HEADERS)
    found_arch = engine.get(stages.ARCHITECTURE)
    if found_arch is None:
        raise InputError(target, "no config.json and no GGUF metadata: nothing to size")
    if release.source.kind == "hf-cache" and release.source.model_id:
        ref = release.source.model_id
    elif release.source.kind in ("gguf", "weights-file"):
        ref = release.source.location
    else:
        ref = str(Path(target).resolve()) if Path(target).exists() else target
    index = params.load_index(params.find_index(release), found_arch)
    return Target(found_arch, headers, index, None, ref,
                  headers is not None and headers.format == "gguf", release, engine)


@app.command()
def plan(
    target: str = typer.Argument(
        ..., help="config.json file, directory, GGUF file, or org/name[@rev] in the HF cache."
    ),
    gpu: Annotated[
        list[str] | None, typer.Option("--gpu", help="GPU from the catalog (repeatable).")
    ] = None,
    gpus: int = typer.Option(None, "--gpus", help="Fix the GPU count instead of searching."),
    context: int = typer.Option(None, "--context", help="Target context per sequence "
                                "(default: min(max_position_embeddings, 32768))."),
    concurrency: int = typer.Option(16, "--concurrency", help="Concurrent sequences wanted."),
    precision: Annotated[
        list[str] | None,
        typer.Option(
            "--precision",
            help="native, bf16, fp8, int8, int4 or a GGUF type like Q4_K (repeatable).",
        ),
    ] = None,
    kv_dtype: str = typer.Option("auto", "--kv-dtype", help="KV cache dtype: auto|bf16|fp8."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    config: str | None = typer.Option(None, "--config", help="modelclear.toml or pyproject.toml "
                                      "to use instead of the nearest one."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the table / the plan."),
    finetune: str | None = typer.Option(
        None, "--finetune", help="Plan a fine-tuning run instead: full, lora or qlora."),
    rank: int = typer.Option(16, "--rank", help="LoRA rank (lora/qlora)."),
    targets: str = typer.Option(",".join(sizing.DEFAULT_TARGETS), "--targets",
                                help="Modules LoRA adapts: q,k,v,o,gate,up,down or module "
                                "names."),
    seq: int = typer.Option(4096, "--seq", help="Training sequence length (tokens)."),
    batch: int = typer.Option(8, "--batch", help="Micro-batch per GPU (sequences)."),
    optimizer: str = typer.Option("adamw", "--optimizer", help="adamw, adamw-8bit, "
                                  "paged-adamw-8bit, lion, sgd, sgd-momentum or adafactor."),
    gradient_checkpointing: bool = typer.Option(
        False, "--gradient-checkpointing", help="Keep only layer inputs; recompute the rest."),
    pure_bf16: bool = typer.Option(False, "--pure-bf16", help="No fp32 master weights; "
                                   "optimizer moments in bf16 (torchtune's default)."),
    fused_optimizer: bool = typer.Option(
        False, "--fused-optimizer", help="Optimizer steps during backward (no full gradients)."),
    chunked_loss: bool = typer.Option(
        False, "--chunked-loss", help="Chunked cross-entropy (no full fp32 logits)."),
) -> None:
    """What it takes to run a model: weights per precision, KV cache, GPUs, serve commands.

    With --finetune: memory per GPU of a full / LoRA / QLoRA run, GPUs per sharding stage,
    and the license obligations the fine-tune inherits.
    """
    cfg = load_config(config)
    t = load_target(target, cfg)
    arch, headers, ref, gguf = t.arch, t.headers, t.ref, t.gguf
    tensors = headers.tensors if headers else None
    count = params.analyze(t.release, arch, tensors if tensors is not None else (),
                           index=t.index, stated=t.stated)
    report = sizing.plan(
        arch,
        params=count,
        tensors=tensors,
        gpus=gpu or None,
        precisions=[p.lower() if p.lower() in ("native", *sizing.PRECISIONS) else p
                    for p in precision] if precision else None,
        context=context,
        concurrency=concurrency,
        kv_dtype=kv_dtype.lower(),
        gpu_count=gpus,
        model=ref,
        gguf=gguf,
        native_format=headers.quantization if headers else None,
        index=t.index,
    )
    if finetune is not None:
        opts = sizing.FinetuneOptions(
            method=finetune.lower(), rank=rank,
            targets=tuple(x.strip() for x in targets.split(",") if x.strip()), seq=seq,
            batch=batch, optimizer=optimizer.lower(),
            gradient_checkpointing=gradient_checkpointing, pure_bf16=pure_bf16,
            fused_optimizer=fused_optimizer, chunked_loss=chunked_loss)
        report = replace(report, finetune=finetune_plan(t, count, opts, gpu or None, target))
    report = apply_config(report, cfg)
    if json_out:
        data = document("plan", report.to_json())
        data["weight_files"] = list(headers.files) if headers else []
        emit_json(data)
        return
    if report.finetune is not None:
        print_finetune(report, stdout_console(), quiet=quiet)
        return
    print_plan(report, stdout_console(), detailed=bool(gpu), quiet=quiet)


#: file suffixes a license text or model card can have (LICENSE, README.md, NOTICE.txt…)
_TEXT_SUFFIXES = ("", ".md", ".txt", ".rst", ".markdown", ".html", ".htm", ".pdf")

#: GPUs a fine-tuning plan is shown for when --gpu is not given
FINETUNE_GPUS = ("H100", "A100-80", "L40S", "RTX4090")


def finetune_plan(t: Target, count: ParameterCount | None, opts: sizing.FinetuneOptions,
                  gpu_names: list[str] | None, target: str) -> sizing.FinetunePlan:
    """The fine-tuning plan with its findings and the license terms the fine-tune inherits."""
    arch = t.arch
    opts.check()
    if arch.modelled and arch.source == "config" and arch.complete:
        entries: tuple[ParamEntry, ...] = tuple(entries_from_config(arch))
    elif count is not None and count.entries:
        entries = count.entries
    else:
        raise InputError(arch.file, f"architecture {arch.model_type} is not modelled and no "
                         "weight headers were read: fine-tuning needs the layer layout")
    gpus = [sizing.find_gpu(g) for g in (gpu_names or FINETUNE_GPUS)]
    ft = sizing.plan_finetune(arch, entries, opts, gpus)
    findings: list[Finding] = []
    for g in gpus:
        if all(s.gpus is None for s in ft.stages if s.gpu == g.key):
            acts = ft.single_gpu.activations
            findings.append(finding("MC413", f"{opts.method} fine-tuning fits no count of "
                                    f"{g.key} up to 512 under any sharding stage; activations "
                                    f"alone are {acts / 1e9:,.1f} GB per GPU (not sharded): "
                                    "lower --batch or --seq, or add --gradient-checkpointing",
                                    file=arch.file, gpu=g.key))
    limit = arch.context_length or arch.max_position_embeddings
    if limit and opts.seq > limit:
        findings.append(finding("MC414", f"--seq {opts.seq:,} exceeds the model's context "
                                f"{limit:,}", file=arch.file))
    if arch.quantization is not None:
        findings.append(finding("MC419", f"the checkpoint is {arch.quantization.method}-"
                                "quantized: train from its 16-bit release", file=arch.file))
    engine = t.engine or _engine_beside(target)
    if engine is not None and not any(f.suffix.lower() in _TEXT_SUFFIXES
                                      for f in engine.release.files):
        engine = None  # no text a license or card could be read from: nothing to analyse
    lic = engine.get(stages.LICENSE) if engine is not None else None
    card = engine.get(stages.CARD) if engine is not None else None
    obligations, ob_findings = sizing.inherited(lic.primary() if lic else None, card)
    return replace(ft, obligations=obligations, findings=tuple(findings) + ob_findings)


def _engine_beside(target: str) -> Engine | None:
    """For a bare config.json: the folder it sits in, read as a release (license, card)."""
    folder = Path(target).resolve().parent
    try:
        return Engine(open_release(str(folder)), RunOptions(config=Config()))
    except InputError:
        return None
