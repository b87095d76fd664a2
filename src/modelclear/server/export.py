"""A decision exported with the record it was made on: JSON, Markdown, CycloneDX.

The record part is the registry's record, rendered by the same code as
``modelclear export`` (``reports.compliance``, ``reports.cyclonedx``); the decision part
is added beside it: a ``decision`` section in JSON, a section before the compliance
document in Markdown, and ``modelclear:decision:*`` properties on the BOM's metadata.
"""

from __future__ import annotations

import json
from typing import Any

from ..record.model import Record
from ..reports.templates import md_cell
from ..schemas import document

FORMATS = ("json", "markdown", "cyclonedx")


def _decision_md(req: dict[str, Any], decisions: list[dict[str, Any]]) -> str:
    lines = [f"# Clearance decision: request {req['id']}", "",
             "| field | value |", "|---|---|"]
    d = req["decision"]
    rows: list[tuple[str, Any]] = [
        ("model", req["model_key"] or req["target"]), ("revision", req["revision"]),
        ("profile", req["profile"]), ("state", req["state"]),
        ("audit verdict", req["verdict"]), ("record", req["record_id"]),
    ]
    if d is not None:
        rows += [("decision", d["kind"]), ("decided by", d["reviewer"]), ("owner", d["owner"]),
                 ("use", d["use"]), ("teams", ", ".join(d["teams"])),
                 ("expires", d["expires_on"]), ("conditions", d["conditions"] or None),
                 ("note", d["note"] or None)]
    lines += [f"| {md_cell(k)} | {md_cell(v)} |" for k, v in rows]
    if d is not None and d["obligations"]:
        lines += ["", "## Obligations accepted", ""]
        lines += [f"- {md_cell(o)}" for o in d["obligations"]]
    lines += ["", "## Reviews", ""]
    lines += [f"- {md_cell(x['created_at'])} {md_cell(x['reviewer'])}: {x['kind']}"
              f"{'' if x['final'] else ' (first of two)'}" for x in decisions] or ["- none"]
    return "\n".join(lines) + "\n\n"


def render(fmt: str, req: dict[str, Any], decisions: list[dict[str, Any]],
           record: Record) -> tuple[str, str]:
    """(media type, text) of the export in ``fmt``."""
    if fmt == "json":
        body = {"kind": "decision-export", "request": {k: v for k, v in req.items()
                                                       if k != "audit"},
                "decisions": decisions, "record": record.to_json()}
        return "application/json", json.dumps(document("serve", body), indent=2,
                                              ensure_ascii=False) + "\n"
    if fmt == "markdown":
        from ..reports import compliance

        return ("text/markdown; charset=utf-8",
                _decision_md(req, decisions) + compliance.render(record, "markdown"))
    if fmt == "cyclonedx":
        from ..reports import cyclonedx

        doc = cyclonedx.to_cyclonedx(record)
        props = doc["metadata"].setdefault("properties", [])
        d = req["decision"] or {}
        for key in ("kind", "reviewer", "owner", "use", "expires_on", "conditions", "note"):
            if d.get(key):
                props.append({"name": f"modelclear:decision:{key}", "value": str(d[key])})
        for o in d.get("obligations", []):
            props.append({"name": "modelclear:decision:obligation", "value": o})
        props.append({"name": "modelclear:decision:state", "value": req["state"]})
        return "application/vnd.cyclonedx+json", json.dumps(doc, indent=2,
                                                             ensure_ascii=False) + "\n"
    raise ValueError(f"export format must be one of {', '.join(FORMATS)}")
