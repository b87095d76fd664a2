"""The profile's assumptions that verdicts rest on, derived from the profile in one place.

A verdict is only as good as the numbers and plans it was checked against: "CLEAR"
for 2M monthly users says nothing about 200M. Every report shows this list at the
top, so a reviewer signs the verdict together with what it assumed.
"""

from __future__ import annotations

from collections.abc import Callable

from .model import Assumption
from .profile import Profile


def _count(n: int | None, usd: bool = False) -> str | None:
    if n is None:
        return None
    for unit, size in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size and n % (size // 10) == 0:
            shown = f"{n / size:g}{unit}"
            break
    else:
        shown = f"{n:,}"
    return f"${shown}" if usd else shown


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _scale(p: Profile) -> list[Assumption]:
    s = p.scale
    rows: list[tuple[str, str, int | None, bool, bool]] = [
        ("monthly_active_users", "Monthly active users", s.monthly_active_users, False, True),
        ("daily_active_users", "Daily active users", s.daily_active_users, False, False),
        ("devices", "Devices", s.devices, False, False),
        ("annual_revenue_usd", "Annual revenue", s.annual_revenue_usd, True, True),
        ("monthly_revenue_usd", "Monthly revenue", s.monthly_revenue_usd, True, True),
    ]
    out = []
    for key, label, number, usd, always in rows:
        shown = _count(number, usd)
        if shown is None and not always:
            continue  # thresholds in these units are rare; shown only when stated
        out.append(Assumption(key=key, label=label, value=shown or "not stated",
                              basis="stated" if shown else "not stated", field=f"scale.{key}"))
    return out


def _regions(p: Profile) -> list[Assumption]:
    out = []
    for key, label, codes in (("deployment_regions", "Deployed in", p.regions.deployment),
                              ("user_regions", "Users in", p.regions.users)):
        out.append(Assumption(key=key, label=label, value=", ".join(codes) or "not stated",
                              basis="stated" if codes else "not stated",
                              field=f"regions.{key.split('_')[0]}"))
    return out


#: (key, label, the profile's answer, the fields it is derived from)
_ACTIONS: tuple[tuple[str, str, Callable[[Profile], bool], str], ...] = (
    ("commercial", "Commercial use", lambda p: p.is_commercial, "commercial, use"),
    ("distributes", "Distributes the weights or a derivative", lambda p: p.distributes,
     "use, needs.redistribute"),
    ("serves_network", "Serves outside users over a network", lambda p: p.serves_network, "use"),
    ("trains_derivative", "Fine-tunes or modifies the model",
     lambda p: p.needs.fine_tune or p.needs.modify_architecture,
     "needs.fine_tune, needs.modify_architecture"),
    ("distils", "Trains other models on its outputs (distillation)",
     lambda p: p.trains_on_outputs, "use, needs.distill, needs.train_on_outputs"),
)


def profile_assumptions(p: Profile) -> tuple[Assumption, ...]:
    """What the profile assumes, in the order a reviewer reads it: use, scale, where, actions."""
    out = [Assumption(key="use", label="Use", value=", ".join(p.use), basis="stated",
                      field="use")]
    out += _scale(p)
    out += _regions(p)
    out.append(Assumption(key="sector", label="Sector", value=", ".join(p.sector) or
                          "not stated", basis="stated" if p.sector else "not stated",
                          field="sector"))
    for key, label, answer, fields in _ACTIONS:
        stated = key == "commercial" and p.commercial is not None
        out.append(Assumption(key=key, label=label, value=_yes(answer(p)),
                              basis="stated" if stated else "derived", field=fields))
    return tuple(out)


def one_line(assumptions: tuple[Assumption, ...]) -> str:
    """The assumptions as one line: "Use: research; Monthly active users: 20; …"."""
    return "; ".join(f"{a.label}: {a.value}" for a in assumptions)
