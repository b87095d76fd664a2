"""Terminal rendering of an inspection: what you got, on one screen."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..analyzers.architecture import Architecture
from ..analyzers.inventory import COMPONENTS, EXPECTED
from ..inspection import Inspection
from ..units import human_bytes, human_count
from .findings import findings_table


def render(result: Inspection, console: Console) -> None:
    src = result.release.source
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("model", src.model_id or "—")
    head.add_row("source", f"{src.kind}: {src.location}")
    if src.revision:
        refs = f" ({', '.join(src.refs)})" if src.refs else ""
        head.add_row("revision", src.revision + refs)
    if src.other_revisions:
        head.add_row("other revisions", ", ".join(r[:12] for r in src.other_revisions))
    if src.retrieved_at:
        head.add_row("retrieved", src.retrieved_at)
    total = sum(f.size for f in result.inventory.files)
    head.add_row("files", f"{len(result.inventory.files)} ({human_bytes(total)})")
    w = result.weights
    if w.files:
        mix = ", ".join(f"{d} {n / max(sum(w.precisions.values()), 1):.0%}"
                        for d, n in w.precisions.items())
        head.add_row("weights", f"{', '.join(w.formats)}; {mix or 'dtypes not listed'}")
        for g in w.gguf():
            q = g.metadata.get("quantization") or g.metadata.get("file_type")
            head.add_row("gguf", f"{g.path}: {g.metadata.get('architecture')} "
                                 f"“{g.metadata.get('name') or ''}” {q or ''}")
    p = result.parameters
    if p is not None:
        method = "exact, from headers" if p.method == "headers" else "estimated from config.json"
        head.add_row("parameters", f"{_count(p.total)} total, {method}")
        if p.active is not None and p.active != p.total:
            head.add_row("active / token", _count(p.active))
        if p.mtp:
            head.add_row("MTP layers", f"{_count(p.mtp)} (not in total)")
    a = result.architecture
    if a is not None:
        head.add_row("architecture", _arch_line(a))
    c = result.card
    if c is not None:
        lic = c.license or "—"
        if c.license_name:
            lic += f" ({c.license_name})"
        if c.license_link:
            lic += f" → {c.license_link}"
        line = c.line_of("license")
        head.add_row("card license", lic + (f"  [dim]{c.file}:{line}[/]" if line else ""))
        if c.base_model:
            head.add_row("base model", ", ".join(c.base_model)
                         + (f" ({c.base_model_relation})" if c.base_model_relation else ""))
    else:
        head.add_row("card license", "[yellow]no model card[/]")

    comp = Table(title="components", show_header=True, header_style="bold", expand=False)
    comp.add_column("component")
    comp.add_column("files", justify="right")
    comp.add_column("size", justify="right")
    comp.add_column("examples")
    # A single weights file is not expected to carry a tokenizer or a license.
    whole_release = src.whole_release
    for name in COMPONENTS:
        items = result.inventory.by_component(name)
        if not items:
            if name in EXPECTED and whole_release:
                comp.add_row(Text(name, style="yellow"), "0", "", Text("missing", "yellow"))
            continue
        examples = ", ".join(escape(f"{f.path} [{f.format}]") for f in items[:3])
        if len(items) > 3:
            examples += f", … (+{len(items) - 3})"
        comp.add_row(name, str(len(items)), human_bytes(sum(f.size for f in items)), examples)

    parts: list[RenderableType] = [head, comp]
    if result.hashes:
        parts.append(Text(f"sha256 computed for {len(result.hashes)} files "
                          "(use --json to see them)", style="dim"))
    if result.findings:
        parts.append(findings_table(result.findings))
    console.print(Panel(Group(*parts), title="modelclear inspect", expand=False))


def _count(n: int | None) -> str:
    return "—" if n is None else f"{human_count(n)} ({n:,})"


def _arch_line(a: Architecture) -> str:
    bits = [a.model_type or "?"]
    if a.num_layers:
        bits.append(f"{a.num_layers} layers")
    if a.hidden_size:
        bits.append(f"hidden {a.hidden_size}")
    if a.num_attention_heads:
        kv = f"/{a.num_kv_heads} kv" if a.num_kv_heads else ""
        bits.append(f"{a.num_attention_heads}{kv} heads")
    if a.kv_lora_rank:
        bits.append(f"MLA kv_lora {a.kv_lora_rank}")
    if a.num_experts:
        bits.append(f"MoE {a.experts_per_token}/{a.num_experts} experts"
                    + (f" + {a.num_shared_experts} shared" if a.num_shared_experts else ""))
    if a.max_position_embeddings:
        bits.append(f"ctx {a.max_position_embeddings:,}")
    if a.torch_dtype:
        bits.append(a.torch_dtype)
    if a.quantization:
        bits.append(f"quant {a.quantization.method}")
    return ", ".join(bits)
