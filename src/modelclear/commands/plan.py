"""``modelclear plan``: weights, KV cache, GPUs and serving flags, with the arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from ..analyzers import architecture, params, sizing
from ..analyzers.architecture import Architecture
from ..analyzers.paramcount.sources import INDEX_NAMES, ShardIndex, StatedSize, stated_size
from ..cli import app
from ..config import Config, load_config
from ..console import emit_json, stdout_console
from ..engine import Engine, RunOptions, apply_config, stages
from ..errors import InputError
from ..release import Release, stat_file
from ..reports.plan import print_plan
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
) -> None:
    """What it takes to run a model: weights per precision, KV cache, GPUs, serve commands."""
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
    report = apply_config(report, cfg)
    if json_out:
        data = document("plan", report.to_json())
        data["weight_files"] = list(headers.files) if headers else []
        emit_json(data)
        return
    print_plan(report, stdout_console(), detailed=bool(gpu), quiet=quiet)
