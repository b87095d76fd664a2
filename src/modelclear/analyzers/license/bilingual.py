"""Bilingual license texts: read each language version alone, report a duty either states.

Chinese publishers often ship one file with a Chinese and an English version of the
same license, and the two are not always the same text: a duty may sit in one
version only, or a number may differ. Reading the mixed text as one document lets
the first version's clause hide the other's, so each version is read on its own,
with the other language's lines blanked (line numbers, and so the evidence, stay
the file's). The reported value is the stricter of the two readings (fail closed),
and every term the versions read differently is kept for an MC214 finding.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal, NamedTuple

from .model import TERM_NAMES, LanguageDifference, Term
from .normalize import lines_of

Language = Literal["en", "zh"]

#: every byte value but the high bytes of UTF-16 code units U+3400-U+9FFF, U+F900-U+FAFF
_NOT_CJK_HIGH = bytes(b for b in range(256) if not (0x34 <= b <= 0x9F or 0xF9 <= b <= 0xFA))
#: every byte value but an ASCII letter's
_NOT_LATIN = bytes(b for b in range(256) if not (65 <= b <= 90 or 97 <= b <= 122))
#: a version needs this much text of its own to count as a version, not a quoted name
_MIN_CJK = 150
_MIN_LATIN = 400
#: one ideograph carries about as much as three Latin letters
_CJK_WEIGHT = 3

_UP_TO_3 = r"(?:\w+\W+){0,3}?"
_PREVAILS = {
    "zh": re.compile(
        rf"以中文(?:版本?|文本)?为准|chinese (?:version|text)\W+{_UP_TO_3}(?:prevail|govern)",
        re.IGNORECASE,
    ),
    "en": re.compile(
        rf"以英文(?:版本?|文本)?为准|english (?:version|text)\W+{_UP_TO_3}(?:prevail|govern)",
        re.IGNORECASE,
    ),
}

#: how permissive a value is (higher = more permissive); the stricter reading is reported
_RANK: dict[str, dict[object, int]] = {
    "commercial_use": {"no": 0, "unclear": 0, "conditional": 1, "yes": 2},
    "fine_tuning_allowed": {"no": 0, "unclear": 0, "conditional": 1, "yes": 2},
    "use_outputs_to_train_other_models": {
        "prohibited": 0, "unclear": 0, "restricted": 1, "unmentioned": 2, "allowed": 2,
    },
    "requires_registration_or_approval": {
        "yes": 0, "for_commercial": 1, "above_threshold": 2, "no": 3,
    },
    "attribution_required": {"yes": 0, "no": 1},
    "acceptable_use_policy": {"yes": 0, "no": 1},
}
#: terms whose value is our own summary wording: compared by presence only
_BY_PRESENCE = ("redistribution_conditions", "governing_law", "other_scale_threshold")


class Versions(NamedTuple):
    """The file's text with only English lines, and with only Chinese lines."""

    en: str
    zh: str
    prevailing: Language | None


def _cjk_count(text: str) -> int:
    """How many characters of ``text`` are CJK ideographs (U+3400-U+9FFF, U+F900-U+FAFF).

    Counted in C on the high bytes of the UTF-16 code units (a character outside the
    BMP is two surrogate units, whose high bytes D8-DF are not counted): the regex class
    of these 27,000 code points costs ``re`` ~4 ms to compile in every process."""
    if text.isascii():
        return 0
    units = text.encode("utf-16-be", "surrogatepass")
    return len(units[0::2].translate(None, _NOT_CJK_HIGH))


def _latin_count(text: str) -> int:
    """How many characters of ``text`` are ASCII letters (in C, no list of matches)."""
    return len(text.encode("ascii", "ignore").translate(None, _NOT_LATIN))


def _language(cjk: int, latin: int) -> Language | None:
    """The language of a line with ``cjk`` ideographs and ``latin`` ASCII letters."""
    if cjk and cjk * _CJK_WEIGHT >= latin:
        return "zh"
    return "en" if latin else None


def split_versions(text: str) -> Versions | None:
    """The two language versions of a bilingual text, or None for a one-language text.

    A line belongs to the language most of its letters are in; lines of neither
    (numbers, rules, blank) stay in both versions.
    """
    if _cjk_count(text) < _MIN_CJK:
        return None  # most texts: no Chinese version, decided in one pass
    lines = lines_of(text, keepends=True)
    counts = [(_cjk_count(line), _latin_count(line)) for line in lines]
    langs = [_language(*c) for c in counts]
    cjk = sum(c for (c, _), lg in zip(counts, langs, strict=True) if lg == "zh")
    latin = sum(n for (_, n), lg in zip(counts, langs, strict=True) if lg == "en")
    if cjk < _MIN_CJK or latin < _MIN_LATIN:
        return None

    def keep(lang: Language) -> str:
        return "".join(
            ln if lg in (lang, None) else ln[len(ln.rstrip("\r\n")) :]
            for ln, lg in zip(lines, langs, strict=True)
        )

    prevailing: Language | None = None
    for lang, pattern in _PREVAILS.items():
        if pattern.search(text):
            prevailing = lang  # type: ignore[assignment]
            break
    return Versions(keep("en"), keep("zh"), prevailing)


def _silent(t: Term) -> bool:
    return t.value is None or (t.evidence is None and t.value in ("no", "unmentioned"))


def merge(
    en: dict[str, Term], zh: dict[str, Term], prevailing: Language | None
) -> tuple[dict[str, Term], list[LanguageDifference]]:
    """One reading from two: a duty either version states is reported, the stricter
    value wins, and each term the versions read differently is listed."""
    out: dict[str, Term] = {}
    diffs: list[LanguageDifference] = []
    first, second = (zh, en) if prevailing == "zh" else (en, zh)
    for name in TERM_NAMES:
        a, b = first.get(name, Term()), second.get(name, Term())
        chosen, differ = _pick(name, a, b)
        out[name] = chosen
        if differ:
            e, z = en.get(name, Term()), zh.get(name, Term())
            diffs.append(
                LanguageDifference(
                    term=name,
                    english=e.value,
                    chinese=z.value,
                    reported=chosen.value,
                    english_evidence=e.evidence,
                    chinese_evidence=z.evidence,
                )
            )
    diffs.sort(key=lambda d: d.term)
    return out, diffs


def _pick(name: str, a: Term, b: Term) -> tuple[Term, bool]:
    """The value to report from readings ``a`` (the prevailing version) and ``b``."""
    if _silent(a) and _silent(b):
        return a, False
    # one version states what the other does not: report it, and say so when it is a
    # term whose silence means something (no duty, no restriction)
    if _silent(b):
        return a, name in _RANK
    if _silent(a):
        return b, name in _RANK
    if name in _BY_PRESENCE:
        return a, False
    if a.value == b.value:
        return a, False
    rank = _RANK.get(name)
    if rank is not None and rank.get(b.value, 9) < rank.get(a.value, 9):
        return _with_other(b, a), True
    return _with_other(a, b), True


def _with_other(kept: Term, other: Term) -> Term:
    """``kept`` with the other version's clause quoted beside it."""
    if other.evidence is None:
        return kept
    also = f"the other language version says {other.value!r}: \u201c{other.evidence.quote}\u201d"
    detail = f"{kept.detail}; {also}" if kept.detail else also
    return replace(kept, detail=detail)
