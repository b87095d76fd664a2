"""Weights: what each weights file holds, read from headers only.

Dispatches every weights file of the inventory to its bounded parser and keeps a
per-file summary (tensor count, bytes, dtypes, format metadata) plus the
release-level facts a user asks first: which formats, which precisions, and
whether a sharded index is consistent with its shards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding
from ..jsonout import JsonFields
from ..parsers.detect import FORMATS
from ..parsers.formats import REGISTRY, spec
from ..parsers.shards import ShardIndex, read_index
from ..parsers.tensors import TensorInfo
from ..release import Release
from .inventory import Inventory

#: formats whose tensor headers are read (the registry rows with a header reader)
PARSED_FORMATS = tuple(f.name for f in REGISTRY if f.header is not None)


@dataclass(frozen=True)
class WeightsFile(JsonFields):
    json_names = {"nbytes": "tensor_bytes"}

    path: str
    format: str
    tensors: int | None  # None when the format's tensors cannot be listed statically
    nbytes: int | None
    dtypes: dict[str, int]  # dtype → number of elements
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Weights:
    files: tuple[WeightsFile, ...]
    indexes: tuple[ShardIndex, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(sorted({f.format for f in self.files}))

    @property
    def precisions(self) -> dict[str, int]:
        """dtype → elements across all weights files (the release's precision mix)."""
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.dtypes)
        return dict(total.most_common())

    def gguf(self) -> tuple[WeightsFile, ...]:
        return tuple(f for f in self.files if f.format == "gguf")

    def to_json(self) -> dict[str, Any]:
        return {
            "formats": list(self.formats),
            "precisions": self.precisions,
            "files": [f.to_json() for f in self.files],
            "indexes": [
                {"file": i.file, "format": i.format, "total_size": i.total_size,
                 "tensor_bytes": i.tensor_bytes, "shards": len(i.shards),
                 "tensors": len(i.weight_map), "verified": i.verified}
                for i in self.indexes
            ],
        }


def _dtypes(tensors: Iterable[TensorInfo]) -> dict[str, int]:
    c: Counter[str] = Counter()
    for t in tensors:
        c[t.dtype] += t.numel
    return dict(c.most_common())


def analyze(release: Release, inventory: Inventory) -> Weights:
    files: list[WeightsFile] = []
    findings: list[Finding] = []
    indexes: list[ShardIndex] = []
    for item in inventory.files:
        rf = release.get(item.path)
        if rf is None:
            continue
        if item.component == "weights-index" and item.format == "json":
            idx = read_index(release, rf)
            indexes.append(idx)
            findings.extend(idx.findings)
            continue
        reader = spec(item.format).header if item.format in FORMATS else None
        if reader is not None:
            h = reader(rf)
            findings.extend(h.findings)
            files.append(WeightsFile(rf.path, item.format,
                                     len(h.tensors) if h.tensors_known else None,
                                     h.nbytes, _dtypes(h.tensors), h.metadata))
        elif item.component == "weights":
            files.append(WeightsFile(rf.path, item.format, None, None, {}))
    return Weights(tuple(files), tuple(indexes), tuple(findings))
