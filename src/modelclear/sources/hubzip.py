"""A PyTorch zip on the hub, mirrored locally without its tensor data.

The security scanner maps a zip into memory and reads its structure, every member's first
bytes and the pickles whole. Range requests fetch exactly that: the end-of-central-
directory records and the central directory (through :mod:`zipfile`, reading a
:class:`~.hubhttp.RangeStream`), each member's local header with its first
:data:`MEMBER_HEAD` bytes, and every member that is not plainly tensor bytes (``*.pkl``,
small members, anything whose first bytes look like a pickle, an archive or a compressed
stream) in full. They are written at their offsets into a sparse file of the real size,
so the archive's layout is exact; the bytes never fetched are only the storages' tensor
data, which torch copies into memory and never interprets.
"""

from __future__ import annotations

import io
import pickletools
import struct
import tempfile
import zipfile
from pathlib import Path

from ..errors import UnreadError
from .hubhttp import RangeFetcher, RangeStream

#: bytes of each member read to judge it (covers a 512-byte tar header check)
MEMBER_HEAD = 4096
#: members up to this size are fetched whole whatever they hold
SMALL_MEMBER = 64 * 1024
#: first bytes that make a member worth reading whole: zip, 7z, gzip, bzip2, xz, zstd,
#: lz4, numpy (containers the scanner opens)
_CONTAINER = (b"PK", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd",
              b"\x04\x22\x4d\x18", b"\x93NUMPY")
#: first bytes of a pickle stream; such a member is probed, and read whole if it parses
_PICKLE_START = (b"\x80", b"c", b"(", b"]", b"}", b"i")
#: how much of a pickle-looking member is probed (the scanner probes as much)
PROBE = 64 * 1024


def mirror_torch_zip(fetcher: RangeFetcher, scratch: Path) -> Path:
    """The sparse local mirror of a zip on the hub; InputError if it is not a readable zip."""
    try:
        with zipfile.ZipFile(RangeStream(fetcher)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, struct.error) as exc:
        raise UnreadError(fetcher.path, f"not a readable zip by range requests: {exc}") from None
    for info in infos:
        local = fetcher.read(info.header_offset, 30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise UnreadError(fetcher.path, f"member {info.filename}: no local header at "
                             f"offset {info.header_offset}")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        head = fetcher.read(start, min(MEMBER_HEAD, info.compress_size))
        whole = (info.compress_size <= SMALL_MEMBER or info.compress_type != 0
                 or info.filename.lower().endswith((".pkl", ".pickle"))
                 or head.startswith(_CONTAINER))
        if not whole and head.startswith(_PICKLE_START):
            whole = _pickle_plausible(fetcher.read(start, min(PROBE, info.compress_size)))
        if whole:
            fetcher.read(start, info.compress_size)
    return _write_sparse(fetcher, scratch)


def _pickle_plausible(buf: bytes) -> bool:
    """Whether ``buf`` could start a pickle: its opcodes parse to a STOP or to the end of
    the probe. Tensor bytes fail within a few opcodes; anything else is read whole."""
    stream = io.BytesIO(buf)
    try:
        for op, _, _ in pickletools.genops(stream):
            if op.name == "STOP":
                return True
    except ValueError:
        return stream.tell() >= len(buf) * 9 // 10  # ran out of probe, not of opcodes
    return True


def _write_sparse(fetcher: RangeFetcher, scratch: Path) -> Path:
    scratch.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=scratch, suffix=".zip")
    path = Path(name)
    with open(fd, "wb") as fh:
        for offset, data in sorted(fetcher.spans().items()):
            fh.seek(offset)
            fh.write(data)
        fh.truncate(fetcher.size)
    return path
