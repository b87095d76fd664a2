"""Number parsing for license thresholds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.license.numbers import find_quantities, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100 million", 100_000_000),
        ("700,000,000", 700_000_000),
        ("1 million daily active users", 1_000_000),
        ("USD 20 million per month", 20_000_000),
        ("100,000 monthly active users", 100_000),
        ("1.5 billion", 1_500_000_000),
        ("US $1,000,000", 1_000_000),
        ("20M", 20_000_000),
        ("10k devices", 10_000),
        ("one hundred million users", 100_000_000),
        ("two thousand", 2_000),
        ("1亿", 100_000_000),
        ("5000万", 50_000_000),
        ("no number here", None),
    ],
)
def test_parse_number(text: str, value: int | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "unit", "currency", "period"),
    [
        ("more than 100 million monthly active users", "monthly_active_users", None, "month"),
        ("1 million daily active users", "daily_active_users", None, "day"),
        ("USD 20 million per month", "currency", "USD", "month"),
        ("more than 20 million US dollars in monthly revenue", "currency", "USD", "month"),
        ("annual revenue of less than US $1,000,000", "currency", "USD", "year"),
        ("EUR 5 million in annual turnover", "currency", "EUR", "year"),
        ("RMB 10 million", "currency", "CNY", None),
        ("over 50,000 devices", "devices", None, None),
        ("100,000 active users", "active_users", None, None),
        ("Section 2", "number", None, None),
    ],
)
def test_units(text: str, unit: str, currency: str | None, period: str | None) -> None:
    q = find_quantities(text)[0]
    assert (q.unit, q.currency, q.period) == (unit, currency, period)
    assert text[q.start : q.end].strip() == q.text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**12))
def test_comma_grouped_integers_round_trip(n: int) -> None:
    assert parse_number(f"{n:,}") == n
    assert parse_number(f"more than {n:,} users") == n


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_never_raises(text: str) -> None:
    for q in find_quantities(text):
        assert q.value >= 0
        assert 0 <= q.start <= q.end <= len(text)
