"""The FastAPI application: pages, JSON API, security headers and error pages.

Every response carries a strict Content-Security-Policy (no script at all, styles only
from our own stylesheet, no framing, forms only to ourselves), ``nosniff`` and
``no-referrer``. Errors are one clear line: a JSON ``{"detail": …}`` under ``/api`` and
a small escaped HTML page elsewhere; no traceback ever reaches a client, and the access
log never records a query string or a header (tokens travel only in headers and forms).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import InputError
from ..reports.templates import render_template
from .ratelimit import LoginLimiter
from .store import Conflict, Forbidden, NotFound, Store
from .worker import Worker
from .workflow import Workflow

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
log = logging.getLogger("modelclear.server")


class SecurityHeaders:
    """Plain ASGI middleware adding :data:`SECURITY_HEADERS` to every response (a
    response that sets one itself keeps its own); cheaper than an ``http`` middleware,
    which wraps every body in a stream."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.raw if k not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


class LoginRequired(Exception):
    """A page needs a session: answered with a redirect to the login page."""


class BadInput(Exception):
    """A form or body that does not make sense: HTTP 400 with this one line."""


@dataclass
class Settings:
    registry: str | None = None
    two_reviewer_profiles: frozenset[str] = field(default_factory=frozenset)
    #: folders whose releases may be requested by local path
    release_roots: tuple[str, ...] = ()
    worker_threads: int = 2
    #: cookies marked Secure (set when served behind HTTPS)
    secure_cookies: bool = False


@dataclass
class Services:
    """What the routes share; one per application."""

    settings: Settings
    store: Store
    workflow: Workflow
    worker: Worker
    #: failed sign-ins per account name and client address (``ratelimit``)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _status_of(exc: Exception) -> int:
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    return 400


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status)
    html = render_template("server/error.html.j2", status=status, message=message,
                           user=None, csrf=None, title=f"Error {status}")
    return HTMLResponse(html, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query"))
        parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
    return "invalid input: " + "; ".join(parts)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "authentication required: send "
                                 "'Authorization: Bearer <token>'"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 422, _validation_message(exc))

    @app.exception_handler(ValidationError)
    async def _model(request: Request, exc: ValidationError) -> Response:
        # a form turned into an API model inside a page handler
        parts = [f"{'.'.join(str(x) for x in e['loc']) or 'form'}: {e['msg']}"
                 for e in exc.errors()[:5]]
        return _error(request, 422, "invalid input: " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail))

    for kind in (Forbidden, NotFound, Conflict, BadInput, InputError, ValueError):
        def handler(request: Request, exc: Exception) -> Response:
            return _error(request, _status_of(exc), str(exc) or type(exc).__name__)

        app.add_exception_handler(kind, handler)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)
        return _error(request, 500, "internal error (logged on the server)")


def create_app(settings: Settings | None = None, *, start_worker: bool = True) -> FastAPI:
    """The application on ``settings.registry``; tables are created if missing."""
    from . import api, pages

    settings = settings or Settings()
    store = Store(settings.registry)
    roots = tuple(Path(r).expanduser().resolve() for r in settings.release_roots)
    workflow = Workflow(store, settings.two_reviewer_profiles, roots)
    worker = Worker(workflow, settings.worker_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            worker.resume()
        yield
        worker.shutdown()
        store.close()

    app = FastAPI(title="modelclear review server", lifespan=lifespan,
                  description="Request, review, decide and keep model clearances. The JSON "
                  "API under /api takes a bearer token (create one on the Tokens page or "
                  "with `modelclear serve --create-token USER`).",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.services = Services(settings, store, workflow, worker)

    app.add_middleware(SecurityHeaders)
    _install_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def json_doc(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """An API document: one ``schema_version`` (schemas.py ``serve``) and its ``kind``."""
    from ..schemas import document

    return document("serve", {"kind": kind, **body})
