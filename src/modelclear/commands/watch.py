"""``modelclear watch``: have cleared models moved since their records? (for cron and CI)"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ..cli import app
from ..console import emit_json, stdout_console
from ..errors import InputError, UsageError
from ..record.model import Record
from ..record.watch import WatchResult


def _records(targets: list[str], registry: str | None) -> list[Record]:
    """The records to watch: the latest of each model named (org/name, hf://org/name) or
    the records named by id; every model's latest record when none is named."""
    from ..record.cli_support import looks_like_id
    from ..record.registry import Registry

    with Registry(registry) as reg:
        if not targets:
            models = dict.fromkeys(s.model_id for s in reg.history() if s.model_id)
            found = [reg.latest(m) for m in models]
            return [r for r in found if r is not None]
        out: list[Record] = []
        for t in targets:
            name = t.removeprefix("hf://").split("@", 1)[0]
            rec = reg.latest(name) if "/" in name else (
                reg.get(name) if looks_like_id(name) else None)
            if rec is None:
                raise InputError(t, f"no record of it in {reg.display_url}; run "
                                 f"`modelclear record {t}` first")
            out.append(rec)
        return out


def _print(results: list[WatchResult], out: Console) -> None:
    for r in results:
        style = {"unchanged": "green", "changed": "red", "unchecked": "yellow"}[r.status]
        head = Text.assemble((f"{r.status.upper():10}", style), f" {r.model_id or r.record_id}")
        if r.current and r.current != r.recorded:
            head.append(f"  {r.ref}: {r.recorded} → {r.current} ({r.via})", style="dim")
        out.print(head)
        if r.drift is None:
            for f in r.findings:
                out.print(Text(f"  {f.code}  {f.message}", style="dim"))
            continue
        for c in r.drift.files:
            out.print(f"  {c.status:8} {escape(c.path)}")
        for doc in r.drift.documents:
            out.print(Text.from_markup(f"  [bold]{escape(doc.path)}[/] ({doc.kind}) {doc.status}"))
            for line in doc.diff:
                colour = ("green" if line.startswith("+") else "red" if line.startswith("-")
                          else "cyan" if line.startswith("@@") else "")
                out.print(Text("    " + line, style=colour))
            for t in doc.terms:
                quote = f'  "{" ".join(t.quote.split())[:160]}"' if t.quote else ""
                out.print(Text.assemble(("    term ", "bold"), f"{t.term}: {t.old!r} → {t.new!r}",
                                        (quote, "dim")))
        for cc in r.drift.card:
            out.print(Text(f"  card {cc.field}: {cc.old!r} → {cc.new!r}", style="yellow"))
        for p in r.code_files:
            out.print(Text(f"  new code file {p}", style="red"))


def _post(server: str, token_env: str, doc: dict[str, Any]) -> dict[str, Any]:
    from ..server.client import post_watch

    return post_watch(server, token_env, doc)


@app.command()
def watch(
    targets: Annotated[list[str] | None, typer.Argument(
        help="Recorded models (org/name or hf://org/name) or record ids; default: "
        "every model in the registry.")] = None,
    registry: str | None = typer.Option(None, "--registry", help="Database URL or SQLite path."),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="Hub (or mirror) URL for models recorded from hf://; "
        "default $HF_ENDPOINT, else huggingface.co."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    server: str | None = typer.Option(
        None, "--server", help="Review server URL: post the results there, where a changed "
        "model reopens the approved reviews it affects (needs --token-env)."),
    token_env: str | None = typer.Option(
        None, "--token-env", help="Environment variable holding a reviewer's API token "
        "for --server."),
) -> None:
    """Check recorded models for new revisions, license and card changes, new code files;
    exit 1 when anything changed or could not be checked."""
    from ..record.watch import watch_record
    from ..schemas import document
    from ..sources.hub import set_endpoint

    if (server is None) != (token_env is None):
        raise UsageError("--server and --token-env go together")
    if endpoint:
        set_endpoint(endpoint)
    results = [watch_record(r) for r in _records(targets or [], registry)]
    doc = document("watch", {
        "models": [r.to_json() for r in results],
        "changed": sum(r.status == "changed" for r in results),
        "unchecked": sum(r.status == "unchecked" for r in results),
        "findings": [f.to_json() for r in results for f in r.findings],
    })
    applied = _post(server, token_env, doc) if server and token_env else None
    if json_out:
        emit_json({**doc, "server": applied} if applied is not None else doc)
    else:
        out = stdout_console()
        if not results:
            out.print("no records to watch")
        _print(results, out)
        if applied is not None:
            out.print(f"review server: reopened {len(applied['reopened'])} approved "
                      f"review(s) {applied['reopened'] or ''}".rstrip())
    if any(r.status != "unchanged" for r in results):
        raise typer.Exit(1)
