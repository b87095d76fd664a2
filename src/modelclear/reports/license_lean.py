"""``modelclear license TEXT|FOLDER-OF-TEXTS... [--json] [--quiet]`` without the CLI stack.

Why: reading a folder of license texts is a batch job whose run time was mostly start-up
(typer, click and rich's progress machinery cost ~60 ms before the first text is read;
issue 12 measures whole processes against ScanCode). When every target is a bare license
text or a folder holding only texts, and no project configuration applies, this path
reads them with the same functions the full command uses (:func:`read_text_target`) and
writes the same output, byte for byte. Anything else — a release, ``--explain``,
``--config``, a usage error — returns ``None`` and the full CLI runs.

The target rules (what is a bare text, what makes a folder a release) live here, so the
full ``license`` command and this path cannot disagree about them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analyzers.license.model import LicenseReport

_WEIGHT_SUFFIXES = {".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".onnx", ".h5"}
#: a bare license file bigger than this is not a license
_MAX_TEXT = 4 * 1024 * 1024
#: files whose presence makes a folder a model release rather than a folder of texts
_RELEASE_FILES = {
    "config.json", "model_index.json", "tokenizer.json", "tokenizer_config.json",
    "generation_config.json", "params.json", "modelcard.md",
}
#: what a license text in a folder of texts is called (README files describe the folder)
_TEXT_SUFFIXES = {"", ".txt", ".md", ".rst", ".text"}


def is_bare_text(target: str) -> bool:
    """A single file that is not weights: read as one license text."""
    p = Path(target)
    return p.is_file() and p.suffix.lower() not in _WEIGHT_SUFFIXES


def _has_card(folder: Path) -> bool:
    """A README that opens with front matter is a model card: the folder is a release."""
    for f in folder.iterdir():
        if f.is_file() and f.name.lower() == "readme.md":
            with f.open("rb") as fh:
                return fh.read(4).startswith(b"---")
    return False


def texts_in(folder: Path) -> list[Path] | None:
    """The license texts of a folder that holds nothing of a model (no weights, config,
    tokenizer or model card), or None when the folder is a release."""
    if not folder.is_dir():
        return None
    files = [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")]
    if any(
        f.name.lower() in _RELEASE_FILES or f.suffix.lower() in _WEIGHT_SUFFIXES for f in files
    ) or _has_card(folder):
        return None
    texts = sorted(
        f for f in files
        if f.suffix.lower() in _TEXT_SUFFIXES and not f.name.lower().startswith("readme")
    )
    return texts or None


def read_bare(p: Path) -> str:
    """The text of a bare license file (size-limited, decoded as the release reader does)."""
    from ..release import stat_file

    return stat_file(p, p.name).read_text(limit=_MAX_TEXT)


def read_text_target(path: Path) -> tuple[str, LicenseReport]:
    """(text, report) of one bare license text, before any configuration is applied.

    Only the text reader: not ``analyze`` (cards, GGUF metadata) nor the engine.
    """
    from ..analyzers.license.consistency import document_findings
    from ..analyzers.license.text import analyze_text

    text = read_bare(path)
    report = analyze_text(text, path.name)
    findings = [f for m in report.licenses for f in document_findings(m)]
    return text, replace(report, findings=tuple(findings))


def _options(argv: list[str]) -> tuple[list[str], bool] | None:
    """(targets, json) for the simple form; None for anything else."""
    targets: list[str] = []
    json_out = False
    for arg in argv:
        if arg == "--json":
            json_out = True
        elif arg in ("--quiet", "-q"):
            continue  # texts are read without progress output on either path
        elif arg.startswith("-"):
            return None
        else:
            targets.append(arg)
    return (targets, json_out) if targets else None


def _files(targets: list[str]) -> list[tuple[Path, str]] | None:
    """(file, name shown) per text to read, or None when a target is not texts only."""
    out: list[tuple[Path, str]] = []
    for t in targets:
        if is_bare_text(t):
            out.append((Path(t), Path(t).name))
            continue
        texts = texts_in(Path(t))
        if texts is None:
            return None
        out.extend((f, str(f)) for f in texts)
    return out


def run_license(argv: list[str]) -> int | None:
    """Exit code, or None when the full CLI must handle this command line."""
    from .scan_lean import config_applies

    opts = _options(argv)
    if opts is None:
        return None
    targets, json_out = opts
    files = _files(targets)
    if files is None or config_applies():
        return None
    from ..errors import InputError

    try:
        results = [(read_text_target(path)[1], shown) for path, shown in files]
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    from .license import report_json, report_set_json

    if json_out:
        doc = (report_json(results[0][0], results[0][1]) if len(targets) == 1
               and len(results) == 1 else report_set_json(results))
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
        return 0
    from rich.console import Console  # not ..console: it loads rich's progress bars

    from .license import print_report

    console = Console(file=sys.stdout, soft_wrap=False)
    for report, shown in results:
        if len(results) > 1:
            console.rule(shown)
        print_report(report, console)
    return 0
