"""Git LFS pointers: the small text a clone without git-lfs holds instead of a file.

A pointer names the content it stands for (``oid sha256:<hex>``, ``size <n>``), so a
release made of pointers still says which bytes were published and how many: records
keep that sha256 as the file's hash (a later download is checked against it) and the
inventory reports the declared size, while every reader knows the content is absent.
The hub source builds the same text for files it does not fetch, so one rule covers both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..release import ReleaseFile
from .sniff import LFS_POINTER

#: the spec caps a pointer at 1024 bytes; anything longer is not one
MAX_POINTER = 1024
_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.M)
_SIZE = re.compile(rb"^size (\d{1,20})$", re.M)


@dataclass(frozen=True)
class LfsPointer:
    """What a pointer declares about the file it stands for."""

    sha256: str
    size: int


def parse_pointer(head: bytes) -> LfsPointer | None:
    """The pointer's oid and size, or None when ``head`` is not a well-formed pointer."""
    if not head.startswith(LFS_POINTER) or len(head) > MAX_POINTER:
        return None
    oid, size = _OID.search(head), _SIZE.search(head)
    if oid is None or size is None:
        return None
    return LfsPointer(oid[1].decode("ascii"), int(size[1]))


def pointer_bytes(sha256: str, size: int) -> bytes:
    """The pointer text git-lfs writes for content with this sha256 and size."""
    return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\n"
            f"size {size}\n").encode("ascii")


def declared_content(f: ReleaseFile) -> LfsPointer | None:
    """The sha256 and size a file's content is declared to have when the bytes are not
    here: a Git LFS pointer's, or the hub's for a file read by range requests."""
    if f.remote_sha256 is not None:
        return LfsPointer(f.remote_sha256, f.size)
    if f.size > MAX_POINTER:
        return None
    return parse_pointer(f.head(MAX_POINTER))
