"""Run every check for a profile and fold them into one verdict.

The verdict is the worst counted check. Configuration can silence a code
(``ignore``) — the check is still shown, marked ignored, so a reviewer sees
what was waived — or change the severity its finding carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...findings import Finding, codes, finding
from . import origin, regions
from .assumptions import profile_assumptions
from .checks import CheckContext, HardwareFit, PolicyInputs, all_checks, primary_license
from .checks.registry import run_checks
from .model import Check, Note, PolicyResult, Status, worst
from .profile import Profile


def evaluate(
    inputs: PolicyInputs,
    profile: Profile,
    *,
    ignore: Iterable[str] = (),
    severity: Mapping[str, str] | None = None,
    hardware_fit: HardwareFit | None = None,
) -> PolicyResult:
    card_text = inputs.card.text if inputs.card is not None else None
    lic = primary_license(inputs.license, card_text) if inputs.license is not None else None
    out = run_checks(all_checks(), CheckContext(inputs, profile, lic, hardware_fit))

    ignored = {c.upper() for c in ignore}
    overrides = {k.upper(): v for k, v in (severity or {}).items()}
    checks: list[Check] = []
    for c in out.checks:
        sev = overrides.get(c.code) or str(codes()[c.code].severity)
        if c.status is Status.CLEAR:
            sev = "info"
        checks.append(c.model_copy(update={"severity": sev, "ignored": c.code in ignored}))
    counted = [c.status for c in checks if not c.ignored]
    return PolicyResult(
        profile=profile.name,
        scope=inputs.scope,
        verdict=worst(counted),
        checks=tuple(checks),
        obligations=tuple(sorted(out.obligations, key=lambda o: (not o.applies, o.code))),
        license_id=lic.id if lic is not None else None,
        notes=deployment_notes(profile),
        assumptions=profile_assumptions(profile),
    )


def deployment_notes(profile: Profile) -> tuple[Note, ...]:
    """Facts that follow from the profile's sector and regions alone (never verdicts)."""
    mine = profile.all_regions()
    out = []
    for n in origin.deployment_notes():
        mine_sectors: set[str] = set(profile.sector)
        sectors = mine_sectors & set(n.sectors) if "*" not in n.sectors else (
            mine_sectors or {"any"})
        if not sectors or (n.only_when_modifying and not profile.makes_derivatives):
            continue
        hit = regions.overlap(mine, frozenset(n.regions))
        if not hit:
            continue
        out.append(Note(id=n.id, text=n.text, basis=f"regions {', '.join(hit)}; sector "
                        f"{', '.join(sorted(sectors))}"))
    return tuple(out)


def as_findings(result: PolicyResult) -> tuple[Finding, ...]:
    """Non-CLEAR, non-ignored checks as findings (for SARIF-like or record consumers)."""
    out = []
    for c in result.counted():
        if c.status is Status.CLEAR:
            continue
        ev = c.evidence[0] if c.evidence else None
        out.append(finding(
            c.code, c.reason, file=ev.file if ev else None, line=ev.line if ev else None,
            offset=ev.offset if ev else None, quote=ev.quote if ev else None,
            status=str(c.status), check=c.name,
        ))
    return tuple(out)
