"""Result types of the policy analyzer: checks, obligations, verdicts.

A check is the machine's answer to one question a reviewer would ask ("may we
serve 800M users?"), so each carries its reason and the evidence it rests on;
the overall verdict is only ever the worst check, never a score, so one
blocker cannot be averaged away.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Status(StrEnum):
    CLEAR = "CLEAR"
    REVIEW = "REVIEW"
    BLOCKED = "BLOCKED"

    @property
    def rank(self) -> int:
        return ("CLEAR", "REVIEW", "BLOCKED").index(self.value)


class FailOn(StrEnum):
    """The ``--fail-on`` levels of check/audit (design.md exit codes)."""

    blocked = "blocked"
    review = "review"
    never = "never"


def reaches(verdict: Status, fail_on: FailOn | str) -> bool:
    """Whether a verdict is at or above the ``--fail-on`` level (then the CLI exits 1)."""
    level = FailOn(fail_on)
    if level is FailOn.never:
        return False
    return verdict.rank >= (Status.BLOCKED if level is FailOn.blocked else Status.REVIEW).rank


def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """Worst status of a set; an empty set is CLEAR (nothing stands in the way)."""
    return max(statuses, key=lambda s: s.rank, default=Status.CLEAR)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceRef(Frozen):
    """Where a check's answer comes from: a clause, a file, or an analyzer result."""

    source: str  # license | acceptable-use-policy | security | sizing | inventory | card | profile
    file: str | None = None
    line: int | None = None
    line_end: int | None = None
    offset: int | None = None
    quote: str | None = None
    note: str | None = None  # for analyzer results: what in the result the check used

    def location(self) -> str:
        if self.file is None:
            return self.source
        if self.line is not None:
            span = f"{self.line}" if not self.line_end or self.line_end == self.line else (
                f"{self.line}-{self.line_end}"
            )
            return f"{self.file}:{span}"
        if self.offset is not None:
            return f"{self.file}@{self.offset}"
        return self.file


class Obligation(Frozen):
    """A duty the deployment must fulfil; never a blocker by itself."""

    code: str
    text: str  # imperative, e.g. "Display 'Built with Llama'"
    applies: bool  # False: only if the deployment changes (e.g. starts distributing)
    condition: str  # when the duty applies, in the license's own terms
    evidence: tuple[EvidenceRef, ...] = ()


class Check(Frozen):
    code: str  # MC5xx
    name: str  # stable short id, e.g. "user-scale"
    title: str
    status: Status
    reason: str
    evidence: tuple[EvidenceRef, ...] = ()
    severity: str = "info"
    ignored: bool = False  # silenced by configuration: shown, not counted

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Note(Frozen):
    """A fact about the deployment (sector, regions) that holds whatever the model."""

    id: str
    text: str
    basis: str  # which profile fields made it apply


class Assumption(Frozen):
    """A fact about the deployment, taken from the profile, that verdicts rest on."""

    key: str  # stable id, e.g. "monthly_active_users"
    label: str  # e.g. "Monthly active users"
    value: str  # as shown, e.g. "2M"; "not stated" when the profile is silent
    #: "stated" (the profile says so), "derived" (from other fields), "not stated"
    basis: str
    field: str  # the profile field(s) it comes from, e.g. "scale.monthly_active_users"


class PolicyResult(Frozen):
    profile: str
    scope: str  # "release" (every check) or "license" (a bare license text)
    verdict: Status
    checks: tuple[Check, ...]
    obligations: tuple[Obligation, ...]
    license_id: str | None = None
    notes: tuple[Note, ...] = ()
    #: the profile's facts the verdicts rest on (users, revenue, regions, actions), in order
    assumptions: tuple[Assumption, ...] = ()

    def counted(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ignored)

    def by_status(self, status: Status) -> tuple[Check, ...]:
        return tuple(c for c in self.counted() if c.status is status)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
