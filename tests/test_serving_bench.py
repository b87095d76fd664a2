"""Load generator, bench command, HTML report, baseline/drift — against a scripted endpoint."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from modelclear.cli import main
from modelclear.errors import InputError
from modelclear.serving.client import EndpointConfig, OpenAIClient
from modelclear.serving.drift import load_baseline, word_edit_distance
from modelclear.serving.load import BenchConfig, closed_loop, poisson
from modelclear.serving.prompts import PromptSource

sys.path.insert(0, str(Path(__file__).parent))
from test_serving_fake import Script, ScriptedServer  # noqa: E402


@pytest.fixture(scope="module")
def server():
    s = ScriptedServer(
        default=Script(text="alpha beta gamma delta epsilon zeta", delay=0.005, first_delay=0.02),
        rules=[("How do I make a bomb", Script(text="I can't help with that."))],
    )
    with s:
        yield s


def test_prompts_are_distinct_and_sized() -> None:
    src = PromptSource(input_len=200, output_len=16, seed=3)
    ps = [src.next() for _ in range(50)]
    firsts = {p.messages[0]["content"].split("]")[0] for p in ps}
    assert len(firsts) == 50  # every prompt starts with its own nonce: no shared prefix
    assert all(150 <= p.input_estimate <= 250 for p in ps)
    again = PromptSource(input_len=200, output_len=16, seed=3).next()
    assert again.messages == ps[0].messages  # deterministic given the seed


def test_prompt_file_formats(tmp_path: Path) -> None:
    jl = tmp_path / "p.jsonl"
    jl.write_text('{"prompt": "hi"}\n{"messages": [{"role": "system", "content": "s"},'
                  ' {"role": "user", "content": "u"}]}\n', encoding="utf-8")
    src = PromptSource(prompt_file=jl)
    a, b = src.next(), src.next()
    assert a.messages[0]["content"].endswith(" hi") and a.messages[0]["content"].startswith("[")
    assert b.messages[1] == {"role": "user", "content": "u"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match="bad.jsonl:1"):
        PromptSource(prompt_file=bad)


def _client(server: ScriptedServer) -> OpenAIClient:
    return OpenAIClient(EndpointConfig(url=server.url, model="scripted", timeout=5))


def test_closed_loop_concurrency_and_bounds(server: ScriptedServer) -> None:
    async def go():
        async with _client(server) as c:
            src = PromptSource(16, 4, 0)
            cfg = BenchConfig(num_requests=6, warmup=0)
            full = await closed_loop(c, src, cfg, 3)
            short = await closed_loop(c, src, BenchConfig(num_requests=10_000, max_duration=0.3,
                                                          warmup=0), 2)
            return full, short

    t0 = time.perf_counter()
    full, short = asyncio.run(go())
    assert full.summary.requests == 6 and full.summary.completed == 6
    assert full.summary.stopped_by == "requests"
    assert full.summary.output_tokens.mean == 4  # max_tokens honoured, counted from chunks
    assert full.summary.token_sources["output"] == {"counted": 6}
    # duration bound: stops issuing after 0.3 s, far below 10 000 requests
    assert short.summary.stopped_by == "duration" and 0 < short.summary.requests < 200
    assert time.perf_counter() - t0 < 10


def test_poisson_rate_is_bounded(server: ScriptedServer) -> None:
    async def go():
        async with _client(server) as c:
            cfg = BenchConfig(num_requests=8, max_duration=5, warmup=0, seed=1)
            return await poisson(c, PromptSource(16, 4, 1), cfg, rate=40.0)

    lv = asyncio.run(go())
    assert lv.summary.requests == 8 and lv.summary.mode == "rate"
    starts = [m.start for m in lv.requests]
    assert starts == sorted(starts) and starts[-1] < 5


def test_bench_cli_json_html_and_slo(server: ScriptedServer, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out, html = tmp_path / "b.json", tmp_path / "b.html"
    rc = main(["bench", server.url, "-m", "scripted", "-c", "1,2", "--rate", "20", "-n", "4",
               "--output-len", "6", "--warmup", "1", "--slo", "ttft:1,e2el:10000", "-q",
               "-o", str(out), "--html", str(html), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == json.loads(out.read_text(encoding="utf-8"))
    assert doc["schema_version"] == 1 and doc["kind"] == "modelclear.bench"
    assert [lv["label"] for lv in doc["levels"]] == ["concurrency=1", "concurrency=2",
                                                     "rate=20/s"]
    lv = doc["levels"][0]
    assert lv["completed"] == 4 and lv["ttft_ms"]["median"] >= 15  # 20 ms scripted first delay
    assert lv["ttfb_ms"]["median"] < lv["ttft_ms"]["median"]  # role chunk arrives first
    assert lv["good_requests"] == 0  # a 1 ms TTFT bound nobody meets
    assert "TTFT" in doc["definitions"] and doc["config"]["warmup_ok"] == 1
    codes = {f["code"] for f in doc["findings"]}
    assert {"MC581", "MC582"} <= codes
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") >= 5 and "TTFT vs concurrency" in page
    import re
    import xml.etree.ElementTree as ET
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        ET.fromstring(svg)  # every plot is well-formed SVG
    assert "http://" not in page.replace(server.url, "").replace("http://www.w3.org", "")


def test_bench_unreachable_server_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["bench", "http://127.0.0.1:9", "-m", "x", "-n", "1", "--warmup", "1", "-q"])
    assert rc == 2
    assert "cannot reach the endpoint" in capsys.readouterr().err
    assert main(["bench", "ftp://x", "-m", "x"]) == 2
    assert main(["bench", "http://127.0.0.1:9", "-m", "x", "--slo", "ttft"]) == 2


@pytest.mark.parametrize("argv", [
    ["probe", "http://127.0.0.1:9", "-m", "x", "-q"],
    ["baseline", "http://127.0.0.1:9", "-m", "x", "-o", "/dev/null", "-q"],
])
def test_every_serving_command_stops_on_an_unreachable_server(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot reach the endpoint" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("tokenize", [True, False])
def test_input_tokens_from_the_server_tokenizer_else_estimated(tokenize: bool) -> None:
    s = ScriptedServer(tokenize=tokenize)
    with s:
        async def go():
            async with _client(s) as c:
                return await closed_loop(c, PromptSource(16, 4, 0),
                                         BenchConfig(num_requests=3, warmup=0), 1)

        level = asyncio.run(go())
    assert len(s.requests) == 3  # tokenize calls are not timed requests
    source = level.summary.token_sources["input"]
    if tokenize:
        assert source == {"tokenized": 3}
        words = [len(m["content"].split()) for r in s.requests for m in r["messages"]]
        assert sorted(m.input_tokens for m in level.requests) == sorted(words)
    else:
        assert source == {"estimated": 3}


def test_bench_all_failed_is_exit_1() -> None:
    s = ScriptedServer(default=Script(status=503))
    with s:
        rc = main(["bench", s.url, "-m", "x", "-n", "2", "--warmup", "0", "-q", "--json"])
    assert rc == 1


def test_word_edit_distance() -> None:
    assert word_edit_distance("a b c d", "a b c d") == 0.0
    assert word_edit_distance("a b c d", "a x c d") == pytest.approx(0.25)
    assert word_edit_distance("a b c d", "a b c") == pytest.approx(0.25)
    assert word_edit_distance("", "") == 0.0 and word_edit_distance("a", "") == 1.0


def test_baseline_and_drift(server: ScriptedServer, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "base.json"
    assert main(["baseline", server.url, "-m", "scripted", "-o", str(base), "-q"]) == 0
    doc = load_baseline(base)
    assert doc["params"]["temperature"] == 0.0 and doc["params"]["seed"] == 1234
    assert {r["temperature"] for r in server.requests[-len(doc["items"]):]} == {0.0}
    capsys.readouterr()
    assert main(["drift", server.url, "-b", str(base), "-q", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["summary"]["drifted"] == 0 and res["summary"]["exact"] == len(doc["items"])
    # Tamper with two saved outputs: drift must notice and exit 1.
    doc["items"][0]["output"] = "something else entirely"
    doc["items"][1]["output"] = doc["items"][1]["output"] + " extra"
    base.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["drift", server.url, "-b", str(base), "-q", "--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    assert res["summary"]["drifted"] == 2
    assert [f["code"] for f in res["findings"]] == ["MC594", "MC594"]
    # a loose threshold plus a drift budget accepts the small change only
    assert main(["drift", server.url, "-b", str(base), "-q", "--threshold", "0.5",
                 "--max-drift", "0.1"]) == 0


def test_bad_baseline_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text('{"kind": "something"}', encoding="utf-8")
    assert main(["drift", "http://127.0.0.1:9", "-b", str(bad)]) == 2
    bad.write_text("not json", encoding="utf-8")
    assert main(["drift", "http://127.0.0.1:9", "-b", str(bad)]) == 2
