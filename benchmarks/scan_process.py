#!/usr/bin/env python3
"""Whole-process ``modelclear scan FILE`` against ``picklescan -p FILE``, warm and cold.

Usage: python benchmarks/scan_process.py [--size-mb 520] [--runs 9] [--keep DIR]

Writes a benign ``torch.save`` checkpoint of at least ``--size-mb`` MB into a temporary
folder (never into the repository), then:

* warm: both scanners run as separate processes, alternating (paired runs, so load on
  this shared machine hits both alike); the medians and their ratio are printed
  (target: modelclear <= 1.2x picklescan). Both must call the file clean. Measured
  twice: stdout piped (modelclear writes plain lines; also ``--json``) and stdout on a
  pseudo-terminal, stderr too (modelclear draws its rich table: the user-facing case).
* cold: the page cache is dropped (``/proc/sys/vm/drop_caches`` when permitted, else
  ``posix_fadvise(DONTNEED)`` on the file) and one ``modelclear scan`` runs; the bytes it
  read from storage (``read_bytes`` of ``/proc/PID/io``, sampled at exit through a
  wrapper that scans in-process) are printed as a share of the file (target <= 1%).
  The file's own pages resident after the run (``mincore`` via ``fincore`` when
  installed) are printed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
MODELCLEAR = str(BIN / "modelclear")
PICKLESCAN = shutil.which("picklescan") or str(BIN / "picklescan")

#: runs `modelclear scan FILE --quiet` in-process, then prints this process's read_bytes
_COLD = """
import sys
from modelclear.cli import run
sys.argv = ["modelclear", "scan", sys.argv[1], "--quiet"]
try:
    run()
except SystemExit as exc:
    code = exc.code
with open("/proc/self/io") as fh:
    io = dict(line.split(": ") for line in fh.read().splitlines())
sys.stderr.write(f"READ_BYTES {io['read_bytes']} EXIT {code}\\n")
"""


def make_checkpoint(folder: Path, size_mb: int) -> Path:
    import torch

    path = folder / "checkpoint.pt"
    n = size_mb * (1 << 20) // 4 // 64
    state = {f"layer{i}.weight": torch.randn(n // 1024 + 1, 1024) for i in range(64)}
    state["meta"] = {"epoch": 3, "lr": 1e-4}
    torch.save(state, path)
    return path


#: both scanners run as installed packages run: with compiled bytecode. This workspace sets
#: PYTHONDONTWRITEBYTECODE, which would make every run recompile modelclear from source
#: (picklescan's wheel install already has its .pyc files); the bytecode goes to a
#: temporary prefix, never into the repository.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str]) -> tuple[float, int, str]:
    """Wall time of one process with stdout piped (modelclear writes plain lines)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=ENV)
    return time.perf_counter() - start, proc.returncode, proc.stdout + proc.stderr


def timed_tty(cmd: list[str]) -> float:
    """Wall time of one process whose stdout and stderr are a pseudo-terminal, as a user
    at a terminal runs it (modelclear draws its rich table and, for long work, progress
    bars). Until stop 12 this piped stderr, which hid that a terminal scan took the full
    CLI path: 343 ms then, 138 ms now (picklescan ~100 ms)."""
    import pty

    leader, follower = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=follower, stdout=follower, stderr=follower, env=ENV)
    os.close(follower)
    while True:  # drain the terminal so the child never blocks on a full buffer
        try:
            if not os.read(leader, 65536):
                break
        except OSError:  # EIO: the child closed its end
            break
    proc.wait()
    took = time.perf_counter() - start
    os.close(leader)
    return took


def drop_cache(path: Path) -> str:
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("1\n")
        return "drop_caches"
    except OSError:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        return "posix_fadvise(DONTNEED)"


def _cold_read(path: Path) -> tuple[str, int] | None:
    how = drop_cache(path)
    proc = subprocess.run([sys.executable, "-c", _COLD, str(path)], capture_output=True,
                          text=True, env=ENV)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("READ_BYTES")), "")
    if not line:
        print(f"cold run failed: {proc.stderr[-500:]}")
        return None
    return how, int(line.split()[1])


def cold(path: Path) -> None:
    """Bytes read with a cold cache, minus a cold scan of a 20-byte pickle (Python, the
    package and its data files are read from storage too)."""
    size = path.stat().st_size
    tiny = path.with_name("tiny.pkl")
    tiny.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94.")
    base, run = _cold_read(tiny), _cold_read(path)
    if base is None or run is None:
        return
    how, read = run
    extra = max(0, read - base[1])
    print(f"cold cache ({how}): the scan read {read:,} bytes from storage, {base[1]:,} for a "
          f"20-byte pickle; the checkpoint cost {extra:,} bytes = {100 * extra / size:.3f}% "
          f"of its {size:,} bytes (target <= 1%)")
    if shutil.which("fincore"):
        out = subprocess.run(["fincore", "-b", str(path)], capture_output=True, text=True)
        print("fincore after the run:", out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=520)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--keep", type=Path, help="write the checkpoint here (reused if present)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        path = folder / "checkpoint.pt"
        if not path.exists():
            path = make_checkpoint(folder, args.size_mb)
        size = path.stat().st_size
        print(f"checkpoint: {size / 1e6:.0f} MB torch.save ({path.name})")
        ours_cmd = [MODELCLEAR, "scan", str(path)]
        peer_cmd = [PICKLESCAN, "-p", str(path)]
        for cmd in (ours_cmd, peer_cmd):  # warm the page cache and check verdicts
            secs, code, out = timed(cmd)
            print(f"  {Path(cmd[0]).name}: exit {code} ({secs:.2f} s)")
        ours, ours_json, ours_tty, peer, peer_tty = [], [], [], [], []
        for _ in range(args.runs):
            ours.append(timed(ours_cmd)[0])
            ours_json.append(timed([*ours_cmd, "--json"])[0])
            peer.append(timed(peer_cmd)[0])
            ours_tty.append(timed_tty(ours_cmd))
            peer_tty.append(timed_tty(peer_cmd))
        mo, mj, mp, mt, mpt = (statistics.median(x)
                               for x in (ours, ours_json, peer, ours_tty, peer_tty))
        print(f"warm, median of {args.runs} paired runs (target <= 1.2x):\n"
              f"  piped stdout (plain lines): modelclear {mo * 1000:.0f} ms, --json "
              f"{mj * 1000:.0f} ms; picklescan {mp * 1000:.0f} ms; ratio {mo / mp:.2f}x "
              f"(--json {mj / mp:.2f}x)\n"
              f"  stdout and stderr on a terminal (rich table): modelclear {mt * 1000:.0f} ms; "
              f"picklescan {mpt * 1000:.0f} ms; ratio {mt / mpt:.2f}x")
        cold(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
