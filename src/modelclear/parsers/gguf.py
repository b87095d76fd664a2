"""GGUF v2/v3 reader: every metadata key/value and tensor info, never tensor data.

Layout (little-endian unless the whole file is byte-swapped): magic ``GGUF``,
u32 version, u64 tensor count, u64 key/value count, the key/values, the tensor
infos, padding to ``general.alignment``, then tensor data. Every count and
length is a file-controlled 64-bit number, so each one is checked against the
bytes left in the file *before* a list or string is built: a declared array of
2^60 elements fails at once instead of exhausting memory.

Large arrays (the tokenizer vocabulary has 100k-250k strings) are walked to
validate them but only their first few values are kept unless the caller asks
for a key in full.
"""

from __future__ import annotations

import hashlib
import math
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, finding
from ..release import MAX_WHOLE_READ, ReleaseFile
from .ggml import file_type_name, quantization_name
from .gguf_cursor import Cursor
from .gguf_layout import Info, align, check_ranges, place_tensors
from .sniff import GGUF_MAGIC, LFS_POINTER, lfs_pointer_error
from .tensors import HeaderSummary, TensorInfo

__all__ = [
    "DEFAULT_ALIGNMENT", "GGUF_MAGIC", "MAX_ARRAY_DEPTH", "MAX_DIMS", "MAX_STRING", "Cursor",
    "GGUFFile", "GGUFValue", "SplitInfo", "clear_cache", "read_gguf",
    "summarize",
]

DEFAULT_ALIGNMENT = 32
#: ggml tensors have at most four dimensions (GGML_MAX_DIMS).
MAX_DIMS = 4
#: nested arrays deeper than this are not something any writer produces.
MAX_ARRAY_DEPTH = 8
#: a single string value larger than this is refused rather than allocated.
MAX_STRING = MAX_WHOLE_READ
#: array elements kept per key unless the key is asked for in full.
KEEP_VALUES = 16
#: Counts far beyond any real file (llama.cpp writes ~50 keys and a few thousand
#: tensors); each parsed entry costs ~100x its on-disk size, so they are capped.
MAX_KV = 100_000
MAX_TENSORS = 1_000_000
#: strings or sub-arrays per array: walking them costs time per element, and the
#: largest real ones (vocabularies, merges) hold a few hundred thousand
MAX_WALKED_ELEMENTS = 1 << 24


# GGUF value type id → (name, struct format or None for string/array)
_VALUE_TYPES: dict[int, tuple[str, str | None]] = {
    0: ("uint8", "B"),
    1: ("int8", "b"),
    2: ("uint16", "H"),
    3: ("int16", "h"),
    4: ("uint32", "I"),
    5: ("int32", "i"),
    6: ("float32", "f"),
    7: ("bool", "?"),
    8: ("string", None),
    9: ("array", None),
    10: ("uint64", "Q"),
    11: ("int64", "q"),
    12: ("float64", "d"),
}
_STRING, _ARRAY = 8, 9
_INT_TYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"}


@dataclass(frozen=True)
class GGUFValue:
    """One metadata value. Arrays keep ``count`` and their first values only."""

    type: str  # uint8 … float64, bool, string, array
    value: Any  # scalar, str, or a tuple of (possibly nested GGUFValue) items for arrays
    offset: int  # absolute offset of the key's record in the file
    count: int | None = None  # arrays: declared element count
    item_type: str | None = None  # arrays: element type
    truncated: bool = False  # arrays: value holds only the first few elements

    def to_json(self) -> Any:
        if self.type != "array":
            if isinstance(self.value, float) and not math.isfinite(self.value):
                return str(self.value)
            return self.value
        items = [v.to_json() if isinstance(v, GGUFValue) else _json_scalar(v) for v in self.value]
        return {
            "type": "array",
            "item_type": self.item_type,
            "count": self.count,
            "values": items,
            "truncated": self.truncated,
        }


def _json_scalar(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


@dataclass(frozen=True)
class SplitInfo:
    no: int  # 0-based index of this part (llama.cpp's split.no)
    count: int
    tensors_count: int | None


@dataclass(frozen=True)
class GGUFFile:
    file: str
    version: int
    byteorder: str  # little | big
    alignment: int
    metadata: dict[str, GGUFValue]
    tensors: tuple[TensorInfo, ...]  # shape in row-major order (GGUF ne reversed)
    tensor_types: dict[str, int]  # tensor name → ggml type id
    data_offset: int  # absolute offset where the tensor data section starts
    data_size: int  # bytes from data_offset to the end of the last tensor
    findings: tuple[Finding, ...] = ()
    kv_count: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        v = self.metadata.get(key)
        return default if v is None else v.value

    @property
    def architecture(self) -> str | None:
        return _str_or_none(self.get("general.architecture"))

    @property
    def name(self) -> str | None:
        return _str_or_none(self.get("general.name"))

    @property
    def license(self) -> dict[str, Any]:
        """Every ``general.license*`` key (license, license.name, license.link)."""
        return {
            k: v.to_json()
            for k, v in self.metadata.items()
            if k == "general.license" or k.startswith("general.license.")
        }

    @property
    def chat_template(self) -> str | None:
        return _str_or_none(self.get("tokenizer.chat_template"))

    @property
    def chat_templates(self) -> dict[str, str]:
        """Named templates (``tokenizer.chat_template.<name>``), e.g. tool_use, rag."""
        prefix = "tokenizer.chat_template."
        return {
            k[len(prefix) :]: v.value
            for k, v in self.metadata.items()
            if k.startswith(prefix) and isinstance(v.value, str)
        }

    @property
    def file_type(self) -> int | None:
        v = self.get("general.file_type")
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    @property
    def file_type_name(self) -> str | None:
        ft = self.file_type
        return None if ft is None else file_type_name(ft)

    @property
    def quantization(self) -> str | None:
        """``Q4_K_M``-style label from file_type, else the dominant tensor type by bytes."""
        ft = self.file_type
        if ft is not None and (q := quantization_name(ft)) and q != "GUESSED":
            return q
        by_type: dict[str, int] = {}
        for t in self.tensors:
            by_type[t.dtype] = by_type.get(t.dtype, 0) + t.nbytes
        return max(by_type, key=lambda k: by_type[k]) if by_type else None

    @property
    def split(self) -> SplitInfo | None:
        no, count = self.get("split.no"), self.get("split.count")
        if not isinstance(no, int) or not isinstance(count, int):
            return None
        tc = self.get("split.tensors.count")
        return SplitInfo(no=no, count=count, tensors_count=tc if isinstance(tc, int) else None)

    def value_offset(self, key: str) -> int | None:
        v = self.metadata.get(key)
        return None if v is None else v.offset


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else None


@dataclass
class _State:
    cur: Cursor
    e: str  # struct byte-order prefix
    u32: struct.Struct
    u64: struct.Struct
    keep: int
    full: frozenset[str]
    findings: list[Finding] = field(default_factory=list)
    bad_utf8: bool = False


def read_gguf(
    f: ReleaseFile, *, keep: int = KEEP_VALUES, full_arrays: Iterable[str] = ()
) -> GGUFFile:
    """Parse a GGUF file's header; ``full_arrays`` names array keys to keep whole.

    The inventory, architecture, license and security analyzers all read the same
    header, so parses are cached per (file, options) together with a digest of the
    header bytes; a cached parse is returned only after those bytes are re-read and
    found unchanged (a few MB of reading instead of walking a 150k-token vocabulary
    again). Treat the result as immutable.
    """
    full = frozenset(full_arrays)
    key = (f.path, f.abspath, f.size, keep, full)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None and _header_digest(f, hit[0].data_offset) == hit[1]:
        with _LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
        return hit[0]
    with Cursor(f) as cur:
        result = _read(cur, keep, full)
    entry = (result, _header_digest(f, result.data_offset))
    with _LOCK:
        _CACHE[key] = entry
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return result


_CACHE: OrderedDict[tuple[Any, ...], tuple[GGUFFile, bytes]] = OrderedDict()
_CACHE_MAX = 64
_LOCK = threading.Lock()


def _header_digest(f: ReleaseFile, end: int) -> bytes:
    """Digest of everything a parse depends on besides the size: bytes [0, end)."""
    h = hashlib.blake2b(digest_size=16)
    remaining = min(end, f.size)
    with f.open() as fh:
        while remaining > 0:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                break
            h.update(chunk)
            remaining -= len(chunk)
    return h.digest()


def clear_cache() -> None:
    """Forget cached parses (to measure cold parsing)."""
    with _LOCK:
        _CACHE.clear()


def _read(cur: Cursor, keep: int, full: frozenset[str]) -> GGUFFile:
    """The parse in file order; each phase checks what it reads before the next trusts it."""
    byteorder, st, version = _preamble(cur, keep, full)
    n_tensors, n_kv = _counts(st)
    metadata = _read_metadata(st, n_kv)
    alignment = _alignment(cur, metadata)
    infos = _read_tensor_infos(st, n_tensors)
    data_offset = align(cur.pos, alignment)
    if data_offset > cur.size and infos:
        raise cur.fail(f"tensor data section would start at {data_offset}, past the end")
    tensors, types, ranges, removed_types = place_tensors(cur, infos, data_offset, alignment)
    ranges.sort()
    unaccounted = check_ranges(st.findings, cur.file.path, ranges, data_offset, alignment)
    _metadata_findings(st, metadata, removed_types)
    data_end = max((r[1] for r in ranges), default=data_offset)
    if ranges:
        unaccounted += max(0, cur.size - align(data_end, alignment))
    if unaccounted:
        st.findings.append(
            finding(
                "MC147",
                f"{unaccounted} byte(s) of the data section belong to no tensor",
                file=cur.file.path,
                offset=data_offset,
            )
        )
    if version == 2:
        st.findings.append(finding("MC146", "GGUF version 2 file", file=cur.file.path, offset=4))
    return GGUFFile(
        file=cur.file.path,
        version=version,
        byteorder=byteorder,
        alignment=alignment,
        metadata=metadata,
        tensors=tuple(tensors),
        tensor_types=types,
        data_offset=data_offset,
        data_size=data_end - data_offset,
        findings=tuple(st.findings),
        kv_count=n_kv,
    )


def _preamble(cur: Cursor, keep: int, full: frozenset[str]) -> tuple[str, _State, int]:
    """Magic and version; the version's byte order decides how everything after is read."""
    if cur.size < 4 or cur.take(4, "magic") != GGUF_MAGIC:
        lfs_pointer_error(cur.file.path, cur.file.head(len(LFS_POINTER)))
        raise cur.fail("not a GGUF file (missing 'GGUF' magic)")
    (raw_version,) = cur.unpack(struct.Struct("<I"), "version")
    byteorder, e, version = "little", "<", raw_version
    if raw_version & 0xFFFF == 0 and raw_version >> 24 in (1, 2, 3):
        byteorder, e, version = "big", ">", raw_version >> 24
    if version == 1:
        raise cur.fail(
            "GGUF version 1 is obsolete and not supported (re-convert with current llama.cpp)"
        )
    if version not in (2, 3):
        raise cur.fail(f"unsupported GGUF version {version} (expected 2 or 3)")
    st = _State(
        cur=cur, e=e, u32=struct.Struct(e + "I"), u64=struct.Struct(e + "Q"), keep=keep, full=full
    )
    return byteorder, st, version


def _counts(st: _State) -> tuple[int, int]:
    """Tensor and key/value counts, refused before any list is sized by them."""
    cur = st.cur
    (n_tensors,) = cur.unpack(st.u64, "tensor count")
    (n_kv,) = cur.unpack(st.u64, "metadata count")
    # Each key/value needs at least 8 (key length) + 4 (type) + 1 (value) bytes
    # and each tensor info at least 8 + 4 + 4 + 8, so absurd counts fail here.
    if n_kv * 13 > cur.remaining:
        raise cur.fail(f"declares {n_kv} metadata entries, more than the file can hold")
    if n_tensors * 24 > cur.remaining:
        raise cur.fail(f"declares {n_tensors} tensors, more than the file can hold")
    if n_kv > MAX_KV:
        raise cur.fail(f"declares {n_kv} metadata entries (limit {MAX_KV})")
    if n_tensors > MAX_TENSORS:
        raise cur.fail(f"declares {n_tensors} tensors (limit {MAX_TENSORS})")
    return n_tensors, n_kv


def _read_metadata(st: _State, n_kv: int) -> dict[str, GGUFValue]:
    cur = st.cur
    metadata: dict[str, GGUFValue] = {}
    for i in range(n_kv):
        at = cur.pos
        key = _string(st, f"metadata key #{i}")
        (vtype,) = cur.unpack(st.u32, f"type of metadata key {key!r}")
        value = _value(st, vtype, key, at, depth=0)
        if key in metadata:
            st.findings.append(
                finding(
                    "MC140",
                    f"metadata key {key!r} appears more than once; readers disagree on "
                    "which value wins (we keep the last)",
                    file=cur.file.path,
                    offset=at,
                    quote=key,
                )
            )
        metadata[key] = value
    return metadata


def _alignment(cur: Cursor, metadata: dict[str, GGUFValue]) -> int:
    """``general.alignment``, which every tensor offset must be a multiple of."""
    av = metadata.get("general.alignment")
    if av is None:
        return DEFAULT_ALIGNMENT
    if av.type != "uint32":
        raise cur.fail(f"general.alignment must be uint32, found {av.type}")
    alignment: int = av.value
    if alignment <= 0 or alignment & (alignment - 1):
        raise cur.fail(f"general.alignment {alignment} is not a positive power of two")
    return alignment


def _read_tensor_infos(st: _State, n_tensors: int) -> list[Info]:
    cur, u32, u64 = st.cur, st.u32, st.u64
    infos: list[Info] = []
    seen: set[str] = set()
    for i in range(n_tensors):
        at = cur.pos
        name = _string(st, f"name of tensor #{i}")
        if name in seen:
            raise cur.fail(f"tensor {name!r} is defined twice (offset {at})")
        seen.add(name)
        (n_dims,) = cur.unpack(u32, f"dimension count of tensor {name!r}")
        if n_dims > MAX_DIMS:
            raise cur.fail(f"tensor {name!r} has {n_dims} dimensions (ggml allows {MAX_DIMS})")
        dims = cur.unpack(struct.Struct(st.e + "Q" * n_dims), f"shape of tensor {name!r}")
        (type_id,) = cur.unpack(u32, f"type of tensor {name!r}")
        (rel,) = cur.unpack(u64, f"data offset of tensor {name!r}")
        infos.append((name, tuple(dims), type_id, rel, at))
    return infos


def _metadata_findings(
    st: _State, metadata: dict[str, GGUFValue], removed_types: dict[str, int]
) -> None:
    """Things llama.cpp would trip on or show garbled: removed types, bad UTF-8, file_type."""
    path = st.cur.file.path
    for tname, n in sorted(removed_types.items()):
        st.findings.append(
            finding(
                "MC143",
                f"{n} tensor(s) use the removed ggml type {tname}; current llama.cpp "
                "refuses to load them",
                file=path,
            )
        )
    if st.bad_utf8:
        st.findings.append(
            finding(
                "MC141",
                "some metadata strings are not valid UTF-8 (shown with replacement characters)",
                file=path,
            )
        )
    ft = metadata.get("general.file_type")
    if ft is not None and isinstance(ft.value, int) and file_type_name(ft.value) is None:
        st.findings.append(
            finding(
                "MC144",
                f"general.file_type {ft.value} is not a known llama.cpp file type",
                file=path,
                offset=ft.offset,
            )
        )


def _string(st: _State, what: str) -> str:
    cur = st.cur
    (n,) = cur.unpack(st.u64, f"length of {what}")
    if n > MAX_STRING:
        raise cur.fail(f"{what} at offset {cur.pos - 8} declares {n} bytes (limit {MAX_STRING})")
    raw = cur.take(n, what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        st.bad_utf8 = True
        return raw.decode("utf-8", errors="replace")


def _value(st: _State, vtype: int, key: str, at: int, depth: int) -> GGUFValue:
    cur = st.cur
    spec = _VALUE_TYPES.get(vtype)
    if spec is None:
        raise cur.fail(f"metadata key {key!r} has unknown value type {vtype} (offset {at})")
    tname, fmt = spec
    if fmt is not None:
        (v,) = cur.unpack(struct.Struct(st.e + fmt), f"value of {key!r}")
        return GGUFValue(type=tname, value=v, offset=at)
    if vtype == _STRING:
        return GGUFValue(type="string", value=_string(st, f"value of {key!r}"), offset=at)
    return _array(st, key, at, depth)


def _array(st: _State, key: str, at: int, depth: int) -> GGUFValue:
    cur = st.cur
    if depth >= MAX_ARRAY_DEPTH:
        raise cur.fail(f"metadata key {key!r} nests arrays deeper than {MAX_ARRAY_DEPTH}")
    (itype,) = cur.unpack(st.u32, f"element type of {key!r}")
    (count,) = cur.unpack(st.u64, f"element count of {key!r}")
    spec = _VALUE_TYPES.get(itype)
    if spec is None:
        raise cur.fail(f"array {key!r} has unknown element type {itype} (offset {at})")
    iname, fmt = spec
    # smallest possible encoding of one element: fixed size, or a length prefix
    min_item = struct.calcsize(fmt) if fmt else (8 if itype == _STRING else 12)
    if count * min_item > cur.remaining:
        raise cur.fail(
            f"array {key!r} at offset {at} declares {count} elements, more than the "
            f"{cur.remaining} bytes left can hold"
        )
    if fmt is None and count > MAX_WALKED_ELEMENTS:
        raise cur.fail(
            f"array {key!r} at offset {at} declares {count} {iname} elements "
            f"(limit {MAX_WALKED_ELEMENTS})"
        )
    want = count if key in st.full else min(count, st.keep)
    items: list[Any] = []
    if fmt is not None:
        size = struct.calcsize(fmt)
        if want:
            items = list(cur.unpack(struct.Struct(f"{st.e}{want}{fmt}"), f"values of {key!r}"))
        cur.skip((count - want) * size, f"values of {key!r}")
    elif itype == _STRING:
        for i in range(want):
            items.append(_string(st, f"element {i} of {key!r}"))
        cur.skip_strings(count - want, st.u64, repr(key))
    else:
        for i in range(count):
            v = _array(st, f"{key}[{i}]", cur.pos, depth + 1)
            if i < want:
                items.append(v)
    return GGUFValue(
        type="array",
        value=tuple(items),
        offset=at,
        count=count,
        item_type=iname,
        truncated=want < count,
    )


def summarize(f: ReleaseFile) -> HeaderSummary:
    """The registry's header reader for GGUF (see parsers/formats.py)."""
    g = read_gguf(f)
    meta: dict[str, Any] = {
        "version": g.version, "architecture": g.architecture, "name": g.name,
        "license": g.license, "file_type": g.file_type_name,
        "quantization": g.quantization, "alignment": g.alignment,
        "chat_template": g.chat_template is not None,
        "metadata_keys": len(g.metadata),
    }
    if g.split is not None:
        meta["split"] = {"no": g.split.no, "count": g.split.count}
    return HeaderSummary(g.tensors, True, g.data_size, meta, tuple(g.findings))

