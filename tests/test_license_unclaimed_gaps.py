"""Unclaimed word ranges come from the gaps between matched regions, not a word mask.

Checked against the mask reading it replaced: mark every region's words (clipped to
the file), then take the maximal runs of unmarked words.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.license.identify import Region, _gaps


def _region(a: int, b: int) -> Region:
    return Region(None, a, b, "partial", 0.5, 0.5, 0.5, (), 0, 0)  # type: ignore[arg-type]


def _mask_runs(n: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    taken = [False] * n
    for a, b in spans:
        for i in range(max(a, 0), min(b + 1, n)):
            taken[i] = True
    out: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if taken[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and not taken[j + 1]:
            j += 1
        out.append((i, j))
        i = j + 1
    return out


_SPAN = st.tuples(st.integers(-5, 70), st.integers(-5, 70))


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 60), st.lists(_SPAN, max_size=6))
def test_gaps_are_the_unmarked_runs(n: int, spans: list[tuple[int, int]]) -> None:
    assert _gaps(n, [_region(a, b) for a, b in spans]) == _mask_runs(n, spans)


def test_gaps_examples() -> None:
    assert _gaps(10, []) == [(0, 9)]
    assert _gaps(10, [_region(0, 9)]) == []
    assert _gaps(10, [_region(2, 3), _region(3, 5), _region(8, 20)]) == [(0, 1), (6, 7)]
    assert _gaps(0, [_region(0, 3)]) == []
