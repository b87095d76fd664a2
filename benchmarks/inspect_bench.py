"""`inspect` on a 163-shard release shaped like DeepSeek-V3 (real headers, sparse data).

Bar: under 1 s without hashing. Printed beside it, when ``transformers`` (and torch)
are installed, the time ``AutoConfig`` + meta-device model construction takes for the
same config, and the parameters it counts — what memory calculators built on
accelerate do to count parameters.

    python benchmarks/inspect_bench.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth_deepseek import write  # noqa: E402


def best_of(argv: list[str], runs: int = 3) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - t)
        out = proc.stdout
    return best, out


def transformers_time(config_dir: Path) -> str:
    code = (
        "import time,torch; t=time.perf_counter();"
        "from transformers import AutoConfig, AutoModelForCausalLM;"
        f"c=AutoConfig.from_pretrained({str(config_dir)!r});\n"
        "with torch.device('meta'): m=AutoModelForCausalLM.from_config(c)\n"
        "n=sum(p.numel() for p in m.parameters()); print(time.perf_counter()-t, n)"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=900)
    except subprocess.TimeoutExpired:
        return "transformers: timed out after 900 s"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"transformers not usable here ({last[:120]})"
    secs, n = proc.stdout.split()
    return f"transformers AutoConfig + meta-device model: {float(secs):.2f} s, {int(n):,} params"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write(Path(tmp) / "DeepSeek-V3")
        exe = [sys.executable, "-m", "modelclear"]
        startup, _ = best_of([*exe, "--version"])
        secs, out = best_of([*exe, "inspect", str(root), "--json"])
        data = json.loads(out)
        p = data["parameters"]
        print(f"files: {len(data['files'])}, tensors: "
              f"{sum(f['tensors'] or 0 for f in data['weights']['files']):,}")
        print(f"parameters: total {p['total']:,}, active {p['active']:,}, mtp {p['mtp']:,} "
              f"({p['method']})")
        print(f"modelclear inspect --json: {secs:.3f} s wall (best of 3; of which "
              f"{startup:.3f} s is interpreter + CLI start-up)  bar < 1 s")
        print(transformers_time(root))


if __name__ == "__main__":
    main()
