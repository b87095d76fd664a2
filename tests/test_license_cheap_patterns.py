"""Patterns replaced by cheaper equivalents must still mean the same thing.

``re`` compiles a character class of a CJK range one code point at a time, which every
process paid at import; the bilingual splitter now counts ideographs on UTF-16 high
bytes instead. Counting is per character, so checking every code point alone proves
the count equal on any text.
"""

from __future__ import annotations

import re

from modelclear.analyzers.license.bilingual import _cjk_count, _latin_count

_CLASS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def test_cjk_count_agrees_with_the_class_on_every_code_point() -> None:
    chars = "".join(map(chr, range(0x110000)))
    assert _cjk_count(chars) == len(_CLASS.findall(chars))
    step = 4096  # and piecewise, so that a miss cannot hide behind a compensating extra
    for at in range(0, len(chars), step):
        piece = chars[at : at + step]
        assert _cjk_count(piece) == len(_CLASS.findall(piece)), hex(at)


def test_cjk_count_on_mixed_text() -> None:
    assert _cjk_count("") == 0
    assert _cjk_count("plain ASCII") == 0
    assert _cjk_count("许可协议 License ©") == 4
    assert _cjk_count("\U00020000\ud800豈\ufb00") == 1  # outside the BMP, lone surrogate


def test_latin_count_is_the_number_of_ascii_letters() -> None:
    letters = re.compile(r"[A-Za-z]")
    chars = "".join(map(chr, range(0x110000)))
    assert _latin_count(chars) == len(letters.findall(chars)) == 52
    for text in ["", "abc XYZ", "Ａｂｃ ſ K é 中文 abc", "\ud800a", "a_b-1"]:
        assert _latin_count(text) == len(letters.findall(text)), text
