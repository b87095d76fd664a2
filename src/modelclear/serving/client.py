"""Async client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp, Ollama, TGI).

Every request is streamed and timed chunk by chunk, because the same record feeds the load
benchmark (TTFT, ITL), the probes (the text) and drift (the text at temperature 0). Servers
disagree on the details of the stream, and each is handled here once:

- the first chunk may carry only ``{"role": "assistant"}`` (llama.cpp, vLLM): it is *not* the
  first token; TTFT waits for the first chunk with content (TTFB records the first byte);
- reasoning models send ``reasoning_content`` / ``reasoning`` deltas before the answer: they
  count as generated tokens for TTFT/ITL but are kept apart from the answer text;
- a chunk may hold several tokens; ``usage`` may arrive in a final chunk with empty
  ``choices`` (vLLM with ``stream_options.include_usage``) or never (llama-cpp-python);
- llama.cpp's native server adds ``timings`` (``prompt_n``, ``predicted_n``);
- errors arrive as an HTTP status, as an ``{"error": …}`` event in the stream, or as a
  connection that just ends.

Retries are off by default: a benchmark that silently retries hides the failures it exists to
measure.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..errors import InputError
from .sse import SSEError, SSEParser

#: Longest answer text kept per request; a runaway stream must not exhaust memory.
MAX_TEXT_CHARS = 1_000_000


def normalize_base_url(url: str) -> str:
    """``http://host:port`` or ``…/v1`` → the ``…/v1`` base every endpoint hangs off."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(url, "not an http(s) URL of an OpenAI-compatible server")
    path = parts.path.rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class EndpointConfig:
    """How to reach one server. The API key is read from an environment variable by name so
    it never lands in shell history, JSON output or a clearance record."""

    url: str
    model: str
    api: str = "chat"  # chat | completions
    timeout: float = 120.0
    connect_timeout: float = 10.0
    retries: int = 0
    api_key_env: str = "OPENAI_API_KEY"
    verify: bool | str = True  # False to skip TLS verification, or a CA bundle path
    client_cert: str | None = None

    @property
    def base_url(self) -> str:
        return normalize_base_url(self.url)

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None


@dataclass
class Chunk:
    """One content-bearing SSE event: when it arrived and what it added."""

    time: float
    content: str = ""
    reasoning: str = ""

    @property
    def text_len(self) -> int:
        return len(self.content) + len(self.reasoning)


@dataclass
class Completion:
    """One streamed request, timed. Times are ``time.perf_counter()`` seconds."""

    start: float
    first_byte: float | None = None
    end: float | None = None
    chunks: list[Chunk] = field(default_factory=list)
    text: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    system_fingerprint: str | None = None
    model: str | None = None
    error: str | None = None
    status: int | None = None
    events: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error,
            "status": self.status,
            "text": self.text,
            "reasoning": self.reasoning or None,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
            "system_fingerprint": self.system_fingerprint,
            "model": self.model,
        }


class OpenAIClient:
    """A thin, timed, streaming client. Use as ``async with OpenAIClient(cfg) as c``."""

    def __init__(self, cfg: EndpointConfig, max_connections: int = 64) -> None:
        self.cfg = cfg
        self._tokenize_route: str | None = None  # which tokenize route works; "none": none
        headers = {"Accept": "text/event-stream", "User-Agent": "modelclear"}
        key = cfg.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            base_url=cfg.base_url,
            headers=headers,
            timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
            verify=cfg.verify,
            cert=cfg.client_cert,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            trust_env=False,
        )

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def models(self) -> list[str]:
        """Model ids the server lists; empty when it has no ``/models``."""
        try:
            r = await self._client.get("/models")
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError):
            return []
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return []
        return [str(m.get("id")) for m in items if isinstance(m, dict) and m.get("id")]

    async def count_prompt_tokens(self, messages: list[dict[str, str]]) -> tuple[int, str] | None:
        """Prompt tokens by the server's own tokenizer, when it exposes one: vLLM's
        ``/tokenize`` (chat template applied), llama.cpp's ``/tokenize`` or
        llama-cpp-python's ``/extras/tokenize/count`` (message text only). Returns
        (count, how) or None. The first route that answers is remembered."""
        text = "\n".join(m.get("content", "") for m in messages)
        root = self.cfg.base_url.removesuffix("/v1")
        routes = (
            ("vllm-tokenize", f"{root}/tokenize", {"model": self.cfg.model, "messages": messages}),
            ("llama.cpp-tokenize", f"{root}/tokenize", {"content": text}),
            ("extras-tokenize", f"{root}/extras/tokenize/count",
             {"model": self.cfg.model, "input": text}),
        )
        for how, url, body in routes:
            if self._tokenize_route not in (None, how):
                continue
            try:
                r = await self._client.post(url, json=body)
                data = r.json() if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                data = None
            count = None
            if isinstance(data, dict):
                if isinstance(data.get("count"), int):
                    count = data["count"]
                elif isinstance(data.get("tokens"), list):
                    count = len(data["tokens"])
            if count is not None:
                self._tokenize_route = how
                return count, how
            if self._tokenize_route == how:
                return None
        self._tokenize_route = "none"
        return None

    def build_body(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        seed: int | None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.cfg.model,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            # vLLM/SGLang send a usage chunk only when asked; others ignore the field.
            "stream_options": {"include_usage": True},
        }
        if seed is not None:
            body["seed"] = seed
        if self.cfg.api == "completions":
            body["prompt"] = _flatten(messages)
            path = "/completions"
        else:
            body["messages"] = messages
            path = "/chat/completions"
        if extra:
            body.update(extra)
        return path, body

    async def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Completion:
        """Send one request and time its stream; never raises for server or network faults."""
        path, body = self.build_body(
            messages, max_tokens=max_tokens, temperature=temperature, seed=seed, extra=extra
        )
        attempts = 1 + max(0, self.cfg.retries)
        rec = Completion(start=time.perf_counter())
        for attempt in range(attempts):
            rec = Completion(start=time.perf_counter())
            await self._stream_once(path, body, rec)
            if rec.ok or attempt + 1 == attempts or not _retryable(rec):
                break
            await asyncio.sleep(min(2.0, 0.25 * 2**attempt))
        return rec

    async def _stream_once(self, path: str, body: dict[str, Any], rec: Completion) -> None:
        parser = SSEParser()
        try:
            # ensure_ascii: a lone surrogate in a probe (malformed unicode) must still be sent,
            # as a JSON escape, rather than fail to encode as UTF-8.
            payload = json.dumps(body, ensure_ascii=True).encode("ascii")
            async with self._client.stream(
                "POST", path, content=payload, headers={"Content-Type": "application/json"}
            ) as resp:
                rec.status = resp.status_code
                if resp.status_code >= 400:
                    raw = await _read_bounded(resp, 4096)
                    rec.end = time.perf_counter()
                    rec.error = f"HTTP {resp.status_code}: {_error_text(raw)}"
                    return
                ctype = resp.headers.get("content-type", "")
                if "text/event-stream" not in ctype and "json" in ctype:
                    # A server that ignored stream=true: one JSON body, timed as one chunk.
                    raw = await _read_bounded(resp, 16 * 1024 * 1024)
                    now = time.perf_counter()
                    rec.first_byte = now
                    self._json_body(raw, rec, now)
                    rec.end = now
                    return
                done = False
                async for data in resp.aiter_bytes():
                    now = time.perf_counter()
                    if rec.first_byte is None:
                        rec.first_byte = now
                    for ev in parser.feed(data, now):
                        if self._event(ev.data, ev.time, rec):
                            done = True
                    if rec.error or len(rec.text) > MAX_TEXT_CHARS:
                        break
                now = time.perf_counter()
                for ev in parser.close(now):
                    if self._event(ev.data, ev.time, rec):
                        done = True
                rec.end = rec.end or now
                if rec.error is None and not done and rec.finish_reason is None:
                    rec.error = "stream ended without [DONE] or a finish_reason"
        except SSEError as exc:
            rec.error = f"malformed event stream: {exc}"
        except httpx.TimeoutException as exc:
            rec.error = f"timeout: {type(exc).__name__}"
        except httpx.HTTPError as exc:
            rec.error = f"{type(exc).__name__}: {exc}"
        finally:
            if rec.end is None:
                rec.end = time.perf_counter()

    def _event(self, data: str, now: float, rec: Completion) -> bool:
        """Apply one SSE data payload; True when it was the ``[DONE]`` sentinel."""
        rec.events += 1
        if data.strip() == "[DONE]":
            rec.end = now
            return True
        try:
            obj = json.loads(data)
        except ValueError:
            rec.error = f"malformed JSON in event stream: {data[:80]!r}"
            return False
        if not isinstance(obj, dict):
            rec.error = f"unexpected event payload: {data[:80]!r}"
            return False
        if "error" in obj and not obj.get("choices"):
            err = obj["error"]
            msg = err.get("message") if isinstance(err, dict) else err
            rec.error = f"server error in stream: {str(msg)[:200]}"
            return False
        self._apply(obj, now, rec, streaming=True)
        rec.end = now
        return False

    def _json_body(self, raw: bytes, rec: Completion, now: float) -> None:
        try:
            obj = json.loads(raw)
        except ValueError:
            rec.error = "malformed JSON response"
            return
        if not isinstance(obj, dict):
            rec.error = "unexpected JSON response"
            return
        self._apply(obj, now, rec, streaming=False)

    def _apply(self, obj: dict[str, Any], now: float, rec: Completion, streaming: bool) -> None:
        if isinstance(obj.get("usage"), dict):
            rec.usage = obj["usage"]
        if isinstance(obj.get("timings"), dict):
            rec.timings = obj["timings"]
        if obj.get("system_fingerprint"):
            rec.system_fingerprint = str(obj["system_fingerprint"])
        if obj.get("model"):
            rec.model = str(obj["model"])
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices:
            return
        ch = choices[0] if isinstance(choices[0], dict) else {}
        delta = ch.get("delta") if streaming else ch.get("message")
        content = reasoning = ""
        if isinstance(delta, dict):
            content = _str(delta.get("content"))
            reasoning = _str(delta.get("reasoning_content")) or _str(delta.get("reasoning"))
        if not content and "text" in ch:  # legacy completions API
            content = _str(ch.get("text"))
        if ch.get("finish_reason"):
            rec.finish_reason = str(ch["finish_reason"])
        if content or reasoning:
            rec.chunks.append(Chunk(now, content, reasoning))
            rec.text += content
            rec.reasoning += reasoning


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _flatten(messages: list[dict[str, str]]) -> str:
    return "\n\n".join(m.get("content", "") for m in messages)


def _retryable(rec: Completion) -> bool:
    return rec.status is None or rec.status in (408, 429, 500, 502, 503, 504)


async def _read_bounded(resp: httpx.Response, limit: int) -> bytes:
    out = b""
    async for part in resp.aiter_bytes():
        out += part
        if len(out) >= limit:
            break
    return out[:limit]


def _error_text(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            err = obj.get("error", obj.get("detail", obj))
            if isinstance(err, dict):
                err = err.get("message", err)
            text = str(err)
    except ValueError:
        pass
    return " ".join(text.split())[:200]
