"""Sharded checkpoints: the index (``*.safetensors.index.json``,
``pytorch_model.bin.index.json``) checked against the shards it names.

Loaders trust the index: a missing shard or a tensor the index places in the
wrong shard makes loading fail, so those are input errors. Differences a
loader survives but that change what gets loaded or reported (a wrong
``total_size``, tensors the index does not list, a tensor in two shards) are
findings with both sides quoted.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..release import Release, ReleaseFile
from .lfs import parse_pointer
from .safetensors import read_safetensors
from .tensors import TensorInfo

#: An index is small (DeepSeek-V3's is ~9 MB); refuse absurd ones before reading.
MAX_INDEX_BYTES = 64 * 1024 * 1024

_SHARD_RE = re.compile(r"^(?P<stem>.+)-\d{5}-of-(?P<count>\d{5})(?P<ext>\.[a-z]+)$")


@dataclass(frozen=True)
class ShardIndex:
    file: str  # the index file
    format: str  # safetensors | pytorch
    total_size: int | None  # metadata.total_size as declared
    metadata: dict[str, Any]
    weight_map: dict[str, str]  # tensor name → release path of its shard
    shards: tuple[str, ...]  # release paths of the shards, sorted
    tensors: tuple[TensorInfo, ...]  # every tensor the shards hold (empty if unreadable)
    tensor_bytes: int | None  # sum of nbytes over the tensors the index lists
    findings: tuple[Finding, ...] = ()
    #: False when the shards' tensors could not be read statically (pickled shards
    #: whose pickle does not build tensors the standard way)
    verified: bool = True


def index_format(name: str) -> str | None:
    low = name.lower()
    if low.endswith(".safetensors.index.json"):
        return "safetensors"
    if low.endswith(".bin.index.json") or low.endswith(".pt.index.json"):
        return "pytorch"
    return None


def read_index(release: Release, index_file: ReleaseFile) -> ShardIndex:
    path = index_file.path
    fmt = index_format(index_file.name) or "safetensors"
    text, wm, meta, total = _load_index(index_file)
    weight_map = _resolve_weight_map(path, wm)
    shard_paths = tuple(sorted(set(weight_map.values())))
    files: dict[str, ReleaseFile] = {}
    # A shard that is missing or still a Git LFS pointer is the inventory's finding
    # (MC108 / MC106): the index is checked against what is here, and not verified.
    verified = True
    for sp in shard_paths:
        f = release.get(sp)
        if f is None or (f.remote_sha256 is None and parse_pointer(f.head(1024)) is not None):
            verified = False
            continue
        files[sp] = f

    findings: list[Finding] = []
    held: dict[str, TensorInfo] = {}  # first shard holding each name
    copies: dict[str, list[TensorInfo]] = {}  # names held by several shards
    per_shard: dict[str, tuple[TensorInfo, ...]] = {}
    for sp, f in files.items():
        tensors = _shard_tensors(fmt, f, findings)
        if tensors is None:
            verified = False
            continue
        per_shard[sp] = tensors
        for t in tensors:
            first = held.setdefault(t.name, t)
            if first is not t:
                copies.setdefault(t.name, [first]).append(t)

    listed_bytes: int | None = None
    if verified:
        listed_bytes = _listed_bytes(path, weight_map, held, copies)
        findings.extend(_listing_findings(held, copies, weight_map))
        findings.extend(_total_size_findings(path, text, total, listed_bytes))
    findings.extend(_stray_shards(release, path, shard_paths))
    all_tensors = tuple(t for sp in shard_paths for t in per_shard.get(sp, ()))
    return ShardIndex(
        file=path,
        format=fmt,
        total_size=total,
        metadata=meta,
        weight_map=weight_map,
        shards=shard_paths,
        tensors=all_tensors,
        tensor_bytes=listed_bytes,
        findings=tuple(findings),
        verified=verified,
    )


def _load_index(
    index_file: ReleaseFile,
) -> tuple[str, dict[str, Any], dict[str, Any], int | None]:
    """The index text, its weight_map, its metadata and the declared total_size."""
    path = index_file.path
    if index_file.size > MAX_INDEX_BYTES:
        raise InputError(path, f"index is {index_file.size} bytes (limit {MAX_INDEX_BYTES})")
    text = index_file.read_text(MAX_INDEX_BYTES)
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(path, "index JSON is nested too deeply") from None
    except ValueError as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InputError(path, f"not valid JSON{where}: {msg}") from None
    if not isinstance(data, dict):
        raise InputError(path, "index must be a JSON object")
    wm = data.get("weight_map")
    if not isinstance(wm, dict) or not wm:
        raise InputError(path, "index has no weight_map object")
    meta = data.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    total = meta.get("total_size")
    if isinstance(total, float) and total.is_integer():
        total = int(total)
    if total is not None and (not isinstance(total, int) or isinstance(total, bool)):
        raise InputError(path, f"metadata.total_size must be an integer, not {total!r}")
    return text, wm, meta, total


def _resolve_weight_map(path: str, wm: dict[str, Any]) -> dict[str, str]:
    """Tensor name → release path of its shard; a shard outside the release is refused."""
    base = posixpath.dirname(path)
    weight_map: dict[str, str] = {}
    resolved: dict[str, str] = {}  # a few shard names, each repeated for ~1000 tensors
    for tensor, shard in wm.items():
        rel = resolved.get(shard) if isinstance(shard, str) else None
        if rel is None:
            if not isinstance(shard, str) or not shard:
                raise InputError(path, f"weight_map entry for {tensor!r} is not a file name")
            rel = posixpath.normpath(posixpath.join(base, shard))
            if shard.startswith("/") or rel.startswith("../") or rel == "..":
                raise InputError(path, f"shard {shard!r} points outside the release")
            resolved[shard] = rel
        weight_map[tensor] = rel
    return weight_map


def _listed_bytes(
    path: str,
    weight_map: dict[str, str],
    held: dict[str, TensorInfo],
    copies: dict[str, list[TensorInfo]],
) -> int:
    """Bytes of the tensors the index lists; a tensor not in its mapped shard is an error."""
    listed_bytes = 0
    for tensor, sp in weight_map.items():
        hit = held.get(tensor)
        if hit is not None and hit.file != sp:
            hit = next((c for c in copies.get(tensor, ()) if c.file == sp), None)
        if hit is None:
            raise InputError(
                path,
                f"tensor {tensor!r} is mapped to {posixpath.basename(sp)!r} but that shard "
                "does not hold it",
            )
        listed_bytes += hit.nbytes
    return listed_bytes


def _listing_findings(
    held: dict[str, TensorInfo],
    copies: dict[str, list[TensorInfo]],
    weight_map: dict[str, str],
) -> list[Finding]:
    """Tensors the index does not list, and tensors held by several shards."""
    out: list[Finding] = []
    unlisted = sorted(n for n in held if n not in weight_map)
    if unlisted:
        shown = ", ".join(unlisted[:5]) + (" …" if len(unlisted) > 5 else "")
        out.append(
            finding(
                "MC131",
                f"{len(unlisted)} tensor(s) in the shards are not in the index: {shown}",
                file=held[unlisted[0]].file,
                quote=unlisted[0],
                tensors=unlisted,
            )
        )
    for name, held_by in sorted(copies.items()):
        out.append(
            finding(
                "MC133",
                f"tensor {name!r} is in {len(held_by)} shards: "
                + ", ".join(c.file for c in held_by),
                file=held_by[1].file,
                quote=name,
            )
        )
    return out


def _total_size_findings(
    path: str, text: str, total: int | None, listed_bytes: int
) -> list[Finding]:
    if total is None:
        return [finding("MC134", "index has no metadata.total_size", file=path)]
    if total == listed_bytes:
        return []
    return [
        finding(
            "MC130",
            f"metadata.total_size is {total} but the listed tensors hold "
            f"{listed_bytes} bytes (difference {total - listed_bytes:+d})",
            file=path,
            line=_line_of(text, '"total_size"'),
            quote=f'"total_size": {total}',
            declared=total,
            actual=listed_bytes,
        )
    ]


def _shard_tensors(
    fmt: str, f: ReleaseFile, findings: list[Finding]
) -> tuple[TensorInfo, ...] | None:
    """Tensors a shard holds; None when they cannot be read without unpickling."""
    if fmt == "safetensors":
        st = read_safetensors(f)
        findings.extend(st.findings)
        return st.tensors
    # Pickled shards: imported here so the safetensors path never pays for it.
    from .torchzip import read_torch_checkpoint

    archive = read_torch_checkpoint(f)
    findings.extend(archive.findings)
    return archive.tensors if archive.tensors_known else None


def _line_of(text: str, needle: str) -> int | None:
    idx = text.find(needle)
    return None if idx < 0 else text.count("\n", 0, idx) + 1


def _stray_shards(release: Release, index_path: str, shards: tuple[str, ...]) -> list[Finding]:
    """Files beside the index named like shards of the same checkpoint but not listed."""
    patterns = set()
    for sp in shards:
        m = _SHARD_RE.match(posixpath.basename(sp))
        if m:
            patterns.add((posixpath.dirname(sp), m["stem"], m["ext"]))
    listed = set(shards)
    out: list[Finding] = []
    for f in release.files:
        if f.path in listed:
            continue
        m = _SHARD_RE.match(f.name)
        if m and (posixpath.dirname(f.path), m["stem"], m["ext"]) in patterns:
            out.append(
                finding(
                    "MC132",
                    f"{f.path} looks like a shard of this checkpoint but {index_path} "
                    "does not reference it",
                    file=f.path,
                )
            )
    return out
