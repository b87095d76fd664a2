"""PyTorch checkpoints (``torch.save``) read statically: members, storages, tensor shapes.

A zip checkpoint (torch >= 1.6) is ``<prefix>/data.pkl`` (the object graph),
``<prefix>/data/<key>`` (one member per storage, stored uncompressed so it can
be memory-mapped), ``<prefix>/byteorder`` and ``<prefix>/version``. The legacy
format (``_use_new_zipfile_serialization=False``) is five pickles back to back
(magic number, protocol version, system info, the object graph, the sorted
storage keys) followed by each storage as a u64 element count and raw bytes.

Tensors are pickled as ``torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, …)`` (``_v3`` adds an explicit dtype), where ``storage`` is a
persistent id ``('storage', <storage class>, key, location, numel)``. We run
the pickle on :mod:`.pickle_machine`'s symbolic machine (nothing is imported or
called) and read those calls, so dtypes and shapes come out without
unpickling. Anything built another way is reported as not statically readable,
never guessed.

We parse the zip central directory through :mod:`zipfile` after checking its
declared size and entry count against the file ourselves, because ``zipfile``
reads whatever size the end record declares.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..release import MAX_WHOLE_READ, ReleaseFile
from . import pickle_machine as pm
from .sniff import LFS_POINTER, TORCH_LEGACY_MAGIC, lfs_pointer_error
from .tensors import HeaderSummary, TensorInfo
from .torch_walk import (
    _BITS,
    MAX_WALK_DEPTH,
    Storage,
    _persistent_ids,
    _storage_dtype,
    _tensor_findings,
    _tensors_from_value,
)

__all__ = [
    "MAX_CENTRAL_DIRECTORY", "MAX_MEMBERS", "MAX_PICKLE", "MAX_WALK_DEPTH", "Storage",
    "TorchArchive", "ZipMember", "clear_cache", "read_torch_checkpoint", "read_torch_legacy",
    "read_torch_zip", "summarize",
]

#: central directories larger than this are refused (a 100k-member archive needs ~10 MB)
MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
#: members beyond this are refused (real checkpoints hold one member per storage)
MAX_MEMBERS = 500_000
#: data.pkl larger than this is not simulated (tensor shapes reported unknown)
MAX_PICKLE = MAX_WHOLE_READ



@dataclass(frozen=True)
class ZipMember:
    name: str
    header_offset: int  # local file header
    data_offset: int  # absolute offset of the member's (possibly compressed) bytes
    size: int  # uncompressed size
    compressed_size: int
    method: int  # 0 stored, 8 deflated, …
    index: int = 0  # position in the central directory (tells duplicates apart)



@dataclass(frozen=True)
class TorchArchive:
    file: str
    format: str  # pytorch-zip | pytorch-legacy
    prefix: str | None  # the archive's top folder (zip only)
    members: tuple[ZipMember, ...]  # zip members in central-directory order
    pickles: tuple[str, ...]  # pickle members, the one torch loads first
    storages: dict[str, Storage]
    byteorder: str | None
    version: str | None  # zip: <prefix>/version; legacy: the protocol version
    tensors: tuple[TensorInfo, ...]
    tensors_known: bool  # False when the pickle does not build tensors the standard way
    findings: tuple[Finding, ...] = ()


def read_torch_checkpoint(f: ReleaseFile) -> TorchArchive:
    """Either PyTorch format, chosen by the file's first bytes.

    The weights summary and the shard-index check read the same shards, so parses
    are cached by (path, size, fingerprint). The fingerprint digests what a parse
    depends on: the central directory (which carries every member's CRC-32, so any
    change to data.pkl shows), the archive's tail and its first MiB (where torch
    writes data.pkl, and where legacy checkpoints keep their pickles). Treat the
    result as immutable.
    """
    key = (f.path, f.abspath, f.size, _fingerprint(f))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = _read_uncached(f)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return result


_CACHE: OrderedDict[tuple[Any, ...], TorchArchive] = OrderedDict()
_CACHE_MAX = 256
_LOCK = threading.Lock()


def _fingerprint(f: ReleaseFile) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    with f.open() as fh:
        h.update(fh.read(1 << 20))
        tail_len = min(f.size, 65535 + 22)
        fh.seek(f.size - tail_len)
        tail = fh.read(tail_len)
        h.update(tail)
        at = tail.rfind(b"PK\x05\x06")
        if 0 <= at <= len(tail) - 22:
            _, _, _, _, _, cd_size, cd_offset, _ = struct.unpack_from("<4s4H2IH", tail, at)
            if cd_size <= MAX_CENTRAL_DIRECTORY and cd_offset + cd_size <= f.size:
                fh.seek(cd_offset)
                h.update(fh.read(cd_size))
    return h.digest()


def clear_cache() -> None:
    """Forget cached parses (to measure cold parsing)."""
    with _LOCK:
        _CACHE.clear()


def _read_uncached(f: ReleaseFile) -> TorchArchive:
    head = f.head(16)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return read_torch_zip(f)
    return read_torch_legacy(f)


# ----------------------------------------------------------------------------- zip


def _check_central_directory(f: ReleaseFile, fh: Any) -> None:
    """Bound the central directory before zipfile reads it."""
    tail_len = min(f.size, 65535 + 22)
    fh.seek(f.size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise InputError(f.path, "not a zip archive: no end-of-central-directory record")
    _, _, _, _, count, cd_size, cd_offset, _ = struct.unpack_from("<4s4H2IH", tail, at)
    eocd_abs = f.size - tail_len + at
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        loc = at - 20
        if loc < 0 or tail[loc : loc + 4] != b"PK\x06\x07":
            raise InputError(f.path, "zip64 archive without a zip64 locator")
        (z64_off,) = struct.unpack_from("<Q", tail, loc + 8)
        if z64_off + 56 > f.size:
            raise InputError(f.path, f"zip64 end record at {z64_off} lies beyond the file")
        fh.seek(z64_off)
        rec = fh.read(56)
        if rec[:4] != b"PK\x06\x06":
            raise InputError(f.path, "zip64 end record has a bad signature")
        count, _, cd_size, cd_offset = struct.unpack_from("<4Q", rec, 24)
        eocd_abs = z64_off
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise InputError(
            f.path, f"zip central directory is {cd_size} bytes (limit {MAX_CENTRAL_DIRECTORY})"
        )
    if cd_offset + cd_size > eocd_abs:
        raise InputError(
            f.path,
            f"zip central directory ({cd_size} bytes at {cd_offset}) runs past its end record",
        )
    if count > MAX_MEMBERS:
        raise InputError(f.path, f"zip declares {count} entries (limit {MAX_MEMBERS})")
    if count * 46 > cd_size:
        raise InputError(
            f.path, f"zip declares {count} entries, more than its central directory can hold"
        )


def _list_members(f: ReleaseFile) -> tuple[list[ZipMember], zipfile.ZipFile, Any]:
    fh = f.open()
    try:
        _check_central_directory(f, fh)
        zf = zipfile.ZipFile(fh)
        members: list[ZipMember] = []
        for index, info in enumerate(zf.infolist()):
            fh.seek(info.header_offset)
            local = fh.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise InputError(
                    f.path,
                    f"zip member {info.filename!r}: no local header at {info.header_offset}",
                )
            nlen, xlen = struct.unpack_from("<2H", local, 26)
            data_offset = info.header_offset + 30 + nlen + xlen
            if data_offset + info.compress_size > f.size:
                raise InputError(
                    f.path,
                    f"zip member {info.filename!r} ({info.compress_size} bytes at "
                    f"{data_offset}) runs past the end of the file",
                )
            members.append(
                ZipMember(
                    name=info.filename,
                    header_offset=info.header_offset,
                    data_offset=data_offset,
                    size=info.file_size,
                    compressed_size=info.compress_size,
                    method=info.compress_type,
                    index=index,
                )
            )
        return members, zf, fh
    except InputError:
        fh.close()
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        fh.close()
        raise InputError(f.path, f"bad zip archive: {exc}") from None
    except (OSError, ValueError, EOFError, struct.error, NotImplementedError, OverflowError) as exc:
        fh.close()
        raise InputError(f.path, f"bad zip archive: {exc}") from None


def _read_member(f: ReleaseFile, zf: zipfile.ZipFile, m: ZipMember, limit: int) -> bytes:
    if m.size > limit:
        raise InputError(f.path, f"zip member {m.name!r} is {m.size} bytes (limit {limit})")
    try:
        # by entry, not by name: with duplicate names zipfile would pick the last one
        with zf.open(zf.infolist()[m.index]) as src:
            data = src.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise InputError(f.path, f"cannot read zip member {m.name!r}: {exc}") from None
    if len(data) > limit:
        raise InputError(f.path, f"zip member {m.name!r} expands beyond {limit} bytes")
    return data


def read_torch_zip(f: ReleaseFile) -> TorchArchive:
    members, zf, fh = _list_members(f)
    try:
        return _read_zip(f, members, zf)
    finally:
        zf.close()
        fh.close()


def _read_zip(f: ReleaseFile, members: list[ZipMember], zf: zipfile.ZipFile) -> TorchArchive:
    path = f.path
    findings: list[Finding] = []
    seen = _first_of_each_name(path, members, findings)
    pkl = _data_pkl(path, members, seen)
    prefix = pkl.name[: -len("data.pkl")].rstrip("/")
    root = f"{prefix}/" if prefix else ""
    pickles = [pkl.name] + [
        m.name for m in members if m.name.endswith(".pkl") and m.name != pkl.name
    ]
    _layout_findings(path, members, seen, pickles, findings)
    byteorder = _small_text(f, zf, seen.get(f"{root}byteorder"))
    version = _small_text(f, zf, seen.get(f"{root}version"))
    if byteorder == "big":
        findings.append(finding("MC164", "byteorder record says big-endian", file=path))
    storage_members = {
        m.name[len(root) + len("data/") :]: m
        for m in seen.values()
        if m.name.startswith(f"{root}data/") and "/" not in m.name[len(root) + 5 :]
    }
    tensors: tuple[TensorInfo, ...] = ()
    storages: dict[str, Storage] = {}
    known = False
    if pkl.size > MAX_PICKLE:
        findings.append(
            finding(
                "MC161",
                f"{pkl.name} is {pkl.size} bytes, too large to simulate",
                file=path,
                quote=pkl.name,
            )
        )
    else:
        tensors, storages, known = _zip_tensors(f, zf, pkl, storage_members, root, findings)
    return TorchArchive(
        file=path,
        format="pytorch-zip",
        prefix=prefix or None,
        members=tuple(members),
        pickles=tuple(pickles),
        storages=storages,
        byteorder=byteorder,
        version=version,
        tensors=tensors,
        tensors_known=known,
        findings=tuple(findings),
    )


def _first_of_each_name(
    path: str, members: list[ZipMember], findings: list[Finding]
) -> dict[str, ZipMember]:
    """Name → first member of that name; a repeated name is a finding (readers differ)."""
    seen: dict[str, ZipMember] = {}
    for m in members:
        if m.name in seen:
            findings.append(
                finding(
                    "MC160",
                    f"zip member {m.name!r} appears more than once",
                    file=path,
                    offset=m.header_offset,
                    quote=m.name,
                )
            )
        seen.setdefault(m.name, m)
    return seen


def _data_pkl(path: str, members: list[ZipMember], seen: dict[str, ZipMember]) -> ZipMember:
    """The pickle torch.load reads.

    torch.load takes the archive's folder from its first entry and reads
    <folder>/data.pkl; other layouts are accepted only when that is absent.
    """
    first_dir = members[0].name.split("/", 1)[0] if members and "/" in members[0].name else None
    pkl = seen.get(f"{first_dir}/data.pkl") if first_dir else None
    if pkl is None:
        pkl = next(
            (
                m
                for m in members
                if m.name == "data.pkl" or m.name.count("/") == 1 and m.name.endswith("/data.pkl")
            ),
            None,
        )
    if pkl is None:
        raise InputError(path, "zip archive has no data.pkl: not a PyTorch checkpoint")
    return pkl


def _layout_findings(
    path: str,
    members: list[ZipMember],
    seen: dict[str, ZipMember],
    pickles: list[str],
    findings: list[Finding],
) -> None:
    """Pickles besides data.pkl and compressed members: neither is what torch.save writes."""
    for extra in pickles[1:]:
        findings.append(
            finding(
                "MC166",
                f"pickle member {extra!r} besides {pickles[0]!r}",
                file=path,
                offset=seen[extra].header_offset,
                quote=extra,
            )
        )
    compressed = [m.name for m in members if m.method != zipfile.ZIP_STORED]
    if compressed:
        findings.append(
            finding(
                "MC167",
                f"{len(compressed)} member(s) are compressed, e.g. {compressed[0]!r}",
                file=path,
                quote=compressed[0],
            )
        )


def _zip_tensors(
    f: ReleaseFile,
    zf: zipfile.ZipFile,
    pkl: ZipMember,
    storage_members: dict[str, ZipMember],
    root: str,
    findings: list[Finding],
) -> tuple[tuple[TensorInfo, ...], dict[str, Storage], bool]:
    """Tensors, storages and whether they are known, from data.pkl run symbolically."""
    path = f.path
    pickle_offset = pkl.data_offset if pkl.method == zipfile.ZIP_STORED else 0
    data = _read_member(f, zf, pkl, MAX_PICKLE)
    trace = pm.simulate(data, file=path, base_offset=pickle_offset, max_streams=1)
    if trace.error is not None or not trace.value:
        err = trace.error
        where = f" at offset {err.offset}" if err else ""
        raise InputError(
            path,
            f"{pkl.name} is not a valid pickle{where}: {err.message if err else 'no object'}",
        )

    def locate(key: str) -> tuple[int, int]:
        m = storage_members.get(key)
        if m is None:
            raise InputError(
                path, f"storage {key!r} used by the pickle is missing ({root}data/{key})"
            )
        off = m.data_offset if m.method == zipfile.ZIP_STORED else -1
        return off, m.size

    tensors, storages, known, why = _tensors_from_value(path, trace.value[0], locate)
    _tensor_findings(path, tensors, known, why, findings)
    if known:
        unused = sorted(set(storage_members) - set(storages))
        if unused:
            findings.append(
                finding(
                    "MC163",
                    f"{len(unused)} storage record(s) not used by any tensor: "
                    + ", ".join(f"{root}data/{k}" for k in unused[:5]),
                    file=path,
                    offset=storage_members[unused[0]].header_offset,
                )
            )
    return tuple(t for t, _ in tensors), storages, known


def _small_text(f: ReleaseFile, zf: zipfile.ZipFile, m: ZipMember | None) -> str | None:
    if m is None:
        return None
    raw = _read_member(f, zf, m, 4096)
    return raw.decode("utf-8", "replace").strip()


# -------------------------------------------------------------------------- legacy


def read_torch_legacy(f: ReleaseFile) -> TorchArchive:
    path = f.path
    trace = _legacy_pickles(f)
    values = trace.value
    version = values[1]
    info = values[2] if isinstance(values[2], dict) else {}
    byteorder = "little" if info.get("little_endian", True) else "big"
    keys = values[4]
    if not isinstance(keys, list | tuple) or not all(isinstance(k, str) for k in keys):
        raise InputError(path, "legacy checkpoint: storage key list is malformed")
    findings: list[Finding] = [
        finding("MC165", "legacy (non-zip) torch.save format", file=path, offset=0)
    ]
    if byteorder == "big":
        findings.append(finding("MC164", "sys_info says big-endian", file=path))
    records = _legacy_records(f, values[3], keys, trace.streams[4].end)

    def locate(key: str) -> tuple[int, int]:
        rec = records.get(key)
        if rec is None:
            raise InputError(path, f"storage {key!r} used by the pickle has no data record")
        return rec

    tensors, storages, known, why = _tensors_from_value(path, values[3], locate)
    _tensor_findings(path, tensors, known, why, findings)
    return TorchArchive(
        file=path,
        format="pytorch-legacy",
        prefix=None,
        members=(),
        pickles=(),
        storages=storages,
        byteorder=byteorder,
        version=str(version),
        tensors=tuple(t for t, _ in tensors),
        tensors_known=known,
        findings=tuple(findings),
    )


def _legacy_pickles(f: ReleaseFile) -> pm.PickleTrace:
    """The five leading pickles, run symbolically; the trace has all five values."""
    path = f.path
    # The five pickles sit at the start of a file that is mostly raw storage, so read
    # a small prefix first and grow it only while the pickles run past it.
    want = min(f.size, 1 << 20)
    while True:
        trace = pm.simulate(f.head(want), file=path, max_streams=5)
        done = sum(1 for s in trace.streams if s.complete) >= 5
        if done or want >= min(f.size, MAX_PICKLE):
            break
        want = min(want * 8, f.size, MAX_PICKLE)
    values = trace.value
    if not values or values[0] != TORCH_LEGACY_MAGIC:
        lfs_pointer_error(path, f.head(len(LFS_POINTER)))
        raise InputError(path, "not a PyTorch checkpoint (no zip archive, no legacy magic number)")
    if len(trace.streams) < 5 or len(values) < 5:
        err = trace.error
        detail = f": {err.message} at offset {err.offset}" if err else ""
        if f.size > MAX_PICKLE and err is not None:
            raise InputError(path, f"legacy checkpoint pickles exceed {MAX_PICKLE} bytes{detail}")
        raise InputError(path, f"legacy checkpoint is truncated or malformed{detail}")
    return trace


def _legacy_records(
    f: ReleaseFile, graph: Any, keys: list[str] | tuple[str, ...], pos: int
) -> dict[str, tuple[int, int]]:
    """Storage key → (offset, size) of its raw record, walked from ``pos`` in key order.

    Storage types come from the persistent ids in the object ``graph``; the records
    need each storage's element size to be walked.
    """
    path = f.path
    elsizes: dict[str, int] = {}
    for pid in _persistent_ids(graph, 0):
        v = pid.value
        if isinstance(v, tuple) and len(v) >= 3 and isinstance(v[2], str):
            dt = _storage_dtype(v[1])
            if dt is not None:
                elsizes[v[2]] = _BITS[dt] // 8
    records: dict[str, tuple[int, int]] = {}
    with f.open() as fh:
        for key in keys:
            if pos + 8 > f.size:
                raise InputError(
                    path, f"legacy storage {key!r}: record header at {pos} is past the end"
                )
            fh.seek(pos)
            (count,) = struct.unpack("<Q", fh.read(8))
            size = count * elsizes.get(key, 1)
            if pos + 8 + size > f.size:
                raise InputError(
                    path,
                    f"legacy storage {key!r}: {size} bytes at {pos + 8} run past the end "
                    f"of the file ({f.size} bytes)",
                )
            records[key] = (pos + 8, size)
            pos += 8 + size
    return records


def summarize(f: ReleaseFile) -> HeaderSummary:
    """The registry's header reader for both PyTorch formats (see parsers/formats.py)."""
    arc = read_torch_checkpoint(f)
    return HeaderSummary(
        arc.tensors, arc.tensors_known, sum(s.nbytes for s in arc.storages.values()),
        {"pickles": list(arc.pickles), "storages": len(arc.storages),
         "version": arc.version, "byteorder": arc.byteorder},
        tuple(arc.findings),
    )
