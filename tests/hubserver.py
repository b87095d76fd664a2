"""A Hugging Face hub on loopback, for tests without the internet (standard library only).

It speaks the part of the hub API huggingface_hub and modelclear use, as read in
huggingface_hub's ``hf_api.py`` (``model_info``: ``GET /api/models/{repo}`` and
``/api/models/{repo}/revision/{rev}``, ``?blobs=true`` for sizes and LFS sha256) and
``file_download.py`` (``HEAD``/``GET /{repo}/resolve/{rev}/{path}`` answering with
``X-Repo-Commit``, ``ETag`` (git blob sha1, or the LFS sha256), ``X-Linked-Etag`` and
``X-Linked-Size`` for LFS files, ``Range`` → 206 with ``Content-Range``; errors carry
``X-Error-Code`` RepoNotFound / RevisionNotFound / EntryNotFound / GatedRepo).

Repos are built by the tests. A file is real bytes, or *virtual*: real leading bytes (a
safetensors header) followed by zeros up to a declared size, so a repo can hold a valid
10 GB safetensors file without 10 GB anywhere; what such a file proves is that nothing
past the header was requested (every request and byte served is recorded).
Faults can be injected: statuses for the next requests (429, 5xx, 403), truncated range
bodies, and an API that declares sizes the files do not have.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

TOKEN = "hf_test_secret_token"
LFS_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt", ".pth", ".onnx", ".h5")


@dataclass
class HubFileSpec:
    """Real bytes, or ``head`` followed by zeros up to ``size`` (a virtual file)."""

    head: bytes
    size: int
    lfs: bool
    sha256: str  # as the API declares it (for a virtual file: of the real bytes it stands for
    #              when the test computed it, else a stand-in the test must not rely on)

    def read(self, start: int, stop: int) -> bytes:
        stop = min(stop, self.size)
        if start >= stop:
            return b""
        part = self.head[start:stop]
        return part + b"\0" * (stop - start - len(part))


def real(data: bytes, lfs: bool | None = None) -> HubFileSpec:
    return HubFileSpec(data, len(data), lfs, hashlib.sha256(data).hexdigest())  # type: ignore[arg-type]


def virtual(head: bytes, size: int) -> HubFileSpec:
    """A huge LFS file of which only ``head`` is non-zero (its sha256 is a stand-in)."""
    return HubFileSpec(head, size, True, hashlib.sha256(head + str(size).encode()).hexdigest())


@dataclass
class HubRepo:
    repo_id: str
    commits: dict[str, dict[str, HubFileSpec]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    gated: bool = False

    def commit(self, sha: str, files: dict[str, bytes | HubFileSpec],
               ref: str | None = "main") -> str:
        specs = {}
        for path, data in files.items():
            if isinstance(data, HubFileSpec):
                specs[path] = data
            else:
                specs[path] = real(data, path.lower().endswith(LFS_SUFFIXES))
        self.commits[sha] = specs
        if ref:
            self.refs[ref] = sha
        return sha

    def resolve(self, rev: str) -> str | None:
        if rev in self.commits:
            return rev
        return self.refs.get(rev)


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    status: int
    sent: int
    authorized: bool


class _QuietServer(ThreadingHTTPServer):
    """Clients hang up mid-answer (modelclear stops reading past a header): keep the
    errors for the tests instead of printing server tracebacks into their stderr."""

    daemon_threads = True
    errors: list[str]

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        self.errors.append(repr(sys.exc_info()[1]))


class HubServer:
    """The server, its repos, its faults and its log; ``url`` is the endpoint."""

    def __init__(self) -> None:
        self.repos: dict[str, HubRepo] = {}
        self.log: list[Request] = []
        self.fail_next: list[int] = []  # statuses for the next requests, consumed in order
        self.fail_ranges: list[int] = []  # the same, for the next Range requests only
        self.truncate_ranges = False
        self.declared_size_bonus = 0  # the API adds this to every LFS size (a lying hub)
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"hub": self})
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.httpd.errors = []
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def repo(self, repo_id: str, gated: bool = False) -> HubRepo:
        self.repos[repo_id] = HubRepo(repo_id, gated=gated)
        return self.repos[repo_id]

    @property
    def bytes_served(self) -> int:
        return sum(r.sent for r in self.log)

    def served(self, path_part: str) -> int:
        return sum(r.sent for r in self.log if path_part in r.path)


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: the hub's own log is the record

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve(body=True)

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
        self._serve(body=False)

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, status: int, headers: dict[str, str], payload: bytes, body: bool,
              length: int | None = None) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload) if length is None else length))
        self.end_headers()
        sent = 0
        if body and payload:
            self.wfile.write(payload)
            sent = len(payload)
        with self.hub.lock:
            self.hub.log.append(Request(self.command, self.path, self.headers.get("Range"),
                                        status, sent, self._authorized()))

    def _error(self, status: int, code: str | None, message: str, body: bool) -> None:
        headers = {"Content-Type": "application/json"}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, headers, json.dumps({"error": message}).encode(), body)

    def _authorized(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {TOKEN}"

    def _serve(self, body: bool) -> None:
        with self.hub.lock:
            fault = self.hub.fail_next.pop(0) if self.hub.fail_next else None
            if fault is None and self.headers.get("Range") and self.hub.fail_ranges:
                fault = self.hub.fail_ranges.pop(0)
        if fault is not None:
            headers = {"Retry-After": "0"} if fault == 429 else {}
            self._send(fault, headers, b'{"error": "injected"}', body)
            return
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/api/models/"):
            self._api(path[len("/api/models/"):], body)
        elif "/resolve/" in path:
            self._resolve(path.lstrip("/"), body)
        else:
            self._error(404, None, "not found", body)

    def _api(self, rest: str, body: bool) -> None:
        repo_id, _, rev = rest.partition("/revision/")
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(401, "RepoNotFound", "Repository not found", body)
            return
        sha = repo.resolve(rev or "main")
        if sha is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}", body)
            return
        siblings = []
        for p, spec in sorted(repo.commits[sha].items()):
            item: dict[str, Any] = {"rfilename": p, "size": spec.size,
                                    "blobId": git_blob_sha1(spec.head)}
            if spec.lfs:
                size = spec.size + self.hub.declared_size_bonus
                item["size"] = size
                item["lfs"] = {"sha256": spec.sha256, "size": size, "pointerSize": 134}
            siblings.append(item)
        doc = {"_id": "x", "id": repo_id, "modelId": repo_id, "sha": sha, "private": False,
               "gated": "manual" if repo.gated else False, "disabled": False,
               "lastModified": "2026-01-01T00:00:00.000Z", "tags": [], "siblings": siblings}
        self._send(200, {"Content-Type": "application/json"}, json.dumps(doc).encode(), body)

    def _resolve(self, rest: str, body: bool) -> None:
        repo_part, _, tail = rest.partition("/resolve/")
        repo = self.hub.repos.get(repo_part)
        if repo is None:
            self._error(401, "RepoNotFound", "Repository not found", body)
            return
        rev, _, file_path = tail.partition("/")
        sha = repo.resolve(rev)
        if sha is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}", body)
            return
        if repo.gated and not self._authorized():
            self._error(401, "GatedRepo", "Access to this gated repo is restricted", body)
            return
        spec = repo.commits[sha].get(file_path)
        if spec is None:
            self._error(404, "EntryNotFound", "Entry not found", body)
            return
        etag = spec.sha256 if spec.lfs else git_blob_sha1(spec.head)
        headers = {"X-Repo-Commit": sha, "ETag": f'"{etag}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        if spec.lfs:
            headers["X-Linked-Etag"] = f'"{etag}"'
            headers["X-Linked-Size"] = str(spec.size)
        rng = self.headers.get("Range")
        if rng is None or not body:
            self._whole(headers, spec, body)
            return
        start_s, _, stop_s = rng.removeprefix("bytes=").partition("-")
        start = int(start_s)
        stop = min(int(stop_s) + 1 if stop_s else spec.size, spec.size)
        if start >= spec.size:
            headers["Content-Range"] = f"bytes */{spec.size}"
            self._send(416, headers, b"", body)
            return
        payload = spec.read(start, stop)
        if self.hub.truncate_ranges:
            payload = payload[: max(1, len(payload) // 2)]
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{spec.size}"
        self._send(206, headers, payload, body)

    def _whole(self, headers: dict[str, str], spec: HubFileSpec, body: bool) -> None:
        """A whole file (HEAD, or GET without Range), streamed in 1 MB pieces."""
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(spec.size))
        self.end_headers()
        sent = 0
        if body:
            for start in range(0, spec.size, 1 << 20):
                piece = spec.read(start, start + (1 << 20))
                try:
                    self.wfile.write(piece)
                except OSError:
                    break  # the client stopped reading (as modelclear does past a header)
                sent += len(piece)
        with self.hub.lock:
            self.hub.log.append(Request(self.command, self.path, None, 200, sent,
                                        self._authorized()))
