"""``modelclear plan``: weights, KV cache, GPUs and serving flags, with the arithmetic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..analyzers import architecture, params, sizing
from ..analyzers.architecture import Architecture
from ..cli import app
from ..config import Config, load_config
from ..console import emit_json, stdout_console
from ..engine import Engine, RunOptions, apply_config, stages
from ..errors import InputError
from ..release import stat_file
from ..reports.plan import print_plan
from ..schemas import document
from ..sources import open_release


def load_target(target: str, config: Config | None = None,
                ) -> tuple[Architecture, params.WeightHeaders | None, str, bool]:
    """Architecture, weight headers, the model reference for commands, and GGUF-ness.

    A bare ``*.json`` file is read as a config.json (no release around it); anything
    else goes through the sources (directory, HF cache id, weights/GGUF file).
    """
    path = Path(target)
    if path.suffix.lower() == ".json" and (path.is_file() or path.is_symlink()):
        f = stat_file(path, target)
        arch = architecture.read_config_file(f)
        return arch, None, str(path.resolve().parent), False
    release = open_release(target)
    engine = Engine(release, RunOptions(config=config or Config()))
    headers = engine.get(stages.HEADERS)
    found = engine.get(stages.ARCHITECTURE)
    if found is None:
        raise InputError(target, "no config.json and no GGUF metadata: nothing to size")
    arch = found
    if release.source.kind == "hf-cache" and release.source.model_id:
        ref = release.source.model_id
    elif release.source.kind in ("gguf", "weights-file"):
        ref = release.source.location
    else:
        ref = target
    return arch, headers, ref, headers is not None and headers.format == "gguf"


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
) -> None:
    """What it takes to run a model: weights per precision, KV cache, GPUs, serve commands."""
    cfg = load_config(config)
    arch, headers, ref, gguf = load_target(target, cfg)
    tensors = headers.tensors if headers else None
    count = params.analyze(None, arch, tensors)
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
    )
    report = apply_config(report, cfg)
    if json_out:
        data = document("plan", report.to_json())
        data["weight_files"] = list(headers.files) if headers else []
        emit_json(data)
        return
    print_plan(report, stdout_console(), detailed=bool(gpu), quiet=quiet)
