"""Run every check for a profile and fold them into one verdict.

The verdict is the worst counted check. Configuration can silence a code
(``ignore``) — the check is still shown, marked ignored, so a reviewer sees
what was waived — or change the severity its finding carries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...findings import Finding, codes, finding
from . import origin, regions
from .checks import (
    Outcome,
    PolicyInputs,
    check_allowed,
    check_attribution,
    check_aup,
    check_commercial,
    check_competing,
    check_declared,
    check_fine_tuning,
    check_governing_law,
    check_hardware,
    check_identified,
    check_mau,
    check_naming,
    check_origin,
    check_other_scale,
    check_output_use,
    check_probes,
    check_redistribution,
    check_registration,
    check_sector_clauses,
    check_sector_notes,
    check_security,
    check_territory,
    check_text_kept,
)
from .model import Check, Note, PolicyResult, Status, worst
from .profile import Profile

HardwareFit = Callable[[Any, Any], tuple[Status, str, str]]


def evaluate(
    inputs: PolicyInputs,
    profile: Profile,
    *,
    ignore: Iterable[str] = (),
    severity: Mapping[str, str] | None = None,
    hardware_fit: HardwareFit | None = None,
) -> PolicyResult:
    out = Outcome()
    lic = check_identified(inputs, profile, out)
    if lic is not None:
        assert inputs.license is not None
        docs = inputs.license.licenses
        check_allowed(inputs, profile, lic, out)
        check_declared(inputs, profile, lic, out)
        check_text_kept(inputs, profile, lic, out)
        check_commercial(inputs, profile, lic, out)
        check_mau(inputs, profile, lic, out)
        check_other_scale(inputs, profile, lic, out)
        check_registration(inputs, profile, lic, out)
        check_fine_tuning(inputs, profile, lic, out)
        check_output_use(inputs, profile, lic, out)
        check_attribution(inputs, profile, lic, out)
        check_naming(inputs, profile, lic, out)
        check_territory(inputs, profile, lic, docs, out)
        check_competing(inputs, profile, lic, out)
        check_aup(inputs, profile, lic, docs, out)
        check_redistribution(inputs, profile, lic, out)
        check_governing_law(inputs, profile, lic, out)
    elif inputs.license is not None and inputs.license.licenses:
        # a use policy on its own still carries territory rules worth showing
        check_territory(inputs, profile, None, inputs.license.licenses, out)
    check_sector_clauses(inputs, profile, out)
    countries = check_origin(inputs, profile, lic, out)
    check_sector_notes(inputs, profile, countries, out)
    if inputs.scope == "release":
        check_security(inputs, profile, out)
        check_hardware(inputs, profile, out, hardware_fit)
    check_probes(inputs, profile, out)

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
    )


def deployment_notes(profile: Profile) -> tuple[Note, ...]:
    """Facts that follow from the profile's sector and regions alone (never verdicts)."""
    mine = profile.all_regions()
    out = []
    for n in origin.deployment_notes():
        sectors = set(profile.sector) & set(n.sectors) if "*" not in n.sectors else set(
            profile.sector) or {"any"}
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
