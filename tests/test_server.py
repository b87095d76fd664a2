"""The review server: authorization, CSRF, bad input, exports, the log, drift, CI check."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from server_support import (
    audited,
    close_env,
    copy_release,
    csrf_of,
    login,
    make_env,
    wait_state,
)

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

SAAS = "customer-saas"


@pytest.fixture
def env(tmp_path: Path):
    e = make_env(str(tmp_path / "serve.sqlite3"), frozenset({SAAS}))
    yield e
    close_env(e)


@pytest.fixture
def release(demo: Path, tmp_path: Path) -> Path:
    return copy_release(demo, tmp_path / "release")


def api(env, name: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {env.tokens[name]}"} if name else {}
    return TestClient(env.app, headers=headers, raise_server_exceptions=False)


def browser(env) -> TestClient:
    return TestClient(env.app, raise_server_exceptions=False)


def approve(client: TestClient, rid: int, **extra) -> object:
    return client.post(f"/api/requests/{rid}/decisions", json={"kind": "approve", **extra})


# ------------------------------------------------------------------------ authorization


def test_api_authorization_matrix(env, release: Path) -> None:
    assert api(env, None).get("/api/models").status_code == 401
    bad = TestClient(env.app, headers={"Authorization": "Bearer mc_nope"})
    assert bad.get("/api/models").status_code == 401
    body = {"target": str(release), "profile": "internal-tool"}
    assert api(env, "victor").post("/api/requests", json=body).status_code == 403
    r = api(env, "alice").post("/api/requests", json=body)
    assert r.status_code == 201, r.text
    rid = r.json()["request"]["id"]
    assert wait_state(env.svc, rid)["state"] == "ready"
    for who in ("victor", "alice"):
        r = approve(api(env, who), rid)
        assert r.status_code == 403, (who, r.text)
        assert "reviewer" in r.json()["detail"]
    r = approve(api(env, "bob"), rid, obligations=["keep the notice"])
    assert r.status_code == 200, r.text
    assert r.json()["request"]["state"] == "approved"
    assert approve(api(env, "carol"), rid).status_code == 409  # decided already


def test_two_reviewer_rule(env, release: Path) -> None:
    rid = audited(env, release, SAAS, requester="bob")  # bob is a reviewer who requested
    r = approve(api(env, "bob"), rid)
    assert r.status_code == 403 and "requester" in r.json()["detail"]
    r = approve(api(env, "carol"), rid)
    assert r.status_code == 200 and r.json()["request"]["state"] == "ready"
    assert r.json()["decisions"][0]["final"] is False
    r = approve(api(env, "carol"), rid)
    assert r.status_code == 403 and "another reviewer" in r.json()["detail"]
    r = approve(api(env, "dave"), rid)
    assert r.status_code == 200 and r.json()["request"]["state"] == "approved"
    assert r.json()["request"]["decision"]["reviewer"] == "dave"


def test_pages_need_a_session_and_a_role(env, release: Path) -> None:
    rid = audited(env, release)
    anon = browser(env)
    r = anon.get(f"/requests/{rid}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    viewer = browser(env)
    csrf = login(viewer, "victor")
    assert "decision-form" not in viewer.get(f"/requests/{rid}/review").text
    r = viewer.post(f"/requests/{rid}/decision", data={"csrf": csrf, "kind": "approve",
                                                        "version": "0"})
    assert r.status_code == 403
    assert viewer.get("/admin/users").status_code == 403
    assert env.svc.workflow.get(rid)["state"] == "ready"


def test_csrf_and_cookie_flags(env, release: Path) -> None:
    c = browser(env)
    page = c.get("/login")
    r = c.post("/login", data={"name": "bob", "password": "correct horse battery",
                               "csrf": csrf_of(page.text)}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    c.cookies.set("mc_session", r.cookies["mc_session"])
    rid = audited(env, release)
    form = {"kind": "approve", "version": "0"}
    assert c.post(f"/requests/{rid}/decision", data=form).status_code == 422  # no token
    r = c.post(f"/requests/{rid}/decision", data={**form, "csrf": "forged"})
    assert r.status_code == 403 and "CSRF" in r.text
    fresh = browser(env)  # login without the double-submit cookie
    assert fresh.post("/login", data={"name": "bob", "password": "x" * 9,
                                      "csrf": "guess"}).status_code == 400
    assert env.svc.workflow.get(rid)["state"] == "ready"


def test_wrong_password_is_refused_without_saying_which(env) -> None:
    c = browser(env)
    for name in ("bob", "nobody"):
        page = c.get("/login")
        r = c.post("/login", data={"name": name, "password": "wrong password",
                                   "csrf": csrf_of(page.text)})
        assert r.status_code == 401 and "Wrong name or password" in r.text


# ------------------------------------------------------------------------ bad input


def test_malformed_api_bodies_get_a_clear_4xx(env, release: Path) -> None:
    c = api(env, "bob")
    rid = audited(env, release)
    cases = [
        ("post", "/api/requests", {"content": b"{not json",
                                   "headers": {"content-type": "application/json"}}, 422),
        ("post", "/api/requests", {"json": {"target": 5}}, 422),
        ("post", "/api/requests", {"json": {"target": "x", "profile": "p", "extra": 1}}, 422),
        ("post", "/api/requests", {"json": {"target": "/no/such/dir", "profile":
                                            "internal-tool"}}, 400),
        ("post", "/api/requests", {"json": {"target": str(release), "profile": "nope"}}, 400),
        ("post", "/api/requests", {"json": {"target": "hf://acme/x", "profile":
                                            "internal-tool"}}, 400),
        ("post", f"/api/requests/{rid}/decisions", {"json": {"kind": "maybe"}}, 422),
        ("post", f"/api/requests/{rid}/decisions",
         {"json": {"kind": "approve", "expires_on": "2026-13-45"}}, 422),
        ("post", f"/api/requests/{rid}/decisions",
         {"json": {"kind": "approve", "expires_on": "2001-01-01"}}, 400),
        ("post", f"/api/requests/{rid}/decisions",
         {"json": {"kind": "approve_with_conditions"}}, 400),
        ("get", "/api/requests/abc", {}, 422),
        ("get", "/api/requests/0", {}, 422),
        ("get", "/api/requests/999999", {}, 404),
        ("get", f"/api/requests/{rid}/export?format=pdf", {}, 422),
        ("get", "/api/events?limit=-1", {}, 422),
    ]
    for method, path, kwargs, status in cases:
        r = getattr(c, method)(path, **kwargs)
        assert r.status_code == status, (path, kwargs, r.status_code, r.text)
        detail = r.json()["detail"]
        assert isinstance(detail, str) and detail and "Traceback" not in detail
    r = c.post("/api/requests", json={"target": "/no/such/dir", "profile": "internal-tool"})
    assert "/no/such/dir" in r.json()["detail"]
    assert env.svc.workflow.get(rid)["state"] == "ready"


def test_malformed_forms_get_a_clear_4xx_page(env, release: Path) -> None:
    rid = audited(env, release)
    c = browser(env)
    csrf = login(c, "bob")
    cases = [
        (f"/requests/{rid}/decision", {"csrf": csrf, "kind": "approve", "version": "x"}, 422),
        (f"/requests/{rid}/decision", {"csrf": csrf, "kind": "approve", "version": "1",
                                       "expires_on": "tomorrow"}, 400),
        (f"/requests/{rid}/decision", {"csrf": csrf, "kind": "sure", "version": "1"}, 400),
        ("/requests", {"csrf": csrf, "target": "/no/such", "profile": "internal-tool"}, 400),
        ("/requests", {"csrf": csrf}, 422),
        ("/requests/abc/reopen", {"csrf": csrf, "reason": "x"}, 422),
    ]
    for path, form, status in cases:
        r = c.post(path, data=form)
        assert r.status_code == status, (path, form, r.status_code, r.text[:500])
        assert "text/html" in r.headers["content-type"]
        assert "Traceback" not in r.text and 'class="flash"' in r.text
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert env.svc.workflow.get(rid)["state"] == "ready"


# ------------------------------------------------------------------------ log, export


def test_hash_chain_detects_an_edited_or_deleted_row(env, release: Path, tmp_path) -> None:
    audited(env, release)
    report = env.svc.store.verify_log()
    assert report.ok and report.rows >= 8
    path = str(tmp_path / "serve.sqlite3")
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE serve_events SET actor = 'mallory' WHERE seq = 3")
    db.execute("DROP TRIGGER serve_events_no_update")  # someone with the database file
    db.execute("UPDATE serve_events SET data = '{\"target\":\"elsewhere\"}' WHERE seq = 7")
    db.commit()
    report = env.svc.store.verify_log()
    assert not report.ok and report.broken_seq == 7 and "content" in (report.problem or "")
    r = api(env, "victor").get("/api/events/verify")
    assert r.json()["ok"] is False and r.json()["broken_seq"] == 7
    c = browser(env)
    login(c, "victor")
    assert "Hash chain broken at event 7" in c.get("/log").text
    db.execute("UPDATE serve_events SET data = '{\"target\":\"elsewhere\"}' WHERE seq = 7")
    db.execute("DROP TRIGGER serve_events_no_delete")
    db.execute("DELETE FROM serve_events WHERE seq = 4")
    db.commit()
    db.close()
    assert env.svc.store.verify_log().broken_seq == 5


def test_decision_exports_with_its_record(env, release: Path) -> None:
    import json

    from modelclear.reports import cyclonedx

    rid = audited(env, release)
    r = api(env, "bob").post(f"/api/requests/{rid}/decisions", json={
        "kind": "approve_with_conditions", "obligations": ["ship the NOTICE file"],
        "conditions": "internal users only", "teams": ["search"], "note": "ok"})
    assert r.status_code == 200, r.text
    c = api(env, "victor")
    doc = c.get(f"/api/requests/{rid}/export?format=json").json()
    assert doc["schema_version"] == 1 and doc["kind"] == "decision-export"
    assert doc["request"]["decision"]["obligations"] == ["ship the NOTICE file"]
    assert doc["record"]["record_hash"]["value"] == env.svc.store.registry.get(
        doc["request"]["record_id"]).record_hash
    md = c.get(f"/api/requests/{rid}/export?format=markdown").text
    assert "| decision | approve_with_conditions |" in md and "ship the NOTICE file" in md
    bom = c.get(f"/api/requests/{rid}/export?format=cyclonedx").text
    assert cyclonedx.validate(bom) is None
    props = {p["name"]: p["value"] for p in json.loads(bom)["metadata"]["properties"]}
    assert props["modelclear:decision:conditions"] == "internal users only"


# ------------------------------------------------------------------------ drift, revisions


def test_drift_reopens_the_review(env, release: Path) -> None:
    rid = audited(env, release)
    assert approve(api(env, "bob"), rid).json()["request"]["state"] == "approved"
    env.svc.worker.verify(rid).result(timeout=60)
    assert env.svc.workflow.get(rid)["state"] == "approved"  # nothing changed
    lic = release / "LICENSE"
    lic.write_text(lic.read_text() + "\nAll use for competing services is prohibited.\n")
    r = api(env, "bob").post(f"/api/requests/{rid}/verify")
    assert r.status_code == 202
    req = wait_state(env.svc, rid, done=("ready", "failed"))
    assert req["state"] == "ready" and req["decision"] is None
    assert "verify" in req["reopen_reason"] and "LICENSE" in req["reopen_reason"]
    kinds = [e["kind"] for e in env.svc.store.log(request_id=rid)]
    assert kinds[:4] == ["audit.completed", "audit.started", "review.reopened",
                         "verify.drifted"]
    assert api(env, "victor").get("/api/decision", params={
        "model": req["model_key"]}).json()["approved"] is False


def test_a_newer_revision_reopens_the_older_approval(env, demo: Path, hf_hub: Path) -> None:
    from conftest import make_hf_cache

    files = {p.name: p.read_bytes() for p in demo.iterdir() if p.is_file()}
    make_hf_cache(hf_hub, "acme/demo", files, "a" * 40)
    old = audited(env, "acme/demo")
    assert approve(api(env, "bob"), old).status_code == 200
    files["LICENSE"] += b"\nVersion 2 adds an attribution duty.\n"
    make_hf_cache(hf_hub, "acme/demo", files, "b" * 40)
    r = api(env, "alice").post("/api/requests", json={"target": "acme/demo",
                                                      "profile": "internal-tool"})
    new = r.json()["request"]["id"]
    assert wait_state(env.svc, new)["revision"] == "b" * 40
    req = wait_state(env.svc, old, done=("ready", "failed"))
    assert "newer revision " + "b" * 40 in req["reopen_reason"]
    c = browser(env)
    login(c, "victor")
    page = c.get("/model", params={"key": "acme/demo"}).text
    assert "Version 2 adds an attribution duty." in page and 'class="add"' in page


# ------------------------------------------------------------------------ XSS


XSS_LICENSE = '<script>alert("license")</script>'
XSS_NAME = "<img src=x onerror=alert(1)>"


def test_attacker_controlled_text_renders_inert(env, release: Path, tmp_path: Path) -> None:
    evil = copy_release(release, tmp_path / XSS_NAME)
    readme = evil / "README.md"
    readme.write_text(readme.read_text().replace(
        "license: other", "license: \"<svg onload=alert('card')>\"", 1)
        + "\n<script>alert('card body')</script>\n")
    (evil / f"{XSS_NAME}.py").write_text("import os\nos.system('id')\n")
    first = audited(env, evil)
    lic = evil / "LICENSE"
    lic.write_text(lic.read_text() + f"\n{XSS_LICENSE}\n")
    second = audited(env, evil)
    c = browser(env)
    login(c, "bob")
    key = env.svc.workflow.get(second)["model_key"]
    api(env, "alice").post("/api/requests", json={
        "target": str(evil), "profile": "internal-tool",
        "use": "<script>alert('use')</script>", "teams": ["<b>team</b>"]})
    pages = [c.get(u).text for u in (
        "/", "/requests", f"/requests/{first}", f"/requests/{second}/review", "/log")]
    pages.append(c.get("/model", params={"key": key}).text)
    joined = "\n".join(pages)
    for raw in ("<script", "<img", "<svg", "<b>team"):
        assert raw not in joined, raw
    assert "&lt;script&gt;alert(&#34;license&#34;)&lt;/script&gt;" in pages[-1]  # the diff
    assert "&lt;img src=x onerror=alert(1)&gt;" in joined  # folder and file names
    assert "&lt;svg onload=alert(" in joined  # the card's license field


# ------------------------------------------------------------------------ check --server


@pytest.fixture
def live_server(env):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(env.app, host="127.0.0.1", port=port,
                                           log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_check_fetches_the_teams_decision(env, release: Path, live_server: str,
                                          monkeypatch, capsys) -> None:
    from conftest import run_cli

    monkeypatch.setenv("MC_TOKEN", env.tokens["victor"])
    argv = ["check", str(release), "--server", live_server, "--token-env", "MC_TOKEN",
            "--profile", "internal-tool"]
    assert run_cli(argv) == 1
    assert "NOT APPROVED: no approved decision" in capsys.readouterr().out
    rid = audited(env, release)
    approve(api(env, "bob"), rid, obligations=["credit Acme"])
    assert run_cli(argv) == 0
    out = capsys.readouterr().out
    assert "APPROVED by bob" in out and "credit Acme" in out
    assert run_cli(argv[:-2] + ["--profile", SAAS]) == 1
    monkeypatch.setenv("MC_TOKEN", "mc_wrong")
    assert run_cli(argv) == 2
    assert env.tokens["victor"] not in capsys.readouterr().err


def test_every_page_has_a_strict_policy_and_no_script(env, release: Path) -> None:
    rid = audited(env, release)
    c = browser(env)
    login(c, "root")
    for url in ("/", "/requests", "/requests/new", f"/requests/{rid}",
                f"/requests/{rid}/review", "/log", "/admin/users", "/tokens", "/login",
                "/api/openapi.json", "/static/style.css", "/no/such/page"):
        r = c.get(url)
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), url
        assert "script-src" not in r.headers["content-security-policy"]  # none at all
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in r.text, url
    assert c.get("/no/such/page").status_code == 404


def test_cli_creates_users_and_tokens(tmp_path: Path, monkeypatch, capsys) -> None:
    import io

    from conftest import run_cli

    from modelclear.server.store import Store

    url = str(tmp_path / "cli.sqlite3")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert run_cli(["serve", "--registry", url, "--create-admin", "ada"]) == 0
    assert "user ada (admin) created" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert run_cli(["serve", "--registry", url, "--create-user", "bo", "--role",
                    "reviewer"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert run_cli(["serve", "--registry", url, "--create-user", "bo", "--role",
                    "reviewer"]) == 0
    assert run_cli(["serve", "--registry", url, "--create-token", "bo"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    store = Store(url)
    try:
        assert store.token_user(token).name == "bo"
        assert store.authenticate("ada", "a long enough password").role == "admin"
        assert store.authenticate("ada", "wrong") is None
        from sqlalchemy import select

        from modelclear.server.tables import api_tokens, users
        with store.read() as conn:  # neither a token nor a password is stored as given
            stored = " ".join(str(v) for table in (users, api_tokens)
                              for row in conn.execute(select(table)) for v in row)
        assert token not in stored and "a long enough password" not in stored
        assert "$argon2id$" in stored
    finally:
        store.close()
    assert run_cli(["serve", "--registry", url, "--create-token", "nobody"]) == 2
