"""Publisher origin and sector facts, from data tables.

The table maps hub organisations (what a release is named by) to a country; a
bare license file has no hub org, so the license catalog's publisher name is
mapped back to an org through the ``[names]`` table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Publisher:
    org: str
    name: str
    country: str | None


@dataclass(frozen=True)
class SectorNote:
    id: str
    origin: tuple[str, ...]
    sectors: tuple[str, ...]
    text: str


def _load(name: str) -> dict[str, Any]:
    return tomllib.loads((resources.files("modelclear") / "data" / name).read_text("utf-8"))


@cache
def publishers() -> dict[str, Publisher]:
    data = _load("publishers.toml")
    return {
        org.lower(): Publisher(org=org, name=info["name"], country=info.get("country"))
        for org, info in data["publishers"].items()
    }


@cache
def _names() -> dict[str, str]:
    return {k.lower(): v.lower() for k, v in _load("publishers.toml").get("names", {}).items()}


def by_org(org: str | None) -> Publisher | None:
    if not org:
        return None
    return publishers().get(org.strip().lower())


def by_name(name: str | None) -> Publisher | None:
    """A publisher from a license catalog's publisher name ("Meta", "Alibaba Cloud")."""
    if not name:
        return None
    key = name.strip().lower()
    org = _names().get(key)
    if org is None:
        org = next((v for k, v in _names().items() if key.startswith(k) or k in key), None)
    return publishers().get(org) if org else by_org(key)


@cache
def sector_notes() -> tuple[SectorNote, ...]:
    data = _load("sector_notes.toml")
    return tuple(
        SectorNote(id=k, origin=tuple(v["origin"]), sectors=tuple(v["sectors"]), text=v["text"])
        for k, v in data["notes"].items()
    )


@dataclass(frozen=True)
class DeploymentNote:
    id: str
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    text: str
    only_when_modifying: bool = False


@cache
def deployment_notes() -> tuple[DeploymentNote, ...]:
    data = _load("sector_notes.toml").get("deployment", {})
    return tuple(
        DeploymentNote(id=k, regions=tuple(v["regions"]), sectors=tuple(v["sectors"]),
                       text=v["text"], only_when_modifying=bool(v.get("only_when_modifying")))
        for k, v in data.items()
    )


@cache
def sector_clauses() -> dict[str, tuple[str, ...]]:
    """Sector → regular expressions marking a relevant use restriction in a license."""
    data = _load("sector_notes.toml").get("clauses", {})
    return {k: tuple(v) for k, v in data.items()}
