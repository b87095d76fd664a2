"""``modelclear demo``: build a small realistic release and run every analyzer on it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.rule import Rule

from ..cli import app
from ..console import stdout
from ..demo import build_demo


@app.command()
def demo(
    keep: str | None = typer.Option(
        None, "--keep", help="Build the release in this folder and keep it (default: a "
        "temporary folder, removed afterwards)."),
    profile: str = typer.Option("internal-tool", "--profile", "-p",
                                help="Built-in profile for the check and the audit."),
) -> None:
    """Build a demo release offline; run inspect, license, scan, plan, audit, record, verify."""
    from ..cli import main

    with tempfile.TemporaryDirectory(prefix="modelclear-demo-") as tmp:
        base = Path(keep) if keep else Path(tmp)
        root = build_demo(base)
        registry = f"sqlite:///{base / 'demo-registry.sqlite'}"
        target = str(root)
        stdout.print(f"[bold]demo release written to[/] {root}\n")
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
        for title, argv, ok in steps:
            stdout.print(Rule(f"[bold]{title}[/]  [dim]modelclear {' '.join(argv[:1])}[/]"))
            code = main(argv)
            if code not in ok:
                stdout.print(f"[red]step `modelclear {argv[0]}` exited {code}[/]")
                raise typer.Exit(1)
        shard = root / "model-00002-of-00002.safetensors"
        data = bytearray(shard.read_bytes())
        data[-1] ^= 0xFF
        shard.write_bytes(bytes(data))
        stdout.print(Rule("[bold]One byte of a weights shard changes; can we tell?[/]  "
                          "[dim]modelclear verify[/]"))
        code = main(["verify", target, "--registry", registry, "-q"])
        if code != 1:
            stdout.print(f"[red]verify should have reported the change (exit 1), got {code}[/]")
            raise typer.Exit(1)
        stdout.print("\n[bold green]demo complete[/]: verify caught the changed shard.")
