"""Concurrent decisions on one request: exactly one wins, on SQLite and on PostgreSQL.

Real threads call the workflow at once (a barrier releases them together); every loser
gets a Conflict (HTTP 409), the winner's decision is the one in force, and the hash
chain holds exactly one decision event, unbroken.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from server_support import BACKENDS, audited, close_env, copy_release, database_url, make_env

pytest.importorskip("fastapi")

THREADS = 8


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path: Path):
    e = make_env(database_url(request.param, tmp_path), frozenset({"customer-saas"}))
    yield e
    close_env(e)


def _race(env, rid: int, who: list[str], kind: str,
          version: int | None = None) -> tuple[list[str], list[str]]:
    from modelclear.server.store import Conflict, Forbidden
    from modelclear.server.workflow import DecisionInput

    users = {u.name: u for u in env.svc.store.users()}
    barrier = threading.Barrier(len(who))
    wins: list[str] = []
    losses: list[str] = []

    def decide(name: str) -> None:
        from datetime import date

        barrier.wait()
        try:
            env.svc.workflow.decide(users[name], rid, DecisionInput(
                kind=kind, owner=name, use="", teams=(), expires_on=date(2099, 1, 1),
                expected_version=version))
            wins.append(name)
        except (Conflict, Forbidden) as exc:
            losses.append(f"{name}: {type(exc).__name__}")

    threads = [threading.Thread(target=decide, args=(n,)) for n in who]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return wins, losses


def test_concurrent_approvals_exactly_one_wins(env, demo: Path, tmp_path: Path) -> None:
    rid = audited(env, copy_release(demo, tmp_path / "rel"))
    reviewers = ["bob", "carol", "dave", "root"] * (THREADS // 4)
    wins, losses = _race(env, rid, reviewers, "approve")
    assert len(wins) == 1, (wins, losses)
    assert len(losses) == THREADS - 1 and all("Conflict" in x for x in losses)
    req = env.svc.workflow.get(rid)
    assert req["state"] == "approved" and req["decision"]["reviewer"] == wins[0]
    assert len(env.svc.workflow.decisions(rid)) == 1
    kinds = [e["kind"] for e in env.svc.store.log(request_id=rid)]
    assert kinds.count("decision.approve") == 1
    assert env.svc.store.verify_log().ok


def test_concurrent_first_approvals_under_the_two_reviewer_rule(env, demo: Path,
                                                                 tmp_path: Path) -> None:
    """Reviewers deciding on the page they saw (its version): one first approval wins,
    then one second approval; without a version the queue may pass a first and a second
    approval, never more, and always from two different reviewers
    (on PostgreSQL a reader may see the version a racing winner is replacing: 409)."""
    rid = audited(env, copy_release(demo, tmp_path / "rel"), "customer-saas")
    seen = env.svc.workflow.get(rid)["version"]
    wins, _ = _race(env, rid, ["bob", "carol", "dave"], "approve", seen)
    assert len(wins) == 1  # one first approval claimed the version
    assert env.svc.workflow.get(rid)["state"] == "ready"
    rest = [n for n in ("bob", "carol", "dave") if n not in wins]
    wins2, _ = _race(env, rid, rest, "approve", seen + 1)
    assert len(wins2) == 1
    req = env.svc.workflow.get(rid)
    assert req["state"] == "approved"
    assert {d["reviewer"] for d in env.svc.workflow.decisions(rid)} == {wins[0], wins2[0]}
    other = audited(env, copy_release(demo, tmp_path / "rel2"), "customer-saas")
    wins3, _ = _race(env, other, ["bob", "carol", "dave", "root"], "approve")
    assert 1 <= len(wins3) <= 2 and len(set(wins3)) == len(wins3)
    finals = [d["final"] for d in env.svc.workflow.decisions(other)]
    assert finals == [False, True][:len(wins3)]
    assert env.svc.workflow.get(other)["state"] == ("approved" if len(wins3) == 2 else "ready")
    assert env.svc.store.verify_log().ok
