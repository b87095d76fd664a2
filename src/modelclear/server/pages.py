"""Server-rendered pages: Jinja2 templates (autoescaped), plain HTML forms, no script.

Every form carries the session's CSRF token and is checked before anything changes.
A page waiting for an audit refreshes itself with a ``<meta http-equiv=refresh>``,
which needs no script and so no exception to the Content-Security-Policy.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..reports.templates import render_template
from . import views
from .api import DecisionIn, builtin_profile, decision_input, export_response, submit
from .app import BadInput, Services, services
from .auth import LOGIN_COOKIE, SESSION_COOKIE, PageUser, check_csrf, page_user, require
from .tables import ROLES

router = APIRouter(include_in_schema=False)
Svc = Annotated[Services, Depends(services)]
Page = Annotated[PageUser, Depends(page_user)]
Rid = Annotated[int, Path(ge=1, le=2**31)]
FormText = Annotated[str, Form(max_length=2000)]
Csrf = Annotated[str, Form(max_length=200)]


def page(name: str, pu: PageUser | None, status: int = 200, **data: Any) -> HTMLResponse:
    html = render_template(f"server/{name}.html.j2", user=pu.user if pu else None,
                           csrf=pu.csrf if pu else None, **data)
    return HTMLResponse(html, status_code=status)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/static/style.css")
def style() -> Response:
    css = render_template("_style.css.j2") + render_template("server/extra.css.j2")
    return Response(css, media_type="text/css")


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    resp = page("login", None, title="Sign in", login_csrf=token, failed=False)
    resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                    secure=services(request).settings.secure_cookies, max_age=3600)
    return resp


@router.post("/login")
def login(request: Request, svc: Svc, name: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1000)], csrf: Csrf) -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie.encode(), csrf.encode()):
        raise BadInput("the sign-in form expired: reload the page and sign in again")
    address = request.client.host if request.client else "unknown"
    wait = svc.limiter.retry_after(name, address)
    if wait:  # no password check at all: locked answers the same for every name
        return _throttled(csrf, wait)
    user = svc.store.authenticate(name, password)
    if user is None:
        wait = svc.limiter.failed(name, address)
        svc.store.login_failed(name, address, throttled=bool(wait))
        if wait:
            return _throttled(csrf, wait)
        return page("login", None, status=401, title="Sign in", login_csrf=csrf, failed=True)
    svc.limiter.succeeded(name)
    token, _ = svc.store.new_session(user)
    resp = see_other("/")
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                    secure=svc.settings.secure_cookies, max_age=12 * 3600)
    resp.delete_cookie(LOGIN_COOKIE)
    return resp


def _throttled(csrf: str, wait: int) -> HTMLResponse:
    """HTTP 429: the same page and wait whether the name exists or not."""
    resp = page("login", None, status=429, title="Sign in", login_csrf=csrf, failed=False,
                throttled=wait)
    resp.headers["Retry-After"] = str(wait)
    return resp


@router.post("/logout")
def logout(pu: Page, svc: Svc, csrf: Csrf) -> Response:
    check_csrf(pu, csrf)
    svc.store.end_session(pu.token)
    resp = see_other("/login")
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/")
def models(pu: Page, svc: Svc) -> HTMLResponse:
    rows = []
    for r in svc.workflow.models():
        rows.append({**r, "expiry": views.expiry(r["decision"]),
                     "drift": views.drift(r, svc.store.log(20, r["id"]))})
    return page("models", pu, title="Models", rows=rows)


@router.get("/model")
def model(pu: Page, svc: Svc, key: Annotated[str, Query(min_length=1, max_length=1000)]
          ) -> HTMLResponse:
    reqs = [r for r in svc.workflow.listing(limit=1000) if key in (r["model_key"], r["target"])]
    if not reqs:
        raise BadInput(f"no request for model {key!r}")
    shown = next((r for r in reqs if r["record_id"]), reqs[0])
    full = svc.workflow.get(shown["id"])
    from . import results

    return page("model", pu, title=f"Model {key}", key=key, requests=reqs, shown=full,
                audit=full["audit"], history=views.record_history(svc.store, key),
                serving=results.for_model(svc.store, shown["model_key"] or key))


@router.get("/requests")
def request_list(pu: Page, svc: Svc) -> HTMLResponse:
    return page("requests", pu, title="Requests", rows=svc.workflow.listing())


@router.get("/requests/new")
def request_form(pu: Page) -> HTMLResponse:
    from ..analyzers.policy.profile import builtin_names

    require(pu.user, "requester", "requesting a clearance")
    return page("request_new", pu, title="Request a clearance", profiles=builtin_names())


@router.post("/requests")
def request_create(pu: Page, svc: Svc, csrf: Csrf,
                   target: Annotated[str, Form(min_length=1, max_length=1000)],
                   profile: Annotated[str, Form(min_length=1, max_length=200)],
                   use: FormText = "", teams: FormText = "") -> Response:
    check_csrf(pu, csrf)
    rid = submit(svc, pu.user, target, profile, use, teams.split(","))
    return see_other(f"/requests/{rid}")


@router.get("/requests/{rid}")
def request_page(rid: Rid, pu: Page, svc: Svc) -> HTMLResponse:
    req = svc.workflow.get(rid)
    return page("request", pu, title=f"Request {rid}", req=req,
                decisions=svc.workflow.decisions(rid),
                log=views.with_details(svc.store.log(100, rid)),
                pending=req["state"] in ("queued", "running"))


@router.get("/requests/{rid}/review")
def review_page(rid: Rid, pu: Page, svc: Svc) -> HTMLResponse:
    from . import results

    req = svc.workflow.get(rid)
    return page("review", pu, title=f"Review request {rid}", req=req,
                audit=req["audit"], decisions=svc.workflow.decisions(rid),
                serving=results.for_model(svc.store, req["model_key"] or req["target"]),
                two_reviewers=req["profile"] in svc.workflow.two_reviewer_profiles)


@router.post("/requests/{rid}/decision")
def decide(rid: Rid, pu: Page, svc: Svc, csrf: Csrf,
           kind: Annotated[str, Form(max_length=40)], version: Annotated[int, Form(ge=0)],
           owner: FormText = "", use: FormText = "", teams: FormText = "",
           expires_on: Annotated[str, Form(max_length=10)] = "",
           obligations: Annotated[str, Form(max_length=20000)] = "",
           conditions: FormText = "", note: FormText = "") -> Response:
    check_csrf(pu, csrf)
    try:
        expires = date.fromisoformat(expires_on) if expires_on.strip() else None
    except ValueError:
        raise BadInput(f"expires_on {expires_on!r} is not a date (YYYY-MM-DD)") from None
    if kind not in ("approve", "approve_with_conditions", "reject"):
        raise BadInput("decision must be approve, approve_with_conditions or reject")
    body = DecisionIn(kind=kind, owner=owner or None, use=use,  # type: ignore[arg-type]
                      teams=teams.split(","), expires_on=expires,
                      obligations=obligations.splitlines(), conditions=conditions,
                      note=note, expected_version=version)
    svc.workflow.decide(pu.user, rid, decision_input(body, pu.user))
    return see_other(f"/requests/{rid}")


@router.post("/requests/{rid}/reopen")
def reopen(rid: Rid, pu: Page, svc: Svc, csrf: Csrf,
           reason: Annotated[str, Form(min_length=1, max_length=500)]) -> Response:
    check_csrf(pu, csrf)
    svc.workflow.reopen(rid, reason, pu.user)
    svc.worker.audit(rid)
    return see_other(f"/requests/{rid}")


@router.post("/requests/{rid}/verify")
def verify(rid: Rid, pu: Page, svc: Svc, csrf: Csrf) -> Response:
    check_csrf(pu, csrf)
    require(pu.user, "reviewer", "a drift check")
    svc.workflow.get(rid)
    svc.worker.verify(rid)
    return see_other(f"/requests/{rid}")


@router.get("/requests/{rid}/export/{fmt}")
def export(rid: Rid, pu: Page, svc: Svc, fmt: Annotated[str, Path(max_length=20)]) -> Response:
    if fmt not in ("json", "markdown", "cyclonedx"):
        raise BadInput("export format must be json, markdown or cyclonedx")
    return export_response(svc, rid, fmt)


@router.get("/log")
def log_page(pu: Page, svc: Svc) -> HTMLResponse:
    return page("log", pu, title="Audit log", events=views.with_details(svc.store.log(500)),
                chain=svc.store.verify_log())


@router.get("/admin/users")
def users_page(pu: Page, svc: Svc) -> HTMLResponse:
    require(pu.user, "admin", "managing users")
    return page("users", pu, title="Users", users=svc.store.users(), roles=ROLES)


@router.post("/admin/users")
def add_user(pu: Page, svc: Svc, csrf: Csrf, name: Annotated[str, Form(max_length=64)],
             role: Annotated[str, Form(max_length=16)],
             password: Annotated[str, Form(max_length=1000)]) -> Response:
    check_csrf(pu, csrf)
    require(pu.user, "admin", "managing users")
    svc.store.add_user(name, role, password, actor=pu.user.name)
    return see_other("/admin/users")


@router.get("/tokens")
def tokens_page(pu: Page, svc: Svc) -> HTMLResponse:
    return page("tokens", pu, title="API tokens", tokens=svc.store.tokens(pu.user), new=None)


@router.post("/tokens")
def new_token(pu: Page, svc: Svc, csrf: Csrf,
              label: Annotated[str, Form(min_length=1, max_length=120)]) -> HTMLResponse:
    check_csrf(pu, csrf)
    token = svc.store.new_token(pu.user.name, label, actor=pu.user.name)
    return page("tokens", pu, title="API tokens", tokens=svc.store.tokens(pu.user), new=token)


@router.post("/tokens/{tid}/revoke")
def revoke_token(tid: Annotated[int, Path(ge=1, le=2**31)], pu: Page, svc: Svc,
                 csrf: Csrf) -> Response:
    check_csrf(pu, csrf)
    svc.store.revoke_token(pu.user, tid)
    return see_other("/tokens")


__all__ = ["router", "builtin_profile"]
