"""Self-contained HTML benchmark report with inline SVG plots.

The plots are drawn here as SVG rather than with matplotlib: the report needs four simple
charts (histograms, and a line chart of latency against load), and a plotting stack would be
a heavy dependency for that. The page references nothing outside itself, so it can be
archived next to a clearance record.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .style import plot_number

W, H = 520, 260
ML, MR, MT, MB = 56, 16, 28, 40
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")


def _nice_max(v: float) -> float:
    if v <= 0 or not math.isfinite(v):
        return 1.0
    exp = 10.0 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _frame(title: str, xlabel: str, ylabel: str, xmax: float, ymax: float, xmin: float = 0.0
           ) -> list[str]:
    pw, ph = W - ML - MR, H - MT - MB
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    for i in range(6):
        y = MT + ph - ph * i / 5
        out.append(f'<line x1="{ML}" y1="{y:.1f}" x2="{ML + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(
            f'<text x="{ML - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
            f"{plot_number(ymax * i / 5)}</text>"
        )
        x = ML + pw * i / 5
        out.append(
            f'<text x="{x:.1f}" y="{MT + ph + 14}" text-anchor="middle" font-size="10">'
            f"{plot_number(xmin + (xmax - xmin) * i / 5)}</text>"
        )
    out.append(
        f'<text x="{ML + pw / 2}" y="{H - 6}" text-anchor="middle" font-size="11">'
        f"{html.escape(xlabel)}</text>"
    )
    out.append(
        f'<text x="12" y="{MT + ph / 2}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 12 {MT + ph / 2})">{html.escape(ylabel)}</text>'
    )
    return out


def histogram(title: str, xlabel: str, series: Mapping[str, Sequence[float]], bins: int = 30,
              ylabel: str = "requests") -> str:
    """Overlaid step histograms, one per load level."""
    vals = [v for s in series.values() for v in s]
    if not vals:
        return f"<p>{html.escape(title)}: no data.</p>"
    xmax = _nice_max(max(vals))
    width = xmax / bins
    counts = {}
    for name, s in series.items():
        c = [0] * bins
        for v in s:
            c[min(bins - 1, max(0, int(v / width)))] += 1
        counts[name] = c
    ymax = _nice_max(max(max(c) for c in counts.values()))
    out = _frame(title, xlabel, ylabel, xmax, ymax)
    pw, ph = W - ML - MR, H - MT - MB
    for k, (name, c) in enumerate(counts.items()):
        pts = []
        for i, n in enumerate(c):
            x0, x1 = ML + pw * i / bins, ML + pw * (i + 1) / bins
            y = MT + ph - ph * n / ymax
            pts += [f"{x0:.1f},{y:.1f}", f"{x1:.1f},{y:.1f}"]
        color = PALETTE[k % len(PALETTE)]
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{" ".join(pts)}">'
            f"<title>{html.escape(name)}</title></polyline>"
        )
    out += _legend(list(counts))
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    title: str, xlabel: str, ylabel: str, series: dict[str, Sequence[tuple[float, float]]]
) -> str:
    pts_all = [p for s in series.values() for p in s]
    if not pts_all:
        return f"<p>{html.escape(title)}: no data.</p>"
    xmax = _nice_max(max(x for x, _ in pts_all))
    ymax = _nice_max(max(y for _, y in pts_all))
    out = _frame(title, xlabel, ylabel, xmax, ymax)
    pw, ph = W - ML - MR, H - MT - MB
    for k, (name, s) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        coords = [(ML + pw * x / xmax, MT + ph - ph * y / ymax) for x, y in sorted(s)]
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            + '"/>'
        )
        for (x, y), (vx, vy) in zip(coords, sorted(s), strict=True):
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{html.escape(name)}: {plot_number(vx)} → {plot_number(vy)}</title>"
                "</circle>"
            )
    out += _legend(list(series))
    out.append("</svg>")
    return "\n".join(out)


def _legend(names: list[str]) -> list[str]:
    out = []
    for k, name in enumerate(names[:8]):
        y = MT + 12 + 14 * k
        color = PALETTE[k % len(PALETTE)]
        out.append(f'<rect x="{W - MR - 130}" y="{y - 8}" width="10" height="10" fill="{color}"/>')
        out.append(
            f'<text x="{W - MR - 116}" y="{y + 1}" font-size="10">{html.escape(name)}</text>'
        )
    return out


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return plot_number(v) if math.isfinite(v) else "–"
    return html.escape(str(v))


def render_bench(result: dict[str, Any], samples: dict[str, dict[str, list[float]]]) -> str:
    """``result`` is the bench JSON; ``samples[level][metric]`` holds per-request values (ms)."""
    levels = result["levels"]
    target = result["target"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>modelclear bench — {html.escape(target['model'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child,"
        "th:first-child{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:12px}"
        "dt{font-weight:bold}</style></head><body>",
        f"<h1>Serving benchmark: {html.escape(target['model'])}</h1>",
        f"<p>Endpoint <code>{html.escape(target['url'])}</code> ({html.escape(target['api'])} "
        f"API), run {html.escape(result['created'])} by modelclear "
        f"{html.escape(result['tool_version'])}.</p>",
    ]
    cols: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("level", lambda lv: lv["label"]),
        ("done", lambda lv: lv["completed"]),
        ("failed", lambda lv: lv["failed"]),
        ("req/s", lambda lv: lv["request_throughput"]),
        ("out tok/s", lambda lv: lv["output_throughput"]),
        ("total tok/s", lambda lv: lv["total_token_throughput"]),
        ("goodput", lambda lv: lv["goodput"]),
        ("TTFT med", lambda lv: lv["ttft_ms"]["median"]),
        ("TTFT p99", lambda lv: lv["ttft_ms"].get("p99")),
        ("TPOT med", lambda lv: lv["tpot_ms"]["median"]),
        ("ITL med", lambda lv: lv["itl_ms"]["median"]),
        ("ITL/tok med", lambda lv: lv["itl_token_ms"]["median"]),
        ("E2EL med", lambda lv: lv["e2el_ms"]["median"]),
        ("E2EL p99", lambda lv: lv["e2el_ms"].get("p99")),
    ]
    parts.append("<h2>Summary (times in ms)</h2><table><tr>")
    parts += [f"<th>{html.escape(c)}</th>" for c, _ in cols]
    parts.append("</tr>")
    for lv in levels:
        parts.append("<tr>" + "".join(f"<td>{_cell(f(lv))}</td>" for _, f in cols) + "</tr>")
    parts.append("</table>")
    conc = [lv for lv in levels if lv["mode"] == "concurrency" and lv["ttft_ms"]["count"]]
    parts.append("<h2>Plots</h2><div class='plots'>")
    if conc:
        parts.append(line_chart(
            "TTFT vs concurrency", "concurrency", "ms",
            {
                "median": [(lv["value"], lv["ttft_ms"]["median"]) for lv in conc],
                "p90": [(lv["value"], lv["ttft_ms"].get("p90") or 0.0) for lv in conc],
            },
        ))
        parts.append(line_chart(
            "Throughput vs concurrency", "concurrency", "output tokens/s",
            {"output tok/s": [(lv["value"], lv["output_throughput"]) for lv in conc]},
        ))
    for metric, title in (("ttft", "TTFT"), ("e2el", "E2E latency"), ("itl", "ITL per chunk"),
                          ("tpot", "TPOT")):
        series = {k: v[metric] for k, v in samples.items() if v.get(metric)}
        parts.append(histogram(f"{title} distribution", "ms", series,
                               ylabel="chunk gaps" if metric == "itl" else "requests"))
    parts.append("</div>")
    parts.append("<h2>Definitions</h2><dl>")
    for k, v in result["definitions"].items():
        parts.append(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>")
    parts.append("</dl>")
    errs = [(lv["label"], e, n) for lv in levels for e, n in lv["errors"].items()]
    if errs:
        parts.append("<h2>Errors</h2><table><tr><th>level</th><th>error</th><th>count</th></tr>")
        for lab, e, n in errs:
            parts.append(f"<tr><td>{html.escape(lab)}</td><td>{html.escape(e)}</td><td>{n}</td>"
                         "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
