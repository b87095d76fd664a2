"""Incremental Server-Sent Events parser.

We parse SSE ourselves rather than use a helper library because timing is the point: each
event must carry the wall-clock time at which its *last byte* arrived, and servers differ in
the corners (CRLF vs LF, ``data:`` with or without a space, comment keep-alives, events split
across TCP reads, several events in one read, a final event with no blank line). The parser
follows the WHATWG event-stream rules for the fields we use (``data``, ``event``, ``id``) and
ignores the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A single event larger than this is a broken stream, not a token delta; refuse to buffer it.
MAX_EVENT_BYTES = 8 * 1024 * 1024


class SSEError(ValueError):
    """The byte stream is not a usable event stream."""


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None
    time: float = 0.0


class SSEParser:
    """Feed bytes as they arrive; get complete events back with their arrival time."""

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._size = 0

    def feed(self, chunk: bytes, now: float) -> list[SSEEvent]:
        self._buf += chunk
        if len(self._buf) > MAX_EVENT_BYTES:
            raise SSEError(f"event stream line longer than {MAX_EVENT_BYTES} bytes")
        out: list[SSEEvent] = []
        while True:
            line, sep, rest = self._split_line(self._buf)
            if not sep:
                break
            self._buf = rest
            ev = self._line(line, now)
            if ev is not None:
                out.append(ev)
        return out

    def close(self, now: float) -> list[SSEEvent]:
        """End of stream: a trailing line and an event without its blank line still count."""
        out: list[SSEEvent] = []
        if self._buf:
            ev = self._line(self._buf, now)
            self._buf = b""
            if ev is not None:
                out.append(ev)
        ev = self._dispatch(now)
        if ev is not None:
            out.append(ev)
        return out

    @staticmethod
    def _split_line(buf: bytes) -> tuple[bytes, bool, bytes]:
        # A line ends at CRLF, LF or a lone CR. A CR at the very end may be the first half of a
        # CRLF still in flight, so wait for the next byte before deciding.
        lf = buf.find(b"\n")
        cr = buf.find(b"\r", 0, lf if lf >= 0 else len(buf))
        if cr >= 0:
            if cr + 1 == len(buf):
                return b"", False, buf
            skip = 2 if buf[cr + 1] == 0x0A else 1
            return buf[:cr], True, buf[cr + skip :]
        if lf >= 0:
            return buf[:lf], True, buf[lf + 1 :]
        return b"", False, buf

    def _line(self, raw: bytes, now: float) -> SSEEvent | None:
        if raw == b"":
            return self._dispatch(now)
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(":"):
            return None  # comment / keep-alive
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._size += len(value)
            if self._size > MAX_EVENT_BYTES:
                raise SSEError(f"event larger than {MAX_EVENT_BYTES} bytes")
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None

    def _dispatch(self, now: float) -> SSEEvent | None:
        if not self._data:
            self._event = ""
            return None
        ev = SSEEvent("\n".join(self._data), self._event or "message", self._id, now)
        self._data = []
        self._event = ""
        self._size = 0
        return ev
