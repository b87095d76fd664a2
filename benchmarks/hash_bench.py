"""Hashing throughput against ``sha256sum`` on the same files.

Prints: one file, ours vs sha256sum (bar ≥ 0.9×); two files in parallel vs one
file (bar ≥ 1.6×). Files are written once into a temporary folder and read from
the page cache on every run, so the numbers compare hashing, not the disk.

    python benchmarks/hash_bench.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from modelclear.hashing import hash_files
from modelclear.release import stat_file


def _write(path: Path, size: int) -> None:
    block = os.urandom(8 << 20)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(left, len(block))])
            left -= len(block)


def _best(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    args = ap.parse_args()
    if shutil.which("sha256sum") is None:
        raise SystemExit("sha256sum not found")
    size = args.size_mb << 20
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.bin", Path(tmp) / "b.bin"
        _write(a, size)
        _write(b, size)
        fa, fb = stat_file(a, "a.bin"), stat_file(b, "b.bin")
        hash_files([fa, fb], use_cache=False)  # warm the page cache
        peer = _best(lambda: subprocess.run(["sha256sum", str(a)], check=True,
                                            capture_output=True))
        one = _best(lambda: hash_files([fa], use_cache=False))
        two = _best(lambda: hash_files([fa, fb], use_cache=False))
        mb = size / 1e6
        print(f"file size            {mb:,.0f} MB")
        print(f"sha256sum, one file  {peer:.3f} s  ({mb / peer:,.0f} MB/s)")
        print(f"modelclear, one file {one:.3f} s  ({mb / one:,.0f} MB/s)")
        print(f"modelclear, two files in parallel {two:.3f} s ({2 * mb / two:,.0f} MB/s)")
        print(f"ratio one file vs sha256sum: {peer / one:.2f}x  (bar >= 0.9x)")
        print(f"ratio two files vs one (throughput): {2 * one / two:.2f}x  (bar >= 1.6x)")


if __name__ == "__main__":
    main()
