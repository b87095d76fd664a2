"""What a release contains: the result of ``modelclear inspect``.

One function runs the file-level analyzers in dependency order (inventory →
weights → architecture → parameters, card, optional hashes) so every command
that needs "what did we get" computes it the same way, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .analyzers import architecture, card, inventory, params, weights
from .analyzers.architecture import Architecture
from .analyzers.card import Card
from .analyzers.inventory import Inventory
from .analyzers.params import ParameterCount
from .analyzers.weights import Weights
from .findings import Finding, finding
from .hashing import hash_files
from .progress import SILENT, ProgressSink
from .release import Release

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Inspection:
    release: Release
    inventory: Inventory
    weights: Weights
    architecture: Architecture | None
    parameters: ParameterCount | None
    card: Card | None
    hashes: dict[str, str] = field(default_factory=dict)
    hash_findings: tuple[Finding, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        out: list[Finding] = [*self.inventory.findings, *self.weights.findings]
        if self.architecture is not None:
            out.extend(self.architecture.findings)
        if self.parameters is not None:
            out.extend(self.parameters.findings)
        if self.card is not None:
            out.extend(self.card.findings)
        out.extend(self.hash_findings)
        seen: set[tuple[Any, ...]] = set()
        unique = []
        for f in out:
            key = (f.code, f.file, f.line, f.offset, f.message)
            if key not in seen:
                seen.add(key)
                unique.append(f)
        return tuple(unique)

    def to_json(self) -> dict[str, Any]:
        src = self.release.source
        return {
            "schema_version": SCHEMA_VERSION,
            "source": {
                "kind": src.kind, "path": src.location, "model_id": src.model_id,
                "revision": src.revision, "refs": list(src.refs),
                "retrieved_at": src.retrieved_at, "other_revisions": list(src.other_revisions),
            },
            "files": [
                {**f.to_json(), "sha256": self.hashes.get(f.path)} for f in self.inventory.files
            ],
            "components": self.inventory.to_json()["components"],
            "missing_components": list(self.inventory.missing())
            if src.whole_release else [],
            "weights": self.weights.to_json(),
            "parameters": self.parameters.to_json() if self.parameters else None,
            "architecture": self.architecture.to_json() if self.architecture else None,
            "card": self.card.to_json() if self.card else None,
            "findings": [f.to_json() for f in self.findings],
        }


def inspect_release(
    release: Release, *, hash_all: bool = False, progress: ProgressSink = SILENT
) -> Inspection:
    inv = inventory.analyze(release)
    w = weights.analyze(release, inv)
    arch = architecture.analyze(release)
    headers = params.weight_headers(release)
    counts = params.analyze(release, arch, headers.tensors if headers else None)
    crd = card.analyze(release)
    hashes: dict[str, str] = {}
    hash_findings: list[Finding] = []
    if hash_all:
        hashes = hash_files(release.files, progress)
        for f in release.files:
            if f.claimed_sha256 and hashes[f.path] != f.claimed_sha256:
                hash_findings.append(finding(
                    "MC103",
                    f"cache blob is named {f.claimed_sha256} but its content hashes to "
                    f"{hashes[f.path]}",
                    file=f.path,
                ))
    return Inspection(release, inv, w, arch, counts, crd, hashes, tuple(hash_findings))
