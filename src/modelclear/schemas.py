"""The version of every JSON document modelclear writes: one table, one rule.

A *document* is what one command prints with ``--json`` (or writes with ``--output``).
It carries exactly one ``schema_version``, at its top, taken from this table; results
nested inside it (an audit's sizing, a record's security summary) carry none of their
own, so a consumer checks one number per file. A version is bumped when a field is
removed or changes meaning — adding a field is not a bump. ``docs/json.md`` describes
each document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VERSIONS: Mapping[str, int] = {
    "inspect": 1,
    "license": 1,
    "license-set": 1,
    "scan": 1,
    "plan": 2,
    "audit": 1,
    "check": 1,
    "compare": 1,
    "record": 1,
    "verify": 1,
    "watch": 1,
    "history": 1,
    "codes": 1,
    "profile": 1,
    "demo": 1,
    "bench": 1,
    "probe-results": 1,
    "baseline": 1,
    "drift": 1,
    "serve": 1,
}


def document(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as the top-level JSON document ``kind``, stamped with its version."""
    return {"schema_version": VERSIONS[kind], **body}
