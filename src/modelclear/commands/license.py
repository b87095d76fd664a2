"""``modelclear license``: which license a release (or a bare license file) is under.

Clause by clause, each with the file and lines it was read from.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ..analyzers.license.analyze import analyze_text
from ..analyzers.license.consistency import document_findings
from ..analyzers.license.model import TERM_NAMES
from ..cli import app
from ..config import load_config
from ..console import emit_json, stdout_console
from ..engine import Engine, RunOptions, apply_config, stages
from ..errors import InputError, UsageError
from ..release import stat_file
from ..reports.license import print_report, print_term, report_json
from ..sources import open_release

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


@app.command("license")
def license_cmd(
    target: str = typer.Argument(
        ...,
        help="Directory, weights/GGUF file, org/name[@rev] in the HF cache, "
        "hf://org/name[@rev] on the hub, or a license file.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    explain: str | None = typer.Option(
        None, "--explain", help="Print one term's clause in context."
    ),
    config: str | None = typer.Option(None, "--config", help="modelclear.toml or pyproject.toml "
                                      "to use instead of the nearest one."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Identify a release's license texts and read their terms, with the lines they come from."""
    if explain is not None and explain not in TERM_NAMES:
        raise UsageError(f"--explain: unknown term {explain!r} (one of: {', '.join(TERM_NAMES)})")
    cfg = load_config(config)
    texts: dict[str, str] = {}
    if _is_bare_text(target):
        text = _read_bare(target)
        name = Path(target).name
        texts[name] = text
        report = analyze_text(text, name)
        findings = [f for m in report.licenses for f in document_findings(m)]
        report = apply_config(report.model_copy(update={"findings": tuple(findings)}), cfg)

        def read(file: str) -> str:
            return texts.get(file, "")
    else:
        release = open_release(target)
        report = Engine(release, RunOptions(config=cfg)).require(stages.LICENSE)

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
        print_term(report, explain, read, stdout_console())
        return
    print_report(report, stdout_console())
