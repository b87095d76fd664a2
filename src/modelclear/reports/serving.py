"""Serving runs in the terminal: ``bench``, ``probe``, ``baseline`` and ``drift``.

Each takes the run's JSON document (the same one ``--json`` prints), so the terminal
never shows a number the document does not carry. Tables fit 80 columns; the JSON
and HTML carry every statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..findings import Finding
from ..serving.suites import Suite
from .style import ms, pct


def print_bench(doc: dict[str, Any], console: Console) -> None:
    with_slo = any(lv["goodput"] is not None for lv in doc["levels"])
    t = Table(title=f"{doc['target']['model']} @ {doc['target']['url']} (times in ms)",
              box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), pad_edge=False)
    t.add_column("level", no_wrap=True)
    cols = ["ok", "req/s", "tok/s", *(["good/s"] if with_slo else []), "TTFT p50", "TTFT p99",
            "TPOT p50", "ITL p50", "E2EL p50", "E2EL p99"]
    for col in cols:
        t.add_column(col, justify="right")
    for lv in doc["levels"]:
        good = ["–" if lv["goodput"] is None else f"{lv['goodput']:.2f}"] if with_slo else []
        t.add_row(
            lv["label"].replace("concurrency=", "conc="),
            f"{lv['completed']}/{lv['requests']}",
            f"{lv['request_throughput']:.2f}",
            f"{lv['output_throughput']:.1f}",
            *good,
            ms(lv["ttft_ms"]["median"]),
            ms(lv["ttft_ms"].get("p99")),
            ms(lv["tpot_ms"]["median"]),
            ms(lv["itl_ms"]["median"]),
            ms(lv["e2el_ms"]["median"]),
            ms(lv["e2el_ms"].get("p99")),
        )
    console.print(t)
    for f in doc["findings"]:
        console.print(f"{f['code']} [{f['severity']}] {f['message']}", highlight=False)


def print_probes(doc: dict[str, Any], console: Console) -> None:
    t = Table(title=f"probes: {doc['target']['model']} ({doc['config']['samples']} samples each)")
    for col in ("category", "probes", "pass", "95% CI", "errors", "labels", "worst probe"):
        t.add_column(col)
    for c in doc["categories"]:
        ci = "–" if c["ci95"] is None else f"{c['ci95'][0]:.0%}–{c['ci95'][1]:.0%}"
        labels = ", ".join(f"{k} {v}" for k, v in sorted(c["labels"].items()))
        t.add_row(c["category"], str(c["probes"]),
                  "described" if c["pass_rate"] is None else f"{c['passed']}/{c['scored']} "
                  f"({pct(c['pass_rate'])})", ci, str(c["errors"]), labels,
                  c["worst_probe"] or "–")
    console.print(t)
    s = doc["summary"]
    if s["worst_category"]:
        console.print(f"worst category: {s['worst_category']} ({pct(s['worst_pass_rate'])})",
                      highlight=False)
    for f in doc["findings"]:
        where = f" ({f['file']}:{f['line']})" if f.get("file") else ""
        console.print(f"{f['code']} [{f['severity']}] {f['message']}{where}", highlight=False)


def print_suites(suites: Sequence[Suite], console: Console) -> None:
    for s in suites:
        console.print(f"{s.name} v{s.version}: {len(s.probes)} probes — {s.description}",
                      highlight=False)


def print_baseline(doc: dict[str, Any], output: Path, console: Console) -> None:
    errors = [i for i in doc["items"] if i["error"]]
    console.print(f"baseline: {len(doc['items'])} prompts → {output}"
                  + (f" ({len(errors)} failed)" if errors else ""), highlight=False)


def print_drift(doc: dict[str, Any], found: Sequence[Finding], baseline_file: Path,
                console: Console) -> None:
    t = Table(title=f"drift vs {baseline_file}")
    for col in ("prompt", "exact", "edit dist", "norm. dist", "embed sim", "drifted"):
        t.add_column(col)
    for r in doc["items"]:
        t.add_row(r["id"], "yes" if r["exact"] else "no", f"{r['edit_distance']:.3f}",
                  f"{r['normalized_edit_distance']:.3f}",
                  "–" if r["embedding_similarity"] is None
                  else f"{r['embedding_similarity']:.3f}",
                  "DRIFT" if r["drifted"] else "")
    console.print(t)
    s = doc["summary"]
    console.print(f"{s['drifted']}/{s['prompts']} prompts drifted "
                  f"({s['drift_fraction']:.0%}); {s['exact']} exact", highlight=False)
    for f in found:
        console.print(f"{f.code} [{f.severity}] {f.message}", highlight=False)
