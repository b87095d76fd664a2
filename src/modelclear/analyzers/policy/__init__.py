"""Deployment profiles checked against a release: CLEAR / REVIEW / BLOCKED with evidence."""

from .checks import PolicyInputs
from .evaluate import as_findings, evaluate
from .model import Check, EvidenceRef, Obligation, PolicyResult, Status
from .profile import Profile, builtin_names, load_profile, parse_profile

__all__ = [
    "Check",
    "EvidenceRef",
    "Obligation",
    "PolicyInputs",
    "PolicyResult",
    "Profile",
    "Status",
    "as_findings",
    "builtin_names",
    "evaluate",
    "load_profile",
    "parse_profile",
]
