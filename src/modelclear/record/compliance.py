"""Compliance documentation from a record (Markdown or self-contained HTML).

The sections follow the article's "Compliance Documentation" list: model version,
download date and license terms; fine-tuning data sources and methodology; deployment
configuration and infrastructure; incident response; what legal and compliance need to
know about origin and use. Anything the record does not know is written as "not
recorded" with a place to fill it in — a compliance document that silently omits a
section reads as if the question had been answered.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .cyclonedx import manifest_digest, restrictions_and_obligations
from .model import Record

FORMATS = ("markdown", "html")


@cache
def _env(fmt: str) -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("modelclear", "data/templates"),
        autoescape=fmt == "html",
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_cell
    env.filters["human"] = _human_size
    return env


def _md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell (pipes escaped, one line)."""
    if value is None:
        return "—"
    return " ".join(str(value).split()).replace("|", "\\|")


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _terms(record: Record) -> list[dict[str, Any]]:
    out = []
    for m in (record.data.get("license") or {}).get("licenses", []):
        for name, term in (m.get("terms") or {}).items():
            ev = term.get("evidence") or {}
            out.append({
                "license": m["id"], "term": name.replace("_", " "),
                "value": term.get("value"), "detail": term.get("detail"),
                "where": f"{ev['file']}:{ev['line_start']}" if ev else None,
                "quote": ev.get("quote"),
            })
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
        "not_run": {k: v for k, v in data["analyses"].items() if v["status"] != "analysed"},
    }


def render(record: Record, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown compliance format {fmt!r}")
    ext = "md" if fmt == "markdown" else "html"
    return _env(fmt).get_template(f"compliance.{ext}.j2").render(**context(record))
