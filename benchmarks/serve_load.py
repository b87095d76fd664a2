"""Load on the review server: browsing clients and deciding reviewers at once.

Starts ``modelclear serve`` as its own process on loopback (PostgreSQL when ``--registry``
is a URL, else a fresh SQLite file), signs in ``--clients`` browsing users who fetch pages
(models, requests, a request, a model, the audit log) and runs ``--reviewers`` reviewers
who request clearances and race each other to decide them through the JSON API, for
``--duration`` seconds. Reports p50/p95/max page time per page, error count (5xx,
connection errors, unexpected 4xx; a 409 for a decision another reviewer won is the
expected answer, counted apart), and checks the log: every event a client caused is in
it exactly once (counted by kind) and the hash chain verifies.

    python benchmarks/serve_load.py [--registry postgresql+psycopg://…] [--duration 60]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stats:
    """Thread-safe tallies: page times, errors, and the events clients caused."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.caused: Counter[str] = Counter()
        self.conflicts = 0

    def time(self, page: str, seconds: float) -> None:
        with self.lock:
            self.times[page].append(seconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1

    def event(self, kind: str) -> None:
        with self.lock:
            self.caused[kind] += 1

    def conflict(self) -> None:
        with self.lock:
            self.conflicts += 1


def browse(base: str, name: str, until: float, stats: Stats, rng: random.Random) -> None:
    """One user: sign in (a real session), then fetch pages until the time is up."""
    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as c:
        try:
            page = c.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            r = c.post("/login", data={"name": name, "password": PASSWORD,
                                       "csrf": csrf.group(1) if csrf else ""})
            if r.status_code != 200 or r.url.path != "/":
                stats.error(f"login {r.status_code}")
                return
        except httpx.HTTPError as exc:
            stats.error(f"login {type(exc).__name__}")
            return
        ids: list[int] = []
        keys: list[str] = []
        while time.monotonic() < until:
            choice = rng.random()
            if choice < 0.3 or not ids:
                label, url = "models", "/"
            elif choice < 0.5:
                label, url = "requests", "/requests"
            elif choice < 0.8:
                label, url = "request", f"/requests/{rng.choice(ids)}"
            elif choice < 0.93 and keys:
                label, url = "model", "/model?key=" + httpx.QueryParams({"k": rng.choice(keys)}
                                                                       ).get("k", "")
            else:
                label, url = "log", "/log"
            t0 = time.perf_counter()
            try:
                r = c.get(url)
            except httpx.HTTPError as exc:
                stats.error(f"{label} {type(exc).__name__}")
                continue
            stats.time(label, time.perf_counter() - t0)
            if r.status_code != 200:
                stats.error(f"{label} HTTP {r.status_code}")
            elif label in ("models", "requests"):
                ids = [int(x) for x in re.findall(r'href="/requests/(\d+)"', r.text)] or ids
                keys = re.findall(r'href="/model\?key=([^"]+)"', r.text) or keys


def review(base: str, token: str, target: str, until: float, stats: Stats,
           rng: random.Random) -> None:
    """One reviewer: request clearances, then race the others to decide ready ones."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as c:
        while time.monotonic() < until:
            try:
                ready = c.get("/api/requests", params={"state": "ready"}).json()["requests"]
                if len(ready) < 3 and rng.random() < 0.5:
                    r = c.post("/api/requests", json={"target": target,
                                                      "profile": "internal-tool",
                                                      "teams": ["load"]})
                    if r.status_code == 201:
                        stats.event("request.created")
                    else:
                        stats.error(f"create HTTP {r.status_code}")
                if not ready:
                    time.sleep(0.2)
                    continue
                req = rng.choice(ready)
                kind = rng.choice(["approve", "approve", "approve_with_conditions", "reject"])
                body: dict[str, Any] = {"kind": kind, "expected_version": req["version"],
                                        "note": "load test"}
                if kind == "approve_with_conditions":
                    body["obligations"] = ["keep the notice"]
                r = c.post(f"/api/requests/{req['id']}/decisions", json=body)
                if r.status_code == 200:
                    stats.event(f"decision.{kind}")
                elif r.status_code == 409:
                    stats.conflict()
                else:
                    stats.error(f"decide HTTP {r.status_code}")
                if rng.random() < 0.1:  # now and then a decided request is reopened
                    done = c.get("/api/requests", params={"state": "approved"}).json()
                    if done["requests"]:
                        rid = rng.choice(done["requests"])["id"]
                        r = c.post(f"/api/requests/{rid}/reopen", json={"reason": "load"})
                        if r.status_code == 200:
                            stats.event("review.reopened")
                        elif r.status_code == 409:
                            stats.conflict()
                        else:
                            stats.error(f"reopen HTTP {r.status_code}")
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                stats.error(f"reviewer {type(exc).__name__}")


def setup(registry: str, clients: int, reviewers: int) -> dict[str, str]:
    """Users in the server's database (before it starts); reviewer name -> API token."""
    sys.path.insert(0, str(ROOT / "src"))
    from modelclear.server.store import Store

    store = Store(registry)
    try:
        for i in range(clients):
            store.add_user(f"viewer{i}", "viewer", PASSWORD)
        tokens = {}
        for i in range(reviewers):
            store.add_user(f"reviewer{i}", "reviewer", PASSWORD)
            tokens[f"reviewer{i}"] = store.new_token(f"reviewer{i}", "load")
        return tokens
    finally:
        store.close()


def check_log(registry: str, stats: Stats) -> dict[str, Any]:
    from sqlalchemy import func, select

    from modelclear.server.store import Store
    from modelclear.server.tables import events

    store = Store(registry)
    try:
        with store.tx() as conn:
            stored = dict(conn.execute(select(events.c.kind, func.count())
                                       .group_by(events.c.kind)).all())
            total = conn.execute(select(func.count()).select_from(events)).scalar_one()
            last = conn.execute(select(func.max(events.c.seq))).scalar_one()
        chain = store.verify_log()
    finally:
        store.close()
    mismatched = {k: {"caused": n, "logged": stored.get(k, 0)}
                  for k, n in stats.caused.items() if stored.get(k, 0) != n}
    return {"events": total, "last_seq": last, "gapless": total == last,
            "by_kind": stored, "mismatched": mismatched, "chain_ok": chain.ok,
            "chain_problem": chain.problem}


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else values[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--registry", help="database URL (PostgreSQL for teams); default: a new "
                    "SQLite file in a temporary folder")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--reviewers", type=int, default=5)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--release", help="release folder to request (default: the demo)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mc-serve-load-"))
    registry = args.registry or str(tmp / "serve.sqlite3")
    sys.path.insert(0, str(ROOT / "src"))
    if args.release:
        target = str(Path(args.release).resolve())
    else:
        from modelclear.demo import build_demo

        target = str(build_demo(tmp))
    tokens = setup(registry, args.clients, args.reviewers)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), MODELCLEAR_CACHE_DIR=str(tmp / "c"))
    server = subprocess.Popen(
        [sys.executable, "-m", "modelclear", "serve", "--registry", registry,
         "--port", str(port), "--audit-workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        stats = Stats()
        until = time.monotonic() + args.duration
        threads = [threading.Thread(target=browse, args=(base, f"viewer{i}", until, stats,
                                                         random.Random(i)))
                   for i in range(args.clients)]
        threads += [threading.Thread(target=review, args=(base, tok, target, until, stats,
                                                          random.Random(1000 + i)))
                    for i, tok in enumerate(tokens.values())]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(3)  # let queued audits finish writing their events
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    log = check_log(registry, stats)
    all_times = [t for v in stats.times.values() for t in v]
    result = {
        "backend": "postgresql" if registry.startswith("postgresql") else "sqlite",
        "clients": args.clients, "reviewers": args.reviewers, "duration_s": args.duration,
        "pages": len(all_times), "pages_per_s": round(len(all_times) / args.duration, 1),
        "p50_ms": round(pct(all_times, 50) * 1000, 1) if all_times else None,
        "p95_ms": round(pct(all_times, 95) * 1000, 1) if all_times else None,
        "max_ms": round(max(all_times) * 1000, 1) if all_times else None,
        "by_page": {k: {"n": len(v), "p95_ms": round(pct(v, 95) * 1000, 1)}
                    for k, v in sorted(stats.times.items())},
        "errors": sum(stats.errors.values()), "error_kinds": dict(stats.errors),
        "conflicts_409": stats.conflicts, "caused": dict(stats.caused), "log": log,
        "server_stderr_tail": err.decode("utf-8", "replace")[-500:] if err else "",
    }
    ok = result["errors"] == 0 and log["chain_ok"] and not log["mismatched"] and log["gapless"]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['backend']}: {args.clients} browsing clients + {args.reviewers} "
              f"reviewers for {args.duration:.0f} s")
        print(f"  pages {result['pages']} ({result['pages_per_s']}/s); p50 {result['p50_ms']} ms,"
              f" p95 {result['p95_ms']} ms, max {result['max_ms']} ms")
        for k, v in result["by_page"].items():
            print(f"    {k:9} n={v['n']:6}  p95 {v['p95_ms']} ms")
        print(f"  errors {result['errors']} {result['error_kinds'] or ''}; "
              f"409 conflicts (lost races) {stats.conflicts}")
        print(f"  events caused {dict(stats.caused)}")
        print(f"  log: {log['events']} events, gapless {log['gapless']}, chain ok "
              f"{log['chain_ok']}, mismatched kinds {log['mismatched'] or 'none'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
