"""Weights a release names but does not hold: Git LFS pointers and shards an index lists.

A clone without git-lfs, a folder of config and tokenizer files, or a download that
stopped half way is still something a team wants cleared before pulling hundreds of
gigabytes. Each absent file is named with what declares it (the pointer itself, the
shard index) and the size and sha256 declared for it, so every command can answer with
the gap stated instead of refusing: sizes come from the declarations, parameter counts
from the index's ``total_size`` and the config's dtype (the method is said), and the
security scan reports the absent bytes as not examined.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..jsonout import JsonFields
from ..parsers.lfs import declared_content, parse_pointer
from ..parsers.shards import MAX_INDEX_BYTES, index_format
from ..release import Release, ReleaseFile

#: bytes per element of the dtypes configs declare (``torch_dtype`` / ``dtype``)
DTYPE_BYTES = {"float32": 4, "float": 4, "fp32": 4, "float16": 2, "half": 2, "fp16": 2,
               "bfloat16": 2, "bf16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1, "int8": 1}


#: names of weights files (what MC109 counts and parameter counting needs)
WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".onnx",
                   ".msgpack", ".npz", ".pkl")


@dataclass(frozen=True)
class AbsentFile(JsonFields):
    """One weights file whose bytes are not in the release."""

    path: str
    reason: str  # lfs-pointer | missing-shard
    declared_by: str  # the pointer itself, or the index that lists the shard
    size: int | None = None  # as declared (pointer ``size``), None when nothing says
    sha256: str | None = None  # as declared (pointer ``oid``)

    @property
    def what(self) -> str:
        if self.reason == "lfs-pointer":
            return "a Git LFS pointer (its content was not downloaded)"
        return f"listed in {self.declared_by} but not in the release"


def absent_files(release: Release) -> tuple[AbsentFile, ...]:
    """Every LFS pointer, then every shard an index names that is missing or a pointer."""
    out: dict[str, AbsentFile] = {}
    for f in release.files:
        if f.remote_sha256 is None:
            ptr = parse_pointer(f.head(1024)) if f.size <= 1024 else None
            if ptr is not None:
                out[f.path] = AbsentFile(f.path, "lfs-pointer", f.path, ptr.size, ptr.sha256)
    for f in release.files:
        if index_format(f.name) is None or f.path in out:
            continue
        for shard in _index_shards(f):
            if release.get(shard) is None and shard not in out:
                out[shard] = AbsentFile(shard, "missing-shard", f.path)
    return tuple(out.values())


def _index_json(f: ReleaseFile) -> dict[str, Any] | None:
    """The index as JSON, or None: a malformed index is the weights stage's input error."""
    if f.size > MAX_INDEX_BYTES:
        return None
    try:
        data = json.loads(f.read_text(MAX_INDEX_BYTES))
    except (InputError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _index_shards(f: ReleaseFile) -> list[str]:
    data = _index_json(f)
    wm = data.get("weight_map") if data is not None else None
    if not isinstance(wm, dict):
        return []
    base = posixpath.dirname(f.path)
    names = sorted({v for v in wm.values() if isinstance(v, str) and v})
    return [posixpath.normpath(posixpath.join(base, n)) for n in names
            if not n.startswith("/") and ".." not in n.split("/")]


def _config_dtype(release: Release) -> tuple[str, str] | None:
    """(dtype, where) from config.json's ``torch_dtype`` (or ``dtype``)."""
    cfg = release.find("config.json")
    if cfg is None or cfg.size > 4 * 1024 * 1024 or declared_content(cfg) is not None:
        return None
    try:
        data = json.loads(cfg.read_text(4 * 1024 * 1024))
    except (InputError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    for key in ("torch_dtype", "dtype"):
        value = data.get(key)
        if isinstance(value, str) and value.lower() in DTYPE_BYTES:
            return value.lower(), f"{cfg.path} {key}"
    return None


def declared_weight_bytes(release: Release,
                          absent: tuple[AbsentFile, ...]) -> tuple[int, str] | None:
    """The weights' byte size as declared: the index ``total_size`` when there is one,
    else the sum of the pointers' sizes; with where it comes from."""
    for f in release.files:
        if index_format(f.name) is None:
            continue
        data = _index_json(f)
        meta = data.get("metadata") if data is not None else None
        total = meta.get("total_size") if isinstance(meta, dict) else None
        if isinstance(total, int) and not isinstance(total, bool) and total > 0:
            return total, f"{f.path} metadata.total_size"
    sizes = [a.size for a in absent if a.size is not None]
    if sizes and len(sizes) == len(absent):
        return sum(sizes), "the LFS pointers' size lines"
    return None


def absent_findings(release: Release, absent: tuple[AbsentFile, ...]) -> Iterable[Finding]:
    """MC108 per missing shard (MC106 per pointer is the inventory's), then MC109 saying
    what is known of the absent weights and how."""
    for a in absent:
        if a.reason == "missing-shard":
            yield finding("MC108", f"{a.path} is {a.what}: its weights were not downloaded",
                          file=a.declared_by, quote=posixpath.basename(a.path))
    # MC109 is about the weights; another file left as a pointer has its MC106 alone
    absent = tuple(a for a in absent if a.reason == "missing-shard" or
                   a.path.lower().endswith(WEIGHT_SUFFIXES))
    if not absent:
        return
    pointers = sum(1 for a in absent if a.reason == "lfs-pointer")
    parts = [f"{len(absent)} weights file(s) not present ({pointers} LFS pointer(s), "
             f"{len(absent) - pointers} missing shard(s)): not read, not scanned, not hashed"]
    declared = declared_weight_bytes(release, absent)
    if declared is not None:
        total, basis = declared
        parts.append(f"declared weights {total} bytes ({basis})")
        dtype = _config_dtype(release)
        if dtype is not None and "total_size" in basis:
            per = DTYPE_BYTES[dtype[0]]
            parts.append(f"about {total // per} parameters at {dtype[0]} (total_size ÷ {per} "
                         f"bytes per element, dtype from {dtype[1]})")
    yield finding("MC109", "; ".join(parts))


def hub_findings(release: Release) -> Iterable[Finding]:
    """MC110: weights read on the hub by range requests (headers, pickle streams) only;
    MC111: the hub gates the repository (conditions accepted there, beside the LICENSE)."""
    if release.source.gated:
        yield finding(
            "MC111", f"the hub gates {release.source.model_id} ({release.source.gated} "
            "approval): downloading it requires accepting conditions on the hub, which are "
            "not in the release's files")
    remote = [f for f in release.files if f.remote_sha256 is not None]
    if remote:
        yield finding(
            "MC110", f"{len(remote)} weights file(s) read on the hub by range requests: "
            "headers and pickle streams examined, tensor data neither downloaded nor hashed "
            "(sha256 as the hub declares it)", file=remote[0].path)
