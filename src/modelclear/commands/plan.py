"""``modelclear plan``: weights, KV cache, GPUs and serving flags, with the arithmetic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..analyzers import architecture, params, sizing
from ..analyzers.architecture import Architecture
from ..cli import app
from ..console import emit_json, stdout_console
from ..errors import InputError
from ..release import stat_file
from ..sources import open_release


def _gb(n: int) -> str:
    """GB (10^9 bytes) with enough decimals that a small model does not read as 0.0."""
    return f"{n / 1e9:,.1f}" if n >= 1e8 or n == 0 else f"{n / 1e9:.4f}"


def load_target(target: str) -> tuple[Architecture, params.WeightHeaders | None, str, bool]:
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
    headers = params.weight_headers(release)
    arch = architecture.analyze(release)
    if arch is None:
        raise InputError(target, "no config.json and no GGUF metadata: nothing to size")
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
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the table / the plan."),
) -> None:
    """What it takes to run a model: weights per precision, KV cache, GPUs, serve commands."""
    arch, headers, ref, gguf = load_target(target)
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
    if json_out:
        data = report.to_json()
        data["weight_files"] = list(headers.files) if headers else []
        emit_json(data)
        return
    _render(report, detailed=bool(gpu), quiet=quiet)


def _render(report: sizing.SizingReport, detailed: bool, quiet: bool) -> None:
    out = stdout_console()
    arch, w, kv = report.architecture, report.weights, report.kv
    if not quiet:
        out.print(f"[bold]{report.model}[/]  ({arch.model_type or 'unknown'}, "
                     f"{arch.family}, from {arch.file})")
        if report.parameters:
            p = report.parameters
            act = f", {p.active:,} active" if p.active is not None and p.active != p.total \
                else ""
            mtp = f", +{p.mtp:,} MTP" if p.mtp else ""
            out.print(f"parameters: {p.total:,}{act}{mtp} (method: {p.method})")
        out.print(
            f"weights: native {_gb(w.native)} GB ({w.native_format}"
            + (f"; {_gb(w.native_main)} GB without MTP" if w.mtp else "")
            + f") · bf16 {_gb(w.by_precision['bf16'])} · fp8 {_gb(w.by_precision['fp8'])}"
            f" · int8 {_gb(w.by_precision['int8'])} · int4 {_gb(w.by_precision['int4'])} GB"
        )
        out.print(f"KV cache ({kv.kind}): {kv.formula}")
        kvj = kv.to_json(report.context)
        if kvj.get("sliding_window_savings_bytes"):
            out.print(
                f"  sliding window: {_gb(kvj['bytes_per_sequence_window_aware'])} GB instead of "
                f"{_gb(kvj['bytes_per_sequence'])} GB per {report.context:,}-token sequence "
                "with a window-aware engine (plans below assume full context on every layer)"
            )
        out.print(f"target: {report.context:,} tokens × {report.concurrency} sequences; "
                     "GB = 10^9 bytes")
        for f in report.findings:
            out.print(f"[yellow]{f.code}[/] {f.message}", soft_wrap=True)
    table = Table(show_lines=False)
    for col in ("GPU", "precision", "weights GB", "GPUs", "TP×PP", "max seqs", "fits"):
        table.add_column(col, justify="right" if col not in ("GPU", "precision") else "left")
    for pl in report.plans:
        lay = pl.layout
        fits = "[green]yes[/]" if pl.meets_concurrency else (
            "[yellow]yes, fewer seqs[/]" if pl.fits else "[red]no[/]")
        short = pl.precision if pl.precision != "native" else \
            f"native ({(w.native_format.split() or ['?'])[0]})"
        table.add_row(pl.gpu.key, short, _gb(pl.weights_bytes), str(lay.gpus),
                      f"{lay.tensor_parallel}×{lay.pipeline_parallel}"
                      + (" EP" if lay.expert_parallel else ""),
                      str(lay.max_concurrency), fits)
    out.print(table)
    if detailed:
        for pl in report.plans:
            out.print(f"\n[bold]{pl.gpu.key} · {pl.precision_label}[/]")
            out.print(pl.arithmetic, soft_wrap=True, highlight=False)
            for name, cmd in pl.commands.items():
                if cmd:
                    out.print(f"  {name}: {cmd}", soft_wrap=True, highlight=False,
                                 markup=False)
            for note in pl.notes:
                out.print(f"  note: {note}", soft_wrap=True, highlight=False, markup=False)
