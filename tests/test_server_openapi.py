"""Requests generated from the review server's own OpenAPI schema never get a 5xx.

schemathesis builds valid and invalid calls for every API operation (paths, query
strings, JSON bodies) from ``/api/openapi.json`` and sends them through the ASGI app
with a reviewer's token; whatever they carry, the answer is a 2xx or a clear 4xx.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from server_support import close_env, make_env

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

STATE: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    folder: Path = tmp_path_factory.mktemp("serve-openapi")
    env = make_env(str(folder / "serve.sqlite3"), frozenset({"customer-saas"}))
    STATE["token"] = env.tokens["bob"]
    # a request to find at /api/requests/1 (its audit is not needed: the worker is idle)
    env.svc.workflow.create(env.user("alice"), str(folder), None, "acme/x", "internal-tool",
                            "", [])
    yield schemathesis.openapi.from_asgi("/api/openapi.json", env.app)
    close_env(env)


def test_api_never_answers_5xx(api_schema) -> None:
    """Every operation, 30 valid and 30 invalid generated calls each (hypothesis drives
    schemathesis's strategies directly; its pytest plugin is not needed)."""
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable

    headers = {"Authorization": f"Bearer {STATE['token']}"}
    calls: dict[str, list[int]] = {}
    operations = [r.ok() for r in api_schema.get_all_operations()]
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    for op, mode in [(op, mode) for op in operations for mode in modes]:
        key = f"{op.method.upper()} {op.path} {mode.value}"
        calls[key] = []

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def call(case) -> None:  # noqa: ANN001 - a schemathesis Case
            response = case.call(headers=headers)
            calls[key].append(response.status_code)  # noqa: B023 - run at once, in the loop
            assert response.status_code < 500, (case.method, case.formatted_path,
                                                response.text)
            if response.status_code >= 400:
                assert isinstance(response.json()["detail"], str)

        try:
            call()
        except Unsatisfiable:
            # nothing to make invalid (an operation without parameters or body)
            assert mode is schemathesis.GenerationMode.NEGATIVE
    assert all(v for k, v in calls.items() if k.endswith("positive"))
    assert sum(1 for k, v in calls.items() if k.endswith("negative") and v) >= 8
    assert any(s == 200 for v in calls.values() for s in v)  # not only refusals
    # the watch endpoint and the results endpoint were fuzzed both ways, never a 5xx
    for op in ("POST /api/watch", "POST /api/models/results", "GET /api/models/results"):
        assert calls[f"{op} positive"] and calls[f"{op} negative"], op
    assert any(s == 200 for s in calls["POST /api/watch positive"])


def test_the_schema_documents_every_api_route(api_schema) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert {"/api/requests", "/api/requests/{rid}/decisions", "/api/decision",
            "/api/events/verify", "/api/requests/{rid}/export", "/api/watch",
            "/api/models/results"} <= paths
    assert not any(not p.startswith("/api/") for p in paths)  # pages are not the API
