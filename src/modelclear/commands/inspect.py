"""``modelclear inspect``: what a release contains."""

from __future__ import annotations

import typer

from ..cli import app
from ..console import emit_json, stdout
from ..sources import open_release


@app.command()
def inspect(
    target: str = typer.Argument(..., help="Directory, weights/GGUF file, or org/name[@rev]."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    hash_files: bool = typer.Option(False, "--hash", help="sha256 every file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Show what a model release contains."""
    release = open_release(target)
    if json_out:
        emit_json({"files": [f.path for f in release.files]})
    else:
        for f in release.files:
            stdout.print(f.path, f.size)
