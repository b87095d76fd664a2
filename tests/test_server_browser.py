"""The review flows in a real browser: Debian's Chromium driven by Playwright.

request → audit (the request page refreshes itself) → review → approve with obligations,
then drift: the license changes, a reviewer checks for drift, the review reopens. The
server is the real one (uvicorn on loopback). Screenshots of every main page go to
``$MODELCLEAR_TEST_ARTEFACTS`` (default: a temporary folder), never into the repository.
Skipped with the reason when Playwright or a chromium binary is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_support import PASSWORD, close_env, copy_release, live, make_env
from test_server_results import serving_docs  # noqa: F401 - real bench/probe/drift documents

CHROMIUM = os.environ.get("MODELCLEAR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                       reason=f"no chromium binary at {CHROMIUM} (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

ARTEFACTS = Path(os.environ.get("MODELCLEAR_TEST_ARTEFACTS")
                 or Path(tempfile.gettempdir()) / "modelclear-artefacts") / "serve-screens"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo: Path) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("browser")
    env = make_env(str(folder / "serve.sqlite3"))
    release = copy_release(demo, folder / "acme-demo-moe")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with live(env.app) as url:
        yield {"url": url, "env": env, "release": release}
    close_env(env)


@pytest.fixture(scope="module")
def browser(site: dict, serving_docs: dict):  # noqa: F811 - made before Playwright's loop runs
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


def sign_in(browser, site: dict, name: str):  # noqa: ANN001, ANN201 - playwright objects
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    page.goto(site["url"] + "/")
    assert page.url.endswith("/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(site["url"] + "/")
    return page


def shot(page, name: str) -> None:  # noqa: ANN001
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def wait_for_state(page, *states: str, timeout_s: float = 45) -> str:  # noqa: ANN001
    """The request page refreshes itself (meta refresh) until its audit is done."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if page.locator("#state").count() == 0:  # between two refreshes, or an error page
            assert "flash" not in page.content(), page.text_content("main")
            time.sleep(0.2)
            continue
        state = page.text_content("#state") or ""
        if state in states:
            return state
        time.sleep(0.3)
    raise AssertionError(f"request still {page.text_content('#state')}")


def test_request_review_approve(browser, site: dict) -> None:  # noqa: ANN001
    alice = sign_in(browser, site, "alice")
    alice.click("text=Request a clearance")
    alice.fill("#target", str(site["release"]))
    alice.select_option("#profile", "internal-tool")
    alice.fill("#use", "internal chat assistant")
    alice.fill("#teams", "search, support")
    shot(alice, "01-request-form")
    alice.click("#submit-request")
    assert wait_for_state(alice, "ready", "failed") == "ready"
    shot(alice, "02-request-audited")
    assert alice.locator("#review-link").count() == 0  # a requester does not review
    site["rid"] = int(alice.url.rstrip("/").rsplit("/", 1)[1])

    bob = sign_in(browser, site, "bob")
    bob.goto(f"{site['url']}/requests/{site['rid']}")
    bob.click("#review-link")
    assert "Licenses and terms" in bob.content() and "Checks" in bob.content()
    bob.select_option("#kind", "approve_with_conditions")
    bob.fill("#obligations", "Keep the ACME notice with every copy")
    bob.fill("#conditions", "internal users only")
    bob.fill("#note", "reviewed in the browser")
    shot(bob, "03-review")
    bob.click("#decide")
    assert wait_for_state(bob, "approved") == "approved"
    assert "Keep the ACME notice with every copy" in bob.content()
    shot(bob, "04-approved")
    bob.goto(site["url"] + "/")
    assert "approve with conditions by bob" in bob.content()
    shot(bob, "05-models")
    bob.click("text=acme-demo-moe")
    assert "Record history" in bob.content()
    shot(bob, "06-model")
    bob.goto(site["url"] + "/log")
    assert "Hash chain intact" in bob.content()
    shot(bob, "07-log")


def test_reopen_on_drift(browser, site: dict) -> None:  # noqa: ANN001
    if "rid" not in site:
        pytest.skip("needs the approval of test_request_review_approve")
    lic = site["release"] / "LICENSE"
    lic.write_text(lic.read_text() + "\nUse in competing services is prohibited.\n")
    bob = sign_in(browser, site, "bob")
    bob.goto(f"{site['url']}/requests/{site['rid']}")
    bob.click("#verify")
    time.sleep(0.5)
    bob.reload()
    assert wait_for_state(bob, "ready", "failed") == "ready"
    content = bob.content()
    assert "verify.drifted" in content and "review.reopened" in content
    assert "Reopened" in content and "LICENSE" in content
    shot(bob, "08-reopened-on-drift")
    bob.goto(f"{site['url']}/model?key=acme-demo-moe")
    assert "Use in competing services is prohibited." in bob.content()
    shot(bob, "09-model-license-diff")


def test_results_on_model_page_and_throttled_sign_in(browser, site: dict,  # noqa: ANN001
                                                     serving_docs: dict) -> None:  # noqa: F811
    if "rid" not in site:
        pytest.skip("needs the request of test_request_review_approve")
    from fastapi.testclient import TestClient

    env = site["env"]
    key = env.svc.workflow.get(site["rid"])["model_key"]
    api = TestClient(env.app, headers={"Authorization": f"Bearer {env.tokens['alice']}"})
    for kind in ("bench", "probe", "drift"):
        r = api.post("/api/models/results", json={"model": key, "document": serving_docs[kind]})
        assert r.status_code == 201, r.text
    bob = sign_in(browser, site, "bob")
    bob.goto(f"{site['url']}/model?key={key}")
    assert bob.locator("#bench").count() == 1 and bob.locator("#probe").count() == 1
    assert "concurrency=1" in bob.content() and "MC586" in bob.content()
    shot(bob, "10-model-bench-probe")
    page = browser.new_context().new_page()
    for _ in range(5):
        page.goto(site["url"] + "/login")
        page.fill("#name", "mallory")
        page.fill("#password", "not the password")
        page.click("#sign-in")
    assert page.locator("#throttled").count() == 1
    shot(page, "11-sign-in-throttled")
