"""A forward-only, bounds-checked reader over a release file, for the GGUF parser.

Every GGUF count and length is file-controlled; the cursor checks each read against the
bytes left before taking it, so the parser cannot be made to allocate or seek past the end.
"""

from __future__ import annotations

import struct
from types import TracebackType
from typing import Any, BinaryIO

from ..errors import InputError
from ..release import ReleaseFile

_CHUNK = 1 << 20


class Cursor:
    """A forward-only, bounds-checked byte cursor over a release file.

    Binary headers declare lengths and counts that must be checked against
    what is left in the file before anything is read or allocated. This cursor
    does that on every read and turns a short file into an :class:`InputError`
    naming the offset and what was being read, so a parser cannot forget it.
    """

    def __init__(self, f: ReleaseFile, start: int = 0) -> None:
        self.file = f
        self.size = f.size
        self.pos = start
        self._fh: BinaryIO | None = None
        self._buf = b""
        self._buf_start = 0

    def __enter__(self) -> Cursor:
        self._fh = self.file.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    @property
    def remaining(self) -> int:
        return self.size - self.pos

    def fail(self, problem: str) -> InputError:
        return InputError(self.file.path, problem)

    def require(self, n: int, what: str) -> None:
        """Fail unless ``n`` bytes remain: called before any length-driven allocation."""
        if n < 0 or n > self.size - self.pos:
            raise self.fail(
                f"truncated or corrupt: {what} at offset {self.pos} needs {n} bytes "
                f"but only {max(0, self.size - self.pos)} remain"
            )

    def _window(self, n: int, what: str) -> int:
        self.require(n, what)
        idx = self.pos - self._buf_start
        if idx < 0 or idx + n > len(self._buf):
            if self._fh is None:
                raise RuntimeError("Cursor used outside its with-block")
            self._fh.seek(self.pos)
            self._buf = self._fh.read(min(max(n, _CHUNK), self.size - self.pos))
            self._buf_start = self.pos
            if len(self._buf) < n:
                raise self.fail(f"truncated while reading {what} at offset {self.pos}")
            idx = 0
        return idx

    def take(self, n: int, what: str) -> bytes:
        idx = self._window(n, what)
        self.pos += n
        return self._buf[idx : idx + n]

    def unpack(self, st: struct.Struct, what: str) -> tuple[Any, ...]:
        idx = self._window(st.size, what)
        self.pos += st.size
        return st.unpack_from(self._buf, idx)

    def skip(self, n: int, what: str) -> None:
        self.require(n, what)
        self.pos += n

    def skip_strings(self, count: int, u64: struct.Struct, what: str) -> None:
        """Skip ``count`` length-prefixed strings (a 150k-token vocabulary) quickly.

        Same bounds as ``take``, but walks the buffer in a tight loop instead of
        two method calls per string.
        """
        for _ in range(count):
            idx = self.pos - self._buf_start
            if idx < 0 or idx + 8 > len(self._buf):
                idx = self._window(8, f"length of an element of {what}")
            (n,) = u64.unpack_from(self._buf, idx)
            end = self.pos + 8 + n
            if end > self.size:
                raise self.fail(
                    f"truncated or corrupt: an element of {what} at offset {self.pos} "
                    f"declares {n} bytes but only {max(0, self.size - self.pos - 8)} remain"
                )
            self.pos = end
