"""Helpers for the review server tests: an app on a fresh registry, users, logins."""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "correct horse battery"
PG_URL = os.environ.get("MODELCLEAR_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="MODELCLEAR_TEST_PG_URL not set (no PostgreSQL server)")),
]
#: name -> role of the users every test app has
USERS = {"root": "admin", "alice": "requester", "bob": "reviewer", "carol": "reviewer",
         "dave": "reviewer", "victor": "viewer"}


def database_url(backend: str, folder: Path) -> str:
    """A fresh empty database: a SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        return str(folder / f"serve-{uuid.uuid4().hex[:8]}.sqlite3")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    assert PG_URL
    name = f"mcs_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@dataclass
class Env:
    app: object
    svc: object
    tokens: dict[str, str]

    def user(self, name: str):  # noqa: ANN201 - a modelclear.server.store.User
        return next(u for u in self.svc.store.users() if u.name == name)


def make_env(url: str, two_reviewers: frozenset[str] = frozenset()) -> Env:
    from modelclear.server.app import Settings, create_app

    app = create_app(Settings(registry=url, two_reviewer_profiles=two_reviewers))
    svc = app.state.services
    tokens = {}
    for name, role in USERS.items():
        svc.store.add_user(name, role, PASSWORD)
        tokens[name] = svc.store.new_token(name, "tests")
    return Env(app, svc, tokens)


def close_env(env: Env) -> None:
    env.svc.worker.shutdown()
    env.svc.store.close()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(client, name: str) -> str:  # noqa: ANN001 - a TestClient
    """Sign ``name`` in on ``client`` (its cookie jar keeps the session); the CSRF token."""
    page = client.get("/login")
    r = client.post("/login", data={"name": name, "password": PASSWORD,
                                    "csrf": csrf_of(page.text)})
    assert r.status_code == 200 and r.url.path == "/", r.text[:300]
    return csrf_of(r.text)


def wait_state(svc, rid: int, done=("ready", "failed", "approved", "rejected"),  # noqa: ANN001
               timeout: float = 60.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        req = svc.workflow.get(rid)
        if req["state"] in done:
            return req
        time.sleep(0.1)
    raise AssertionError(f"request {rid} still {svc.workflow.get(rid)['state']}")


def audited(env: Env, target: Path | str, profile: str = "internal-tool",
            requester: str = "alice") -> int:
    """A request whose audit ran to the end (synchronously, in this thread)."""
    from modelclear.server.worker import model_key, open_target, run_audit

    release = open_target(str(target))
    rid = env.svc.workflow.create(env.user(requester), str(target), release.source.revision,
                                  model_key(release), profile, "chat assistant", ["ml"])
    run_audit(env.svc.workflow, rid)
    assert env.svc.workflow.get(rid)["state"] == "ready"
    return rid


def copy_release(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest
