"""The sizing plan in the terminal: weights, KV cache, and one row per GPU × precision."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..analyzers.sizing import SizingReport
from .style import gb


def print_plan(report: SizingReport, console: Console, *, detailed: bool, quiet: bool) -> None:
    """Headline numbers, the plan table; with ``detailed`` the arithmetic and commands."""
    arch, w, kv = report.architecture, report.weights, report.kv
    if not quiet:
        console.print(f"[bold]{report.model}[/]  ({arch.model_type or 'unknown'}, "
                     f"{arch.family}, from {arch.file})")
        if report.parameters:
            p = report.parameters
            act = f", {p.active:,} active" if p.active is not None and p.active != p.total \
                else ""
            mtp = f", +{p.mtp:,} MTP" if p.mtp else ""
            console.print(f"parameters: {p.total:,}{act}{mtp} (method: {p.method}; "
                          f"formula: {p.modelled_family or 'not modelled'})")
            others = [f"{k} {v:,}" for k, v in p.sources.items() if k != p.method]
            if others:
                console.print("  cross-checked against: " + ", ".join(others))
        whatif = " · ".join(f"{k} {gb(v)} GB" for k, v in w.by_precision.items()
                            if k in ("bf16", "fp8", "int8", "int4"))
        console.print(
            f"weights: native {gb(w.native)} GB ({w.native_format}; from {w.method}"
            + (f"; {gb(w.native_main)} GB without MTP" if w.mtp else "")
            + ")" + (f" · {whatif}" if whatif else "")
        )
        console.print(f"KV cache ({kv.kind}): {kv.formula}")
        kvj = kv.to_json(report.context)
        if kvj.get("sliding_window_savings_bytes"):
            console.print(
                f"  sliding window: {gb(kvj['bytes_per_sequence_window_aware'])} GB instead of "
                f"{gb(kvj['bytes_per_sequence'])} GB per {report.context:,}-token sequence "
                "with a window-aware engine (plans below assume full context on every layer)"
            )
        console.print(f"target: {report.context:,} tokens × {report.concurrency} sequences; "
                     "GB = 10^9 bytes")
        for f in report.findings:
            console.print(f"[yellow]{f.code}[/] {f.message}", soft_wrap=True)
    table = Table(show_lines=False)
    for col in ("GPU", "precision", "weights GB", "GPUs", "TP×PP", "max seqs", "fits"):
        table.add_column(col, justify="right" if col not in ("GPU", "precision") else "left")
    for pl in report.plans:
        lay = pl.layout
        fits = "[green]yes[/]" if pl.meets_concurrency else (
            "[yellow]yes, fewer seqs[/]" if pl.fits else "[red]no[/]")
        short = pl.precision if pl.precision != "native" else \
            f"native ({(w.native_format.split() or ['?'])[0]})"
        table.add_row(pl.gpu.key, short, gb(pl.weights_bytes), str(lay.gpus),
                      f"{lay.tensor_parallel}×{lay.pipeline_parallel}"
                      + (" EP" if lay.expert_parallel else ""),
                      str(lay.max_concurrency), fits)
    console.print(table)
    if detailed:
        for pl in report.plans:
            console.print(f"\n[bold]{pl.gpu.key} · {pl.precision_label}[/]")
            console.print(pl.arithmetic, soft_wrap=True, highlight=False)
            for name, cmd in pl.commands.items():
                if cmd:
                    console.print(f"  {name}: {cmd}", soft_wrap=True, highlight=False,
                                 markup=False)
            for note in pl.notes:
                console.print(f"  note: {note}", soft_wrap=True, highlight=False, markup=False)


def print_finetune(report: SizingReport, console: Console, *, quiet: bool) -> None:
    """The fine-tuning plan: memory terms with formulas, GPUs per stage, obligations."""
    ft = report.finetune
    assert ft is not None
    o = ft.options
    if not quiet:
        console.print(f"[bold]{report.model}[/]  {o.method} fine-tuning · "
                      f"{ft.total_params:,} parameters, {ft.trainable_params:,} trainable · "
                      f"batch {o.batch} × seq {o.seq:,} · {o.optimizer}"
                      + (" · gradient checkpointing" if o.gradient_checkpointing else ""))
        for name, text in ft.formulas.items():
            console.print(f"  {name}: {text}", soft_wrap=True, highlight=False)
        for note in ft.notes:
            console.print(f"  {note}", soft_wrap=True, highlight=False)
    mem = Table(title="one GPU, no sharding (GB = 10^9 bytes)")
    for col in ("frozen", "trainable", "grads", "master", "optimizer", "activations",
                "runtime", "total"):
        mem.add_column(col, justify="right")
    m = ft.single_gpu
    mem.add_row(gb(m.frozen_weights), gb(m.trainable_weights), gb(m.gradients),
                gb(m.master_weights), gb(m.optimizer_states), gb(m.activations), gb(m.runtime),
                gb(m.total))
    console.print(mem)
    table = Table(title="fewest GPUs per sharding stage")
    for col in ("GPU", "stage", "GPUs", "GB per GPU", "of GB", "host GB per GPU"):
        table.add_column(col, justify="left" if col in ("GPU", "stage") else "right")
    for s in ft.stages:
        table.add_row(s.gpu, s.stage, str(s.gpus) if s.gpus else "no fit",
                      gb(s.per_gpu.total), gb(s.capacity_per_gpu),
                      gb(s.per_gpu.host_offloaded) if s.per_gpu.host_offloaded else "-")
    console.print(table)
    console.print("[bold]inherited by the fine-tune[/]")
    for ob in ft.obligations:
        colour = {"obligation": "cyan", "review": "yellow", "allowed": "green",
                  "prohibited": "red"}.get(ob.status, "white")
        where = f" ({ob.file}:{ob.line})" if ob.file and ob.line else ""
        console.print(f"  [{colour}]{ob.status.upper()}[/] {ob.term}: {ob.text}{where}",
                      soft_wrap=True, highlight=False)
    for f in (*report.findings, *ft.findings):
        if not quiet:
            console.print(f"[yellow]{f.code}[/] {f.message}", soft_wrap=True)
