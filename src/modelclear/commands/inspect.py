"""``modelclear inspect``: what a release contains."""

from __future__ import annotations

import typer

from ..cli import app
from ..config import load_config
from ..console import emit_json, progress, stdout_console
from ..inspection import inspect_release
from ..reports.inspect import render
from ..sources import open_release


@app.command()
def inspect(
    target: str = typer.Argument(
        ..., help="Directory, weights/GGUF file (or one part of a split set), "
        "org/name[@revision] in the Hugging Face cache, or hf://org/name[@revision] on the "
        "hub (weights read by range requests, not downloaded)."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output (schema 1.0)."),
    hash_all: bool = typer.Option(False, "--hash", help="sha256 of every file (cached)."),
    config: str | None = typer.Option(None, "--config", help="modelclear.toml or pyproject.toml "
                                      "to use instead of the nearest one."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Show what a model release contains: files, formats, parameters, architecture, card."""
    cfg = load_config(config)
    release = open_release(target)
    if hash_all:
        from ..sources.base import require_bytes

        require_bytes(release, "--hash")
    with progress(show=not (quiet or json_out), transfer=True) as sink:
        result = inspect_release(release, hash_all=hash_all, progress=sink, config=cfg)
    if json_out:
        emit_json(result.to_json())
    else:
        render(result, stdout_console())
