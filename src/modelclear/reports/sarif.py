"""SARIF 2.1.0 for security findings, so code-scanning dashboards can show them.

One run, one rule per finding code that occurs (title, docs, default level, and a
``security-severity`` score GitHub uses to rank alerts), one result per finding with its
file and either a line or a byte offset. Paths are relative to the release root, which
is given as the ``RELEASE`` base URI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__
from ..analyzers.security.model import SecurityReport
from ..findings import Finding, Severity, codes

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub's security-severity scale (0-10): >=9 critical, >=7 high, >=4 medium
_SCORE = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def to_sarif(report: SecurityReport, root: Path | None = None) -> dict[str, Any]:
    findings = [f for r in report.files for f in r.findings]
    rule_ids = sorted({f.code for f in findings})
    table = codes()
    rules = []
    for code in rule_ids:
        info = table[code]
        rules.append(
            {
                "id": code,
                "name": _rule_name(info.title),
                "shortDescription": {"text": info.title},
                "fullDescription": {"text": info.docs or info.title},
                "defaultConfiguration": {"level": _LEVEL[info.severity]},
                "properties": {
                    "security-severity": _SCORE[info.severity],
                    "tags": ["security", "model-release"],
                },
            }
        )
    index = {code: i for i, code in enumerate(rule_ids)}
    results = [_result(f, index) for f in findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "modelclear",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://pypi.org/project/modelclear/",
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "allowlistVersion": report.allowlist_version,
            "summary": report.counts(),
        },
    }
    if root is not None:
        run["originalUriBaseIds"] = {"RELEASE": {"uri": root.resolve().as_uri() + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule_name(title: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in title.replace("-", " ").split() if w.isalnum())


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    region: dict[str, Any] = {}
    if f.line is not None and f.line >= 1:
        region["startLine"] = f.line
    elif f.offset is not None and f.offset >= 0:
        region["byteOffset"] = f.offset
        region["byteLength"] = 1
    if f.quote:
        region.setdefault("snippet", {"text": f.quote})
    loc: dict[str, Any] = {"artifactLocation": {"uri": f.file or ".", "uriBaseId": "RELEASE"}}
    if region and ("startLine" in region or "byteOffset" in region):
        loc["region"] = region
    props: dict[str, Any] = {"severity": str(f.severity)}
    for key in ("callable", "member", "grade", "occurrences"):
        if f.extra.get(key) is not None:
            props[key] = f.extra[key]
    return {
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": loc}],
        "properties": props,
    }
