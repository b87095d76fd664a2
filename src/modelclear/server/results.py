"""Bench, probe and drift results of a model, kept by the server beside its records.

``modelclear bench``, ``probe`` and ``drift`` measure a *served* model and write JSON
documents (``docs/serving.md``); a clearance record does not embed them, so a team posts
them to ``POST /api/models/results`` and the server keeps each document whole, once
(the same bytes posted twice are one row), with an event in the hash-chained log. The
model page and ``GET /api/models/results`` show the latest of each kind as a summary.

The documents come from outside (any token holder with the requester role can post
one), so every summary field is read defensively: a number only if it is a number, a
string cut to a bounded length, lists bounded; anything missing is ``None``. Jinja's
autoescape does the rest when a page shows them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from . import events
from .store import Store, User
from .tables import serving_results

#: the document kinds accepted, by their ``kind`` field
KINDS = {"modelclear.bench": "bench", "modelclear.probe-results": "probe",
         "modelclear.drift": "drift"}
#: a probe document with every sample's answer can be large; past this it is refused
MAX_BYTES = 8 * 1024 * 1024
MAX_ROWS = 50


def _num(v: Any) -> float | int | None:
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def _str(v: Any, n: int = 200) -> str | None:
    return v[:n] if isinstance(v, str) else None


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v[:MAX_ROWS] if isinstance(v, list) else []


def _pcts(stats: Any) -> dict[str, float | int | None]:
    s = _dict(stats)
    return {k: _num(s.get(k)) for k in ("p50", "p90", "p99")}


def _target(doc: dict[str, Any]) -> dict[str, str | None]:
    t = _dict(doc.get("target"))
    return {"url": _str(t.get("url")), "model": _str(t.get("model"))}


def bench_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """Per load level: completed/failed, throughputs, TTFT and end-to-end percentiles."""
    levels = []
    for lv in map(_dict, _list(doc.get("levels"))):
        levels.append({
            "label": _str(lv.get("label")), "completed": _num(lv.get("completed")),
            "failed": _num(lv.get("failed")),
            "request_throughput": _num(lv.get("request_throughput")),
            "output_throughput": _num(lv.get("output_throughput")),
            "ttft_ms": _pcts(lv.get("ttft_ms")), "tpot_ms": _pcts(lv.get("tpot_ms")),
            "e2el_ms": _pcts(lv.get("e2el_ms"))})
    return {"levels": levels, "findings": _findings(doc, include_info=True)}


def _findings(doc: dict[str, Any], include_info: bool = False) -> list[dict[str, Any]]:
    out = []
    for f in map(_dict, _list(doc.get("findings"))):
        severity = _str(f.get("severity"), 16)
        if include_info or severity not in ("info", None):
            out.append({"code": _str(f.get("code"), 16), "severity": severity,
                        "message": _str(f.get("message"), 500),
                        "probe": _str(f.get("probe")), "quote": _str(f.get("quote"), 300)})
    return out


def probe_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The roll-up per category (worst first, as written) and the failures: every
    finding above ``info`` (a harmful answer, a leaked prompt, a failing category)."""
    s = _dict(doc.get("summary"))
    cats = []
    for c in map(_dict, _list(doc.get("categories"))):
        ci = [_num(x) for x in _list(c.get("ci95"))[:2]]
        cats.append({"category": _str(c.get("category")), "passed": _num(c.get("passed")),
                     "scored": _num(c.get("scored")), "pass_rate": _num(c.get("pass_rate")),
                     "ci95": ci if len(ci) == 2 else None,
                     "below_threshold": c.get("below_threshold") is True,
                     "worst_probe": _str(c.get("worst_probe"))})
    return {"probes": _num(s.get("probes")), "samples": _num(s.get("samples")),
            "errors": _num(s.get("errors")), "worst_category": _str(s.get("worst_category")),
            "worst_pass_rate": _num(s.get("worst_pass_rate")),
            "failing_categories": [x[:200] for x in _list(s.get("failing_categories"))
                                   if isinstance(x, str)],
            "categories": cats, "failures": _findings(doc)}


def drift_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """Against which baseline, how many prompts drifted, and the drifted prompts."""
    s, base = _dict(doc.get("summary")), _dict(doc.get("baseline"))
    drifted = [{"id": _str(i.get("id")),
                "normalized_edit_distance": _num(i.get("normalized_edit_distance")),
                "error": _str(i.get("error"))}
               for i in map(_dict, _list(doc.get("items"))) if i.get("drifted") is True]
    return {"baseline_file": _str(base.get("file"), 500), "baseline_created": _str(
        base.get("created"), 40), **{k: _num(s.get(k)) for k in (
            "prompts", "exact", "drifted", "drift_fraction", "mean_normalized_edit_distance",
            "failed")}, "drifted_items": drifted, "findings": _findings(doc)}


SUMMARIES = {"bench": bench_summary, "probe": probe_summary, "drift": drift_summary}


def kind_of(doc: dict[str, Any]) -> str:
    """``bench``, ``probe`` or ``drift``; a ValueError (HTTP 400) names what is wrong."""
    kind = KINDS.get(str(doc.get("kind")))
    if kind is None:
        raise ValueError(f"document kind {str(doc.get('kind'))[:80]!r} is not one of "
                         f"{', '.join(KINDS)} (the --json output of bench, probe, drift)")
    if doc.get("schema_version") != 1:
        raise ValueError(f"{doc['kind']} schema_version {str(doc.get('schema_version'))[:20]}"
                         " is not supported (this server reads version 1)")
    return kind


def check_key(model: str) -> str:
    """A model key the database can compare: PostgreSQL text holds no NUL character."""
    if "\x00" in model:
        raise ValueError("a NUL character in the model key")
    return model


def add(store: Store, user: User, model: str, doc: dict[str, Any]) -> tuple[int, bool]:
    """Keep ``doc`` for ``model``: (row id, whether it is new). The same document posted
    again for the same model is the row already kept, with no second event."""
    kind = kind_of(doc)
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, allow_nan=False)
    check_key(model)
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"document is larger than {MAX_BYTES // 2**20} MiB")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with store.tx() as conn:
        found = conn.execute(select(serving_results.c.id).where(
            serving_results.c.model_key == model, serving_results.c.sha256 == digest)).first()
        if found is not None:
            return int(found.id), False
        rid = conn.execute(serving_results.insert().returning(serving_results.c.id), {
            "model_key": model, "kind": kind, "document": text, "sha256": digest,
            "actor": user.name, "created_at": events.now()}).scalar_one()
        events.append(conn, user.name, f"results.{kind}", None, {
            "model": model, "result_id": int(rid), "sha256": digest,
            "created": _str(doc.get("created"), 40)})
    return int(rid), True


def for_model(store: Store, model: str) -> dict[str, Any]:
    """The latest summary of each kind for ``model`` and the list of everything kept."""
    check_key(model)
    with store.read() as conn:
        rows = conn.execute(select(serving_results).where(
            serving_results.c.model_key == model).order_by(serving_results.c.id.desc())
            .limit(200)).all()
    latest: dict[str, Any] = dict.fromkeys(SUMMARIES)
    for r in rows:
        if latest[r.kind] is None:
            doc = json.loads(r.document)
            latest[r.kind] = {"id": r.id, "posted_by": r.actor, "posted_at": r.created_at,
                              "created": _str(doc.get("created"), 40), "target": _target(doc),
                              "sha256": r.sha256, **SUMMARIES[r.kind](doc)}
    return {"model": model, **latest,
            "history": [{"id": r.id, "kind": r.kind, "posted_by": r.actor,
                         "posted_at": r.created_at, "sha256": r.sha256} for r in rows]}
