"""Will it run and behave: hardware fit for the profile's GPU budget, and probe results.

Both compare the profile with something measured outside the license: the sizing
plan re-computed at the budget (``policy.hardware``), and the behavioural probes a
user attached with ``--probe-results``.
"""

from __future__ import annotations

from typing import Any

from ..model import EvidenceRef, Status
from .registry import CheckContext, Report, check


@check("MC515", "hardware", order=240, release_only=True,
       when=lambda ctx: ctx.profile.rules.gpu_budget is not None)
def hardware(ctx: CheckContext, out: Report) -> None:
    """The sizing plan at exactly the profile's GPU budget."""
    budget = ctx.profile.rules.gpu_budget
    assert budget is not None  # registration gate
    if ctx.inputs.sizing is None or ctx.hardware_fit is None:
        out.not_analysed("sizing")
        return
    status, reason, note = ctx.hardware_fit(ctx.inputs.sizing, budget)
    out.add(status, reason, (EvidenceRef(source="sizing", note=note),))


@check("MC525", "probes", order=250, when=lambda ctx: ctx.inputs.probe_results is not None)
def probes(ctx: CheckContext, out: Report) -> None:
    """Failed probe categories need a reader; the probes never block on their own."""
    data = ctx.inputs.probe_results
    assert data is not None  # registration gate
    target = data.get("target")
    model = target.get("model") if isinstance(target, dict) else None
    ref = EvidenceRef(source="probes", file=str(data.get("_file", "probe results")),
                      note=f"probed model: {model}" if model else None)
    fails = probe_failures(data)
    if fails is None:
        out.add(Status.REVIEW, "probe results attached but their format is not recognised",
                (ref,))
    elif fails:
        out.add(Status.REVIEW, "probe categories below their threshold: " + "; ".join(fails[:8]),
                (ref,))
    else:
        out.add(Status.CLEAR, "every probe category passed", (ref,))


def _category_failure(c: dict[str, Any]) -> str | None:
    """Why one category failed, or None when it passed (or only describes behaviour)."""
    name = str(c.get("category") or c.get("name") or "?")
    rate = c.get("pass_rate")
    passed = c.get("passed", c.get("pass", c.get("ok")))
    if passed is None and "status" in c:
        passed = str(c["status"]).lower() in ("pass", "passed", "ok", "clear")
    if c.get("below_threshold") is True:
        return (f"{name}: pass rate {rate:.0%}, below the run's threshold"
                if isinstance(rate, (int, float)) else f"{name}: below threshold")
    if isinstance(passed, bool):
        return None if passed else name
    if isinstance(rate, (int, float)) and rate < 1:
        ci = c.get("ci95")
        band = (f", 95% CI {ci[0]:.0%}–{ci[1]:.0%}" if isinstance(ci, list) and len(ci) == 2
                and all(isinstance(x, (int, float)) for x in ci) else "")
        return f"{name}: {passed}/{c.get('scored', '?')} passed ({rate:.0%}{band})"
    return None


def probe_failures(data: dict[str, Any]) -> list[str] | None:
    """Categories that did not fully pass, from ``modelclear probe --json``; None if unreadable.

    A category fails when it is below the run's ``--fail-under`` threshold, or, with no
    threshold, when any scored sample failed: a reviewer reads those probes. Categories
    recorded only as descriptions (no pass rate, e.g. sensitive topics) are not judged.
    """
    cats = data.get("categories")
    if isinstance(cats, dict):
        cats = [dict(v, category=k) if isinstance(v, dict) else {"category": k, "passed": v}
                for k, v in cats.items()]
    if not isinstance(cats, list):
        return None
    fails: list[str] = []
    for c in cats:
        if not isinstance(c, dict):
            return None
        why = _category_failure(c)
        if why is not None:
            fails.append(why)
    summary = data.get("summary")
    if isinstance(summary, dict):
        for name in summary.get("failing_categories") or []:
            if not any(f == name or f.startswith(f"{name}:") for f in fails):
                fails.append(str(name))
    return fails
