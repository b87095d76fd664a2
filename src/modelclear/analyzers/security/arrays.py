"""NumPy arrays: ``.npy`` files and ``.npz`` members, which hide pickles in object dtypes."""

from __future__ import annotations

import ast
import struct
from typing import Any

from ...findings import finding
from ...parsers.sniff import NPY_MAGIC
from .outcome import MAX_PICKLE_BYTES, Outcome, scan_pickle_buffer
from .ziparchive import Member, ZipArchive, ZipError


def npy_header(buf: Any) -> tuple[dict[str, Any], int] | str:
    """Parse an NPY header; returns (header dict, data offset) or an error text."""
    head = bytes(buf[:10])
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        return "not an NPY file (bad magic)"
    major = head[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", head, 8)
        start = 10
    elif major in (2, 3):
        h = bytes(buf[:12])
        if len(h) < 12:
            return "NPY header truncated"
        (hlen,) = struct.unpack_from("<I", h, 8)
        start = 12
    else:
        return f"unsupported NPY version {major}"
    if start + hlen > len(buf):
        return f"NPY header of {hlen} bytes runs past the end of the file"
    if hlen > 1 << 20:
        return f"NPY header of {hlen} bytes is implausibly large"
    text = bytes(buf[start : start + hlen]).decode("latin-1")
    try:
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return "NPY header is not a Python literal"
    if not isinstance(header, dict) or not {"descr", "shape", "fortran_order"} <= set(header):
        return "NPY header lacks descr/shape/fortran_order"
    return header, start + hlen


def _has_object(descr: Any) -> bool:
    if isinstance(descr, str):
        return "O" in descr.lstrip("<>|=")[:1]
    if isinstance(descr, list):
        return any(_has_object(d[1]) for d in descr if isinstance(d, tuple) and len(d) >= 2)
    return False


def scan_npy(buf: Any, path: str, base: int = 0, member: str | None = None) -> Outcome:
    out = Outcome(kind="npy")
    parsed = npy_header(buf)
    where = f"{member}: " if member else ""
    if isinstance(parsed, str):
        out.malformed.append(where + parsed)
        return out
    header, data_at = parsed
    if _has_object(header["descr"]):
        out.pickle = True
        out.findings.append(
            finding(
                "MC322",
                f"{where}array has dtype {header['descr']!r}: numpy loads it with pickle",
                file=path,
                offset=base + data_at,
                member=member,
            )
        )
        sub = scan_pickle_buffer(buf[data_at:], path=path, base=base + data_at, member=member)
        out.add(sub)
        return out
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        out.malformed.append(f"{where}NPY shape {shape!r} is not a tuple of sizes")
    return out


def scan_npy_member(za: ZipArchive, m: Member, path: str) -> Outcome:
    head = za.head(m, (1 << 16) + 16)
    parsed = npy_header(head)
    if isinstance(parsed, str):
        o = Outcome(kind="npy")
        o.malformed.append(f"{m.name}: {parsed}")
        return o
    header, _ = parsed
    if not _has_object(header["descr"]):
        return Outcome(kind="npy")
    try:
        data = za.read(m, MAX_PICKLE_BYTES)
    except ZipError as exc:
        o = Outcome(kind="npy")
        o.malformed.append(str(exc))
        return o
    return scan_npy(data, path, base=m.data_offset if m.method == 0 else 0, member=m.name)

