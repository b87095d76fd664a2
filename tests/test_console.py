"""Consoles are made when a command runs, and the core never imports a UI.

A console made at import decides its colours from the terminal of that moment; output
captured later (tests, pipes) then carried colour codes. These tests pin the fix.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

import modelclear
from modelclear.cli import main
from modelclear.console import progress, stdout_console
from modelclear.demo import build_demo
from modelclear.progress import SILENT

SRC = Path(modelclear.__file__).parent
#: modules that compute results; they may report progress but never draw it
CORE = ("analyzers", "parsers", "record/builder.py", "record/verify.py", "pipeline.py",
        "inspection.py", "hashing.py", "progress.py", "release.py", "sources")


def _modules(*parts: str) -> list[Path]:
    out: list[Path] = []
    for part in parts:
        p = SRC / part
        out += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return out


def _module_level_calls(tree: ast.Module) -> list[ast.Call]:
    """Calls made when the module is imported (not inside a function or class body)."""
    calls: list[ast.Call] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        calls += [n for n in ast.walk(stmt) if isinstance(n, ast.Call)]
    return calls


def test_no_console_is_made_at_import() -> None:
    for path in _modules("."):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _module_level_calls(tree):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else (
                call.func.id if isinstance(call.func, ast.Name) else "")
            assert name not in ("Console", "stdout_console", "stderr_console"), (
                f"{path.relative_to(SRC)}:{call.lineno} makes a console at import")


def test_core_modules_import_no_ui() -> None:
    for path in _modules(*CORE):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith("rich") and name.rsplit(".", 1)[-1] != "console", (
                    f"{path.relative_to(SRC)}:{node.lineno} imports {name}")


def test_console_follows_the_stdout_of_the_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    buf = io.StringIO()
    monkeypatch.setattr("sys.stdout", buf)
    stdout_console().print("[bold red]plain[/]")
    assert buf.getvalue() == "plain\n"
    monkeypatch.setenv("FORCE_COLOR", "1")
    stdout_console().print("[bold red]coloured[/]")
    assert "\x1b[" in buf.getvalue()


def test_progress_is_silent_off_a_terminal() -> None:
    with progress(True) as sink:
        assert sink is SILENT


@pytest.mark.parametrize("argv", [["inspect", "--hash"], ["scan"], ["license"],
                                  ["check", "--profile", "internal-tool"]])
def test_json_has_no_colour_codes_in_a_forced_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    root = build_demo(tmp_path)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    code = main([argv[0], str(root), *argv[1:], "--json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "\x1b" not in out and "\x1b" not in err
    assert isinstance(json.loads(out), dict)


def test_progress_is_drawn_only_after_the_delay() -> None:
    import io
    import time

    from rich.console import Console

    from modelclear.console import DeferredProgress

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=80)
    fast = DeferredProgress(console, delay=5.0)
    fast.start("t", "scanning", total=10)
    fast.advance("t", 10)
    fast.close()
    assert buf.getvalue() == ""  # finished before the delay: nothing drawn
    slow = DeferredProgress(console, delay=0.05)
    slow.start("t", "hashing", total=100)
    slow.advance("t", 40)
    time.sleep(0.5)  # no calls while one long file is read: the timer draws the bar
    assert slow._progress is not None
    assert slow._progress.tasks[0].completed == 40  # what was counted before it showed
    slow.advance("t", 10)
    assert slow._progress.tasks[0].completed == 50
    slow.close()
    assert "hashing" in buf.getvalue()
