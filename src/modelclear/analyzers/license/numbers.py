"""Quantities in license prose: user counts, revenue, devices, with their unit.

Licenses state thresholds in every style ("100 million", "700,000,000",
"US $1,000,000", "one hundred million", "1亿"); a threshold is only useful as
an integer with a unit (monthly active users vs. daily users vs. money), so we
parse the number and classify what follows or precedes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SMALL = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "a": 1,
    "an": 1,
}
_SCALE = {
    "hundred": 100,
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "millions": 10**6,
    "mm": 10**6,
    "m": 10**6,
    "mn": 10**6,
    "billion": 10**9,
    "billions": 10**9,
    "bn": 10**9,
    "b": 10**9,
    "trillion": 10**12,
    "万": 10**4,
    "亿": 10**8,
}
_WORDS = "|".join(sorted((w for w in _SMALL if len(w) > 2), key=len, reverse=True))
_SCALES = r"hundred|thousand|millions?|billions?|trillion|mm|mn|bn|k|m|b|万|亿"

# 700,000,000 | 1.5 | 100 | 1 000 000 ; optionally followed by a scale word
_NUMERIC = (
    r"(?P<num>\d{1,3}(?:[,\u00a0 ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"\s*(?P<scale>(?:{_SCALES})\b|万|亿)?"
)
_WORDY = (
    rf"(?P<words>(?:(?:{_WORDS})(?:[\s-]+|$))+"
    rf"(?:(?:hundred|thousand|million|billion|trillion)(?:[\s-]+(?:and\s+)?(?:{_WORDS}))*[\s-]*)+)"
)

# Chinese numerals, alone or after digits: 一亿, 五千万, 三千五百万, 1亿, 100万, 1,000万, 1.5亿.
# At least one unit character (十百千万亿) is required: a lone 一 is a word ("一个"), not
# a number. Chinese prose puts no space before a number, so no word boundary is asked.
_ZH_DIGITS = "零〇一二两三四五六七八九"
_ZH_UNITS = "十百千万亿"
_ZH = (
    r"(?P<zh>(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)?"
    rf"[{_ZH_DIGITS}]*[{_ZH_UNITS}][{_ZH_DIGITS}{_ZH_UNITS}]*)"
)
# a number may follow a CJK character directly ("超过1亿"), but not a Latin letter or digit
NUMBER = re.compile(
    rf"(?<![0-9A-Za-z_.]){_ZH}|(?<![0-9A-Za-z_.]){_NUMERIC}|\b{_WORDY}", re.IGNORECASE
)

_CURRENCY_BEFORE = re.compile(
    r"(?:人民币|美元|US\s*\$|USD\s*\$?|U\.S\.\s*\$|\$|€|EUR\s*|£|GBP\s*|RMB\s*|CNY\s*|¥|JPY\s*|SGD\s*\$?)\s*$",
    re.IGNORECASE,
)
_CURRENCY_AFTER = re.compile(
    r"^\s*(?:\(?(?:US|U\.S\.)\s*dollars?|dollars?|usd|euros?|eur|pounds?|rmb|cny|yuan|renminbi|"
    r"yen|[美欧日港]?元|人民币)",
    re.IGNORECASE,
)
# Chinese units: 1亿月活跃用户 / 月活跃用户数超过1亿 (no spaces, the unit often first)
_ZH_GAP = r"[^\s。；！？，,\n]{0,4}?"
_ZH_COMPARE = r"(?:数量?|人数)?(?:超过|达到|多于|高于|大于|逾|在|不超过|低于|少于)?\s*$"
_UNIT_AFTER = [
    ("monthly_active_users", re.compile(rf"^\W{{0,3}}{_ZH_GAP}(?:月度?活跃用户|月活)")),
    ("daily_active_users", re.compile(rf"^\W{{0,3}}{_ZH_GAP}(?:日活跃用户|日活)")),
    ("active_users", re.compile(rf"^\W{{0,3}}{_ZH_GAP}(?:活跃)?用户")),
    (
        "monthly_active_users",
        re.compile(r"^\W{0,3}(?:\w+\s+){0,3}?monthly\s+active\s+users?", re.I),
    ),
    ("monthly_active_users", re.compile(r"^\W{0,3}(?:\w+\s+){0,2}?MAUs?\b")),
    ("daily_active_users", re.compile(r"^\W{0,3}(?:\w+\s+){0,3}?daily\s+active\s+users?", re.I)),
    ("daily_active_users", re.compile(r"^\W{0,3}(?:\w+\s+){0,2}?DAUs?\b")),
    ("active_users", re.compile(r"^\W{0,3}(?:\w+\s+){0,3}?(?:active\s+)?users?\b", re.I)),
    ("devices", re.compile(r"^\W{0,3}(?:\w+\s+){0,2}?(?:devices|installations|units)\b", re.I)),
    ("visits", re.compile(r"^\W{0,3}(?:\w+\s+){0,3}?(?:visits|visitors|page\s*views)\b", re.I)),
    ("api_calls", re.compile(r"^\W{0,3}(?:\w+\s+){0,3}?(?:api\s+calls|requests|tokens)\b", re.I)),
]
_LINK = (
    r"(?:\s*\(\w+\))?(?:\s+(?:of|is|are|was|exceeds?|exceeding|reach(?:es)?|surpass(?:es)?|"
    r"over|above|at|least|more|greater|than|in|excess|the|number|total|count))*\s*$"
)
_UNIT_BEFORE = [
    ("monthly_active_users", re.compile(r"(?:月度?活跃用户|月活)" + _ZH_COMPARE)),
    ("daily_active_users", re.compile(r"(?:日活跃用户|日活)" + _ZH_COMPARE)),
    ("active_users", re.compile(r"(?:活跃)?用户" + _ZH_COMPARE)),
    ("monthly_active_users", re.compile(r"\bmonthly\s+active\s+users?" + _LINK, re.I)),
    ("monthly_active_users", re.compile(r"\bMAUs?" + _LINK)),
    ("daily_active_users", re.compile(r"\bdaily\s+active\s+users?" + _LINK, re.I)),
    ("daily_active_users", re.compile(r"\bDAUs?" + _LINK)),
    ("active_users", re.compile(r"\b(?:active\s+)?users?" + _LINK, re.I)),
]
_PERIOD = [
    ("month", re.compile(r"每月|月度|(?<![年日])月收入")),
    ("year", re.compile(r"每年|年度|年收入|年营业|年营收")),
    ("day", re.compile(r"每日|每天")),
    ("month", re.compile(r"\b(?:per\s+month|a\s+month|each\s+month|monthly|/\s*month)\b", re.I)),
    (
        "year",
        re.compile(
            r"\b(?:per\s+(?:year|annum)|a\s+year|each\s+year|annual(?:ly)?|yearly|/\s*year)\b", re.I
        ),
    ),
    ("day", re.compile(r"\b(?:per\s+day|a\s+day|daily)\b", re.I)),
]


@dataclass(frozen=True)
class Quantity:
    """A number found in text, with what it counts."""

    value: int
    unit: str  # monthly_active_users | daily_active_users | active_users | currency |
    # devices | visits | api_calls | number
    currency: str | None
    period: str | None  # month | year | day | None
    start: int  # character span in the text searched
    end: int
    text: str


def _from_words(phrase: str) -> int | None:
    total = current = 0
    seen = False
    for w in re.split(r"[\s-]+", phrase.lower().strip()):
        if not w or w == "and":
            continue
        if w in _SMALL:
            current += _SMALL[w]
            seen = True
        elif w == "hundred":
            current = max(current, 1) * 100
            seen = True
        elif w in _SCALE:
            total += max(current, 1) * _SCALE[w]
            current = 0
            seen = True
        else:
            return None
    return total + current if seen else None


_ZH_DIGIT_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_ZH_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
_ARABIC_HEAD = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _from_chinese(phrase: str) -> int | None:
    """A Chinese numeral, possibly led by digits: 一亿 → 10**8, 五千万 → 5*10**7,
    三千五百万 → 35*10**6, 1,000万 → 10**7, 1.5亿 → 15*10**7, 十万 → 10**5.

    Read left to right in three registers, as the notation is built: a section below
    ten thousand (digits times 十/百/千), a 万 register and everything before a 亿.
    """
    total = 0.0  # whole 亿 groups already closed
    wan = 0.0  # the 万 part of the current 亿 group
    section = 0.0  # below 万
    number: float | None = None  # the digit waiting for its unit
    i = 0
    head = _ARABIC_HEAD.match(phrase)
    if head:
        number = float(head.group().replace(",", ""))
        i = head.end()
    for ch in phrase[i:]:
        if ch in _ZH_DIGIT_VALUE:
            number = float(_ZH_DIGIT_VALUE[ch])
        elif ch in _ZH_SMALL_UNIT:
            section += (1.0 if number is None else number) * _ZH_SMALL_UNIT[ch]
            number = None
        elif ch == "万":
            wan += (section + (number or 0.0) or 1.0) * 10**4
            section, number = 0.0, None
        elif ch == "亿":
            total = (total + wan + section + (number or 0.0) or 1.0) * 10**8
            wan, section, number = 0.0, 0.0, None
        else:
            return None
    return int(round(total + wan + section + (number or 0.0)))


def parse_number(text: str) -> int | None:
    """The integer a number phrase means: "100 million" → 100000000, "700,000,000",
    "1.5 billion", "20M", "one hundred million", "1亿", "一亿", "五千万", "1,000万";
    None if it holds no number. This is the one reader of numbers in license prose."""
    m = NUMBER.search(text)
    if not m:
        return None
    return _value(m)


def _value(m: re.Match[str]) -> int | None:
    if m.group("zh"):
        return _from_chinese(m.group("zh"))
    if m.group("num"):
        digits = re.sub(r"[,\u00a0 ]", "", m.group("num"))
        try:
            base = float(digits)
        except ValueError:
            return None
        scale = m.group("scale")
        mult = _SCALE.get(scale.lower() if scale else "", 1) if scale else 1
        return int(round(base * mult))
    words = m.group("words")
    return _from_words(words) if words else None


def find_quantities(text: str) -> list[Quantity]:
    """Every number in `text` with its unit (users, money…) and period.

    A bare single letter scale ("m", "b", "k") only counts right after a digit, and
    plain small numbers that are clause labels or years are reported as unit "number".
    """
    out: list[Quantity] = []
    for m in NUMBER.finditer(text):
        value = _value(m)
        if value is None:
            continue
        start, end = m.start(), m.end()
        raw = m.group()
        if m.group("words") and raw.strip().lower() in ("a", "an"):
            continue
        before = text[max(0, start - 12) : start]
        after = text[end : end + 80]
        currency = None
        cb = _CURRENCY_BEFORE.search(before)
        ca = _CURRENCY_AFTER.search(after)
        if cb:
            currency = _currency_code(cb.group())
        elif ca:
            currency = _currency_code(ca.group())
        unit = "number"
        if currency:
            unit = "currency"
        else:
            for name, pattern in _UNIT_AFTER:
                if pattern.search(after):
                    unit = name
                    break
            else:
                # "daily active users (DAU) exceed 1 million": the unit came first
                for name, pattern in _UNIT_BEFORE:
                    if pattern.search(text[max(0, start - 70) : start]):
                        unit = name
                        break
        window = text[max(0, start - 60) : end + 60]
        period = None
        for name, pattern in _PERIOD:
            if pattern.search(window):
                period = name
                break
        if unit in ("monthly_active_users",):
            period = "month"
        elif unit == "daily_active_users":
            period = "day"
        out.append(Quantity(value, unit, currency, period, start, end, raw.strip()))
    return out


def _currency_code(s: str) -> str:
    s = s.lower()
    if "€" in s or "eur" in s:
        return "EUR"
    if "£" in s or "gbp" in s or "pound" in s:
        return "GBP"
    if "rmb" in s or "cny" in s or "yuan" in s or "renminbi" in s or "元" in s:
        return "CNY"
    if "yen" in s or "jpy" in s or "¥" in s:
        return "JPY"
    if "sgd" in s:
        return "SGD"
    return "USD"
