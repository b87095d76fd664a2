"""The license report: JSON, and the terminal view with each clause's file and lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..analyzers.license.model import TERM_NAMES, LicenseMatch, LicenseReport
from ..schemas import VERSIONS
from .style import term_value

if TYPE_CHECKING:
    from rich.console import Console


def escape(text: str) -> str:
    """rich's markup escaping, imported on first use: the JSON path never loads rich."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def report_json(report: LicenseReport, target: str) -> dict[str, Any]:
    primary = report.primary()
    return {
        "schema_version": VERSIONS["license"],
        "target": target,
        "primary": primary.id if primary else None,
        "licenses": [_match_json(m) for m in report.licenses],
        "declared": report.declared.to_json(),
        "findings": [f.to_json() for f in report.findings],
    }


def report_set_json(reports: list[tuple[LicenseReport, str]]) -> dict[str, Any]:
    """Several targets read in one run: one ``license`` document each, under ``reports``."""
    body = []
    for report, target in reports:
        doc = report_json(report, target)
        doc.pop("schema_version")
        body.append(doc)
    return {"schema_version": VERSIONS["license-set"], "reports": body}


def _match_json(m: LicenseMatch) -> dict[str, Any]:
    data = m.to_json()
    del data["terms"]  # shown last, with each term's fields in the documented order
    data["terms"] = {
        name: {
            "value": t.value,
            "detail": t.detail,
            "source": t.source,
            "evidence": t.evidence.to_json() if t.evidence else None,
        }
        for name, t in m.terms.items()
    }
    return data


def print_report(report: LicenseReport, console: Console) -> None:
    if not report.licenses:
        console.print("no license text found")
    primary = report.primary()
    for m in report.licenses:
        star = " [bold](governs the model)[/]" if primary is not None and m is primary else ""
        console.print(
            f"\n[bold]{escape(m.title)}[/] [dim]{escape(m.id)}[/]{star}\n"
            f"  {escape(m.file)}:{m.line_start}-{m.line_end} · {m.kind} · match [bold]{m.match}[/] "
            f"(confidence {m.confidence:.2f})",
            highlight=False,
        )
        if m.from_declaration:
            console.print(
                "  [yellow]named by the model card only: no text of it in the release; "
                "terms are the catalog's, without evidence[/]",
                highlight=False,
            )
        for inc in m.incorporates:
            note = " — can change without notice" if inc.can_change_without_notice else ""
            console.print(
                f"  incorporates {escape(inc.title)} {escape(inc.url or '')}{note}", highlight=False
            )
        if m.changed_terms:
            console.print(
                f"  changed against the catalog: {', '.join(m.changed_terms)}", highlight=False
            )
        for line in m.diff[:5]:
            console.print(f"  [green]+[/] {escape(line)}", highlight=False)
        for name in TERM_NAMES:
            t = m.terms.get(name)
            if t is None:
                continue
            ev = t.evidence
            value = term_value(t.value) + (f" ({t.detail})" if t.detail else "")
            where = ""
            if ev is not None:
                span = f"{ev.line_start}" + (
                    f"-{ev.line_end}" if ev.line_end != ev.line_start else ""
                )
                where = f"  [cyan]{escape(ev.file)}:{span}[/]"
            console.print(
                f"  [bold]{name}[/]: {escape(value)}{where}", highlight=False, soft_wrap=True
            )
            if ev is not None:
                quote = ev.quote if len(ev.quote) <= 400 else ev.quote[:399] + "…"
                console.print(f"      [dim]“{escape(quote)}”[/]", highlight=False, soft_wrap=True)
    if report.declared.license or report.declared.license_name:
        d = report.declared
        console.print(
            f"\ncard declares: license={d.license!r} license_name={d.license_name!r} "
            f"license_link={d.license_link!r}",
            highlight=False,
        )
    if report.findings:
        console.print("\n[bold]findings[/]")
        for f in report.findings:
            where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
            console.print(
                f"  {f.code} [{f.severity}] {escape(where)} {escape(f.message)}", highlight=False
            )


def print_term(report: LicenseReport, term: str, read: Callable[[str], str],
               console: Console) -> None:
    """One term per license, with its clause and two lines of context either side."""
    shown = False
    for m in report.licenses:
        t = m.terms.get(term)
        if t is None:
            continue
        shown = True
        console.print(
            f"\n[bold]{escape(m.title)}[/] — {term} = [bold]{escape(term_value(t.value))}[/]",
            highlight=False,
        )
        if t.detail:
            console.print(f"  {escape(t.detail)}", highlight=False)
        if t.evidence is None:
            console.print(
                "  no clause in the file (the text says nothing about it)", highlight=False
            )
            continue
        ev = t.evidence
        lines = read(ev.file).splitlines()
        lo, hi = max(1, ev.line_start - 2), min(len(lines), ev.line_end + 2)
        console.print(
            f"  {escape(ev.file)}:{ev.line_start}-{ev.line_end} ({t.source})", highlight=False
        )
        for n in range(lo, hi + 1):
            mark = ">" if ev.line_start <= n <= ev.line_end else " "
            console.print(f"  {mark}{n:5} | {escape(lines[n - 1])}", highlight=False,
                          soft_wrap=True)
    if not shown:
        console.print(f"no license documents with term {term}")
