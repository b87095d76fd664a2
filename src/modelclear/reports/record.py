"""Records, drift and history in the terminal (``record``, ``show``, ``verify``, ``history``).

Functions return rich renderables; the command decides where they are printed.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..findings import Severity
from ..record.model import Record
from ..record.registry import Summary
from ..record.verify import DriftReport
from ..units import human_bytes
from .style import term_value


def short(value: str | None, n: int = 12) -> str:
    return value[:n] if value else "—"


def record_summary(record: Record, registry_url: str | None = None) -> Group:
    d = record.data
    model = d["model"]
    policy = d.get("policy") or {}
    lic = d.get("license") or {}
    lines = [
        Text.from_markup(
            f"[bold]record {record.id}[/]  {escape(model['id'] or model['location'])}"
            f" @ {escape(model['revision'] or 'no revision')}"
        ),
        Text(f"  made {record.created_at} by modelclear {d['tool']['version']}"
             + (f", reviewer {d['reviewer']}" if d.get("reviewer") else "")),
        Text(f"  {len(d['files'])} files ({human_bytes(sum(f['size'] for f in d['files']))}), "
             f"{len(d['documents'])} license document(s)"),
        Text(f"  downloaded {model['retrieved_at'] or 'unknown'} ({model['retrieved_at_basis']})"),
    ]
    if lic:
        ids = ", ".join(m["id"] for m in lic.get("licenses", [])) or "none identified"
        lines.append(Text(f"  licenses: {ids}"))
    if policy:
        prof = (policy.get("profile") or {}).get("name", "—")
        lines.append(Text(f"  profile {prof}: verdict {policy.get('overall') or 'not evaluated'}"))
    if d.get("note"):
        lines.append(Text(f"  note: {d['note']}"))
    why: dict[str, list[str]] = {}
    for name, st in d["analyses"].items():
        if st["status"] != "analysed":
            why.setdefault(st["detail"] or st["status"], []).append(name)
    if why:
        lines.append(Text("  not in record: " + "; ".join(
            f"{', '.join(names)} ({reason})" for reason, names in why.items()), style="dim"))
    lines.append(Text(f"  sha256 {record.record_hash}", style="dim"))
    if registry_url:
        lines.append(Text(f"  registry {registry_url}", style="dim"))
    return Group(*lines)


def record_details(record: Record) -> Group:
    d = record.data
    files = Table(title="files", show_edge=False, header_style="bold")
    files.add_column("path")
    files.add_column("component")
    files.add_column("size", justify="right")
    files.add_column("sha256")
    for f in d["files"]:
        files.add_row(escape(f["path"]), f["component"] or "—", human_bytes(f["size"]), f["sha256"])
    parts: list[RenderableType] = [record_summary(record), Text(""), files]
    lic = d.get("license") or {}
    if lic.get("licenses"):
        terms = Table(title="license terms", show_edge=False, header_style="bold")
        for col in ("license", "term", "value", "evidence"):
            terms.add_column(col)
        for m in lic["licenses"]:
            for name, t in (m.get("terms") or {}).items():
                ev = t.get("evidence") or {}
                where = f"{ev['file']}:{ev['line_start']}" if ev else "—"
                # absence is a dash, as ``license`` prints it, never Python's None
                terms.add_row(m["id"], name, escape(term_value(t.get("value"))), escape(where))
        parts += [Text(""), terms]
    for doc in d["documents"]:
        parts.append(Text(f"{doc['kind']} {doc['path']} sha256 {doc['sha256']}"
                          + (f" (text not kept: {doc['text_omitted']})"
                             if doc["text_omitted"] else ""), style="dim"))
    return Group(*parts)


def drift_view(report: DriftReport, target: str) -> Group:
    out: list[RenderableType] = [Text.from_markup(
        f"[bold]verify[/] {escape(target)} against record {report.record_id[:12]} "
        f"({report.record_created_at})"
    )]
    read = ("?" if report.files_read is None else str(report.files_read))
    out.append(Text(f"  {report.files_checked} files checked, {read} read "
                    "(the rest unchanged per the hash cache)", style="dim"))
    status_style = {"changed": "red", "added": "yellow", "removed": "yellow"}
    for c in report.files:
        detail = ""
        if c.status == "changed":
            detail = f"  {short(c.old_sha256)} → {short(c.new_sha256)}"
            if c.old_size != c.new_size:
                detail += f"  ({c.old_size} → {c.new_size} bytes)"
        out.append(Text.assemble(
            (f"  {c.status.upper():8}", status_style[c.status]), f" {c.path}{detail}"
        ))
    for doc in report.documents:
        out.append(Text.from_markup(
            f"  [bold]{escape(doc.path)}[/] ({doc.kind}) {doc.status}"
            + (f" — {escape(doc.note)}" if doc.note else "")
        ))
        for line in doc.diff:
            style = ("green" if line.startswith("+") else "red" if line.startswith("-")
                     else "cyan" if line.startswith("@@") else "")
            out.append(Text("    " + line, style=style))
        if doc.diff_truncated:
            out.append(Text("    … diff cut (see --json for the texts)", style="dim"))
        for t in doc.terms:
            where = f"  {doc.path}:{t.line}" if t.line else ""
            quote = f' "{" ".join(t.quote.split())}"' if t.quote else ""
            out.append(Text.assemble(("    term ", "bold"), f"{t.term}: {t.old!r} → {t.new!r}",
                                     (where + quote, "dim")))
    for cc in report.card:
        where = f" (line {cc.line})" if cc.line else ""
        out.append(Text(f"  card {cc.field}: {cc.old!r} → {cc.new!r}{where}", style="yellow"))
    rev = report.revision
    if rev.recorded and rev.current and rev.recorded != rev.current:
        out.append(Text(f"  revision {rev.recorded} recorded, {rev.current} now", style="yellow"))
    newer = [c for c in rev.newer_in_cache if c != rev.current]
    if newer:
        out.append(Text(f"  newer revision(s) in the cache: {', '.join(newer)}", style="cyan"))
    if report.ignored:
        out.append(Text(f"  ignored by configuration: {', '.join(sorted(set(report.ignored)))}",
                        style="dim"))
    if report.drifted:
        counts: dict[str, int] = {}
        for f in report.findings:
            counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
        parts = ", ".join(f"{counts[s]} {s}" for s in reversed([str(x) for x in Severity])
                          if s in counts)
        out.append(Text.from_markup(f"[bold red]drifted[/]: {len(report.findings)} finding(s) "
                                    f"({parts})"))
    elif report.ignored:
        out.append(Text.from_markup("[bold green]no drift[/] beyond codes the configuration "
                                    "ignores"))
    else:
        out.append(Text.from_markup("[bold green]no drift[/]: the release matches the record"))
    return Group(*out)


def history_table(rows: list[Summary]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for col in ("record", "recorded", "model", "revision", "reviewer", "verdict", "files"):
        table.add_column(col, justify="right" if col == "files" else "left")
    for r in rows:
        table.add_row(r.record_id[:12], r.created_at[:19], escape(r.model_id or r.location),
                      short(r.revision), escape(r.reviewer or "—"), r.overall or "—",
                      str(r.file_count))
    return table
