"""The check registry: each check is a function registered with its finding code.

Adding a check is one function and one TOML row:

1. Add a ``[MC5xx]`` row to ``data/codes/mc5-policy.toml`` with a ``title`` that is
   true whatever the answer (it is the check's title when CLEAR too: name the
   question, "Commercial use against the license grant", not one answer), a
   ``severity`` (the finding's severity when the check is not CLEAR) and ``docs``.
2. Write the function in the theme module it belongs to, decorated with
   ``@check("MC5xx", "slug", order=N, ...)``; ``order`` places it in the checklist
   (identification first, then the terms, origin, release-only checks; numbers
   are spaced by ten so a new check fits between two)::

       @check("MC509", "competing-service", order=140, needs_license=True)
       def competing(ctx: CheckContext, out: Report) -> None:
           ...
           out.add(Status.REVIEW, "the license restricts competing …", evidence)

The registration carries everything that is not the answer: the code, the slug,
the gating (``needs_license``, ``scopes``, ``when``) — so ``evaluate`` has no
per-check ``if`` — and the title, which comes only from the codes TOML. The
function gives the status, the reason and the evidence.

Shared codes: MC521 ("not analysed") is reported by any check whose analyzer is
missing, under the check's own slug (``out.not_analysed``), because "we did not
look" must read the same everywhere. A check that can answer with a second code
declares it in ``also`` (the license identification reports a modified text as
MC523 ``license-modified``); every other code belongs to exactly one check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ....findings import codes
from ...license.model import LicenseMatch
from ..model import Check, EvidenceRef, Obligation, Status
from ..profile import Profile
from .inputs import PolicyInputs, Scope

if TYPE_CHECKING:
    from ...sizing import SizingReport
    from ..profile import GpuBudget

#: the one code for "the analyzer this check needs did not run or failed"
NOT_ANALYSED = "MC521"

HardwareFit = Callable[["SizingReport", "GpuBudget"], tuple[Status, str, str]]


@dataclass(frozen=True)
class CheckContext:
    """What a check reads: the inputs, the profile, and the license that governs use."""

    inputs: PolicyInputs
    profile: Profile
    #: the governing license (``primary_license``), None when none was identified
    lic: LicenseMatch | None
    hardware_fit: HardwareFit | None = None

    @property
    def license(self) -> LicenseMatch:
        """The governing license, for checks registered with ``needs_license``."""
        if self.lic is None:
            raise RuntimeError("a needs_license check ran without an identified license")
        return self.lic


@dataclass
class Outcome:
    """Checks and obligations collected over one evaluation, in the order found."""

    checks: list[Check] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)


class Report:
    """One check's way to answer: code, slug and title come from its registration."""

    def __init__(self, reg: Registration, outcome: Outcome, missing: Mapping[str, str]) -> None:
        self._reg = reg
        self._outcome = outcome
        self._missing = missing

    def add(self, status: Status, reason: str, evidence: Iterable[EvidenceRef] = (), *,
            code: str | None = None, item: str | None = None) -> None:
        """Record an answer; ``code`` picks one of the registration's ``also`` codes,
        ``item`` names one answer of a check that asks once per item (``slug-item``)."""
        name = self._reg.name if item is None else f"{self._reg.name}-{item}"
        if code is not None and code != self._reg.code:
            if code not in self._reg.also:
                raise ValueError(f"{self._reg.name}: {code} is not declared in its registration")
            name = self._reg.also[code]
        self._emit(code or self._reg.code, name, status, reason, evidence)

    def not_analysed(self, analyzer: str) -> None:
        """REVIEW MC521: the analyzer this check needs is missing, so it cannot decide."""
        why = self._missing.get(analyzer, "not run")
        self._emit(NOT_ANALYSED, self._reg.name, Status.REVIEW,
                   f"not analysed: the {analyzer} analysis is unavailable ({why}), so this "
                   "cannot be decided", ())

    def oblige(self, text: str, applies: bool, condition: str,
               evidence: Iterable[EvidenceRef] = ()) -> None:
        """A duty under this check's code; the same duty found twice is listed once."""
        if any(o.text == text for o in self._outcome.obligations):
            return
        self._outcome.obligations.append(
            Obligation(code=self._reg.code, text=text, applies=applies, condition=condition,
                       evidence=tuple(evidence)))

    def obligation_count(self) -> int:
        """Duties listed so far under this check's code."""
        return sum(1 for o in self._outcome.obligations if o.code == self._reg.code)

    def _emit(self, code: str, name: str, status: Status, reason: str,
              evidence: Iterable[EvidenceRef]) -> None:
        self._outcome.checks.append(Check(
            code=code, name=name, title=codes()[code].title, status=status, reason=reason,
            evidence=tuple(evidence)))


CheckFn = Callable[[CheckContext, Report], None]
Gate = Callable[[CheckContext], bool]


@dataclass(frozen=True)
class Registration:
    """A check as registered: its code and slug, when it runs, and the function."""

    code: str
    name: str
    run: CheckFn
    #: place in the checklist (ascending)
    order: int
    #: other codes the check may answer with, code → slug of that answer
    also: Mapping[str, str] = field(default_factory=dict)
    #: run only when a governing license was identified
    needs_license: bool = False
    scopes: frozenset[Scope] = frozenset({"release", "license"})
    #: a further condition on the profile or inputs (e.g. the profile sets a GPU budget)
    when: Gate | None = None

    def applies(self, ctx: CheckContext) -> bool:
        if ctx.inputs.scope not in self.scopes:
            return False
        if self.needs_license and ctx.lic is None:
            return False
        return self.when is None or self.when(ctx)

    def codes(self) -> tuple[str, ...]:
        return (self.code, *self.also)


_REGISTRY: dict[str, Registration] = {}


def check(code: str, name: str, *, order: int, also: Mapping[str, str] | None = None,
          needs_license: bool = False, release_only: bool = False,
          when: Gate | None = None) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under its code and slug (see the module docstring)."""

    def register(fn: CheckFn) -> CheckFn:
        if name in _REGISTRY:
            raise RuntimeError(f"policy check {name!r} registered twice")
        taken = {r.order: r.name for r in _REGISTRY.values()}
        if order in taken:
            raise RuntimeError(f"policy check {name!r}: order {order} is {taken[order]!r}'s")
        _REGISTRY[name] = Registration(
            code=code, name=name, run=fn, order=order, also=dict(also or {}),
            needs_license=needs_license,
            scopes=frozenset({"release"}) if release_only else frozenset({"release", "license"}),
            when=when)
        return fn

    return register


def registered() -> tuple[Registration, ...]:
    """Every registered check, in checklist order."""
    return tuple(sorted(_REGISTRY.values(), key=lambda r: r.order))


def run_checks(regs: Iterable[Registration], ctx: CheckContext) -> Outcome:
    """Run every applicable check in order, collecting answers and duties."""
    outcome = Outcome()
    for reg in regs:
        if reg.applies(ctx):
            reg.run(ctx, Report(reg, outcome, ctx.inputs.missing))
    return outcome
