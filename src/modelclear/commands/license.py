"""``modelclear license``: which license a release (or a bare license file) is under.

Clause by clause, each with the file and lines it was read from. Many targets are read
in one process (files, folders of license texts, releases): the catalog is loaded once,
and nothing a bare text does not need (the engine, the sources, the HTTP client) is
imported for it, so a folder of texts costs start-up once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..cli import app
from ..errors import InputError, UsageError
from ..reports.license_lean import is_bare_text, read_text_target, texts_in

if TYPE_CHECKING:  # imported when the command runs: start-up stays small
    from ..analyzers.license.model import LicenseReport
    from ..config import Config


@dataclass
class _Result:
    """One target's license report and how to read its files back for ``--explain``."""

    target: str
    report: LicenseReport
    read: Callable[[str], str]


def _bare(path: Path, shown: str, cfg: Config) -> _Result:
    # the same reading as the lean path (reports/license_lean.py), then the configuration
    from ..engine.core import apply_config

    text, report = read_text_target(path)
    report = apply_config(report, cfg)
    return _Result(shown, report, lambda file: text if file == path.name else "")


def _release(target: str, cfg: Config) -> _Result:
    from ..engine import Engine, RunOptions, stages
    from ..sources import open_release

    release = open_release(target)
    report = Engine(release, RunOptions(config=cfg)).require(stages.LICENSE)
    texts: dict[str, str] = {}

    def read(file: str) -> str:
        if file not in texts:
            f = release.get(file)
            if f is None:
                raise InputError(file, "not in the release")
            texts[file] = f.read_text()
        return texts[file]

    return _Result(target, report, read)


def _results(target: str, cfg: Config) -> list[_Result]:
    if is_bare_text(target):
        return [_bare(Path(target), Path(target).name, cfg)]
    texts = texts_in(Path(target))
    if texts is not None:
        return [_bare(f, str(f), cfg) for f in texts]
    return [_release(target, cfg)]


_HELP = (
    "Identify license texts and read their terms, with the lines they come from.\n\n"
    "One target prints one report (JSON: the license document); several targets, or a "
    "folder of license texts, print one report per file (JSON: the license-set document)."
)


@app.command("license", help=_HELP)
def license_cmd(
    targets: Annotated[list[str], typer.Argument(
        help="Directories (releases, or folders of license texts), weights/GGUF files, "
        "org/name\\[@rev] in the HF cache, hf://org/name\\[@rev] on the hub, or license files; "
        "several are read in one run.",
    )],
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    explain: str | None = typer.Option(
        None, "--explain", help="Print one term's clause in context."
    ),
    config: str | None = typer.Option(None, "--config", help="modelclear.toml or pyproject.toml "
                                      "to use instead of the nearest one."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Identify license texts and read their terms, with the lines they come from."""
    from ..analyzers.license.model import TERM_NAMES
    from ..config import load_config
    from ..console import emit_json, stdout_console
    from ..reports.license import print_report, print_term, report_json, report_set_json

    if explain is not None and explain not in TERM_NAMES:
        raise UsageError(f"--explain: unknown term {explain!r} (one of: {', '.join(TERM_NAMES)})")
    cfg = load_config(config)
    results = [r for t in targets for r in _results(t, cfg)]
    if json_out:
        if len(targets) == 1 and len(results) == 1:
            emit_json(report_json(results[0].report, results[0].target))
        else:
            emit_json(report_set_json([(r.report, r.target) for r in results]))
        return
    console = stdout_console()
    for r in results:
        if len(results) > 1:
            console.rule(r.target)
        if explain is not None:
            print_term(r.report, explain, r.read, console)
        else:
            print_report(r.report, console)
