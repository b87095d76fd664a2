"""``modelclear scan FILE`` starts lean: no CLI stack, no template engine, no models.

A scan of one pickle (the CI-loop case) must not import typer, click, pydantic, jinja2 or
rich (with ``--json``, or piped plain output), and must give the same document, text and
exit code as the full CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from modelclear.analyzers.security.allowlist import allowlist_version

EVIL = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
PROBE = """
import sys
from modelclear.cli import run
sys.argv = ["modelclear", "scan", *sys.argv[1:]]
try:
    run()
except SystemExit as exc:
    heavy = [m for m in ("typer", "click", "pydantic", "jinja2", "rich") if m in sys.modules]
    sys.stderr.write(f"HEAVY={','.join(heavy)} EXIT={exc.code}\\n")
"""


def _run(path: Path, cwd: Path, *flags: str, **env_extra: str) -> tuple[str, str]:
    """(the probe's last stderr line, stdout) of a scan with stdout piped."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), **env_extra)
    if "FORCE_COLOR" not in env_extra:
        env.pop("FORCE_COLOR", None)
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path), *flags], capture_output=True,
                          text=True, cwd=cwd, env=env, check=False)
    return proc.stderr.strip().splitlines()[-1], proc.stdout


def _probe(path: Path, cwd: Path) -> tuple[str, dict[str, object]]:
    line, out = _run(path, cwd, "--json")
    return line, json.loads(out)


def test_scan_of_one_file_skips_the_cli_stack(tmp_path: Path) -> None:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    line, doc = _probe(tmp_path / "evil.pkl", tmp_path)
    assert line == "HEAVY= EXIT=1"
    assert doc["files"][0]["status"] == "unsafe"


def test_lean_and_full_paths_agree(tmp_path: Path) -> None:
    from modelclear.cli import main

    (tmp_path / "evil.pkl").write_bytes(EVIL)
    _, lean = _probe(tmp_path / "evil.pkl", tmp_path)
    # a project configuration sends the run through the full CLI
    (tmp_path / "modelclear.toml").write_text("ignore = []\n")
    line, full = _probe(tmp_path / "evil.pkl", tmp_path)
    assert "typer" in line and line.endswith("EXIT=1")
    assert lean == full
    assert main(["scan", str(tmp_path / "evil.pkl"), "--json", "--quiet"]) == 1


def test_piped_plain_text_skips_rich_and_equals_the_full_cli(tmp_path: Path) -> None:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    line, lean = _run(tmp_path / "evil.pkl", tmp_path)
    assert line == "HEAVY= EXIT=1"
    assert lean.splitlines()[0] == (
        "evil.pkl\tpickle\tunsafe\tMC301 GLOBAL imports os.system, which starts processes "
        "or shell commands"
    )
    assert "  MC301 critical GLOBAL imports os.system" in lean and "(offset 2)" in lean
    assert lean.rstrip().endswith("1 unsafe, 0 malformed, 0 unsupported  (allowlist "
                                  f"{allowlist_version()})")
    assert "┃" not in lean
    (tmp_path / "modelclear.toml").write_text("ignore = []\n")
    line, full = _run(tmp_path / "evil.pkl", tmp_path)
    assert "typer" in line and line.endswith("EXIT=1")
    assert lean == full


def test_forced_colour_keeps_the_table(tmp_path: Path) -> None:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    line, out = _run(tmp_path / "evil.pkl", tmp_path, FORCE_COLOR="1")
    assert "rich" in line and "┃" in out


def _on_a_terminal(path: Path, cwd: Path) -> str:
    """Everything a scan writes when stdout and stderr are a pseudo-terminal (a user's)."""
    import pty

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               COLUMNS="160", TERM="xterm")
    for name in ("FORCE_COLOR", "NO_COLOR"):
        env.pop(name, None)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", PROBE, str(path)], stdin=follower,
                            stdout=follower, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(leader)
    return out.decode("utf-8", "replace")


def test_a_terminal_scan_draws_the_table_without_the_cli_stack(tmp_path: Path) -> None:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    lean = _on_a_terminal(tmp_path / "evil.pkl", tmp_path)
    # the table, in colour, with rich only: no typer, click or pydantic, and no progress
    # module for work this short
    assert "┃" in lean and "\x1b[" in lean and "HEAVY=rich EXIT=1" in lean
    (tmp_path / "modelclear.toml").write_text("ignore = []\n")
    full = _on_a_terminal(tmp_path / "evil.pkl", tmp_path)
    assert "typer" in full
    assert lean.split("HEAVY=")[0] == full.split("HEAVY=")[0]
