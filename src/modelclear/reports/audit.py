"""The audit report: one document a reviewer attaches to a ticket.

Same content in four forms: terminal (rich), JSON (the pipeline's schema),
Markdown (fits a pull-request comment: tables, no HTML) and HTML (one
self-contained file, inline CSS, print styles; no scripts, no external assets).
Templates live in ``data/templates``; this module only prepares plain data for
them so the Markdown and HTML say exactly the same things.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..analyzers.policy.model import Check, EvidenceRef, Obligation, PolicyResult, Status
from ..analyzers.sizing import SizingReport, WeightBytes, gpu_catalog
from ..errors import InputError
from ..excerpt import excerpt
from ..pipeline import AuditResult
from ..units import human_bytes, human_count
from .style import STATUS_ICON, STATUS_STYLE
from .templates import render_template

FORMATS = ("terminal", "json", "markdown", "html")
PROFILE_HELP = "Built-in profile name (modelclear profile list) or a profile YAML file."


class Format(StrEnum):
    terminal = "terminal"
    json = "json"
    markdown = "markdown"
    html = "html"


def flat(text: str | None) -> str | None:
    """A quote on one line: license clauses wrap, tables and terminals should not."""
    return " ".join(text.split()) if text else text


def evidence_dict(e: EvidenceRef) -> dict[str, Any]:
    return {"where": e.location(), "quote": flat(e.quote), "note": e.note, "source": e.source}


def check_dict(c: Check) -> dict[str, Any]:
    return {
        "code": c.code, "name": c.name, "title": c.title, "status": str(c.status),
        "reason": c.reason, "ignored": c.ignored, "severity": c.severity,
        "evidence": [evidence_dict(e) for e in c.evidence],
    }


def obligation_dict(o: Obligation) -> dict[str, Any]:
    return {"code": o.code, "text": o.text, "applies": o.applies, "condition": o.condition,
            "evidence": [evidence_dict(e) for e in o.evidence]}


def assumption_rows(pol: PolicyResult | None) -> list[dict[str, str]]:
    """The profile's assumptions as plain rows (label, value, basis, field) for every format."""
    return [a.model_dump(mode="json") for a in (pol.assumptions if pol is not None else ())]


def print_assumptions(pol: PolicyResult, description: str | None, console: Console) -> None:
    """The profile and the assumptions its verdicts rest on, before any verdict."""
    console.print(f"[bold]Profile {escape(pol.profile)}[/]"
                  + (f" — {escape(description)}" if description else ""))
    if pol.assumptions:
        console.print("Assumptions: " + "; ".join(
            f"{escape(a.label)}: [bold]{escape(a.value)}[/]" for a in pol.assumptions))


def _sorted_checks(checks: Iterable[Check]) -> list[Check]:
    return sorted(checks, key=lambda c: (c.ignored, -c.status.rank, c.code))


def _license_rows(result: AuditResult) -> list[dict[str, Any]]:
    rep = result.license
    if rep is None:
        return []
    rows = []
    for m in rep.licenses:
        terms = []
        for name, t in m.terms.items():
            if t.value is None and t.evidence is None:
                continue
            terms.append({
                "name": name.replace("_", " "),
                "value": t.value if not isinstance(t.value, int) or isinstance(t.value, bool)
                else f"{t.value:,}",
                "detail": t.detail,
                "where": f"{t.evidence.file}:{t.evidence.line_start}" if t.evidence else None,
                "quote": flat(t.evidence.quote) if t.evidence else None,
            })
        rows.append({"id": m.id, "title": m.title, "kind": m.kind, "match": m.match,
                     "confidence": m.confidence, "file": m.file, "line": m.line_start,
                     "terms": terms, "changed_terms": list(m.changed_terms)})
    return rows


def _security_rows(result: AuditResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in result.security.files if result.security is not None else ():
        for fnd in f.findings:
            rows.append({
                "file": f.path,
                "status": f.status,
                "code": fnd.code,
                "severity": str(fnd.severity),
                "message": fnd.message,
                "where": (f"offset {fnd.offset}" if fnd.offset is not None
                          else f"line {fnd.line}" if fnd.line else ""),
            })
    return rows


#: Precisions shown in the audit's plan grid (every precision is `modelclear plan`). The
#: GPUs are the catalog's (``data/gpus.toml``), in its order, that the plan has rows for.
PLAN_PRECISIONS = ("native", "fp8", "int4")
#: Weight sizes in the headline, when sized: the checkpoint as stored, then served forms.
WEIGHT_PRECISIONS = ("native", "bf16", "fp8", "int8", "int4")


def _plan_grid(sizing: SizingReport | None) -> dict[str, dict[str, str]]:
    """GPU key → precision → "N GPUs, up to C seq" (or "does not fit")."""
    grid: dict[str, dict[str, str]] = {}
    for p in sizing.plans if sizing is not None else ():
        if p.precision in PLAN_PRECISIONS:
            lay = p.layout
            grid.setdefault(p.gpu.key, {})[p.precision] = (
                f"{lay.gpus} GPU{'s' if lay.gpus > 1 else ''}, up to {lay.max_concurrency:,} seq"
                if p.fits else "does not fit"
            )
    return grid


def _weight_sizes(weights: WeightBytes) -> list[tuple[str, int]]:
    sizes = {"native": weights.native, **weights.by_precision}
    return [(k, sizes[k]) for k in WEIGHT_PRECISIONS if k in sizes]


def _sizing_summary(result: AuditResult) -> dict[str, Any] | None:
    """Headline numbers from the sizing analyzers: weights per precision, KV, a plan grid."""
    arch, params, sizing = result.architecture, result.params, result.sizing
    if arch is None and params is None and sizing is None:
        return None
    grid = _plan_grid(sizing)
    # a precision the sizing analyzer did not plan (fp8 of an fp8 checkpoint is "native")
    shown = [p for p in PLAN_PRECISIONS if any(p in row for row in grid.values())]
    return {
        "model_type": arch.model_type if arch is not None else None,
        "layers": arch.num_layers if arch is not None else None,
        "total_params": params.total if params is not None else None,
        "active_params": params.active if params is not None else None,
        "method": params.method if params is not None else None,
        "weights": _weight_sizes(sizing.weights) if sizing is not None else [],
        "native_format": sizing.weights.native_format if sizing is not None else None,
        "kv_per_token": sizing.kv.bytes_per_token if sizing is not None else None,
        "context": sizing.context if sizing is not None else None,
        "concurrency": sizing.concurrency if sizing is not None else None,
        "grid": [(g, [grid[g].get(p, "—") for p in shown]) for g in gpu_catalog() if g in grid],
        "precisions": shown,
    }


def open_meanings(result: AuditResult) -> list[tuple[str, bool | None, str]]:
    return result.open_meanings()


def view(result: AuditResult) -> dict[str, Any]:
    """Plain data for the templates (one dict, same for Markdown and HTML)."""
    pol = result.policy
    comps = result.components()
    card = result.card
    checks = _sorted_checks(pol.checks) if pol else []
    return {
        "title": f"modelclear audit: {result.target}",
        "target": result.target,
        "source": result.source,
        "generated_at": result.generated_at,
        "n_files": len(result.files),
        "total_bytes": result.total_bytes(),
        "analyzers": result.analyzers,
        "openness": comps,
        "open_meanings": open_meanings(result),
        # only what no file of its own provides is marked as carried inside another file
        "embedded": {k: v for k, v in result.embedded.items() if result.inventory is None
                     or k not in result.inventory.components()},
        "card": {
            "file": card.file,
            "license": card.license,
            "base_model": list(card.base_model),
            "pipeline_tag": card.pipeline_tag,
        } if card is not None else None,
        "profile": result.profile.name if result.profile else None,
        "profile_description": result.profile.description if result.profile else None,
        "assumptions": assumption_rows(pol),
        "verdict": str(pol.verdict) if pol else None,
        "counts": {s.value: len(pol.by_status(s)) for s in Status} if pol else {},
        "checks": [check_dict(c) for c in checks],
        "obligations": [obligation_dict(o) for o in (pol.obligations if pol else ())],
        "notes": [{"id": n.id, "text": n.text, "basis": n.basis} for n in
                  (pol.notes if pol else ())],
        "licenses": _license_rows(result),
        "security": _security_rows(result),
        "security_files": len(result.security.files) if result.security is not None else 0,
        "sizing": _sizing_summary(result),
        "icons": STATUS_ICON,
    }


# ---------------------------------------------------------------------------- terminal


def print_terminal(result: AuditResult, console: Console) -> None:
    v = view(result)
    console.print(f"[bold]{escape(v['title'])}[/]")
    console.print(f"{v['n_files']} files, {human_bytes(v['total_bytes'])}; source "
                  f"{escape(result.source.kind)} {escape(result.source.location)}")
    if result.policy is not None:
        print_assumptions(result.policy, v["profile_description"], console)
    if v["open_meanings"]:
        console.print("Open: " + "; ".join(
            f"[{'green' if ok else 'red' if ok is False else 'dim'}]"
            f"{'✔' if ok else '✖' if ok is False else '?'} {name}[/] ({escape(why)})"
            for name, ok, why in v["open_meanings"]))
    if v["openness"] is not None:
        parts = [f"[{'green' if ok else 'dim'}]{'●' if ok else '○'} {name}[/]"
                 for name, ok in v["openness"].items()]
        console.print("Contents: " + "  ".join(parts))
    if v["licenses"]:
        t = Table(title="Licenses", show_lines=False, expand=False)
        for col in ("id", "kind", "match", "file"):
            t.add_column(col)
        for lic in v["licenses"]:
            t.add_row(escape(lic["id"]), lic["kind"], f"{lic['match']} {lic['confidence']:.2f}",
                      f"{escape(lic['file'])}:{lic['line']}")
        console.print(t)
    if v["security"]:
        t = Table(title=f"Security findings ({v['security_files']} files scanned)")
        for col in ("file", "code", "severity", "message"):
            t.add_column(col)
        for r in v["security"][:30]:
            t.add_row(escape(str(r["file"])), r["code"], r["severity"], escape(str(r["message"])))
        console.print(t)
    sz = v["sizing"]
    if sz:
        console.print(f"Sizing: {sz['model_type'] or '?'}; parameters "
                      f"{human_count(sz['total_params'])} total, "
                      f"{human_count(sz['active_params'])} active; weights "
                      + ", ".join(f"{k} {human_bytes(b)}" for k, b in sz["weights"])
                      + (f"; KV cache {human_bytes(sz['kv_per_token'])}/token"
                         if sz["kv_per_token"] else ""))
    missing = {k: s for k, s in v["analyzers"].items() if s != "ok"}
    for k, s in missing.items():
        console.print(f"[dim]{k}: {escape(s)}[/]")
    if result.policy is not None:
        print_checks(result, console, verbose=True, assumptions=False)


def print_checks(result: AuditResult, console: Console, verbose: bool = False,
                 assumptions: bool = True) -> None:
    """The checklist; evidence is shown for what needs attention (all with ``verbose``).
    The profile's assumptions come first unless the caller already printed them."""
    pol = result.policy
    assert pol is not None
    if assumptions:
        print_assumptions(pol, result.profile.description if result.profile else None, console)
    t = Table(title=f"Profile {pol.profile}", show_lines=True, expand=False)
    t.add_column("", no_wrap=True)
    t.add_column("check")
    t.add_column("reason and evidence", overflow="fold")
    for c in _sorted_checks(pol.checks):
        style = "dim" if c.ignored else STATUS_STYLE[c.status.value]
        ev_lines = []
        shown = c.evidence[:3] if verbose or c.status is not Status.CLEAR else ()
        for e in shown:
            line = f"[cyan]{escape(e.location())}[/]"
            if e.quote:
                line += f' "{escape(excerpt(e.quote, 200))}"'
            elif e.note:
                line += f" {escape(e.note)}"
            ev_lines.append(line)
        t.add_row(
            f"[{style}]{STATUS_ICON[c.status.value]} {c.status.value}[/]"
            + (" (ignored)" if c.ignored else ""),
            f"{c.code} {escape(c.title)}",
            escape(c.reason) + ("\n" + "\n".join(ev_lines) if ev_lines else ""),
        )
    console.print(t)
    applies = [o for o in pol.obligations if o.applies]
    later = [o for o in pol.obligations if not o.applies]
    if applies:
        console.print("[bold]Obligations[/]")
        for o in applies:
            where = f" [cyan]({escape(o.evidence[0].location())})[/]" if o.evidence else ""
            console.print(f"  • {escape(o.text)}{where}")
    if later:
        console.print("[bold]Obligations if the deployment changes[/]")
        for o in later:
            console.print(f"  • [dim]{escape(o.text)} — {escape(o.condition)}[/]")
    if pol.notes:
        console.print("[bold]Notes for this deployment[/] (facts; not counted in the verdict)")
        for n in pol.notes:
            console.print(f"  • {escape(n.text)} [dim]({escape(n.basis)})[/]")
    style = STATUS_STYLE[pol.verdict.value]
    counts = ", ".join(f"{len(pol.by_status(s))} {s.value.lower()}" for s in Status)
    console.print(f"Verdict for [bold]{escape(pol.profile)}[/]: [{style}]{pol.verdict.value}[/] "
                  f"({counts})")


# ---------------------------------------------------------------------------- entry point


def render(result: AuditResult, fmt: str) -> str:
    """The audit as text in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "markdown":
        return render_template("audit.md.j2", **view(result))
    if fmt == "html":
        return render_template("audit.html.j2", **view(result))
    if fmt == "terminal":
        buf = io.StringIO()
        print_terminal(result, Console(file=buf, width=110, color_system=None,
                                       force_terminal=False))
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_output(text: str, output: str | None) -> None:
    """Text to ``-o FILE`` or to standard output (no rich markup processing)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(output, f"cannot write: {exc.strerror or exc}") from None
