"""A lazily compiled pattern answers exactly as the compiled one, and compiles once."""

from __future__ import annotations

import re

from modelclear.analyzers.license.lazy import LazyPattern

_TEXT = "Licensed under the Apache License 2.0; see http://x.y/z (and MIT).\nLICENSED under GPL."


def test_lazy_pattern_matches_the_compiled_one() -> None:
    for source, flags in [(r"licen[cs]ed\s+under\s+(\w+)", re.IGNORECASE), (r"\([^)]*\)", 0)]:
        lazy, real = LazyPattern(source, flags), re.compile(source, flags)
        assert lazy._compiled is None  # nothing compiled until used
        assert lazy.findall(_TEXT) == real.findall(_TEXT)
        assert [m.span() for m in lazy.finditer(_TEXT, 3)] == [
            m.span() for m in real.finditer(_TEXT, 3)
        ]
        assert lazy.sub("_", _TEXT) == real.sub("_", _TEXT)
        found, expected = lazy.search(_TEXT, 5, 60), real.search(_TEXT, 5, 60)
        assert (found and found.span()) == (expected and expected.span())
        assert lazy.compiled is lazy.compiled  # compiled once
