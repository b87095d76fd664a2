"""A scripted OpenAI-compatible endpoint on 127.0.0.1 for deterministic serving tests.

Real small models never refuse on cue, time out, or send malformed SSE, so the edge cases
the client and detectors must handle are scripted here: the reply is chosen by the first
rule whose key occurs in the last user message. Plain asyncio streams (no web framework):
the server must be able to send broken HTTP and SSE on purpose.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Script:
    text: str = "ok"
    chunk_chars: int = 0  # 0: one word per chunk
    delay: float = 0.0  # between chunks
    first_delay: float = 0.0  # before the first content chunk (after the role chunk)
    role_chunk: bool = True
    reasoning: str = ""
    usage: dict[str, int] | None = None
    timings: dict[str, int] | None = None
    status: int = 200
    raw: bytes | None = None  # sent verbatim after the headers
    stall: float = 0.0  # sleep before anything is sent
    done: bool = True
    error_event: str | None = None
    fingerprint: str | None = "fp-test"
    json_body: bool = False  # ignore stream=true
    crlf: bool = False


def _pieces(text: str, n: int) -> list[str]:
    if n > 0:
        return [text[i : i + n] for i in range(0, len(text), n)]
    out, word = [], ""
    for ch in text:
        word += ch
        if ch == " ":
            out.append(word)
            word = ""
    if word:
        out.append(word)
    return out


@dataclass
class ScriptedServer:
    rules: list[tuple[str, Script]] = field(default_factory=list)
    default: Script = field(default_factory=Script)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    #: answer vLLM-style POST /tokenize with one token per word of the messages
    tokenize: bool = False

    def script_for(self, body: dict[str, Any]) -> Script:
        msgs = body.get("messages") or [{"content": body.get("prompt", "")}]
        last = str(msgs[-1].get("content", ""))
        for key, script in self.rules:
            if key in last:
                return script
        return self.default

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
            n = int(headers.get("content-length", "0"))
            raw = await reader.readexactly(n) if n else b""
            if method == "GET" and path.endswith("/models"):
                body = json.dumps({"object": "list", "data": [{"id": "scripted"}]}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
                return
            body = json.loads(raw or b"{}")
            if "/tokenize" in path:
                words = sum(len(str(m.get("content", "")).split())
                            for m in body.get("messages", []))
                ok = self.tokenize and "messages" in body
                data = json.dumps({"count": words}).encode() if ok else b"{}"
                status = b"200 OK" if ok else b"404 Not Found"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(data)
                             + data)
                await writer.drain()
                return
            self.requests.append(body)
            await self._reply(self.script_for(body), body, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                writer.close()
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _reply(self, s: Script, body: dict[str, Any], w: asyncio.StreamWriter) -> None:
        if s.stall:
            await asyncio.sleep(s.stall)
        if s.status != 200:
            payload = json.dumps({"error": {"message": f"scripted {s.status}"}}).encode()
            w.write(b"HTTP/1.1 %d Error\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: %d\r\n\r\n" % (s.status, len(payload))
                    + payload)
            await w.drain()
            return
        if s.json_body:
            payload = json.dumps({
                "choices": [{"message": {"role": "assistant", "content": s.text},
                             "finish_reason": "stop"}],
                "usage": s.usage,
            }).encode()
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
            await w.drain()
            return
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n")
        await w.drain()
        if s.raw is not None:
            w.write(s.raw)
            await w.drain()
            return
        nl = b"\r\n" if s.crlf else b"\n"

        async def send(obj: Any) -> None:
            data = obj if isinstance(obj, str) else json.dumps(obj)
            w.write(b"data: " + data.encode() + nl + nl)
            await w.drain()

        base = {"id": "x", "object": "chat.completion.chunk", "model": body.get("model", "m"),
                "system_fingerprint": s.fingerprint}
        if s.role_chunk:
            await send({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        if s.first_delay:
            await asyncio.sleep(s.first_delay)
        for piece in _pieces(s.reasoning, s.chunk_chars) if s.reasoning else []:
            await send({**base, "choices": [{"index": 0, "delta": {"reasoning_content": piece}}]})
            if s.delay:
                await asyncio.sleep(s.delay)
        pieces = _pieces(s.text, s.chunk_chars)
        limit = int(body.get("max_tokens") or 10**9)
        for i, piece in enumerate(pieces[:limit]):
            await send({**base, "choices": [{"index": 0, "delta": {"content": piece}}]})
            if s.delay and i + 1 < len(pieces):
                await asyncio.sleep(s.delay)
        if s.error_event:
            await send({"error": {"message": s.error_event}})
            return
        if not s.done:
            return
        final: dict[str, Any] = {**base, "choices": [{"index": 0, "delta": {},
                                                      "finish_reason": "stop"}]}
        if s.timings:
            final["timings"] = s.timings
        await send(final)
        if s.usage:
            await send({**base, "choices": [], "usage": s.usage})
        await send("[DONE]")

    def __enter__(self) -> ScriptedServer:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(start())
            self._loop.run_forever()
            pending = asyncio.all_tasks(self._loop)
            for t in pending:
                t.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("scripted server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(5)
        time.sleep(0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
