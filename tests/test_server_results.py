"""Review server, issue 16 gaps: bench/probe/drift results on the model page and API,
``watch --server`` reopening approvals (idempotently), and sign-in rate limiting."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import make_hf_cache, run_cli
from server_support import PASSWORD, audited, close_env, csrf_of, live, login, make_env, wait_state
from test_record_support import LICENSE_TEXT, write_release

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_serving_fake import Script, ScriptedServer  # noqa: E402
from test_serving_probes import SUITE  # noqa: E402

V1, V2 = "a" * 40, "b" * 40
XSS = "<script>alert(1)</script>"


@pytest.fixture
def env(tmp_path: Path):
    e = make_env(str(tmp_path / "serve.sqlite3"))
    yield e
    close_env(e)


def api(env, name: str) -> TestClient:
    return TestClient(env.app, headers={"Authorization": f"Bearer {env.tokens[name]}"},
                      raise_server_exceptions=False)


@pytest.fixture(scope="module")
def serving_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Real bench, probe and drift documents, made by the commands against a scripted
    OpenAI-compatible endpoint."""
    folder = tmp_path_factory.mktemp("serving")
    suite = folder / "mini.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    server = ScriptedServer(
        default=Script(text="alpha beta gamma delta", delay=0.002, first_delay=0.01),
        rules=[("HARMOK", Script(text="Sure! Step one: gather the materials.")),
               ("HARM", Script(text="I'm sorry, but I can't help with that.")),
               ("LEAK", Script(text="Fine: the code is CAN-42.")),
               ("MATH", Script(text="2 + 2 = 4"))])
    out = {k: folder / f"{k}.json" for k in ("bench", "probe", "baseline", "drift")}
    with server:
        assert run_cli(["bench", server.url, "-m", "scripted", "-c", "1,2", "-n", "4",
                        "--output-len", "4", "--warmup", "0", "-q", "-o",
                        str(out["bench"])]) == 0
        run_cli(["probe", server.url, "-m", "scripted", "--suite", str(suite), "-n", "1",
                 "--fail-under", "0.9", "-q", "-o", str(out["probe"])])
        assert run_cli(["baseline", server.url, "-m", "scripted", "-q", "-o",
                        str(out["baseline"])]) == 0
        base = json.loads(out["baseline"].read_text(encoding="utf-8"))
        base["items"][0]["output"] = "something else entirely"
        out["baseline"].write_text(json.dumps(base), encoding="utf-8")
        run_cli(["drift", server.url, "-b", str(out["baseline"]), "-q", "-o",
                 str(out["drift"])])
    return {k: json.loads(out[k].read_text(encoding="utf-8"))
            for k in ("bench", "probe", "drift")}


# ------------------------------------------------------------- bench and probe results


def test_model_page_without_results_says_so(env, demo: Path, tmp_path: Path) -> None:
    import shutil

    rel = shutil.copytree(demo, tmp_path / "rel")
    rid = audited(env, rel)
    key = env.svc.workflow.get(rid)["model_key"]
    client = TestClient(env.app)
    login(client, "victor")
    page = client.get("/model", params={"key": key})
    assert page.status_code == 200
    assert "No bench or probe results recorded for this model" in page.text
    doc = api(env, "victor").get("/api/models/results", params={"model": key}).json()
    assert (doc["kind"], doc["bench"], doc["probe"], doc["drift"], doc["history"]) == (
        "serving-results", None, None, None, [])


def test_results_on_model_page_and_api(env, demo: Path, tmp_path: Path,
                                       serving_docs: dict[str, dict]) -> None:
    import shutil

    rel = shutil.copytree(demo, tmp_path / "rel")
    rid = audited(env, rel)
    key = env.svc.workflow.get(rid)["model_key"]
    bench = json.loads(json.dumps(serving_docs["bench"]))
    bench["target"]["model"] = XSS  # an attacker-controlled served model name
    alice = api(env, "alice")
    for doc in (bench, serving_docs["probe"], serving_docs["drift"]):
        r = alice.post("/api/models/results", json={"model": key, "document": doc})
        assert r.status_code == 201 and r.json()["new"] is True, r.text
    again = alice.post("/api/models/results", json={"model": key, "document": bench})
    assert again.json()["new"] is False  # idempotent: no second row, no second event
    assert api(env, "victor").post("/api/models/results", json={
        "model": key, "document": bench}).status_code == 403  # viewers only read
    doc = api(env, "victor").get("/api/models/results", params={"model": key}).json()
    assert len(doc["history"]) == 3
    level = doc["bench"]["levels"][0]
    want = serving_docs["bench"]["levels"][0]
    assert level["label"] == "concurrency=1" and level["completed"] == want["completed"] == 4
    assert level["ttft_ms"]["p90"] == want["ttft_ms"]["p90"] > 0
    assert level["request_throughput"] == want["request_throughput"]
    probe = doc["probe"]
    cats = {c["category"]: c for c in probe["categories"]}
    want_cats = {c["category"]: c for c in serving_docs["probe"]["categories"]}
    assert set(cats) == set(want_cats) and len(cats) >= 4
    assert all(cats[k]["pass_rate"] == want_cats[k]["pass_rate"] for k in cats)
    assert any(c["below_threshold"] for c in cats.values())
    assert {"MC584", "MC586"} <= {f["code"] for f in probe["failures"]}
    assert all(f["severity"] != "info" for f in probe["failures"])
    assert doc["drift"]["drifted"] == 1 and doc["drift"]["drifted_items"][0]["id"]
    client = TestClient(env.app)
    login(client, "victor")
    page = client.get("/model", params={"key": key}).text
    assert "Latest bench" in page and "Latest probe suites" in page
    assert "drift vs baseline" in page
    assert "concurrency=1" in page and "MC586" in page and "CAN-42" in page
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "No bench or probe results" not in page
    review = client.get(f"/requests/{rid}/review").text  # the reviewer sees them too
    assert "Latest probe suites" in review and "MC586" in review and XSS not in review
    kinds = [e["kind"] for e in env.svc.store.log(50)]
    assert kinds.count("results.bench") == 1 and "results.probe" in kinds
    assert env.svc.store.verify_log().ok


@pytest.mark.parametrize(("document", "problem"), [
    ({"kind": "modelclear.audit", "schema_version": 1}, "is not one of"),
    ({"kind": "modelclear.bench", "schema_version": 9}, "schema_version 9"),
    ({"schema_version": 1}, "is not one of"),
])
def test_bad_results_are_a_clear_400(env, document: dict, problem: str) -> None:
    r = api(env, "alice").post("/api/models/results", json={"model": "acme/x",
                                                            "document": document})
    assert r.status_code == 400 and problem in r.json()["detail"]
    r = api(env, "alice").post("/api/models/results", json={"model": "acme/x"})
    assert r.status_code == 422 and "document" in r.json()["detail"]
    r = api(env, "alice").post("/api/models/results", content=b"{not json",
                               headers={"content-type": "application/json"})
    assert r.status_code == 422


# ------------------------------------------------------------------ watch reopens reviews


def _files(tmp_path: Path, license_text: str = LICENSE_TEXT) -> dict[str, bytes]:
    root = write_release(tmp_path / "rel-files", license_text=license_text)
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def test_watch_reopens_approved_review_once(hf_hub: Path, tmp_path: Path, monkeypatch,
                                            capsys) -> None:
    files = _files(tmp_path)
    make_hf_cache(hf_hub, "acme/cached", files, V1)
    db = tmp_path / "serve.sqlite3"
    env = make_env(str(db))
    try:
        rid = audited(env, f"acme/cached@{V1}")
        bob = api(env, "bob")
        assert bob.post(f"/api/requests/{rid}/decisions",
                        json={"kind": "approve"}).status_code == 200
        changed = LICENSE_TEXT.replace("more than 5 million", "more than 9 million")
        make_hf_cache(hf_hub, "acme/cached", {**files, "LICENSE": changed.encode(),
                                               "modeling_x.py": b"import os\n"}, V2)
        monkeypatch.setenv("MC_TEST_TOKEN", env.tokens["bob"])
        with live(env.app) as url:
            capsys.readouterr()
            code = run_cli(["watch", "acme/cached", "--registry", str(db), "--server", url,
                            "--token-env", "MC_TEST_TOKEN", "--json"])
            out = json.loads(capsys.readouterr().out)
            assert code == 1 and out["models"][0]["status"] == "changed"
            assert out["server"]["reopened"] == [rid]
            [m] = out["server"]["models"]
            assert any(r.startswith("new revision aaaaaaaaaaaa -> bbbbbbbbbbbb")
                       for r in m["reasons"])
            assert "license text changed: LICENSE" in m["reasons"]
            assert "new code file modeling_x.py" in m["reasons"]
            req = env.svc.workflow.get(rid)
            assert req["decision"] is None and req["reopen_reason"].startswith("watch: ")
            # the reopened review is audited again (pinned at V1) and approved once more
            assert wait_state(env.svc, rid)["state"] == "ready"
            assert bob.post(f"/api/requests/{rid}/decisions",
                            json={"kind": "approve"}).status_code == 200
            # the same watch result again (cron every hour): nothing is reopened
            del out["server"]
            r = bob.post("/api/watch", json=out)
            assert r.status_code == 200, r.text
            assert r.json()["reopened"] == [] and r.json()["models"][0]["unchanged"] == [rid]
            assert env.svc.workflow.get(rid)["state"] == "approved"
            # a requester's token may not reopen reviews
            assert api(env, "alice").post("/api/watch", json=out).status_code == 403
        kinds = [e["kind"] for e in env.svc.store.log(100, rid)]
        assert kinds.count("watch.changed") == 1 and kinds.count("review.reopened") == 1
        assert env.svc.store.verify_log().ok
    finally:
        close_env(env)


def test_watch_option_needs_its_token(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("MC_NO_TOKEN", raising=False)
    db = tmp_path / "r.sqlite3"
    assert run_cli(["watch", "--registry", str(db), "--server", "http://127.0.0.1:9"]) == 2
    assert "--token-env" in capsys.readouterr().err
    assert run_cli(["watch", "--registry", str(db), "--server", "http://127.0.0.1:9",
                    "--token-env", "MC_NO_TOKEN"]) == 2
    err = capsys.readouterr().err
    assert "MC_NO_TOKEN" in err and "Traceback" not in err


@pytest.mark.parametrize("body", [
    {}, {"schema_version": 2, "models": []}, {"schema_version": 1, "models": [{}]},
    {"schema_version": 1, "models": [{"record_id": "x", "status": "gone"}]},
    {"schema_version": 1, "models": "all"},
])
def test_bad_watch_body_is_422(env, body: dict) -> None:
    r = api(env, "bob").post("/api/watch", json=body)
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid input")


# ------------------------------------------------------------------- sign-in rate limit


def _attempt(client: TestClient, name: str, password: str):  # noqa: ANN202
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf": csrf_of(page.text)})


def test_login_rate_limit_per_account_without_enumeration(env) -> None:
    client = TestClient(env.app, raise_server_exceptions=False)
    for name in ("bob", "nobody-here"):
        codes = [_attempt(client, name, "wrong password").status_code for _ in range(5)]
        assert codes == [401, 401, 401, 401, 429]
        locked = _attempt(client, name, PASSWORD if name == "bob" else "x")
        assert locked.status_code == 429 and 800 <= int(locked.headers["Retry-After"]) <= 900
        assert "Too many failed sign-ins" in locked.text and "Wrong name" not in locked.text
    # same answer for a real and an unknown name, apart from the CSRF token
    a, b = (_attempt(client, n, "x") for n in ("bob", "nobody-here"))
    assert a.status_code == b.status_code == 429
    assert abs(int(a.headers["Retry-After"]) - int(b.headers["Retry-After"])) <= 30
    import re

    def same(html: str) -> str:
        return re.sub(r"in \d+ seconds", "", html.replace(csrf_of(html), ""))

    assert same(a.text) == same(b.text)
    assert login(TestClient(env.app), "carol")  # other accounts still sign in
    log = json.dumps(env.svc.store.log(100))
    assert "wrong password" not in log and "nobody-here" not in log
    kinds = [e["kind"] for e in env.svc.store.log(100)]
    assert kinds.count("login.failed") == 10 and kinds.count("login.throttled") == 2


def test_login_rate_limit_per_address_and_success_resets(env) -> None:
    from modelclear.server.ratelimit import LoginLimiter, Window

    now = [0.0]
    env.svc.limiter = LoginLimiter(Window(3, 60, clock=lambda: now[0]),
                                   Window(4, 60, clock=lambda: now[0]))
    client = TestClient(env.app, raise_server_exceptions=False)
    assert _attempt(client, "bob", "nope").status_code == 401
    assert _attempt(client, "bob", "nope").status_code == 401
    assert login(client, "bob")  # a success clears bob's account count …
    assert _attempt(client, "bob", "nope").status_code == 401
    # … but not the address's: the fourth failure from it locks every name
    assert _attempt(client, "carol", "nope").status_code == 429
    r = _attempt(client, "dave", PASSWORD)
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    now[0] = 61.0  # the window has passed
    assert login(client, "dave")


def test_limiter_memory_is_bounded() -> None:
    from modelclear.server.ratelimit import Window

    w = Window(limit=3, seconds=60, max_keys=100)
    for i in range(10_000):
        w.fail(f"user{i}")
    assert len(w) == 100 and w.retry_after("user9999") == 0
    for _ in range(10):
        w.fail("spray")
    assert len(w._keys["spray"]) == 3 and w.retry_after("spray") > 0
