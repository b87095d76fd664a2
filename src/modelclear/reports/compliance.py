"""Compliance documentation from a record (Markdown or self-contained HTML).

The sections follow the article's "Compliance Documentation" list: model version,
download date and license terms; fine-tuning data sources and methodology; deployment
configuration and infrastructure; incident response; what legal and compliance need to
know about origin and use. Anything the record does not know is written as "not
recorded" with a place to fill it in — a compliance document that silently omits a
section reads as if the question had been answered.
"""

from __future__ import annotations

from typing import Any

from ..record.model import Record
from ..units import human_bytes
from .cyclonedx import manifest_digest, restrictions_and_obligations
from .templates import render_template

FORMATS = ("markdown", "html")


def _terms(record: Record) -> list[dict[str, Any]]:
    """Per license: its terms in the order the license model lists them, with evidence."""
    from ..analyzers.license.model import TERM_NAMES

    order = {name: i for i, name in enumerate(TERM_NAMES)}
    out = []
    for m in (record.data.get("license") or {}).get("licenses", []):
        rows = []
        terms = m.get("terms") or {}
        for name in sorted(terms, key=lambda n: (order.get(n, len(order)), n)):
            term = terms[name]
            ev = term.get("evidence") or {}
            rows.append({
                "term": name.replace("_", " "),
                "value": term.get("value"), "detail": term.get("detail"),
                "where": f"{ev['file']}:{ev['line_start']}" if ev else None,
                "quote": " ".join(str(ev.get("quote") or "").split()) or None,
            })
        if rows:
            out.append({"id": m["id"], "title": m.get("title"), "rows": rows})
    return out


def _publishers(record: Record) -> list[str]:
    seen: list[str] = []
    for m in (record.data.get("license") or {}).get("licenses", []):
        if m.get("publisher"):
            who = m["publisher"] + (f" ({m['publisher_country']})"
                                    if m.get("publisher_country") else "")
            if who not in seen:
                seen.append(who)
    return seen


def _sizing_facts(sizing: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The few sizing numbers a compliance reader needs; the rest stays in the record."""
    if not sizing:
        return []
    facts: list[tuple[str, str]] = []
    params = sizing.get("parameters")
    if isinstance(params, dict) and params.get("total"):
        active = params.get("active")
        facts.append(("Parameters", f"{params['total']:,}" + (
            f" ({active:,} active per token)" if active and active != params["total"] else "")))
    weights = sizing.get("weights_bytes")
    if isinstance(weights, dict):
        native = weights.get("native")
        if isinstance(native, int):
            facts.append((f"Weights ({weights.get('native_format') or 'native'})",
                          human_bytes(native)))
        for prec in ("bf16", "fp8", "int8", "int4"):
            if isinstance(weights.get(prec), int):
                facts.append((f"Weights at {prec}", human_bytes(weights[prec])))
    if isinstance(sizing.get("kv_cache_bytes_per_token"), int):
        facts.append(("KV cache per token", human_bytes(sizing["kv_cache_bytes_per_token"])))
    if isinstance(sizing.get("context"), int):
        facts.append(("Context assumed", f"{sizing['context']:,} tokens"))
    if isinstance(sizing.get("concurrency"), int):
        facts.append(("Concurrency assumed", str(sizing["concurrency"])))
    if not facts:
        facts = [(str(k), str(v)) for k, v in sizing.items()
                 if isinstance(v, str | int | float) and k != "schema_version"]
    return facts


def _security_facts(security: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not security:
        return []
    summary = security.get("summary")
    facts = ([(f"files {k}", str(v)) for k, v in summary.items()]
             if isinstance(summary, dict) else [])
    for key in ("findings_by_severity", "files_by_severity"):
        if isinstance(security.get(key), dict):
            facts += [(f"findings {k}", str(v)) for k, v in security[key].items()]
    if security.get("allowlist_version"):
        facts.append(("safe-globals allowlist", str(security["allowlist_version"])))
    return facts


def context(record: Record) -> dict[str, Any]:
    data = record.data
    policy = data.get("policy") or {}
    profile = policy.get("profile") or None
    contacts = (profile or {}).get("contacts") or {}
    restrictions, obligations = restrictions_and_obligations(record)
    card = data.get("card")
    return {
        "r": data,
        "record_id": record.id,
        "record_hash": record.record_hash,
        "model_name": data["model"]["id"] or data["model"]["location"],
        "manifest_sha256": manifest_digest(data["files"]),
        "total_size": sum(f["size"] for f in data["files"]),
        "terms": _terms(record),
        "publishers": _publishers(record),
        "restrictions": restrictions,
        "obligations": obligations,
        "card": card,
        "datasets": (card or {}).get("datasets", []),
        "base_models": (card or {}).get("base_model", []),
        "fine_tuning": (card or {}).get("fine_tuning"),
        "profile": profile,
        "contacts": contacts,
        "verdicts": policy.get("verdicts", []),
        "overall": policy.get("overall"),
        "sizing_facts": _sizing_facts(data.get("sizing")),
        "security_facts": _security_facts(data.get("security")),
        "not_run": {k: v for k, v in data["analyses"].items() if v["status"] != "analysed"},
    }


def render(record: Record, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown compliance format {fmt!r}")
    ext = "md" if fmt == "markdown" else "html"
    return render_template(f"compliance.{ext}.j2", **context(record))
