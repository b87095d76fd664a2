"""Region names and codes, and reading a territory clause against a profile.

Territory clauses are prose ("worldwide territory, excluding the territory of the
European Union, United Kingdom and South Korea"); profiles hold codes. Both are
reduced to sets of ISO country codes so "EU users" meets "excluding the European
Union" even though no string is shared.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@cache
def _table() -> dict[str, Any]:
    text = (resources.files("modelclear") / "data" / "regions.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def _names() -> dict[str, str]:
    """Lower-case name or code → code (country code or group name)."""
    t = _table()
    out: dict[str, str] = {}
    for code, name in t["countries"].items():
        out[code.lower()] = code
        out[name.lower()] = code
    for group in t["groups"]:
        out[group.lower()] = group
    out.update(t["aliases"])
    return out


def normalize(name: str) -> str | None:
    """A region as a code: ISO 3166 alpha-2, or a group (EU, EEA, WORLDWIDE)."""
    return _names().get(str(name).strip().lower())


def expand(code: str) -> frozenset[str]:
    """A code as the set of countries it covers ("*" for worldwide)."""
    groups = _table()["groups"]
    return frozenset(groups.get(code, [code]))


def display(code: str) -> str:
    t = _table()
    if code in t["countries"]:
        return f"{t['countries'][code]} ({code})"
    return {"EU": "European Union", "EEA": "European Economic Area", "WORLDWIDE": "worldwide"}.get(
        code, code
    )


@dataclass(frozen=True)
class Territory:
    """What a territory clause says, as far as words can be read mechanically."""

    excluded: frozenset[str]  # codes named after "excluding"/"except"/"other than"
    only: frozenset[str]  # codes named in "only in/within …" (empty: not limited that way)
    understood: bool  # False: the clause names no region we know


_EXCLUDE = re.compile(
    r"\b(exclud\w*|except\w*|other than|outside( of)?|not (?:given|granted) to|"
    r"(?:do|does) not extend to|not (?:available|licensed) (?:in|to))\b",
    re.I,
)


def _mentions(text: str) -> list[tuple[int, str]]:
    """(position, code) of every known region name in the text, longest names first."""
    low = text.lower()
    hits: list[tuple[int, int, str]] = []
    for name, code in sorted(_names().items(), key=lambda kv: -len(kv[0])):
        if len(name) <= 2:
            # two-letter codes only count in upper case as a word ("EU", "UK"), never "in"/"us"
            pattern = rf"\b{re.escape(name.upper())}\b"
            flags = 0
        else:
            pattern = rf"\b{re.escape(name)}\b"
            flags = re.I
        for m in re.finditer(pattern, text if len(name) <= 2 else low, flags):
            if any(s <= m.start() < e for s, e, _ in hits):
                continue
            hits.append((m.start(), m.end(), code))
    return sorted((s, c) for s, _, c in hits)


def read_territory(*parts: str) -> Territory:
    """Union of what each part (the term's value, its quoted clause) says."""
    excluded: set[str] = set()
    only: set[str] = set()
    for part in parts:
        if part:
            t = _read_one(part)
            excluded |= t.excluded
            only |= t.only
    return Territory(frozenset(excluded), frozenset(only - excluded), bool(excluded or only))


def _read_one(text: str) -> Territory:
    mentions = _mentions(text)
    ex = _EXCLUDE.search(text)
    excluded: set[str] = set()
    only: set[str] = set()
    for pos, code in mentions:
        if code == "WORLDWIDE":
            continue
        if ex is not None and pos >= ex.start():
            excluded.add(code)
        elif re.search(r"\bonly\b|\bexclusively\b|\bwithin\b", text, re.I):
            only.add(code)
    return Territory(frozenset(excluded), frozenset(only), bool(excluded or only))


def overlap(profile_codes: tuple[str, ...], codes: frozenset[str]) -> tuple[str, ...]:
    """Profile regions that fall in any of ``codes`` (group-aware)."""
    covered: set[str] = set()
    for c in codes:
        covered |= expand(c)
    hit = []
    for p in profile_codes:
        countries = expand(p)
        if "*" in countries or countries & covered:
            hit.append(p)
    return tuple(hit)
