"""``modelclear check --server``: ask the team's review server for its decision.

CI holds an API token in an environment variable (never on the command line, where
process listings and shell history would keep it). The release is opened locally only
to learn its model id and revision; nothing is analysed. Approved and unexpired → exit 0.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from ..errors import InputError, UsageError
from ..sources import open_release
from .worker import model_key

TIMEOUT_S = 30.0


def fetch_decision(server: str, token_env: str, target: str,
                   profile: str | None) -> dict[str, Any]:
    """The server's ``decision`` document for ``target`` (see docs/json.md, ``serve``)."""
    _token(server, token_env)  # usage errors first, before the release is opened
    release = open_release(target)
    params = {"model": model_key(release)}
    if release.source.revision:
        params["revision"] = release.source.revision
    if profile:
        params["profile"] = profile
    return _call(server, token_env, "GET", "/api/decision", ("approved", "reason"),
                 "decision", params=params)


def _token(server: str, token_env: str) -> str:
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise UsageError(f"--token-env {token_env}: the variable is not set or empty")
    if not server.startswith(("http://", "https://")):
        raise UsageError(f"--server must be an http(s) URL (got {server!r})")
    return token


def post_watch(server: str, token_env: str, watch_doc: dict[str, Any]) -> dict[str, Any]:
    """Post a ``watch`` document to the server's ``/api/watch``; its ``watch-applied``
    answer (which approved reviews the changes reopened)."""
    return _call(server, token_env, "POST", "/api/watch", ("reopened", "models"),
                 "watch-applied", json=watch_doc)


def _call(server: str, token_env: str, method: str, path: str, fields: tuple[str, ...],
          kind: str, **request: Any) -> dict[str, Any]:
    """One authenticated call; the answer must be the document ``kind`` with ``fields``,
    else one line naming the server and what it said."""
    token = _token(server, token_env)
    try:
        resp = httpx.request(method, server.rstrip("/") + path, timeout=TIMEOUT_S,
                             headers={"Authorization": f"Bearer {token}"}, **request)
    except httpx.HTTPError as exc:
        raise InputError(server, f"cannot reach the review server: {exc}") from None
    if resp.status_code == 401:
        raise InputError(server, f"the server refused the token in ${token_env}")
    if resp.status_code != 200:
        raise InputError(server, f"HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or any(f not in doc for f in fields):
        raise InputError(server, f"the answer is not a modelclear {kind} document")
    return doc


def describe(doc: dict[str, Any]) -> str:
    req = doc.get("request") or {}
    d = req.get("decision") or {}
    if doc["approved"]:
        parts = [f"APPROVED by {d.get('reviewer')} ({d.get('kind', '').replace('_', ' ')})",
                 f"profile {req.get('profile')}", f"owner {d.get('owner')}",
                 f"expires {d.get('expires_on')}"]
        text = "; ".join(parts)
        for o in d.get("obligations", []):
            text += f"\n  obligation: {o}"
        if d.get("conditions"):
            text += f"\n  conditions: {d['conditions']}"
        return text
    return f"NOT APPROVED: {doc['reason']}"
