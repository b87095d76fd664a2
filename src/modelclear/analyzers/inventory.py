"""Inventory: every file of a release, what it is for, and what format it really is.

The component comes from the file's name (rules in ``data/components.toml``); the
format comes from its bytes (``parsers.detect``). When the two disagree about the
format, that is finding MC100: loaders choose a code path by extension.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ..findings import Finding, finding
from ..jsonout import JsonFields
from ..parsers.detect import detect_format, extension_format, formats_agree
from ..parsers.formats import unpickling_names, weight_names
from ..release import Release, ReleaseFile
from .absent import AbsentFile, absent_files, absent_findings, hub_findings

SNIFF_BYTES = 64 * 1024

COMPONENTS: tuple[str, ...] = (
    "weights", "weights-index", "config", "generation-config", "tokenizer", "chat-template",
    "model-card", "license", "notice", "acceptable-use-policy", "inference-code",
    "training-code", "evaluation-code", "evaluation-data", "dataset", "documentation", "other",
)

#: What a usable release normally carries; absence is finding MC102.
EXPECTED = ("weights", "config", "tokenizer", "license", "model-card")

#: contents that are weights whatever the file is called (from the format registry)
WEIGHT_FORMATS = weight_names()
#: formats MC104 compares with safetensors: the ones whose loader runs pickle
_PICKLED = unpickling_names()


@dataclass(frozen=True)
class Rule:
    component: str
    names: tuple[str, ...]
    paths: tuple[str, ...]

    def matches(self, path: str) -> bool:
        low = path.lower()
        name = low.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name, p) for p in self.names) or any(
            fnmatch.fnmatchcase(low, p) for p in self.paths
        )


@cache
def rules() -> tuple[Rule, ...]:
    text = (resources.files("modelclear") / "data" / "components.toml").read_text("utf-8")
    out = []
    for r in tomllib.loads(text)["rule"]:
        if r["component"] not in COMPONENTS:
            raise ValueError(f"components.toml: unknown component {r['component']!r}")
        out.append(Rule(r["component"], tuple(r.get("names", ())), tuple(r.get("paths", ()))))
    return tuple(out)


def component_of(path: str) -> str:
    return next((r.component for r in rules() if r.matches(path)), "other")


@dataclass(frozen=True)
class InventoryFile(JsonFields):
    json_omit = frozenset({"extension_format"})

    path: str
    component: str
    format: str
    size: int
    extension_format: str | None = None


@dataclass(frozen=True)
class Inventory:
    files: tuple[InventoryFile, ...]
    findings: tuple[Finding, ...] = field(default=())
    #: weights the release names (LFS pointers, shards in an index) whose bytes are not here
    absent: tuple[AbsentFile, ...] = field(default=())

    def components(self) -> set[str]:
        return {f.component for f in self.files}

    def by_component(self, name: str) -> tuple[InventoryFile, ...]:
        return tuple(f for f in self.files if f.component == name)

    def weights(self) -> tuple[InventoryFile, ...]:
        return tuple(f for f in self.files if f.component == "weights")

    def weight_formats(self) -> set[str]:
        return {f.format for f in self.weights()}

    def missing(self) -> tuple[str, ...]:
        present = self.components()
        return tuple(c for c in EXPECTED if c not in present)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "components": {
                c: len(self.by_component(c)) for c in COMPONENTS if self.by_component(c)
            },
            "missing": list(self.missing()),
            "absent": [a.to_json() for a in self.absent],
        }


def classify(f: ReleaseFile) -> tuple[InventoryFile, list[Finding]]:
    findings: list[Finding] = []
    head = f.head(SNIFF_BYTES)
    fmt = detect_format(head, f.name)
    claimed = extension_format(f.name)
    component = component_of(f.path)
    if component in ("documentation", "other", "dataset") and fmt in WEIGHT_FORMATS - {"numpy"}:
        # A pickle or weights file hiding under a harmless name is still weights to a loader.
        component = "weights"
    if fmt == "lfs-pointer":
        findings.append(finding(
            "MC106", "a Git LFS pointer stands where the file should be: the download is "
            "incomplete and its content was not examined", file=f.path, offset=0,
            quote=head[:80].decode("ascii", "replace"),
        ))
    elif claimed is not None and not formats_agree(fmt, claimed):
        findings.append(
            finding(
                "MC100",
                f"named like {claimed} but the content is {fmt}",
                file=f.path,
                offset=0,
                quote=head[:16].hex(" "),
            )
        )
    return InventoryFile(f.path, component, fmt, f.size, claimed), findings


def analyze(release: Release) -> Inventory:
    files: list[InventoryFile] = []
    findings: list[Finding] = []
    for f in release.files:
        item, found = classify(f)
        files.append(item)
        findings.extend(found)
    inv = Inventory(tuple(files))
    findings.extend(_release_findings(inv, release))
    absent = absent_files(release)
    findings.extend(absent_findings(release, absent))
    findings.extend(hub_findings(release))
    return Inventory(tuple(files), tuple(findings), absent)


def _release_findings(inv: Inventory, release: Release) -> Iterable[Finding]:
    if not inv.weights():
        yield finding("MC101", "no weights files; counts come from config.json when present")
    if release.source.whole_release:
        for comp in inv.missing():
            if comp != "weights":
                yield finding("MC102", f"no {comp} file in the release")
    fmts = inv.weight_formats() & (_PICKLED | {"safetensors"})
    if "safetensors" in fmts and len(fmts) > 1:
        others = ", ".join(sorted(fmts - {"safetensors"}))
        yield finding("MC104", f"weights ship as safetensors and as {others}")
