"""``modelclear scan TARGET [--json] [--quiet] [--fail-on LEVEL]`` without the CLI stack.

Why: a scanner is run per file in CI loops, where start-up is most of its time. The full
CLI imports typer, click, pydantic (the config model) and the engine before reading a
byte. This path runs when the command line is exactly that simple form and no project
configuration applies (``modelclear.toml`` or ``[tool.modelclear]`` up the folders): it
opens the release, runs the same analyzer and writes the same output (rich only for the
table and the progress bars on a terminal, imported when used; piped output is plain
lines, see :func:`print_plain`). Anything else returns ``None`` and the full CLI
runs, so behaviour never depends on which path ran.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..analyzers.security.model import SecurityReport

_LEVELS = ("info", "low", "medium", "high", "critical", "never")


def _options(argv: list[str]) -> tuple[str, bool, bool, str] | None:
    """(target, json, quiet, fail_on) for the simple form; None for anything else."""
    target: str | None = None
    json_out = quiet = False
    fail_on = "high"
    it = iter(argv)
    for arg in it:
        if arg == "--json":
            json_out = True
        elif arg in ("--quiet", "-q"):
            quiet = True
        elif arg == "--fail-on" or arg.startswith("--fail-on="):
            value = arg.partition("=")[2] if "=" in arg else next(it, None)
            if value not in _LEVELS:
                return None  # let the full CLI word the usage error
            fail_on = value
        elif arg.startswith("-") or target is not None:
            return None
        else:
            target = arg
    return (target, json_out, quiet, fail_on) if target else None


def config_applies() -> bool:
    """Would the full CLI find a configuration? (Then it must run, to validate it.)"""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "modelclear.toml").is_file():
            return True
        py = folder / "pyproject.toml"
        if py.is_file():
            try:
                raw = py.read_bytes()
            except OSError:
                return True  # the full CLI reports the unreadable file
            if _names_us(raw):
                return True
    return False


def _names_us(raw: bytes) -> bool:
    """Does this pyproject.toml have a ``[tool.modelclear]`` table, or fail to parse?

    The full CLI parses every pyproject.toml up the folders (and stops at a broken one),
    so this must too; but ``tomllib`` costs ~20 ms to import. A file found valid and
    without our table is remembered by its length and CRC-32 (an empty marker in the
    cache folder of :mod:`..datatables`), so the next run in the project skips the parse.
    """
    import zlib

    from ..datatables import cache_folder

    marker = cache_folder() / f"pyproject-{len(raw)}-{zlib.crc32(raw):08x}.plain"
    if marker.is_file():
        return False
    import tomllib

    try:
        table = tomllib.loads(raw.decode("utf-8")).get("tool", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # the full CLI reports the broken file
    if "modelclear" in table:
        return True
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # an unwritable cache: parse again next time
    return False


def plain_wanted() -> bool:
    """Is stdout a pipe or a file (and colour not forced)? Then the scan is written as
    plain lines: a box-drawn table wrapped at 80 columns helps no ``grep``, and rich
    costs ~35 ms of start-up. On a terminal the full table is shown, in colour."""
    return not sys.stdout.isatty() and not os.environ.get("FORCE_COLOR")


def print_plain(report: SecurityReport, out: TextIO, *, quiet: bool = False) -> None:
    """The terminal report's content as plain lines, never wrapped: one tab-separated
    line per file that needs a look (path, kind, status, worst finding), then the
    findings of each file, then the counts. Used by the full CLI too, so a piped scan
    reads the same whichever path ran."""
    from ..findings import Severity

    for r in report.files:
        if r.status != "clean" or (r.findings and not quiet):
            worst = f"{r.findings[0].code} {r.findings[0].message}" if r.findings else ""
            out.write(f"{r.path}\t{r.kind}\t{r.status}\t{worst}\n")
    for r in report.files:
        relevant = [f for f in r.findings if f.severity.rank >= Severity.MEDIUM.rank or not quiet]
        if not relevant or (r.status == "clean" and quiet):
            continue
        out.write(f"\n{r.path} ({r.kind}, {r.status})\n")
        for f in relevant:
            where = (f" (line {f.line})" if f.line is not None
                     else (f" (offset {f.offset})" if f.offset is not None else ""))
            out.write(f"  {f.code} {f.severity} {f.message}{where}\n")
            if f.quote:
                out.write(f"      {f.quote}\n")
    c = report.counts()
    out.write(f"\n{len(report.files)} file(s): {c['clean']} clean, {c['warning']} warning, "
              f"{c['unsafe']} unsafe, {c['malformed']} malformed, {c['unsupported']} "
              f"unsupported  (allowlist {report.allowlist_version})\n")


def run_scan(argv: list[str]) -> int | None:
    """Exit code of the scan, or None when the full CLI must handle this command line."""
    opts = _options(argv)
    if opts is None or config_applies():
        return None
    target, json_out, quiet, fail_on = opts
    from ..analyzers.security import analyze
    from ..errors import InputError
    from ..findings import Severity
    from ..schemas import document
    from ..sources import open_release

    try:
        release = open_release(target)
        if json_out or quiet or not sys.stderr.isatty():
            report = analyze(release)
        else:  # progress bars on the terminal, as the full CLI draws them
            from ..console import progress

            with progress(True) as sink:
                report = analyze(release, sink)
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if json_out:
        sys.stdout.write(json.dumps(document("scan", report.to_json()), indent=2,
                                    ensure_ascii=False, default=str) + "\n")
    elif plain_wanted():
        print_plain(report, sys.stdout, quiet=quiet)
    else:
        from ..console import stdout_console
        from .scan import print_terminal

        print_terminal(report, stdout_console(), quiet=quiet)
    if fail_on != "never" and report.reaches(Severity(fail_on)):
        return 1
    return 0
