"""`plan` on the largest configs in the test data: DeepSeek-V3-sized MLA/MoE (Kimi-K2, 1.03T)
and the corpus DeepSeek-V3 (671B) when present — serving plan and a QLoRA fine-tuning plan.

Bar (issue 15): under 1 s per command, wall clock, CLI start-up included. Prints the best
of three runs and exits 1 when a command is over the bar.

    python benchmarks/plan_bench.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [ROOT / "tests" / "data" / "configs" / "aic-moonshotai--Kimi-K2-Instruct.json",
           ROOT.parent / "shared" / "corpus" / "models" / "DeepSeek-V3" / "config.json"]
BAR = 1.0


def best_of(argv: list[str], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    over = 0
    for cfg in CONFIGS:
        if not cfg.is_file():
            print(f"skip {cfg} (absent)")
            continue
        for extra in ([], ["--finetune", "qlora", "--gradient-checkpointing", "--batch", "1"]):
            argv = [sys.executable, "-m", "modelclear", "plan", str(cfg), "--json", *extra]
            took = best_of(argv)
            over += took > BAR
            print(f"{took:6.3f} s  plan {cfg.parent.name}/{cfg.name} {' '.join(extra)}"
                  f"  {'OK' if took <= BAR else 'OVER ' + str(BAR) + ' s'}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
