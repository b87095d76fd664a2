"""The policy checks, one registered function per question a reviewer asks.

Checks read only what analyzers produced (and the license texts, to quote a
clause); they never read weights. How a check is registered, and how to add one
(one function plus one row in ``data/codes/mc5-policy.toml``), is in ``registry``.
The checklist is ordered by each registration's ``order``: identification first,
because every term check rests on the governing license, then the terms, origin,
and the release-only checks.
"""

from __future__ import annotations

from . import (
    copyleft,
    duties,
    governing,
    identity,
    scale,
    sector,
    security,
    serving,
    territory,
    use,
)
from .clauses import display_phrases, find_clause, scale_thresholds
from .governing import governing as governing_license
from .governing import primary_license
from .inputs import PolicyInputs, Scope
from .registry import NOT_ANALYSED, CheckContext, HardwareFit, Outcome, Registration, registered
from .security import PICKLE_FORMATS, PICKLE_SUFFIXES
from .serving import probe_failures

#: theme modules, imported for their registrations
MODULES = (identity, governing, scale, use, duties, copyleft, territory, sector, security, serving)


def all_checks() -> tuple[Registration, ...]:
    """Every registered check, in checklist order (each registration's ``order``)."""
    return registered()


__all__ = [
    "MODULES",
    "NOT_ANALYSED",
    "PICKLE_FORMATS",
    "PICKLE_SUFFIXES",
    "CheckContext",
    "HardwareFit",
    "Outcome",
    "PolicyInputs",
    "Registration",
    "Scope",
    "all_checks",
    "display_phrases",
    "find_clause",
    "governing_license",
    "primary_license",
    "probe_failures",
    "scale_thresholds",
]
