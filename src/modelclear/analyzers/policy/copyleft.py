"""Copyleft and flow-down kinds, as data (``data/copyleft.toml``), and the profile's actions.

A copyleft license is not a yes/no on "may we use it": its conditions attach to
what the deployment does — distributing, serving over a network, deriving or
distilling a model. The table says, per kind, which combination of actions
leaves the legal effect open (REVIEW) and which duties follow.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .profile import Profile

Action = Literal["distributes", "modifies", "distils", "serves"]

#: what each action means on a profile
ACTIONS: dict[Action, Callable[[Profile], bool]] = {
    "distributes": lambda p: p.distributes,
    "modifies": lambda p: p.needs.fine_tune or p.needs.modify_architecture,
    "distils": lambda p: p.trains_on_outputs,
    "serves": lambda p: p.serves_network,
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Rule(_Strict):
    when: tuple[Action, ...] = Field(alias="if")
    status: Literal["CLEAR", "REVIEW", "BLOCKED"]
    reason: str
    #: the lines to quote for this answer, when not the kind's ``clause``
    clause: str | None = None


class Duty(_Strict):
    when: tuple[Action, ...] = Field(alias="if")
    text: str
    condition: str


class Kind(_Strict):
    key: str
    name: str
    ids: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    clause: str
    rules: tuple[Rule, ...]
    duties: tuple[Duty, ...] = ()

    def matches(self, license_id: str, family: str | None) -> bool:
        lid = license_id.lower()
        return any(fnmatch.fnmatch(lid, p.lower()) for p in self.ids) or (
            family is not None and family in self.families)

    def answer(self, profile: Profile) -> Rule:
        """The first rule whose actions the profile all takes (the last rule has none)."""
        for rule in self.rules:
            if all(ACTIONS[a](profile) for a in rule.when):
                return rule
        raise ValueError(f"copyleft kind {self.key}: no fallback rule (one with `if = []`)")


def holds(when: tuple[Action, ...], profile: Profile) -> bool:
    return all(ACTIONS[a](profile) for a in when)


@cache
def kinds() -> tuple[Kind, ...]:
    raw = (resources.files("modelclear") / "data" / "copyleft.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    return tuple(Kind.model_validate({"key": key, **body}) for key, body in data.items())


def kind_of(license_id: str, family: str | None) -> Kind | None:
    """The copyleft kind of a license, by id or catalog family; None when it has none."""
    return next((k for k in kinds() if k.matches(license_id, family)), None)
