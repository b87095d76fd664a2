"""HTTP for hub mode: bounded retries, one-line errors, and files read by range requests.

Hub mode must never download tensors. A :class:`RemoteFile` is a
:class:`~modelclear.release.ReleaseFile` whose reads become ``Range`` requests on the
hub's ``resolve`` URL, served from a block cache, so the existing bounded parsers (a
safetensors header, a GGUF header, a torch zip's central directory and its ``data.pkl``)
read exactly what they would read from disk and nothing else. Every response is checked
against what the hub declared (status 206, ``Content-Range`` start and total, length),
so a truncated or lying response is an input error naming the file, never wrong data.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar

from ..errors import UnreadError
from ..release import ReleaseFile

#: reads are rounded to blocks of this size (one request for a header and its length)
BLOCK = 64 * 1024
#: no file is read beyond this many bytes in hub mode (a big pickle stream is a few MB)
MAX_REMOTE_READ = 64 * 1024 * 1024
#: attempts for 429 / 5xx / connection errors, and the longest wait between two
ATTEMPTS = 4
MAX_WAIT = 8.0
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class RetryableError(Exception):
    """A response worth trying again (429, 5xx), with the server's Retry-After if any."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def with_retries(call: Callable[[], T], *, is_retryable: Callable[[Exception], float | None],
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, again after 0.5 s, 1 s, 2 s (or the server's Retry-After, capped at
    :data:`MAX_WAIT`) while it fails in a way ``is_retryable`` accepts (it returns the wait,
    or None for "do not retry"); bounded so a hub that keeps failing ends the run."""
    for attempt in range(ATTEMPTS):
        try:
            return call()
        except Exception as exc:
            wait = is_retryable(exc)
            if wait is None or attempt == ATTEMPTS - 1:
                raise
            sleep(min(MAX_WAIT, max(wait, 0.5 * 2 ** attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class RangeFetcher:
    """Fetches byte ranges of one hub file and keeps them (blocks), thread-safe."""

    url: str
    path: str  # the release path, for error lines
    size: int  # as the hub declares it
    headers: dict[str, str]
    block: int = BLOCK
    blocks: dict[int, bytes] = field(default_factory=dict)
    fetched: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        bs = self.block
        first, last = offset // bs, (end - 1) // bs
        with self.lock:
            missing = [b for b in range(first, last + 1) if b not in self.blocks]
            if missing:
                self._fetch(missing[0] * bs, min((missing[-1] + 1) * bs, self.size))
            data = b"".join(self.blocks[b] for b in range(first, last + 1))
        start = offset - first * bs
        return data[start:start + (end - offset)]

    def spans(self) -> dict[int, bytes]:
        """Offset → bytes of everything fetched so far."""
        with self.lock:
            return {b * self.block: data for b, data in self.blocks.items()}

    def _fetch(self, start: int, stop: int) -> None:
        if self.fetched + (stop - start) > MAX_REMOTE_READ:
            raise UnreadError(self.path, f"hub mode reads at most {MAX_REMOTE_READ} bytes of a "
                             "file by range requests; download the file to examine it")
        try:
            body = with_retries(lambda: self._get(start, stop), is_retryable=_retryable)
        except RetryableError as exc:
            raise UnreadError(self.path, f"the hub answered HTTP {exc.status} to a range "
                             f"request {ATTEMPTS} times; try again later") from None
        self.fetched += len(body)
        bs = self.block
        for b in range(start // bs, (stop - 1) // bs + 1):
            lo = b * bs - start
            self.blocks[b] = body[lo:lo + bs]

    def _get(self, start: int, stop: int) -> bytes:
        """One ``Range`` request, its answer checked against what the hub declared."""
        import httpx2
        from huggingface_hub import get_session

        want = stop - start
        headers = {**self.headers, "Range": f"bytes={start}-{stop - 1}",
                   "Accept-Encoding": "identity"}
        try:
            with get_session().stream("GET", self.url, headers=headers,
                                      follow_redirects=True, timeout=30) as r:
                if r.status_code in RETRY_STATUS:
                    raise RetryableError(r.status_code, retry_after(r.headers))
                if r.status_code == 200 and start == 0 and want == self.size:
                    pass  # a whole small file; checked by length below
                elif r.status_code != 206:
                    raise UnreadError(self.path, f"the hub answered HTTP {r.status_code} to a "
                                     f"range request for bytes {start}-{stop - 1}")
                else:
                    _check_content_range(self.path, r.headers.get("Content-Range"), start,
                                         self.size)
                body = b""
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > want:
                        break  # a server ignoring Range: never read on into the tensors
        except httpx2.HTTPError as exc:
            raise UnreadError(self.path, f"cannot read from the hub: {type(exc).__name__}: "
                             f"{exc}") from None
        if len(body) < want:
            raise UnreadError(self.path, f"truncated range response: asked for {want} bytes "
                             f"at offset {start}, got {len(body)}")
        return body[:want]


def _retryable(exc: Exception) -> float | None:
    if isinstance(exc, RetryableError):
        return exc.retry_after or 0.0
    return None


def _check_content_range(path: str, value: str | None, start: int, size: int) -> None:
    """``bytes A-B/TOTAL`` must start where asked and agree with the declared size."""
    try:
        unit, _, rest = (value or "").partition(" ")
        span, _, total = rest.partition("/")
        first = int(span.split("-")[0])
    except ValueError:
        raise UnreadError(path, f"range response without a valid Content-Range ({value!r})"
                         ) from None
    if unit != "bytes" or first != start:
        raise UnreadError(path, f"range response starts at {value!r}, asked for byte {start}")
    if total not in ("*", "") and int(total) != size:
        raise UnreadError(path, f"the hub declares {size} bytes but serves a file of {total}: "
                         "the metadata and the file disagree")


class RangeStream(io.RawIOBase):
    """A seekable, read-only file over a :class:`RangeFetcher` (what zip readers need)."""

    def __init__(self, fetcher: RangeFetcher) -> None:
        super().__init__()
        self._f = fetcher
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._f.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._f.size - self._pos
        data = self._f.read(self._pos, size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


@dataclass(frozen=True)
class RemoteFile(ReleaseFile):
    """A release file on the hub, read by range requests; ``remote_sha256`` is the hub's
    LFS sha256, which hashing and records use instead of the (undownloaded) bytes."""

    fetcher: RangeFetcher | None = field(default=None, compare=False, repr=False)

    def _open(self) -> BinaryIO:
        assert self.fetcher is not None
        return io.BufferedReader(RangeStream(self.fetcher), buffer_size=8192)
