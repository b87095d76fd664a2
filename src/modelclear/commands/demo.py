"""``modelclear demo``: build a small realistic release and run every analyzer on it."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import typer
from rich.rule import Rule

from ..cli import app
from ..console import emit_json, stdout_console
from ..demo import build_demo
from ..schemas import document


@app.command()
def demo(
    keep: str | None = typer.Option(
        None, "--keep", help="Build the release in this folder and keep it (default: a "
        "temporary folder, removed afterwards)."),
    profile: str = typer.Option("internal-tool", "--profile", "-p",
                                help="Built-in profile for the check and the audit."),
    json_out: bool = typer.Option(False, "--json", help="Only a JSON summary of the steps."),
) -> None:
    """Build a demo release offline; run inspect, license, scan, plan, audit, record, verify."""
    from ..cli import main

    with tempfile.TemporaryDirectory(prefix="modelclear-demo-") as tmp:
        base = Path(keep) if keep else Path(tmp)
        root = build_demo(base)
        registry = f"sqlite:///{base / 'demo-registry.sqlite'}"
        target = str(root)
        if not json_out:
            stdout_console().print(f"[bold]demo release written to[/] {root}\n")
        steps: list[tuple[str, list[str], set[int]]] = [
            ("What did we get?", ["inspect", target, "--hash", "-q"], {0}),
            ("What may we do with it?", ["license", target, "-q"], {0}),
            ("Is it safe to load?", ["scan", target, "-q"], {0, 1}),
            ("What does it take to run?", ["plan", target, "--gpu", "L4", "--context", "4096",
                                           "-q"], {0}),
            (f"Does it fit our deployment ({profile})?",
             ["audit", target, "--profile", profile, "-q", "--fail-on", "never"], {0}),
            ("Record the clearance", ["record", target, "--profile", profile, "--reviewer",
                                      "demo", "--note", "modelclear demo", "--registry",
                                      registry, "-q"], {0}),
        ]
        shard = root / "model-00002-of-00002.safetensors"
        steps.append(("One byte of a weights shard changes; can we tell?",
                      ["verify", target, "--registry", registry, "-q"], {1}))
        ran: list[dict[str, object]] = []
        with contextlib.redirect_stdout(io.StringIO()) if json_out else contextlib.nullcontext():
            out = stdout_console()  # after the redirect: --json keeps the steps' output away
            for title, argv, ok in steps:
                if argv[0] == "verify":
                    data = bytearray(shard.read_bytes())
                    data[-1] ^= 0xFF
                    shard.write_bytes(bytes(data))
                out.print(Rule(f"[bold]{title}[/]  [dim]modelclear {argv[0]}[/]"))
                code = main(argv)
                ran.append({"step": title, "command": argv[0], "exit_code": code,
                            "expected": sorted(ok), "ok": code in ok})
                if code not in ok:
                    out.print(f"[red]step `modelclear {argv[0]}` exited {code}, expected "
                                 f"{' or '.join(map(str, sorted(ok)))}[/]")
                    break
        passed = all(r["ok"] for r in ran) and len(ran) == len(steps)
        if json_out:
            emit_json(document("demo", {"release": str(root), "kept": bool(keep),
                                        "steps": ran, "ok": passed}))
        elif passed:
            stdout_console().print("\n[bold green]demo complete[/]: verify caught the "
                                   "changed shard.")
        if not passed:
            raise typer.Exit(1)
