"""Serving metrics against a hand-computed example on recorded chunk timings."""

from __future__ import annotations

import pytest

from modelclear.errors import InputError
from modelclear.serving.client import Chunk, Completion
from modelclear.serving.metrics import (
    SLO,
    Stats,
    parse_slo,
    percentile,
    request_metrics,
    summarise,
    token_split,
)


def _recorded(start: float, usage: dict | None = None) -> Completion:
    # Recorded timings (seconds): request sent at `start`, first byte (role-only chunk) 50 ms
    # later, four token-bearing chunks at +200, +250, +350, +400 ms, [DONE] at +450 ms.
    return Completion(
        start=start,
        first_byte=start + 0.050,
        end=start + 0.450,
        chunks=[
            Chunk(start + 0.200, "Hello"),
            Chunk(start + 0.250, " world"),
            Chunk(start + 0.350, "!"),
            Chunk(start + 0.400, " Bye"),
        ],
        text="Hello world! Bye",
        usage=usage,
    )


def test_single_request_counted_tokens() -> None:
    m = request_metrics(_recorded(10.0), origin=10.0, input_estimate=12)
    assert m.ok
    assert m.ttfb == pytest.approx(0.050)
    assert m.ttft == pytest.approx(0.200)  # the role-only first byte is not a token
    assert m.e2el == pytest.approx(0.450)
    # TPOT excludes the first token: (450 - 200) / (4 - 1) = 83.33 ms
    assert m.tpot == pytest.approx(0.250 / 3)
    assert m.itl_chunk == pytest.approx((0.050, 0.100, 0.050))
    assert m.itl_token == pytest.approx((0.050, 0.100, 0.050))
    assert (m.output_tokens, m.output_source) == (4, "counted")
    assert (m.input_tokens, m.input_source) == (12, "estimated")


def test_single_request_usage_multi_token_chunks() -> None:
    rec = _recorded(0.0, usage={"prompt_tokens": 20, "completion_tokens": 6})
    m = request_metrics(rec, origin=0.0)
    # 6 tokens over chunks of 5, 6, 1, 4 characters: one each, then the two extra tokens go
    # by (length - 1) shares 4/12, 5/12, 0, 3/12 of 2 → largest remainders: chunks 1 and 0.
    assert token_split([5, 6, 1, 4], 6) == [2, 2, 1, 1]
    assert (m.output_tokens, m.output_source) == (6, "usage")
    assert (m.input_tokens, m.input_source) == (20, "usage")
    assert m.tpot == pytest.approx(0.250 / 5)  # 50 ms
    # chunk 1 (2 tokens) after 50 ms → 25, 25; chunk 2 after 100 ms; chunk 3 after 50 ms
    assert m.itl_token == pytest.approx((0.025, 0.025, 0.100, 0.050))
    assert m.itl_chunk == pytest.approx((0.050, 0.100, 0.050))


def test_level_summary_hand_computed() -> None:
    a = request_metrics(_recorded(0.0), origin=0.0, input_estimate=12)
    b = request_metrics(
        _recorded(0.5, usage={"prompt_tokens": 20, "completion_tokens": 6}), origin=0.0
    )
    failed = request_metrics(
        Completion(start=0.1, end=0.2, error="HTTP 503: busy", status=503), origin=0.0
    )
    s = summarise("concurrency=2", "concurrency", 2, [a, b, failed], duration=1.0,
                  slo=SLO(ttft_ms=250, tpot_ms=60))
    assert (s.requests, s.completed, s.failed) == (3, 2, 1)
    assert s.errors == {"HTTP 503": 1}
    assert s.request_throughput == pytest.approx(2.0)
    assert s.output_throughput == pytest.approx(10.0)  # 4 + 6 tokens in 1 s
    assert s.total_token_throughput == pytest.approx(42.0)  # + 12 + 20 input tokens
    # a: TPOT 83.3 ms > 60 → misses; b: TTFT 200 ms, TPOT 50 ms → meets
    assert s.good_requests == 1
    assert s.goodput == pytest.approx(1.0)
    assert s.ttft_ms.mean == pytest.approx(200.0)
    assert s.tpot_ms.mean == pytest.approx((250 / 3 + 50) / 2)
    assert s.tpot_ms.median == pytest.approx((250 / 3 + 50) / 2)
    # ITL per chunk pooled over requests: 50, 100, 50, 50, 100, 50 ms
    assert s.itl_ms.mean == pytest.approx(400 / 6)
    assert s.itl_ms.percentiles["p90"] == pytest.approx(100.0)
    assert s.e2el_ms.percentiles["p99"] == pytest.approx(450.0)
    assert s.token_sources == {"input": {"estimated": 1, "usage": 1},
                               "output": {"counted": 1, "usage": 1}}


def test_percentile_matches_numpy_linear() -> None:
    np = pytest.importorskip("numpy")
    vals = [3.0, 10.0, 20.0, 30.0, 40.0, 41.5, 100.0]
    for p in (0, 10, 50, 90, 99, 100):
        assert percentile(vals, p) == pytest.approx(float(np.percentile(vals, p)))
    assert percentile([10.0, 20.0, 30.0, 40.0], 90) == pytest.approx(37.0)
    st = Stats.of([0.01, 0.02], scale=1000)
    assert st.mean == pytest.approx(15.0) and st.std == pytest.approx(5.0)


def test_one_token_output_has_no_tpot_and_zero_tokens_no_ttft() -> None:
    rec = Completion(start=0.0, first_byte=0.01, end=0.3, chunks=[Chunk(0.2, "Hi")])
    m = request_metrics(rec, 0.0)
    assert m.tpot is None and m.ttft == pytest.approx(0.2) and m.itl_chunk == ()
    assert SLO(tpot_ms=1).met(m)  # a one-token output's TPOT counts as 0, as in vLLM
    empty = request_metrics(Completion(start=0.0, first_byte=0.1, end=0.2), 0.0)
    assert empty.ok and empty.ttft is None and empty.output_tokens == 0


def test_reasoning_chunks_count_as_tokens() -> None:
    rec = Completion(start=0.0, end=0.5, chunks=[Chunk(0.1, reasoning="think"),
                                                 Chunk(0.3, content="answer")])
    m = request_metrics(rec, 0.0)
    assert m.ttft == pytest.approx(0.1) and m.output_tokens == 2


def test_parse_slo() -> None:
    assert parse_slo("ttft:500, tpot:50,e2el:5000") == SLO(500, 50, 5000)
    assert parse_slo("e2el:100") == SLO(e2el_ms=100)
    for bad in ("ttft", "foo:1", "ttft:x", "ttft:-1", "ttft:nan"):
        with pytest.raises(InputError):
            parse_slo(bad)
