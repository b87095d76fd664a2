"""LZ4 frames decoded without the ``lz4`` package, bounded and incrementally.

``joblib.load`` opens a file that starts with the LZ4 frame magic through
``lz4.frame.LZ4FrameFile``, which reads every concatenated frame and hands the bytes to
the unpickler as they arrive. The scanner must see those same bytes, and the ``lz4``
package is an optional C extension a scanning host may lack, so the frame format
(magic, descriptor, blocks, end mark, optional checksums) and the block format
(literal/match sequences over a 64 KiB window) are decoded here in plain Python.
Output goes to a sink in block-sized pieces, so memory stays bounded by the sink.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

MAGIC = 0x184D2204
#: matches reach back at most this far (LZ4 block format)
WINDOW = 1 << 16
_BLOCK_MAX = {4: 1 << 16, 5: 1 << 18, 6: 1 << 20, 7: 1 << 22}


class LZ4Error(ValueError):
    """The frame or a block does not decode; the text says where and why."""

    frames = 0  # complete frames decoded before the damage


def _extended(src: bytes | bytearray | memoryview, i: int, value: int, what: str
              ) -> tuple[int, int]:
    """A length of 15 goes on in the next bytes, each added, until one is not 255."""
    while True:
        if i >= len(src):
            raise LZ4Error(f"{what} runs past the block")
        b = src[i]
        i += 1
        value += b
        if b != 255:
            return value, i


def decode_block(src: bytes, out: bytearray, limit: int) -> None:
    """Append the decoded block ``src`` to ``out`` (whose tail is the match window).

    ``limit`` caps how long ``out`` may grow: a block never inflates past its frame's
    declared maximum block size, so a hostile block cannot balloon memory.
    """
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            lit, i = _extended(src, i, lit, "literal length")
        if i + lit > n:
            raise LZ4Error("literals run past the block")
        out += src[i:i + lit]
        i += lit
        if i >= n:
            break  # the last sequence carries literals only
        if i + 2 > n:
            raise LZ4Error("match offset runs past the block")
        offset = src[i] | (src[i + 1] << 8)
        i += 2
        mlen = token & 15
        if mlen == 15:
            mlen, i = _extended(src, i, mlen, "match length")
        mlen += 4
        start = len(out) - offset
        if offset == 0 or start < 0:
            raise LZ4Error(f"match offset {offset} points before the decoded data")
        if len(out) + mlen > limit:
            raise LZ4Error("block inflates past its declared maximum size")
        if offset >= mlen:
            out += out[start:start + mlen]
        else:  # overlapping copy repeats the last ``offset`` bytes
            piece = bytes(out[start:])
            out += (piece * (mlen // offset + 1))[:mlen]


def _descriptor(view: Any, pos: int) -> tuple[int, bool, bool, bool, int]:
    """Parse FLG/BD (and the optional fields); position after the header checksum."""
    if pos + 7 > len(view):
        raise LZ4Error("frame header truncated")
    flg, bd = view[pos + 4], view[pos + 5]
    if flg >> 6 != 1:
        raise LZ4Error(f"frame version {flg >> 6} is not 1")
    if flg & 0x02 or bd & 0x8F:
        raise LZ4Error("reserved bits set in the frame descriptor")
    block_max = _BLOCK_MAX.get((bd >> 4) & 7)
    if block_max is None:
        raise LZ4Error(f"block maximum size code {(bd >> 4) & 7} is invalid")
    independent = bool(flg & 0x20)
    block_sum = bool(flg & 0x10)
    content_sum = bool(flg & 0x04)
    after = pos + 6 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0) + 1
    if after > len(view):
        raise LZ4Error("frame header truncated")
    return block_max, independent, block_sum, content_sum, after


def _frame(view: Any, pos: int, emit: Callable[[bytes], None]) -> int:
    """Decode one frame starting at ``pos``; the position after it."""
    block_max, independent, block_sum, content_sum, pos = _descriptor(view, pos)
    history = bytearray()
    n = len(view)
    while True:
        if pos + 4 > n:
            raise LZ4Error("frame ends without its end mark (truncated)")
        (size,) = struct.unpack("<I", bytes(view[pos:pos + 4]))
        pos += 4
        if size == 0:
            break
        raw, size = bool(size & 0x80000000), size & 0x7FFFFFFF
        if size > block_max or pos + size > n:
            raise LZ4Error(f"block of {size} bytes exceeds the frame or its maximum size")
        block = bytes(view[pos:pos + size])
        pos += size + (4 if block_sum else 0)
        if raw:
            data = block
        else:
            prefix = b"" if independent else bytes(history[-WINDOW:])
            out = bytearray(prefix)
            decode_block(block, out, len(prefix) + block_max)
            data = bytes(out[len(prefix):])
        if not independent:
            history = bytearray((bytes(history) + data)[-WINDOW:])
        emit(data)
    pos += 4 if content_sum else 0
    if pos > n:
        raise LZ4Error("content checksum truncated")
    return pos


def decode_frames(view: Any, emit: Callable[[bytes], None]) -> int:
    """Decode every concatenated LZ4 frame of ``view``; the number of frames.

    Raises :class:`LZ4Error` with the count of complete frames in its text when the data
    stops decoding (the caller keeps what was emitted: a loader has already read it).
    """
    pos, frames, n = 0, 0, len(view)
    while pos < n:
        if n - pos < 4:
            raise LZ4Error(f"{n - pos} stray bytes after frame #{frames}")
        (magic,) = struct.unpack("<I", bytes(view[pos:pos + 4]))
        if magic != MAGIC:
            if frames and not any(bytes(view[pos:pos + 512])):
                break
            err = LZ4Error(f"bytes after frame #{frames} are not an LZ4 frame "
                           f"(magic {magic:#x})")
            err.frames = frames
            raise err
        try:
            pos = _frame(view, pos, emit)
        except LZ4Error as exc:
            exc.frames = frames
            raise
        frames += 1
    return frames
