"""Content recognisers: what the first bytes of a file say it is.

Each function looks at a prefix of the file (~64 KiB) and answers for one family of
formats; :mod:`.formats` wires them into the registry rows in detection order. They live
apart from the registry so that the parsers (which need :data:`LFS_POINTER` and the torch
magic) can import them without importing the registry that imports the parsers.
"""

from __future__ import annotations

import json
import pickletools
import struct
import zlib
from functools import cached_property

#: torch.save's legacy format starts with this number pickled as a protocol-2 LONG1.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_LEGACY_PREFIX = b"\x80\x02\x8a\x0a" + TORCH_LEGACY_MAGIC.to_bytes(10, "little")

#: What an un-fetched Git LFS file holds instead of its content.
LFS_POINTER = b"version https://git-lfs.github.com/spec/"
#: A TensorFlow checkpoint .index (a LevelDB table) ends with this footer magic.
TF_TABLE_MAGIC = (0xDB4775248B80FB57).to_bytes(8, "little")

HDF5 = b"\x89HDF\r\n\x1a\n"
GGUF_MAGIC = b"GGUF"
NPY_MAGIC = b"\x93NUMPY"
GZIP_MAGIC = b"\x1f\x8b"
SEVENZ = b"7z\xbc\xaf\x27\x1c"
ZIP_LOCAL = b"PK\x03\x04"
ZIP_EMPTY = b"PK\x05\x06"
_SAFETENSORS_MAX_HEADER = 100_000_000



def is_hdf5(head: bytes) -> bool:
    # HDF5 allows a user block, so the signature may sit at 0, 512, 1024, 2048, …
    off = 0
    while off + 8 <= len(head):
        if head[off : off + 8] == HDF5:
            return True
        off = 512 if off == 0 else off * 2
    return False


def _zip_members(head: bytes) -> list[str]:
    """Member names from the local file headers visible in ``head``."""
    names: list[str] = []
    pos = 0
    hdr = struct.Struct("<4s5H3I2H")
    while pos + hdr.size <= len(head) and len(names) < 64:
        sig, _, flags, _, _, _, _, csize, _, nlen, xlen = hdr.unpack_from(head, pos)
        if sig != ZIP_LOCAL:
            break
        start = pos + hdr.size
        names.append(head[start : start + nlen].decode("utf-8", "replace"))
        if flags & 0x08 and csize == 0:
            break  # size in a trailing data descriptor: cannot skip ahead from here
        pos = start + nlen + xlen + csize
    return names


def zip_kind(head: bytes) -> str:
    names = _zip_members(head)
    # torch.load looks for data.pkl at the top or exactly one folder down
    if any(n == "data.pkl" or (n.endswith("/data.pkl") and n.count("/") == 1) for n in names):
        return "pytorch-zip"
    if names and all(n.endswith(".npy") for n in names):
        return "npz"
    base = {n.rsplit("/", 1)[-1] for n in names}
    if "config.json" in base and ("metadata.json" in base or "model.weights.h5" in base):
        return "keras"
    return "zip"


def is_safetensors(head: bytes) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack_from("<Q", head)
    if n < 2 or n > _SAFETENSORS_MAX_HEADER:
        return False
    body = head[8 : 8 + min(n, 64)].lstrip(b" \t\r\n")
    return body.startswith(b"{") and (len(body) == 1 or body[1:2] in b'"} \t\r\n')


# What real pickles start with: PROTO (protocol 2+), or for protocol 0/1 a MARK,
# EMPTY_DICT, EMPTY_LIST or GLOBAL. Bare pickled scalars are too rare to be worth
# the false positives on prose ("No." decodes as NONE, OBJ, STOP).
_PICKLE_STARTS = frozenset(b"\x80(}]c")


def is_pickle(head: bytes) -> bool:
    if head[0] not in _PICKLE_STARTS:
        return False
    if head[0] == 0x80 and (len(head) < 2 or not 2 <= head[1] <= 5):
        return False
    ops = 0
    try:
        for op, _, pos in pickletools.genops(head):
            ops += 1
            if op.name == "STOP":
                if head[0] == 0x80:
                    return True
                return ops >= 4 and pos is not None and not head[pos + 1 :].strip()
    except Exception:  # genops signals truncation and bad opcodes with assorted errors
        # A protocol-2+ header that decodes for a while is a pickle cut off by the
        # sniff window; protocol 0 needs more evidence since text can start like one.
        return (head[0] == 0x80 and ops >= 2) or (len(head) >= 4096 and ops >= 64)
    return False


# C0 control bytes that do not occur in text files (tab, newlines, form feed, escape
# and vertical tab do: licenses use form feeds, logs use escapes).
_BINARY_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x1B)) + bytes(range(0x1C, 0x20))
_NOT_TEXT = bytes.maketrans(b"", b"")


def as_text(head: bytes) -> str | None:
    if len(head.translate(_NOT_TEXT, _BINARY_BYTES)) != len(head):
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # the sniff window may cut a multi-byte character in half
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return head[: exc.start].decode("utf-8")
        return None


def text_kind(text: str, head: bytes, claim: str | None, claim_is_text: bool, name: str) -> str:
    """Which text format: the name decides when it claims one, the content otherwise."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if claim_is_text:
        if claim == "json":
            return "json" if _looks_json(stripped, head) else "text"
        return claim or "text"
    if _looks_json(stripped, head):
        return "json"
    low = name.lower()
    if stripped.startswith("#!") and "python" in stripped.split("\n", 1)[0]:
        return "python"
    if "{%" in stripped[:4096] or stripped.startswith("{{"):
        return "jinja"
    if stripped.startswith("---\n") and "\n---" in stripped[4:]:
        return "markdown"  # a card's YAML front matter
    if stripped.startswith("# ") or low.startswith("readme"):
        return "markdown"
    return "text"


def _looks_json(stripped: str, head: bytes) -> bool:
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
        return True
    except RecursionError:
        return True
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError) or len(head) < 4096:
            return False
        # cut by the sniff window: valid as far as it goes
        return exc.pos >= len(stripped.rstrip()) - 1 or exc.msg.startswith("Unterminated")


def is_zlib(head: bytes) -> bool:
    if len(head) < 2 or head[0] != 0x78 or (head[0] * 256 + head[1]) % 31:
        return False
    try:
        zlib.decompressobj().decompress(head[:4096], 64)
        return True
    except zlib.error:
        return False


def _varint(buf: bytes, pos: int) -> tuple[int, int] | None:
    value = shift = 0
    while pos < len(buf) and shift < 64:
        b = buf[pos]
        value |= (b & 0x7F) << shift
        pos += 1
        if not b & 0x80:
            return value, pos
        shift += 7
    return None


def is_onnx(head: bytes, claim: str | None) -> bool:
    # ModelProto: field 1 ir_version (varint, tag 0x08), then producer_name (0x12),
    # producer_version (0x1a), domain (0x22), model_version (0x28), doc_string (0x32),
    # graph (0x3a) or opset_import (0x42).
    if len(head) < 4 or head[0] != 0x08:
        return False
    iv = _varint(head, 1)
    if iv is None or not 1 <= iv[0] <= 64:
        return False
    pos = iv[1]
    if pos >= len(head) or head[pos] not in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42):
        return False
    if head[pos] == 0x12:
        ln = _varint(head, pos + 1)
        if ln is None or ln[0] > 256:
            return False
        producer = head[ln[1] : ln[1] + ln[0]]
        if not producer.isascii() or not producer.decode("ascii").isprintable():
            return False
        # SavedModel also starts 08 01 12, but its field 2 is a big MetaGraphDef
        return True
    return claim == "onnx"


def is_saved_model(head: bytes, name: str) -> bool:
    # SavedModel: saved_model_schema_version = 1 (08 01), meta_graphs (12 <len> 0a …)
    if not head.startswith(b"\x08\x01\x12"):
        return False
    ln = _varint(head, 3)
    return ln is not None and ln[1] < len(head) and head[ln[1]] == 0x0A or name.endswith(".pb")


def is_msgpack_map(head: bytes, claim: str | None) -> bool:
    b0 = head[0]
    if 0x81 <= b0 <= 0x8F:
        pos = 1
    elif b0 == 0xDE:
        pos = 3
    elif b0 == 0xDF:
        pos = 5
    else:
        return False
    if pos >= len(head):
        return False
    key = head[pos]
    # Flax state dicts map parameter-collection names (strings) to nested maps
    is_str = 0xA0 <= key <= 0xBF or key in (0xD9, 0xDA, 0xDB)
    return is_str and (claim == "flax-msgpack" or len(head) >= 64)


def lfs_pointer_error(path: str, head: bytes) -> None:
    """Raise the clear error for a weights file that is still a Git LFS pointer."""
    if head.startswith(LFS_POINTER):
        from ..errors import InputError

        raise InputError(
            path, "is a Git LFS pointer, not the file itself: the download is incomplete"
        )


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_LOCAL) or head.startswith(ZIP_EMPTY)


def is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def is_tf_table(head: bytes) -> bool:
    """A small checkpoint ``.index`` seen whole: the LevelDB footer ends the sniff window."""
    return len(head) >= 48 and head.endswith(TF_TABLE_MAGIC)


class Head:
    """A sniffed prefix plus the views several recognisers share, each computed once.

    Detection tries the registry rows in order; the text decoding, JSON probe and zip
    member walk would otherwise be repeated by every row that asks.
    """

    def __init__(self, data: bytes, name: str, claim: str | None, claim_is_text: bool) -> None:
        self.data = data
        self.name = name
        self.claim = claim
        self.claim_is_text = claim_is_text

    @cached_property
    def text(self) -> str | None:
        return as_text(self.data)

    @cached_property
    def text_kind(self) -> str | None:
        if self.text is None:
            return None
        return text_kind(self.text, self.data, self.claim, self.claim_is_text, self.name)

    @cached_property
    def zip_kind(self) -> str | None:
        return zip_kind(self.data) if is_zip(self.data) else None
