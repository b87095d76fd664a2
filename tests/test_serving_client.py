"""SSE parsing and the streaming client against a scripted loopback endpoint."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.errors import InputError
from modelclear.serving.client import EndpointConfig, OpenAIClient, normalize_base_url
from modelclear.serving.sse import SSEError, SSEParser

sys.path.insert(0, str(Path(__file__).parent))
from test_serving_fake import Script, ScriptedServer  # noqa: E402


def _events(stream: bytes, cuts: list[int]) -> list[str]:
    p = SSEParser()
    out = []
    prev = 0
    for c in sorted(set(cuts)) + [len(stream)]:
        out += [e.data for e in p.feed(stream[prev:c], 0.0)]
        prev = c
    out += [e.data for e in p.close(0.0)]
    return out


def test_sse_line_endings_comments_multiline() -> None:
    raw = (b": keep-alive\r\n\r\ndata: {\"a\": 1}\r\n\r\ndata:x\rdata: y\r\r"
           b"event: ping\ndata: z\n\ndata: tail-without-blank-line")
    assert _events(raw, []) == ['{"a": 1}', "x\ny", "z", "tail-without-blank-line"]


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                        blacklist_characters="\r\n"), max_size=40),
                      min_size=1, max_size=8),
    sep=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_sse_split_anywhere_gives_same_events(payloads: list[str], sep: bytes,
                                              cuts: list[int]) -> None:
    raw = b"".join(b"data: " + p.encode() + sep + sep for p in payloads)
    cuts = [c % (len(raw) + 1) for c in cuts]
    got = _events(raw, cuts)
    # "data: " strips exactly one leading space; an empty payload is still an event.
    assert got == payloads


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=6))
def test_sse_never_crashes_on_garbage(raw: bytes, cuts: list[int]) -> None:
    try:
        _events(raw, [c % (len(raw) + 1) for c in cuts])
    except SSEError:
        pass


def test_base_url() -> None:
    assert normalize_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert normalize_base_url("http://h:1/v1/") == "http://h:1/v1"
    assert normalize_base_url("https://h/api/v1/chat/completions") == "https://h/api/v1"
    for bad in ("ftp://x", "127.0.0.1:8000", "http://"):
        with pytest.raises(InputError):
            normalize_base_url(bad)


def _run(server: ScriptedServer, prompt: str, timeout: float = 5.0, **kw: object):
    cfg = EndpointConfig(url=server.url, model="scripted", timeout=timeout)

    async def go():
        async with OpenAIClient(cfg) as c:
            return await c.stream([{"role": "user", "content": prompt}], max_tokens=64, **kw)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def server():
    s = ScriptedServer(rules=[
        ("words", Script(text="one two three four", delay=0.01, first_delay=0.05)),
        ("usage", Script(text="abcdefgh", chunk_chars=4,
                         usage={"prompt_tokens": 9, "completion_tokens": 5})),
        ("reason", Script(text="42", reasoning="let me think", chunk_chars=5)),
        ("http500", Script(status=500)),
        ("http429", Script(status=429)),
        ("stall", Script(stall=3.0)),
        ("malformed", Script(raw=b"data: {not json\n\n")),
        ("cut", Script(text="partial answer", done=False)),
        ("errevent", Script(text="a b", error_event="model overloaded")),
        ("nostream", Script(text="whole body", json_body=True,
                            usage={"prompt_tokens": 3, "completion_tokens": 2})),
        ("crlf", Script(text="x y z", crlf=True, role_chunk=False)),
        ("timings", Script(text="p q r", timings={"prompt_n": 7, "predicted_n": 3})),
    ])
    with s:
        yield s


def test_role_chunk_is_not_first_token(server: ScriptedServer) -> None:
    rec = _run(server, "words please", seed=7, temperature=0.0)
    assert rec.ok, rec.error
    assert rec.text == "one two three four"
    assert len(rec.chunks) == 4
    assert rec.first_byte is not None
    assert rec.chunks[0].time - rec.first_byte >= 0.04  # role chunk came 50 ms earlier
    assert rec.system_fingerprint == "fp-test" and rec.finish_reason == "stop"
    body = server.requests[-1]
    assert body["stream"] is True and body["seed"] == 7 and body["temperature"] == 0.0


def test_usage_chunk_and_reasoning(server: ScriptedServer) -> None:
    rec = _run(server, "usage")
    assert rec.ok and rec.usage == {"prompt_tokens": 9, "completion_tokens": 5}
    rec = _run(server, "reason")
    assert rec.ok and rec.text == "42" and rec.reasoning == "let me think"
    assert [c.reasoning for c in rec.chunks[:3]] == ["let m", "e thi", "nk"]


def test_errors_are_recorded_not_raised(server: ScriptedServer) -> None:
    rec = _run(server, "http500")
    assert not rec.ok and rec.status == 500 and "scripted 500" in (rec.error or "")
    rec = _run(server, "stall", timeout=0.5)
    assert not rec.ok and rec.error.startswith("timeout")
    rec = _run(server, "malformed")
    assert not rec.ok and "malformed JSON" in rec.error
    rec = _run(server, "cut")
    assert not rec.ok and "without [DONE]" in rec.error and rec.text == "partial answer"
    rec = _run(server, "errevent")
    assert not rec.ok and "model overloaded" in rec.error


def test_non_streaming_crlf_and_timings(server: ScriptedServer) -> None:
    rec = _run(server, "nostream")
    assert rec.ok and rec.text == "whole body" and rec.usage["completion_tokens"] == 2
    rec = _run(server, "crlf")
    assert rec.ok and rec.text == "x y z"
    rec = _run(server, "timings")
    assert rec.ok and rec.timings == {"prompt_n": 7, "predicted_n": 3}


def test_retries_off_by_default_and_bounded(server: ScriptedServer) -> None:
    n = len(server.requests)
    _run(server, "http429")
    assert len(server.requests) == n + 1
    cfg = EndpointConfig(url=server.url, model="m", retries=2)

    async def go():
        async with OpenAIClient(cfg) as c:
            return await c.stream([{"role": "user", "content": "http429"}])

    rec = asyncio.run(go())
    assert not rec.ok and len(server.requests) == n + 4


def test_api_key_from_env_and_completions_api(server: ScriptedServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MC_TEST_KEY", "sk-test")
    cfg = EndpointConfig(url=server.url, model="m", api="completions", api_key_env="MC_TEST_KEY")
    c = OpenAIClient(cfg)
    assert c._client.headers["authorization"] == "Bearer sk-test"
    path, body = c.build_body([{"role": "user", "content": "hi"}], max_tokens=3,
                              temperature=0, seed=None)
    assert path == "/completions" and body["prompt"] == "hi" and "seed" not in body
    asyncio.run(c._client.aclose())
    json.dumps(body)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["choices", "delta", "content", "reasoning_content", "usage", "error",
                         "finish_reason", "timings", "model", "text", "message", "x"]),
        kids, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(_json, max_size=6))
def test_any_json_event_is_recorded_never_raised(events: list) -> None:
    from modelclear.serving.client import Completion

    c = OpenAIClient(EndpointConfig(url="http://127.0.0.1:1", model="m"))
    rec = Completion(start=0.0)
    for i, ev in enumerate(events):
        c._event(json.dumps(ev), float(i), rec)
    assert isinstance(rec.text, str) and rec.events == len(events)
    asyncio.run(c._client.aclose())
