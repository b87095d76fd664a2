"""safetensors header reader with every check the format allows, no tensor data read.

Layout: u64 little-endian header length N, N bytes of UTF-8 JSON (an object
mapping tensor names to ``{dtype, shape, data_offsets}`` plus an optional
``__metadata__`` object of strings), then the data section. Offsets are
relative to the start of the data section.

Rules follow what the reference ``safetensors`` loader accepts, so a file we
pass is a file it loads: offsets must tile the data section exactly (no gaps,
no overlaps, no trailing bytes), since the loader refuses anything else; a
file that does not load is an input error rather than a finding. Oddities the
loader tolerates (duplicate JSON keys, unknown entry fields, an unaligned data
section) are findings.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..findings import Finding, finding
from ..release import ReleaseFile
from .sniff import LFS_POINTER, lfs_pointer_error
from .tensors import HeaderSummary, TensorInfo

#: The reference loader's own limit on the JSON header.
MAX_HEADER = 100_000_000

#: Bits per element of every dtype the safetensors format defines (0.6+: sub-byte
#: float formats F4/F6 and the FNUZ fp8 variants). Part of the format spec, like
#: struct codes, so it stays beside the parser.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}

_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}

# Parsed JSON costs ~8 bytes per array element on top of the text, so a header at
# the 100 MB cap that is one giant "shape" list would cost ~0.5 GB. Real headers
# are a few MB with arrays of a few dozen characters, so big headers are first
# checked for absurdly long arrays (a C-speed regex), keeping memory near the text.
_BIG_HEADER = 8 * 1024 * 1024
_LONG_ARRAY_CHARS = 65536
_LONG_ARRAY = re.compile(r"\[[^\[\]{}]{" + str(_LONG_ARRAY_CHARS) + "}")


@dataclass(frozen=True)
class SafetensorsFile:
    file: str
    header_size: int  # N, the JSON header's byte length
    metadata: dict[str, str]  # __metadata__ (format, producer notes…)
    tensors: tuple[TensorInfo, ...]  # in data order; offsets absolute in the file
    data_size: int  # bytes of the data section (file size - 8 - N)
    findings: tuple[Finding, ...] = ()

    @property
    def data_offset(self) -> int:
        return 8 + self.header_size


def read_safetensors(f: ReleaseFile) -> SafetensorsFile:
    """Parse and check a safetensors header.

    Parses are cached by (path, size, digest of the header bytes): inventory,
    parameter counting and the security scan all read the same 163 shard headers
    of a DeepSeek-sized release, and parsing 92k tensor entries three times would
    dominate ``inspect``. The header is always re-read, so a rewritten file is
    never served stale. Treat the result as immutable.
    """
    path = f.path
    if f.size < 8:
        raise InputError(path, f"too small for safetensors ({f.size} bytes, needs at least 8)")
    first = f.read_at(0, 8)
    if first == LFS_POINTER[:8]:
        lfs_pointer_error(path, f.head(len(LFS_POINTER)))
    (n,) = struct.unpack("<Q", first)
    if n > MAX_HEADER or 8 + n > f.size:
        if first.isascii() and first.decode("ascii").isprintable():
            # an HTML error page or a text file saved under a weights name
            raise InputError(
                path, f"not a safetensors file: it starts with the text {first.decode()!r}"
            )
        if n > MAX_HEADER:
            raise InputError(path, f"header length {n} exceeds the {MAX_HEADER}-byte limit")
        raise InputError(path, f"header length {n} runs past the end of the file ({f.size} bytes)")
    raw = f.read_at(8, n)
    key = (path, f.size, hashlib.blake2b(raw, digest_size=16).digest())
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = _parse(path, f.size, n, raw)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return result


_CACHE: OrderedDict[tuple[str, int, bytes], SafetensorsFile] = OrderedDict()
_CACHE_MAX = 4096
_LOCK = threading.Lock()


def _parse(path: str, size: int, n: int, raw: bytes) -> SafetensorsFile:
    header, dups = _decode_header(path, n, raw)
    findings: list[Finding] = []
    for key in sorted(set(dups)):
        findings.append(
            finding(
                "MC121",
                f"header key {key!r} appears more than once; the last one is used",
                file=path,
                offset=8,
                quote=key,
            )
        )
    if (8 + n) % 8:
        findings.append(
            finding(
                "MC120",
                f"data section starts at byte {8 + n}, not a multiple of 8",
                file=path,
                offset=8 + n,
            )
        )
    data_size = size - 8 - n
    base = 8 + n
    metadata, entries = _entries(path, header, findings)
    entries.sort()
    _check_tiling(path, entries, data_size)
    if not entries:
        findings.append(finding("MC123", "no tensors in the header", file=path))
    return SafetensorsFile(
        file=path,
        header_size=n,
        metadata=metadata,
        tensors=tuple(
            TensorInfo(name, dtype, shape, end - begin, path, base + begin)
            for begin, end, name, dtype, shape in entries
        ),
        data_size=data_size,
        findings=tuple(findings),
    )


def _decode_header(path: str, n: int, raw: bytes) -> tuple[dict[str, Any], list[str]]:
    """The header as a JSON object, and the keys any object in it repeats."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"header is not valid UTF-8 at byte {8 + exc.start}: {exc.reason}"
        ) from None
    if n > _BIG_HEADER and (m := _LONG_ARRAY.search(text)) is not None:
        raise InputError(
            path,
            f"header has an array of more than {_LONG_ARRAY_CHARS} characters at byte "
            f"{8 + m.start()}: not a tensor shape or offset pair",
        )
    header = _parse_json(path, text)
    if not isinstance(header, dict):
        raise InputError(path, f"header must be a JSON object, not {_jtype(header)}")
    dups: list[str] = []
    has_meta = "__metadata__" in header
    n_entries = len(header) - has_meta
    # The C JSON parser is ~3x faster without a pairs hook, so duplicates are looked
    # for only when key counts in the text say an object repeated a key.
    if (
        text.count('"data_offsets"') != n_entries
        or text.count('"dtype"') != n_entries
        or text.count('"shape"') != n_entries
        or text.count('"__metadata__"') != has_meta
        or (has_meta and _meta_keys_repeat(text, header["__metadata__"]))
    ):
        header = _parse_json(path, text, dups)
    return header, dups


_Entry = tuple[int, int, str, str, tuple[int, ...]]  # begin, end, name, dtype, shape


def _entries(
    path: str, header: dict[str, Any], findings: list[Finding]
) -> tuple[dict[str, str], list[_Entry]]:
    """``__metadata__`` and every tensor entry, each checked on its own."""
    metadata: dict[str, str] = {}
    entries: list[_Entry] = []
    bits_of = DTYPE_BITS.get
    for name, e in header.items():
        if name == "__metadata__":
            metadata = _metadata(path, e)
            continue
        # Fast path for well-formed entries; anything irregular goes through
        # _entry, which raises the precise error or records the finding.
        if type(e) is dict and len(e) == 3:
            dtype, shape, offs = e.get("dtype"), e.get("shape"), e.get("data_offsets")
            bits = bits_of(dtype) if type(dtype) is str else None
            if bits is not None and type(shape) is list and type(offs) is list and len(offs) == 2:
                begin, end = offs
                if type(begin) is int and type(end) is int and 0 <= begin <= end:
                    numel = 1
                    for d in shape:
                        if type(d) is not int or d < 0:
                            break
                        numel *= d
                    else:
                        total = numel * bits
                        if not total & 7 and total >> 3 == end - begin:
                            entries.append((begin, end, name, str(dtype), tuple(shape)))
                            continue
        entries.append(_entry(path, name, e, findings))
    return metadata, entries


def _check_tiling(path: str, entries: list[_Entry], data_size: int) -> None:
    """Sorted ``entries`` must tile the data section exactly, as the reference loader requires."""
    expected = 0
    prev: str | None = None
    for begin, end, name, _, _ in entries:
        if begin < expected:
            raise InputError(
                path, f"data of tensors {prev!r} and {name!r} overlap (offset {begin})"
            )
        if begin > expected:
            where = f"after tensor {prev!r}" if prev else "at the start of the data section"
            raise InputError(
                path,
                f"{begin - expected} unused byte(s) {where} before {name!r}: data_offsets "
                "must be contiguous",
            )
        if end > data_size:
            raise InputError(
                path,
                f"tensor {name!r} data_offsets end {end} lies beyond the data section "
                f"({data_size} bytes)",
            )
        expected = end
        prev = name
    if expected != data_size:
        raise InputError(
            path,
            f"{data_size - expected} byte(s) after the last tensor are not covered by any tensor",
        )


def clear_cache() -> None:
    """Forget cached parses (to measure cold parsing)."""
    with _LOCK:
        _CACHE.clear()


def _meta_keys_repeat(text: str, meta: Any) -> bool:
    """Whether a __metadata__ key may be repeated (its quoted form occurs twice)."""
    if not isinstance(meta, dict):
        return False
    return any(text.count(json.dumps(k)) > 1 for k in meta)


def _parse_json(path: str, text: str, dups: list[str] | None = None) -> Any:
    """Parse the header; with ``dups``, record every key an object repeats."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out and dups is not None:
                dups.append(k)
            out[k] = v
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs if dups is not None else None)
    except RecursionError:
        raise InputError(path, "header JSON is nested too deeply") from None
    except ValueError as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        pos = f" at byte {8 + exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise InputError(path, f"header is not valid JSON{pos}: {msg}") from None


def _metadata(path: str, entry: Any) -> dict[str, str]:
    if entry is None:
        return {}
    if not isinstance(entry, dict):
        raise InputError(path, "__metadata__ must be an object of strings")
    out: dict[str, str] = {}
    for k, v in entry.items():
        if not isinstance(v, str):
            raise InputError(
                path, f"__metadata__ value for {k!r} must be a string, not {_jtype(v)}"
            )
        out[k] = v
    return out


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _entry(
    path: str, name: str, entry: Any, findings: list[Finding]
) -> _Entry:
    if not isinstance(entry, dict):
        raise InputError(path, f"tensor {name!r}: entry must be an object, not {_jtype(entry)}")
    missing = _ENTRY_KEYS - entry.keys()
    if missing:
        raise InputError(path, f"tensor {name!r}: missing {', '.join(sorted(missing))}")
    extra = sorted(set(entry) - _ENTRY_KEYS)
    if extra:
        findings.append(
            finding(
                "MC122",
                f"tensor {name!r} has unexpected field(s): {', '.join(extra)}",
                file=path,
                quote=name,
            )
        )
    dtype = entry["dtype"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise InputError(path, f"tensor {name!r}: unknown dtype {dtype!r}")
    shape = entry["shape"]
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise InputError(
            path, f"tensor {name!r}: shape must be a list of non-negative integers, got {shape!r}"
        )
    offs = entry["data_offsets"]
    if not isinstance(offs, list) or len(offs) != 2 or not all(_is_int(o) and o >= 0 for o in offs):
        raise InputError(
            path,
            f"tensor {name!r}: data_offsets must be two non-negative integers, got {offs!r}",
        )
    begin, end = offs
    if begin > end:
        raise InputError(path, f"tensor {name!r}: data_offsets begin {begin} > end {end}")
    numel = 1
    for d in shape:
        numel *= d
    bits = numel * DTYPE_BITS[dtype]
    if bits % 8:
        raise InputError(
            path, f"tensor {name!r}: {numel} {dtype} elements do not fill a whole byte"
        )
    nbytes = bits // 8
    if nbytes != end - begin:
        raise InputError(
            path,
            f"tensor {name!r}: {dtype} {tuple(shape)} needs {nbytes} bytes but "
            f"data_offsets span {end - begin}",
        )
    return begin, end, name, dtype, tuple(shape)


def summarize(f: ReleaseFile) -> HeaderSummary:
    """The registry's header reader for safetensors (see parsers/formats.py)."""
    st = read_safetensors(f)
    return HeaderSummary(st.tensors, True, sum(t.nbytes for t in st.tensors),
                         dict(st.metadata), tuple(st.findings))
