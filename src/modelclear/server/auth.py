"""Who is asking: a session cookie for pages, a bearer token for the API.

The session cookie is HttpOnly and SameSite=Strict, and every form carries the
session's CSRF token, compared in constant time; the login form, which has no session
yet, uses a double-submit token (a cookie and a field that must match). API calls carry
no cookie authority at all: only ``Authorization: Bearer``, so a page on another site
cannot make a browser call the API with the user's rights.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request

from .app import LoginRequired, services
from .store import Forbidden, User

SESSION_COOKIE = "mc_session"
LOGIN_COOKIE = "mc_login_csrf"


@dataclass(frozen=True)
class PageUser:
    user: User
    csrf: str
    token: str


def page_user(request: Request) -> PageUser:
    """FastAPI dependency: the logged-in user of a page, else a redirect to /login."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        raise LoginRequired()
    found = services(request).store.session(token)
    if found is None:
        raise LoginRequired()
    return PageUser(found[0], found[1], token)


def api_user(request: Request) -> User:
    """FastAPI dependency: the user of a bearer token, else 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        raise LoginRequired()
    user = services(request).store.token_user(token.strip())
    if user is None:
        raise LoginRequired()
    return user


def check_csrf(pu: PageUser, given: str | None) -> None:
    if not given or not secrets.compare_digest(given.encode(), pu.csrf.encode()):
        raise Forbidden("missing or wrong CSRF token: reload the page and submit again")


def require(user: User, role: str, what: str) -> None:
    if not user.can(role):
        raise Forbidden(f"{what} needs the {role} role (you are {user.role})")
