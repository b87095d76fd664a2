"""The JSON API beside the pages (OpenAPI at ``/api/openapi.json``), for CI and scripts.

Every document carries ``schema_version`` (``serve`` in schemas.py) and a ``kind``.
Bodies are pydantic models with bounded fields, so a malformed body is a 422 naming the
field, never a 500. Authentication is a bearer token only (see ``auth``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from .app import BadInput, Services, json_doc, services
from .auth import api_user, require
from .store import NotFound, User
from .worker import model_key, open_target
from .workflow import DecisionInput

router = APIRouter(prefix="/api", tags=["api"])
Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(max_length=200)]
Svc = Annotated[Services, Depends(services)]
ApiUser = Annotated[User, Depends(api_user)]
Rid = Annotated[int, Path(ge=1, le=2**31)]


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: Annotated[str, Field(min_length=1, max_length=1000,
                                 description="local path on the server, or org/name[@rev] "
                                 "in its Hugging Face cache")]
    profile: Short = Field(description="built-in deployment profile name")
    use: Text = ""
    teams: list[Short] = Field(default_factory=list, max_length=50)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["approve", "approve_with_conditions", "reject"]
    owner: Short | None = None
    use: Text = ""
    teams: list[Short] = Field(default_factory=list, max_length=50)
    expires_on: date | None = Field(None, description="default: one year from today")
    obligations: list[Text] = Field(default_factory=list, max_length=100)
    conditions: Text = ""
    note: Text = ""
    expected_version: int | None = Field(None, ge=0, le=2**31)


class ResultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: Annotated[str, Field(min_length=1, max_length=1000,
                                description="the model key the model page uses: org/name "
                                "or the location of a local release")]
    document: dict[str, Any] = Field(description="the --json document of `modelclear "
                                     "bench`, `probe` or `drift`, as written")


class WatchModelIn(BaseModel):
    """One model of ``modelclear watch --json`` (fields it does not name are ignored)."""

    model_config = ConfigDict(extra="ignore")
    record_id: Annotated[str, Field(min_length=1, max_length=128)]
    model_id: Annotated[str, Field(max_length=1000)] | None = None
    via: Annotated[str, Field(max_length=16)] = "none"
    recorded_revision: Annotated[str, Field(max_length=128)] | None = None
    current_revision: Annotated[str, Field(max_length=128)] | None = None
    status: Literal["unchanged", "changed", "unchecked"]
    new_code_files: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=1000)
    drift: dict[str, Any] | None = None


class WatchIn(BaseModel):
    """The ``modelclear watch --json`` document, posted as written."""

    model_config = ConfigDict(extra="ignore")
    schema_version: Literal[1]
    models: list[WatchModelIn] = Field(max_length=10_000)


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def builtin_profile(name: str) -> str:
    from ..analyzers.policy.profile import builtin_names

    names = builtin_names()
    if name not in names:
        raise BadInput(f"unknown profile {name!r}; built-in profiles: {', '.join(names)}")
    return name


def submit(svc: Services, user: User, target: str, profile: str, use: str,
           teams: list[str]) -> int:
    """Create a request and queue its audit (shared by the page form and the API)."""
    require(user, "requester", "requesting a clearance")
    profile = builtin_profile(profile.strip())
    # a bad path is a 400 now, not a failed audit later
    release = open_target(target, svc.workflow.release_roots)
    rid = svc.workflow.create(user, target.strip(), release.source.revision, model_key(release),
                              profile, use.strip(), [t.strip() for t in teams if t.strip()])
    svc.worker.audit(rid)
    return rid


def decision_input(body: DecisionIn, user: User) -> DecisionInput:
    expires = body.expires_on or (datetime.now(UTC).date() + timedelta(days=365))
    if expires < datetime.now(UTC).date():
        raise BadInput(f"expires_on {expires} is in the past")
    if body.kind == "approve_with_conditions" and not (body.obligations or body.conditions):
        raise BadInput("approve_with_conditions needs obligations or conditions")
    return DecisionInput(kind=body.kind, owner=(body.owner or user.name).strip()[:64],
                         use=body.use, teams=tuple(t.strip() for t in body.teams if t.strip()),
                         expires_on=expires,
                         obligations=tuple(o.strip() for o in body.obligations if o.strip()),
                         conditions=body.conditions, note=body.note,
                         expected_version=body.expected_version)


@router.get("/models", summary="Newest request per model and profile")
def models(svc: Svc, user: ApiUser) -> dict[str, Any]:
    return json_doc("models", {"models": svc.workflow.models()})


@router.get("/requests", summary="Requests, newest first")
def list_requests(svc: Svc, user: ApiUser,
                  state: Annotated[str | None, Query(max_length=16)] = None) -> dict[str, Any]:
    return json_doc("requests", {"requests": svc.workflow.listing(state)})


@router.post("/requests", status_code=201, summary="Request a clearance (audit runs in "
             "the background)")
def create_request(body: RequestIn, svc: Svc, user: ApiUser) -> dict[str, Any]:
    rid = submit(svc, user, body.target, body.profile, body.use, body.teams)
    return json_doc("request", {"request": svc.workflow.get(rid)})


@router.get("/requests/{rid}", summary="One request with its audit and decisions")
def get_request(rid: Rid, svc: Svc,
                user: ApiUser) -> dict[str, Any]:
    return json_doc("request", {"request": svc.workflow.get(rid),
                                "decisions": svc.workflow.decisions(rid)})


@router.post("/requests/{rid}/decisions", summary="Approve, approve with conditions, or reject")
def decide(rid: Rid, body: DecisionIn, svc: Svc,
           user: ApiUser) -> dict[str, Any]:
    req = svc.workflow.decide(user, rid, decision_input(body, user))
    return json_doc("request", {"request": req, "decisions": svc.workflow.decisions(rid)})


@router.post("/requests/{rid}/reopen", summary="Reopen a review and audit again")
def reopen(rid: Rid, body: ReopenIn, svc: Svc,
           user: ApiUser) -> dict[str, Any]:
    svc.workflow.reopen(rid, body.reason, user)
    svc.worker.audit(rid)
    return json_doc("request", {"request": svc.workflow.get(rid)})


@router.post("/requests/{rid}/verify", status_code=202,
             summary="Compare the release now with its record; drift reopens the review")
def verify(rid: Rid, svc: Svc,
           user: ApiUser) -> dict[str, Any]:
    require(user, "reviewer", "a drift check")
    svc.workflow.get(rid)
    svc.worker.verify(rid)
    return json_doc("accepted", {"request_id": rid})


@router.get("/requests/{rid}/export", summary="The decision with its record")
def export(rid: Rid, svc: Svc, user: ApiUser,
           fmt: Annotated[Literal["json", "markdown", "cyclonedx"],
                          Query(alias="format")] = "json") -> Response:
    return export_response(svc, rid, fmt)


def export_response(svc: Services, rid: int, fmt: str) -> Response:
    from . import export as exporter

    req = svc.workflow.get(rid)
    if not req["record_id"]:
        raise NotFound(f"request {rid} has no record yet")
    record = svc.store.record(req["record_id"])
    media, text = exporter.render(fmt, req, svc.workflow.decisions(rid), record)
    ext = {"json": "json", "markdown": "md", "cyclonedx": "cdx.json"}[fmt]
    return Response(text, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="clearance-{rid}.{ext}"'})


@router.get("/decision", summary="The team's approved decision for a model (for CI)")
def approved(svc: Svc, user: ApiUser,
             model: Annotated[str, Query(min_length=1, max_length=1000)],
             revision: Annotated[str | None, Query(max_length=64)] = None,
             profile: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    req = svc.workflow.approved(model, revision, profile)
    decision = req["decision"] if req else None
    valid = bool(decision and not decision["expired"])
    return json_doc("decision", {
        "model": model, "revision": revision, "profile": profile, "approved": valid,
        "reason": ("approved" if valid else "expired" if decision else
                   "no approved decision for this model"
                   + (f" at revision {revision}" if revision else "")
                   + (f" and profile {profile}" if profile else "")),
        "request": {k: v for k, v in req.items() if k != "audit"} if req else None})


@router.get("/events", summary="The audit log, newest first")
def events(svc: Svc, user: ApiUser,
           limit: Annotated[int, Query(ge=1, le=1000)] = 200,
           request_id: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> dict[str, Any]:
    return json_doc("events", {"events": svc.store.log(limit, request_id)})


@router.get("/events/verify", summary="Recompute the log's hash chain")
def verify_events(svc: Svc, user: ApiUser) -> dict[str, Any]:
    return json_doc("chain", svc.store.verify_log().to_json())


@router.post("/models/results", status_code=201,
             summary="Keep a bench, probe or drift result for a model (shown on its page)")
def post_results(body: ResultsIn, svc: Svc, user: ApiUser) -> dict[str, Any]:
    from . import results

    require(user, "requester", "posting bench or probe results")
    rid, new = results.add(svc.store, user, body.model.strip(), body.document)
    return json_doc("results-accepted", {"model": body.model.strip(), "result_id": rid,
                                         "new": new})


@router.get("/models/results", summary="The latest bench, probe and drift results of a model")
def get_results(svc: Svc, user: ApiUser,
                model: Annotated[str, Query(min_length=1, max_length=1000)]) -> dict[str, Any]:
    from . import results

    return json_doc("serving-results", results.for_model(svc.store, model))


@router.post("/watch", summary="Apply `modelclear watch` results: a changed model reopens "
             "the approvals it affects (idempotent)")
def post_watch(body: WatchIn, svc: Svc, user: ApiUser) -> dict[str, Any]:
    from . import watching

    require(user, "reviewer", "reopening reviews from watch results")
    if "\\u0000" in body.model_dump_json():
        raise BadInput("a NUL character in a watch result")  # no database stores one
    applied = watching.apply(svc.workflow, user, [m.model_dump() for m in body.models])
    reopened = [rid for m in applied for rid in m["reopened"]]
    for rid in reopened:
        svc.worker.audit(rid)  # as the drift button: the reopened review is audited again
    return json_doc("watch-applied", {"models": applied, "reopened": reopened})
