"""A zip reader that reads members the way PyTorch's loader does, not the way zipfile does.

Scanners built on :mod:`zipfile` stop where torch keeps going: a member flagged
encrypted, a CRC mismatch, or a local header whose name differs from the central
directory all raise in ``zipfile`` while torch's reader (miniz) ignores them and loads
the pickle anyway (CVE-2025-1944, CVE-2025-10156, GHSA-w8jq-xcqf-f792). So we parse
the central directory ourselves, locate data through the local header lengths as miniz
does, and report every disagreement as a finding instead of an exception.

Works on any buffer supporting slicing (bytes or an mmap of the file); only headers and
the members we ask for are touched, so multi-gigabyte tensor members are never read.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

EOCD = b"PK\x05\x06"
EOCD64 = b"PK\x06\x06"
EOCD64_LOC = b"PK\x06\x07"
CEN = b"PK\x01\x02"
LOC = b"PK\x03\x04"

MAX_MEMBERS = 1_000_000


class ZipError(Exception):
    """The archive cannot be read at all (no usable central directory)."""


class ZipTooBig(ZipError):
    """A member is (or inflates to) more than the caller's byte limit: not read, not broken."""


@dataclass(frozen=True)
class Member:
    name: str
    method: int
    flags: int  # central-directory flags
    crc: int
    csize: int
    usize: int
    header_offset: int
    data_offset: int  # where the member's bytes start (from the local header lengths)
    local_name: str | None
    local_flags: int | None
    index: int

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 1)


@dataclass
class ZipArchive:
    buf: Any
    members: list[Member]
    problems: list[tuple[str, int | None]] = field(default_factory=list)  # (text, offset)
    prefix_bytes: int = 0

    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def head(self, m: Member, n: int) -> bytes:
        """First ``n`` bytes of a member's content (decompressing only what is needed)."""
        if m.method == 0:
            return bytes(self.buf[m.data_offset : m.data_offset + min(n, m.csize)])
        if m.method == 8:
            d = zlib.decompressobj(-15)
            try:
                return d.decompress(
                    self.buf[m.data_offset : m.data_offset + min(m.csize, 1 << 16)], n
                )
            except zlib.error:
                return b""
        return b""

    def read(self, m: Member, limit: int) -> bytes:
        """A member's content; raises ZipError when it cannot be read within ``limit``."""
        if m.usize > limit:
            raise ZipTooBig(f"member {m.name} is {m.usize} bytes, over the {limit}-byte limit")
        end = m.data_offset + m.csize
        if end > len(self.buf):
            raise ZipError(f"member {m.name} runs past the end of the archive (truncated)")
        raw = self.buf[m.data_offset : end]
        if m.method == 0:
            return bytes(raw)
        if m.method == 8:
            d = zlib.decompressobj(-15)
            try:
                out = d.decompress(raw, limit + 1)
            except zlib.error as exc:
                raise ZipError(f"member {m.name}: corrupt deflate data ({exc})") from None
            if len(out) > limit:
                raise ZipTooBig(f"member {m.name} inflates past the {limit}-byte limit")
            return out
        raise ZipError(f"member {m.name} uses compression method {m.method}, not supported")


def is_zip(head: bytes) -> bool:
    return head[:4] in (LOC, EOCD) or head[:4] == b"PK\x07\x08"


def open_zip(buf: Any) -> ZipArchive:
    """Parse the central directory; any structural damage becomes a ZipError."""
    try:
        return _open_zip(buf)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise ZipError(f"corrupt zip structure ({exc})") from None


def _open_zip(buf: Any) -> ZipArchive:
    size = len(buf)
    if size < 22:
        raise ZipError("too short for a zip archive (no end-of-central-directory record)")
    tail_start = max(0, size - 22 - 65535)
    tail = bytes(buf[tail_start:size])
    at = tail.rfind(EOCD, 0, max(0, len(tail) - 18))  # the record is 22 bytes
    if at < 0:
        raise ZipError("no end-of-central-directory record (truncated or not a zip archive)")
    eocd = tail_start + at
    (_, disk, cd_disk, n_disk, n_total, cd_size, cd_off, _clen) = struct.unpack_from(
        "<4sHHHHIIH", tail, at
    )
    problems: list[tuple[str, int | None]] = []
    loc = eocd - 20
    has64 = loc >= 0 and bytes(buf[loc : loc + 4]) == EOCD64_LOC
    needs64 = n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_off == 0xFFFFFFFF
    if needs64 and not has64:
        raise ZipError("zip64 archive without a zip64 locator")
    if has64:
        # torch (miniz) always writes zip64 records; the directory ends where they start
        (z64_off,) = struct.unpack_from("<Q", bytes(buf[loc + 8 : loc + 16]))
        if z64_off + 56 > size or bytes(buf[z64_off : z64_off + 4]) != EOCD64:
            raise ZipError("zip64 end-of-central-directory record missing or out of range")
        rec = bytes(buf[z64_off : z64_off + 56])
        n64, size64, off64 = struct.unpack_from("<QQQ", rec, 32)
        if needs64 or (n64, size64, off64) != (n_total, cd_size, cd_off):
            if not needs64:
                problems.append(("zip64 and classic end records disagree; zip64 used", z64_off))
            n_total, cd_size, cd_off = n64, size64, off64
        eocd = z64_off
    if disk != cd_disk or n_disk != n_total:
        problems.append(("multi-disk archive fields are inconsistent", eocd))
    # Archives with bytes prepended (self-extracting stubs) shift every offset; torch's
    # reader accounts for that the same way: the directory must end where EOCD starts.
    shift = eocd - (cd_off + cd_size)
    if shift < 0 or cd_off + shift > size:
        raise ZipError("central directory lies outside the file (truncated archive)")
    if shift:
        problems.append((f"{shift} bytes precede the archive's first entry", 0))
    if n_total > MAX_MEMBERS or n_total * 46 > cd_size + 1:
        raise ZipError(f"declares {n_total} entries, more than its central directory holds")
    cd = bytes(buf[cd_off + shift : cd_off + shift + cd_size])
    members: list[Member] = []
    pos = 0
    for i in range(n_total):
        if cd[pos : pos + 4] != CEN or pos + 46 > len(cd):
            raise ZipError(f"central directory entry #{i} is corrupt at offset {cd_off + pos}")
        (flags, method, _t, _d, crc, csize, usize, nlen, elen, clen) = struct.unpack_from(
            "<HHHHIIIHHH", cd, pos + 8
        )
        (lho,) = struct.unpack_from("<I", cd, pos + 42)
        name_b = cd[pos + 46 : pos + 46 + nlen]
        extra = cd[pos + 46 + nlen : pos + 46 + nlen + elen]
        if pos + 46 + nlen + elen + clen > len(cd):
            raise ZipError(f"central directory entry #{i} runs past the directory")
        usize, csize, lho = _zip64(extra, usize, csize, lho)
        name = name_b.decode("utf-8", "replace")
        lho += shift
        local_name = local_flags = None
        data_offset = -1
        if lho + 30 <= size and bytes(buf[lho : lho + 4]) == LOC:
            lh = bytes(buf[lho : lho + 30])
            (local_flags,) = struct.unpack_from("<H", lh, 6)
            lnlen, lelen = struct.unpack_from("<HH", lh, 26)
            local_name = bytes(buf[lho + 30 : lho + 30 + lnlen]).decode("utf-8", "replace")
            data_offset = lho + 30 + lnlen + lelen
        else:
            problems.append((f"member {name}: local header missing at offset {lho}", lho))
        members.append(
            Member(
                name, method, flags, crc, csize, usize, lho, data_offset, local_name, local_flags, i
            )
        )
        pos += 46 + nlen + elen + clen
    za = ZipArchive(buf, members, problems, shift)
    _consistency(za)
    return za


def _zip64(extra: bytes, usize: int, csize: int, lho: int) -> tuple[int, int, int]:
    p = 0
    while p + 4 <= len(extra):
        tag, ln = struct.unpack_from("<HH", extra, p)
        body = extra[p + 4 : p + 4 + ln]
        if tag == 1:
            q = 0
            if usize == 0xFFFFFFFF and q + 8 <= len(body):
                (usize,) = struct.unpack_from("<Q", body, q)
                q += 8
            if csize == 0xFFFFFFFF and q + 8 <= len(body):
                (csize,) = struct.unpack_from("<Q", body, q)
                q += 8
            if lho == 0xFFFFFFFF and q + 8 <= len(body):
                (lho,) = struct.unpack_from("<Q", body, q)
        p += 4 + ln
    return usize, csize, lho


def _consistency(za: ZipArchive) -> None:
    seen: dict[str, int] = {}
    for m in za.members:
        if m.name in seen:
            za.problems.append(
                (
                    f"member name {m.name!r} appears {2} times in the central directory; "
                    "readers disagree on which one they load",
                    m.header_offset,
                )
            )
        seen[m.name] = m.index
        if m.local_name is not None and m.local_name != m.name:
            za.problems.append(
                (
                    f"member {m.name!r}: local header names it {m.local_name!r} "
                    "(zipfile refuses it, torch loads it)",
                    m.header_offset,
                )
            )
        if m.encrypted or (m.local_flags is not None and m.local_flags & 1):
            za.problems.append(
                (
                    f"member {m.name!r} is flagged encrypted (zipfile refuses it; "
                    "torch ignores the flag)",
                    m.header_offset,
                )
            )
        if m.data_offset >= 0 and m.data_offset + m.csize > len(za.buf):
            za.problems.append(
                (f"member {m.name!r} runs past the end of the archive", m.header_offset)
            )


def crc_ok(data: bytes, m: Member) -> bool:
    return (zlib.crc32(data) & 0xFFFFFFFF) == m.crc
