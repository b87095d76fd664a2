"""Compressed streams that loaders open transparently: gzip, bz2, xz/lzma, zlib, lz4.

``joblib.load`` picks its decompressor from the first bytes whatever the file is called
(zlib, gzip, bz2, xz, lzma, lz4, and the ``ZF`` container of joblib < 0.10: a hex length
then one zlib stream), ``gzip.open``/``bz2.open``/``lzma.open`` read every
concatenated member, and a pickle loader runs opcodes as they arrive. So a stream is
decoded the same way: all members, incrementally, within a byte budget, into a spill
buffer that moves to a temporary file past :data:`SPILL` bytes (memory stays bounded
whatever the stream inflates to). A stream we cannot decode completely — unknown
compressor, over the budget, corrupt after some members — is never clean: the part we
could not read is ``unsupported`` (MC341, high) or ``malformed`` (MC107, high: a loader
may already have run what came before the damage).
"""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from ...findings import finding
from ...parsers.sniff import GZIP_MAGIC
from .lz4frame import LZ4Error, decode_frames
from .outcome import MAX_UNPACKED, Outcome

#: decompressed bytes kept in memory before the rest goes to a temporary file
SPILL = 16 << 20
#: compressed bytes fed to a decompressor at a time
CHUNK = 1 << 20

BZ2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
LZ4_MAGIC = b"\x04\x22\x4d\x18"
#: joblib's own test for lzma-alone: the usual properties byte and a small dictionary
LZMA_ALONE = b"\x5d\x00"
#: joblib < 0.10 (``numpy_pickle_compat``): b"ZF", the inflated length in hex padded to
#: 19 characters, an optional space, then one zlib stream
ZFILE_MAGIC = b"ZF"
_ZF_HEADER = 2 + 19


def compression_of(head: bytes, *, loose: bool) -> str | None:
    """The compressor a loader would pick from these first bytes (None: not compressed).

    ``loose`` also accepts the weak signatures (zlib's two-byte header, lzma-alone's
    properties byte) that joblib honours; callers pass it only where a pickle loader is
    plausible (pickle-ish names, archive members).
    """
    if head.startswith(GZIP_MAGIC) and head[2:3] in (b"\x08", b""):  # deflate, RFC 1952
        return "gzip"
    if head.startswith(BZ2_MAGIC) and head[3:4].isdigit():
        return "bz2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(LZ4_MAGIC):
        return "lz4"
    if loose and len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    if loose and head.startswith(LZMA_ALONE):
        return "lzma"
    if loose and head.startswith(ZFILE_MAGIC):
        return "joblib-zf"
    return None


def zfile_start(buf: Any) -> tuple[int, int]:
    """Where the zlib stream of a ``ZF`` file starts and the length its header declares.

    Read as ``joblib.numpy_pickle_compat.read_zfile`` reads it; raises ValueError when
    the header is not a hexadecimal length (the loader fails there, before any pickle).
    """
    header = bytes(buf[:_ZF_HEADER + 1])
    if len(header) < _ZF_HEADER:
        raise ValueError("ZF header truncated")
    length = int(header[2:_ZF_HEADER].decode("latin-1"), 16)
    if length < 0:
        raise ValueError("ZF header declares a negative length")
    return _ZF_HEADER + (1 if header[_ZF_HEADER:] == b" " else 0), length


def _decoder(kind: str) -> Any:
    if kind == "gzip":
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if kind == "zlib":
        return zlib.decompressobj()
    # bz2, lzma and tempfile are imported when a file needs them: most scans read
    # none of these formats, and the three cost ~5 ms of every start-up
    if kind == "bz2":
        import bz2

        return bz2.BZ2Decompressor()
    import lzma

    if kind == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ)
    if kind == "lzma":
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE)
    raise ValueError(kind)


class OverBudget(Exception):
    """The stream inflates past the byte budget."""


class Corrupt(Exception):
    """The stream stops decoding; ``members`` complete members came before the damage."""

    def __init__(self, message: str, members: int) -> None:
        super().__init__(message)
        self.members = members


class _Spill:
    """Decoded bytes: in memory up to SPILL, then in an anonymous temporary file."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.mem = bytearray()
        self.file: IO[bytes] | None = None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.budget:
            raise OverBudget
        if self.file is None and len(self.mem) + len(data) <= SPILL:
            self.mem += data
            return
        if self.file is None:
            import tempfile

            self.file = tempfile.TemporaryFile()
            self.file.write(self.mem)
            self.mem = bytearray()
        self.file.write(data)

    @contextmanager
    def view(self) -> Iterator[Any]:
        if self.file is None:
            yield bytes(self.mem)
            return
        self.file.flush()
        mm = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mm
        finally:
            mm.close()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _feed(d: Any, data: Any, sink: _Spill) -> None:
    """Feed compressed bytes, taking at most CHUNK decoded bytes per step."""
    if hasattr(d, "unconsumed_tail"):  # zlib keeps unread input for the caller
        while True:
            sink.write(d.decompress(data, CHUNK))
            data = d.unconsumed_tail
            if not data or d.eof:
                return
    sink.write(d.decompress(data, CHUNK))
    while not d.eof and not d.needs_input:
        sink.write(d.decompress(b"", CHUNK))


def _members(buf: Any, kind: str, sink: _Spill, start: int = 0) -> int:
    """Decode every concatenated member of ``buf`` (from ``start``) into ``sink``; the
    number decoded."""
    import lzma  # for LZMAError below (imported on use: see _decoder)

    view = memoryview(buf) if isinstance(buf, mmap.mmap) else memoryview(bytes(buf))
    pos, members, n = start, 0, len(view)
    if kind == "lz4":
        try:
            return decode_frames(view[start:], sink.write)
        except LZ4Error as exc:
            raise Corrupt(f"lz4 stream: {exc}", exc.frames) from None
        finally:
            view.release()
    try:
        while pos < n:
            if members and not any(bytes(view[pos:pos + 512])):
                break  # gzip/bz2/lzma readers skip zero padding after the last member
            if members and kind in ("zlib", "lzma"):
                # one stream only: the loader stops here, bytes after it are never read
                raise Corrupt(f"{n - pos} bytes follow the {kind} stream", members)
            d = _decoder(kind)
            while not d.eof and pos < n:
                step = bytes(view[pos:pos + CHUNK])  # a copy: no export outlives the map
                _feed(d, step, sink)
                pos += len(step) - (len(d.unused_data) if d.eof else 0)
            if not d.eof:
                raise Corrupt(f"{kind} stream ends inside member #{members + 1} (truncated)",
                              members)
            members += 1
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as exc:
        raise Corrupt(f"{kind} stream: {exc}", members) from None
    finally:
        view.release()
    return members


@contextmanager
def inflate(buf: Any, kind: str, budget: int | None = None,
            start: int = 0) -> Iterator[tuple[Any, int, str]]:
    """The decoded content of every member, how many members, and what stopped decoding.

    A damaged stream still yields what decoded before the damage (a loader reading the
    stream has already handed those bytes to pickle) with the error text; over the budget
    raises :class:`OverBudget`.
    """
    sink = _Spill(MAX_UNPACKED if budget is None else budget)
    try:
        try:
            members, error = _members(buf, kind, sink, start), ""
        except Corrupt as exc:
            members, error = exc.members, str(exc)
        with sink.view() as data:
            yield data, members, error
    finally:
        sink.close()


def scan_compressed(buf: Any, path: str, depth: int, kind: str) -> Outcome:
    """Decode a compressed stream (all members, bounded) and examine what it holds."""
    from .files import examine_buffer  # the dispatcher imports this module

    out = Outcome(kind=kind)
    start, declared, codec = 0, -1, kind
    if kind == "joblib-zf":
        try:
            start, declared = zfile_start(buf)
        except ValueError as exc:
            out.malformed.append(f"joblib ZF header: {exc}")
            return out
        codec = "zlib"
    try:
        with inflate(buf, codec, start=start) as (data, members, error):
            out.findings.append(finding(
                "MC323", f"{kind}-compressed content ({members} member(s)); decompressed "
                "and scanned", file=path,
            ))
            if declared >= 0 and not error and len(data) != declared:
                error = (f"ZF header declares {declared} bytes but the stream inflates to "
                         f"{len(data)} (joblib refuses the file)")
            if error:
                out.malformed.append(f"{error} ({members} complete member(s) before it; "
                                     "what decoded was scanned)")
            elif not len(data):
                out.malformed.append(f"{kind} stream decompresses to nothing (a loader "
                                     "finds no object in it)")
            sub = examine_buffer(data, path=path, name=f"(un{kind})", depth=depth + 1,
                                 archived=True) if len(data) else Outcome()
    except OverBudget:
        out.not_examined(
            f"{kind} content over the size limit",
            f"{kind} content inflates past {MAX_UNPACKED} bytes; not examined",
            file=path,
        )
        return out
    out.add(sub)
    if sub.kind != "other":
        out.kind = f"{kind}+{sub.kind}"
    return out
