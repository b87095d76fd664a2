"""``modelclear license``: which license a release (or a bare license file) is under.

Clause by clause, each with the file and lines it was read from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from ..analyzers.license.analyze import analyze, analyze_text
from ..analyzers.license.consistency import document_findings
from ..analyzers.license.model import TERM_NAMES, LicenseMatch, LicenseReport
from ..cli import app
from ..console import emit_json, stdout_console
from ..errors import InputError, UsageError
from ..release import stat_file
from ..sources import open_release

SCHEMA_VERSION = 1
_WEIGHT_SUFFIXES = {".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".onnx", ".h5"}
#: a bare license file bigger than this is not a license
_MAX_TEXT = 4 * 1024 * 1024


def _is_bare_text(target: str) -> bool:
    p = Path(target)
    return p.is_file() and p.suffix.lower() not in _WEIGHT_SUFFIXES


def _read_bare(target: str) -> str:
    p = Path(target)
    f = stat_file(p, p.name)
    return f.read_text(limit=_MAX_TEXT)


def report_json(report: LicenseReport, target: str) -> dict[str, Any]:
    primary = report.primary()
    return {
        "schema_version": SCHEMA_VERSION,
        "target": target,
        "primary": primary.id if primary else None,
        "licenses": [_match_json(m) for m in report.licenses],
        "declared": report.declared.model_dump(mode="json"),
        "findings": [f.to_json() for f in report.findings],
    }


def _match_json(m: LicenseMatch) -> dict[str, Any]:
    data = m.model_dump(mode="json", exclude={"terms"})
    data["terms"] = {
        name: {
            "value": t.value,
            "detail": t.detail,
            "source": t.source,
            "evidence": t.evidence.model_dump(mode="json") if t.evidence else None,
        }
        for name, t in m.terms.items()
    }
    return data


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _print_report(report: LicenseReport) -> None:
    out = stdout_console()
    if not report.licenses:
        out.print("no license text found")
    primary = report.primary()
    for m in report.licenses:
        star = " [bold](governs the model)[/]" if primary is not None and m is primary else ""
        out.print(
            f"\n[bold]{escape(m.title)}[/] [dim]{escape(m.id)}[/]{star}\n"
            f"  {escape(m.file)}:{m.line_start}-{m.line_end} · {m.kind} · match [bold]{m.match}[/] "
            f"(confidence {m.confidence:.2f})",
            highlight=False,
        )
        if m.from_declaration:
            out.print(
                "  [yellow]named by the model card only: no text of it in the release; "
                "terms are the catalog's, without evidence[/]",
                highlight=False,
            )
        for inc in m.incorporates:
            note = " — can change without notice" if inc.can_change_without_notice else ""
            out.print(
                f"  incorporates {escape(inc.title)} {escape(inc.url or '')}{note}", highlight=False
            )
        if m.changed_terms:
            out.print(
                f"  changed against the catalog: {', '.join(m.changed_terms)}", highlight=False
            )
        for line in m.diff[:5]:
            out.print(f"  [green]+[/] {escape(line)}", highlight=False)
        for name in TERM_NAMES:
            t = m.terms.get(name)
            if t is None:
                continue
            ev = t.evidence
            value = _fmt(t.value) + (f" ({t.detail})" if t.detail else "")
            where = ""
            if ev is not None:
                span = f"{ev.line_start}" + (
                    f"-{ev.line_end}" if ev.line_end != ev.line_start else ""
                )
                where = f"  [cyan]{escape(ev.file)}:{span}[/]"
            out.print(
                f"  [bold]{name}[/]: {escape(value)}{where}", highlight=False, soft_wrap=True
            )
            if ev is not None:
                quote = ev.quote if len(ev.quote) <= 400 else ev.quote[:399] + "…"
                out.print(f"      [dim]“{escape(quote)}”[/]", highlight=False, soft_wrap=True)
    if report.declared.license or report.declared.license_name:
        d = report.declared
        out.print(
            f"\ncard declares: license={d.license!r} license_name={d.license_name!r} "
            f"license_link={d.license_link!r}",
            highlight=False,
        )
    if report.findings:
        out.print("\n[bold]findings[/]")
        for f in report.findings:
            where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
            out.print(
                f"  {f.code} [{f.severity}] {escape(where)} {escape(f.message)}", highlight=False
            )


def _explain(report: LicenseReport, term: str, read: Any) -> None:
    out = stdout_console()
    shown = False
    for m in report.licenses:
        t = m.terms.get(term)
        if t is None:
            continue
        shown = True
        out.print(
            f"\n[bold]{escape(m.title)}[/] — {term} = [bold]{escape(_fmt(t.value))}[/]",
            highlight=False,
        )
        if t.detail:
            out.print(f"  {escape(t.detail)}", highlight=False)
        if t.evidence is None:
            out.print(
                "  no clause in the file (the text says nothing about it)", highlight=False
            )
            continue
        ev = t.evidence
        lines = read(ev.file).splitlines()
        lo, hi = max(1, ev.line_start - 2), min(len(lines), ev.line_end + 2)
        out.print(
            f"  {escape(ev.file)}:{ev.line_start}-{ev.line_end} ({t.source})", highlight=False
        )
        for n in range(lo, hi + 1):
            mark = ">" if ev.line_start <= n <= ev.line_end else " "
            out.print(f"  {mark}{n:5} | {escape(lines[n - 1])}", highlight=False, soft_wrap=True)
    if not shown:
        out.print(f"no license documents with term {term}")


@app.command("license")
def license_cmd(
    target: str = typer.Argument(
        ...,
        help="Directory, weights/GGUF file, org/name[@rev] in the HF cache, or a license file.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    explain: str | None = typer.Option(
        None, "--explain", help="Print one term's clause in context."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Identify a release's license texts and read their terms, with the lines they come from."""
    if explain is not None and explain not in TERM_NAMES:
        raise UsageError(f"--explain: unknown term {explain!r} (one of: {', '.join(TERM_NAMES)})")
    texts: dict[str, str] = {}
    if _is_bare_text(target):
        text = _read_bare(target)
        name = Path(target).name
        texts[name] = text
        report = analyze_text(text, name)
        findings = [f for m in report.licenses for f in document_findings(m)]
        report = report.model_copy(update={"findings": tuple(findings)})

        def read(file: str) -> str:
            return texts.get(file, "")
    else:
        release = open_release(target)
        report = analyze(release)

        def read(file: str) -> str:
            if file not in texts:
                f = release.get(file)
                if f is None:
                    raise InputError(file, "not in the release")
                texts[file] = f.read_text()
            return texts[file]

    if json_out:
        emit_json(report_json(report, target))
        return
    if explain is not None:
        _explain(report, explain, read)
        return
    _print_report(report)
