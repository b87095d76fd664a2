#!/usr/bin/env python3
"""Security scan benchmark: detection, false positives, crashes and throughput vs peers.

Usage:
    python benchmarks/security_bench.py [--peers-bin VENV/bin] [--size-mb 520]
                                        [--skip-peers] [--skip-throughput] [--json OUT]

1. Generates a fresh labelled corpus with ``../shared/corpus/security/make_corpus.py``
   into a temporary folder (nothing in it is ever loaded).
2. Scans every file with modelclear and, when ``--peers-bin`` points at a virtualenv with
   the peers installed (they are not project dependencies: ``python -m venv /tmp/peers &&
   /tmp/peers/bin/pip install picklescan modelscan fickling modelaudit``), with each peer
   through the corpus's own ``run_scanners.py`` wrappers, one process per file, so each
   verdict is attributable. Prints the rate table side by side, then the same peers on
   our second corpus (``security_corpus2.py``).
3. Writes a benign PyTorch checkpoint of at least ``--size-mb`` MB with ``torch.save``
   and times a scan of it: modelclear in-process and as a CLI process, picklescan as a
   CLI process; prints MB/s and the ratio (tensor data is skipped, not read).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from modelclear.analyzers.security import analyze, analyze_file
from modelclear.sources import open_release

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "security"

#: the console script next to this interpreter (same virtualenv)
MODELCLEAR = str(Path(sys.executable).parent / "modelclear")

OUTCOME = {
    "unsafe": "flagged",
    "warning": "warning",  # worst finding medium: passes the default gate, so not "flagged"
    "malformed": "error",
    "unsupported": "unsupported",
    "clean": "clean",
}


def _load_runner() -> Any:
    spec = importlib.util.spec_from_file_location("run_scanners", SHARED / "run_scanners.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {SHARED / 'run_scanners.py'}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_corpus(out: Path) -> dict[str, dict]:
    subprocess.run(
        [sys.executable, str(SHARED / "make_corpus.py"), str(out)], check=True, capture_output=True
    )
    return json.loads((out / "labels.json").read_text())


def ours(corpus: Path, labels: dict[str, dict]) -> dict[str, Any]:
    release = open_release(str(corpus))
    per_file: dict[str, dict] = {}
    for f in release.files:
        if f.path not in labels:
            continue
        t0 = time.perf_counter()
        try:
            r = analyze_file(f, release)
            outcome = OUTCOME[r.status]
            detail = r.findings[0].message if r.findings else ""
        except Exception as exc:  # a crash is what the benchmark counts
            outcome, detail = "crash", f"{type(exc).__name__}: {exc}"
        per_file[f.path] = {
            "outcome": outcome,
            "wall": time.perf_counter() - t0,
            "detail": detail[:160],
        }
    t0 = time.perf_counter()
    analyze(release)
    whole = time.perf_counter() - t0
    t0 = time.perf_counter()
    cli = subprocess.run(
        [MODELCLEAR, "scan", str(corpus), "--json", "--fail-on", "never"], capture_output=True
    )
    cli_wall = time.perf_counter() - t0
    if cli.returncode not in (0, 1):
        print("modelclear CLI failed:", cli.stderr.decode()[-400:], file=sys.stderr)
    return {"per_file": per_file, "in_process_s": whole, "dir_run_s": cli_wall}


def _peer_scanners(rs: Any) -> tuple[tuple[str, Any], ...]:
    """Each peer's binary name and the shared corpus's wrapper that runs it on one file."""
    return (("picklescan", rs.scan_picklescan), ("modelscan", rs.scan_modelscan),
            ("fickling", rs.scan_fickling_cli), ("modelaudit", rs.scan_modelaudit))


def peers(corpus: Path, labels: dict[str, dict], bin_: str) -> dict[str, Any]:
    rs = _load_runner()
    out: dict[str, Any] = {}
    for name, fn in _peer_scanners(rs):
        if not Path(bin_, name).exists():
            print(f"{name} not found in {bin_}; skipped", file=sys.stderr)
            continue
        per_file = {}
        for rel in sorted(labels):
            r, outcome, info = fn(bin_, str(corpus / rel))
            per_file[rel] = {
                "outcome": outcome,
                "wall": r["wall"],
                "detail": str(info.get("crash") or "")[:160],
            }
        dir_s = float("nan")
        if name in rs.DIR_CMDS:
            dir_s = rs.run(rs.DIR_CMDS[name](bin_, str(corpus)), timeout=1800)["wall"]
        out[name] = {"per_file": per_file, "dir_run_s": dir_s}
    return out


def peers_corpus2(out: Path, bin_: str) -> dict[str, tuple[int, int, int, int]]:
    """Each peer on our second corpus: (malicious flagged, malicious, benign flagged, benign).

    The corpus was generated by :func:`corpus2` into ``out`` already.
    """
    rs = _load_runner()
    labels = json.loads((out / "labels.json").read_text())
    mal = [p for p, lab in labels.items() if lab["malicious"]]
    ben = [p for p, lab in labels.items() if not lab["malicious"]]
    scores: dict[str, tuple[int, int, int, int]] = {}
    for name, fn in _peer_scanners(rs):
        if not Path(bin_, name).exists():
            continue
        flagged = {p: fn(bin_, str(out / p))[1] == "flagged" for p in mal + ben}
        scores[name] = (sum(flagged[p] for p in mal), len(mal),
                        sum(flagged[p] for p in ben), len(ben))
    return scores


def rates(per_file: dict[str, dict], labels: dict[str, dict]) -> dict[str, Any]:
    def rows(kind: str) -> list[dict]:
        return [per_file[p] for p, lab in labels.items() if lab["kind"] == kind and p in per_file]

    mal, ben, bad = rows("malicious"), rows("benign"), rows("malformed")
    flagged = sum(r["outcome"] == "flagged" for r in mal)
    fp = sum(r["outcome"] == "flagged" for r in ben)
    bad_counts = {
        o: sum(r["outcome"] == o for r in bad)
        for o in ("flagged", "error", "clean", "unsupported", "crash")
    }
    return {
        "malicious": f"{flagged}/{len(mal)} ({100 * flagged / max(1, len(mal)):.0f}%)",
        "benign_fp": f"{fp}/{len(ben)} ({100 * fp / max(1, len(ben)):.0f}%)",
        "malformed": "/".join(str(bad_counts[o]) for o in bad_counts),
        "crashes": sum(r["outcome"] == "crash" for r in per_file.values()),
        "sum_wall_s": sum(r["wall"] for r in per_file.values()),
        "missed": sorted(
            p
            for p, lab in labels.items()
            if lab["kind"] == "malicious" and per_file.get(p, {}).get("outcome") != "flagged"
        ),
        "false_positives": sorted(
            p
            for p, lab in labels.items()
            if lab["kind"] == "benign" and per_file.get(p, {}).get("outcome") == "flagged"
        ),
    }


def corpus2(out: Path) -> dict[str, Any]:
    """Our own second corpus (benchmarks/security_corpus2.py): modelclear's score on it.

    "gated" = the default ``--fail-on high`` gate stops the file (unsafe, or unsupported /
    malformed with a high finding): for a file we cannot read, that is the right outcome.
    """
    gen = Path(__file__).with_name("security_corpus2.py")
    subprocess.run([sys.executable, str(gen), str(out)], check=True, capture_output=True)
    labels = json.loads((out / "labels.json").read_text())
    release = open_release(str(out))
    rows: dict[str, tuple[str, bool]] = {}
    for f in release.files:
        if f.path in labels:
            r = analyze_file(f, release)
            rows[f.path] = (r.status, any(x.severity.rank >= 3 for x in r.findings))
    mal = [p for p, lab in labels.items() if lab["malicious"]]
    ben = [p for p, lab in labels.items() if not lab["malicious"]]
    return {
        "malicious": len(mal), "benign": len(ben),
        "unsafe": sum(rows[p][0] == "unsafe" for p in mal),
        "gated": sum(rows[p][1] for p in mal),
        "clean_malicious": sorted(p for p in mal if rows[p][0] == "clean"),
        "missed": sorted(p for p in mal if not rows[p][1]),
        "false_alarms": sorted(p for p in ben if rows[p][1] or rows[p][0] != "clean"),
    }


def write_checkpoint(path: Path, size_mb: int) -> int:
    import torch

    per = 1 << 20  # 1 Mi float32 = 4 MiB per tensor
    n = max(1, -(-size_mb * 1_000_000 // (per * 4)))
    g = torch.Generator().manual_seed(0)
    sd = {
        f"model.layers.{i // 4}.mlp.w{i % 4}.weight": torch.randn(1024, 1024, generator=g)
        for i in range(n)
    }
    torch.save(sd, path)
    return path.stat().st_size


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def throughput(size_mb: int, bin_: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        ckpt = Path(d) / "big_checkpoint.pt"
        size = write_checkpoint(ckpt, size_mb)
        with open(ckpt, "rb") as fh:  # same warm page cache for every contender
            while fh.read(1 << 24):
                pass
        release = open_release(str(ckpt))
        f = release.files[0]
        report = analyze_file(f, release)
        assert report.status == "clean", report.findings
        res: dict[str, Any] = {"bytes": size, "status": report.status}
        res["modelclear_in_process_s"] = _best(lambda: analyze_file(f, release))
        cmd = [MODELCLEAR, "scan", str(ckpt), "--json", "--fail-on", "never"]
        res["modelclear_cli_s"] = _best(
            lambda: subprocess.run(cmd, capture_output=True, check=True)
        )
        if bin_ and Path(bin_, "picklescan").exists():
            pcmd = [str(Path(bin_, "picklescan")), "-p", str(ckpt)]
            res["picklescan_cli_s"] = _best(lambda: subprocess.run(pcmd, capture_output=True))
        if bin_ and Path(bin_, "python").exists() and Path(bin_, "picklescan").exists():
            # picklescan's own scan function, timed inside its interpreter: the engine
            # comparison without either tool's start-up
            code = (
                "import sys, time\n"
                "from picklescan.scanner import scan_file_path\n"
                "best = 1e9\n"
                "for _ in range(3):\n"
                "    t = time.perf_counter(); r = scan_file_path(sys.argv[1])\n"
                "    best = min(best, time.perf_counter() - t)\n"
                "print(best, r.infected_files, r.scan_err)\n"
            )
            p = subprocess.run(
                [str(Path(bin_, "python")), "-c", code, str(ckpt)], capture_output=True, text=True
            )
            try:
                res["picklescan_in_process_s"] = float(p.stdout.split()[0])
            except (IndexError, ValueError):
                print("picklescan in-process timing failed:", p.stderr[-300:], file=sys.stderr)
        if bin_ and Path(bin_, "modelscan").exists():
            mcmd = [
                str(Path(bin_, "modelscan")),
                "-p",
                str(ckpt),
                "-r",
                "json",
                "-o",
                str(Path(d) / "ms.json"),
            ]
            res["modelscan_cli_s"] = _best(
                lambda: subprocess.run(mcmd, capture_output=True), repeat=1
            )
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers-bin", help="bin/ of a virtualenv with picklescan, modelscan, "
                    "fickling and modelaudit (peers missing there are skipped and named)")
    ap.add_argument("--size-mb", type=int, default=520)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--json", help="also write all numbers to this file")
    args = ap.parse_args()
    if not (SHARED / "make_corpus.py").is_file():
        print(f"corpus generator not found at {SHARED}", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        corpus = Path(d) / "corpus"
        labels = make_corpus(corpus)
        kinds = {
            k: sum(v["kind"] == k for v in labels.values())
            for k in ("malicious", "benign", "malformed")
        }
        print(f"corpus: {len(labels)} files {kinds}")
        mine = ours(corpus, labels)
        table = {"modelclear": (rates(mine["per_file"], labels), mine["dir_run_s"])}
        if args.peers_bin and not args.skip_peers:
            for name, res in peers(corpus, labels, args.peers_bin).items():
                table[name] = (rates(res["per_file"], labels), res["dir_run_s"])
        print()
        print(
            "| scanner | malicious flagged | benign flagged (FP) | malformed: flagged/error/"
            "clean/unsupported/crash | crashes | sum per-file wall s | whole-corpus run s |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, (r, dir_s) in table.items():
            print(
                f"| {name} | {r['malicious']} | {r['benign_fp']} | {r['malformed']} | "
                f"{r['crashes']} | {r['sum_wall_s']:.2f} | {dir_s:.2f} |"
            )
        print(f"\nmodelclear whole-corpus analyze() in process: {mine['in_process_s']:.3f} s")
        for name, (r, _) in table.items():
            if r["missed"]:
                print(f"{name} missed: {', '.join(r['missed'])}")
            if r["false_positives"]:
                print(f"{name} false positives: {', '.join(r['false_positives'])}")
        results["corpus"] = {k: v[0] | {"dir_run_s": v[1]} for k, v in table.items()}
        c2 = corpus2(Path(d) / "corpus2")
        print(
            f"\nsecond corpus (benchmarks/security_corpus2.py, {c2['malicious']} malicious, "
            f"{c2['benign']} benign): modelclear stops {c2['gated']}/{c2['malicious']} malicious "
            f"at the default gate ({c2['unsafe']} unsafe, the rest unsupported/malformed high); "
            f"clean: {len(c2['clean_malicious'])}; benign not clean: "
            f"{len(c2['false_alarms'])}/{c2['benign']}"
        )
        for key in ("missed", "false_alarms"):
            if c2[key]:
                print(f"  {key}: {', '.join(c2[key])}")
        if args.peers_bin and not args.skip_peers:
            c2["peers"] = peers_corpus2(Path(d) / "corpus2", args.peers_bin)
            for name, (fm, m, fb, b) in c2["peers"].items():
                print(f"  {name:<11} flags {fm}/{m} malicious, {fb}/{b} benign")
        results["corpus2"] = c2
    if not args.skip_throughput:
        t = throughput(args.size_mb, args.peers_bin)
        mb = t["bytes"] / 1e6
        print(f"\nthroughput on a {mb:.0f} MB torch.save checkpoint (warm page cache, best of 3):")
        for key in (
            "modelclear_in_process_s",
            "picklescan_in_process_s",
            "modelclear_cli_s",
            "picklescan_cli_s",
            "modelscan_cli_s",
        ):
            if key in t:
                print(f"  {key[:-2]:<24} {t[key]:8.3f} s  {mb / t[key]:10.0f} MB/s")
        if "picklescan_in_process_s" in t:
            ratio = t["picklescan_in_process_s"] / t["modelclear_in_process_s"]
            print(f"  ratio picklescan/modelclear, scan engine in process: {ratio:.1f}x")
        if "picklescan_cli_s" in t:
            ratio = t["picklescan_cli_s"] / t["modelclear_cli_s"]
            print(f"  ratio picklescan/modelclear, whole CLI process: {ratio:.2f}x")
        t0 = time.perf_counter()
        subprocess.run([MODELCLEAR, "--version"], capture_output=True)
        t["modelclear_cli_startup_s"] = time.perf_counter() - t0
        print(
            "  modelclear CLI start-up alone (`modelclear --version`): "
            f"{t['modelclear_cli_startup_s']:.2f} s"
        )
        results["throughput"] = t
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
