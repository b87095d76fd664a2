"""The detectors' phrases (``data/license_patterns.toml``), compiled, and how to run them.

A misspelt keyword must not hide a clause, and a pattern that cannot match a text
must not cost time on it: the speller and the literal prefilter live here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .model import Evidence, Term

if TYPE_CHECKING:  # Doc respells its text with this module's speller
    from .doc import Doc

# --------------------------------------------------------------------------- patterns


class Speller:
    """Reads a word one typo away from exactly one detector word as that word.

    Only same-length corrections (one substituted letter or two swapped
    neighbours) are made, so the normalized text keeps its length and its map
    back to the original characters; quotes still show the file's own spelling.
    """

    def __init__(self, vocabulary: set[str]) -> None:
        self.vocab = frozenset(w for w in vocabulary if len(w) >= 5)
        self.longest = max((len(w) for w in self.vocab), default=0)
        self._subst: dict[tuple[int, str], set[str]] = {}
        self._anagram: dict[str, set[str]] = {}
        for w in self.vocab:
            for i in range(len(w)):
                self._subst.setdefault((i, w[:i] + w[i + 1 :]), set()).add(w)
            self._anagram.setdefault("".join(sorted(w)), set()).add(w)

    def correct(self, word: str) -> str | None:
        if len(word) > self.longest:
            return None
        found: set[str] = set()
        for i in range(len(word)):
            found |= self._subst.get((i, word[:i] + word[i + 1 :]), set())
        for w in self._anagram.get("".join(sorted(word)), ()):
            diff = [k for k in range(len(w)) if w[k] != word[k]]
            if len(diff) == 2 and diff[1] == diff[0] + 1:
                found.add(w)
        found.discard(word)
        return next(iter(found)) if len(found) == 1 else None

    def respell(self, norm: str) -> str:
        counts: dict[str, int] = {}
        for m in _WORD.finditer(norm):
            counts[m.group()] = counts.get(m.group(), 0) + 1
        fixes: dict[str, str] = {}
        for word, n in counts.items():
            # a typo is rare; a word the text uses often is its own word
            if n > 2 or word in self.vocab:
                continue
            fixed = self.correct(word)
            if fixed is not None:
                fixes[word] = fixed
        if not fixes:
            return norm
        return _WORD.sub(lambda m: fixes.get(m.group(), m.group()), norm)


_WORD = re.compile(r"(?<![a-z])[a-z]{5,}(?![a-z])")


@dataclass(frozen=True)
class Patterns:
    raw: dict[str, Any]
    places: dict[str, str]

    @cached_property
    def speller(self) -> Speller:
        words: set[str] = set(self.raw.get("spelling", {}).get("extra", ()))

        def walk(node: Any) -> None:
            if isinstance(node, str):
                # literal words of a pattern, not regex syntax
                clean = re.sub(r"\\[a-zA-Z]", " ", node)
                words.update(re.findall(r"(?<![a-z\])?])[a-z]{5,}(?![a-z\[(?])", clean))
            elif isinstance(node, dict):
                for k, v in node.items():
                    if k != "summary":  # our prose, not a pattern
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk({k: v for k, v in self.raw.items() if k not in ("places", "macros", "spelling")})
        return Speller(words)

    def compile(self, pattern: str) -> re.Pattern[str]:
        return _compile(pattern, self._macro_key)

    @cached_property
    def _macro_key(self) -> tuple[tuple[str, str], ...]:
        macros = dict(self.raw.get("macros", {}))
        names = sorted(self.places, key=len, reverse=True)
        macros["PLACE"] = "(?:" + "|".join(re.escape(n) for n in names) + ")"
        return tuple(macros.items())

    def list(self, section: str, key: str) -> list[re.Pattern[str]]:
        return [self.compile(p) for p in self.raw[section][key]]


@lru_cache(maxsize=512)
def _compile(pattern: str, macros: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    for name, value in macros:
        pattern = pattern.replace(f"<{name}>", value)
    compiled = re.compile(pattern)
    need = _mandatory_literal(compiled)
    if need:
        _NEEDS[compiled] = need
    return compiled


#: the longest literal every match of a pattern contains: a pattern whose literal is
#: absent from a text cannot match it, so it is not run (some patterns have nested
#: sentence gaps, slow on long runs of their first words)
_NEEDS: dict[re.Pattern[str], str] = {}


def _mandatory_literal(pattern: re.Pattern[str]) -> str | None:
    try:
        from re import _constants as sre_constants  # type: ignore[attr-defined]
        from re import _parser as sre_parse  # type: ignore[attr-defined]

        tree = sre_parse.parse(pattern.pattern, pattern.flags)
    except (ImportError, AttributeError, re.error):  # a Python without these internals
        return None
    best = cur = ""
    for op, av in tree:
        if op is sre_constants.LITERAL:
            cur += chr(av)
            continue
        if op is not sre_constants.AT:  # \b adds no character
            best, cur = max(best, cur, key=len), ""
    best = max(best, cur, key=len).strip()
    return best if len(best) >= 4 else None


def _runs(p: re.Pattern[str], text: str) -> bool:
    need = _NEEDS.get(p)
    return need is None or need in text


@lru_cache(maxsize=1)
def patterns() -> Patterns:
    data = resources.files("modelclear.data").joinpath("license_patterns.toml").read_text("utf-8")
    raw = tomllib.loads(data)
    return Patterns(raw=raw, places=dict(raw["places"]))


def first_hit(doc: Doc, pats: list[re.Pattern[str]]) -> re.Match[str] | None:
    best: re.Match[str] | None = None
    for p in pats:
        if not _runs(p, doc.norm):
            continue
        m = p.search(doc.norm)
        if m and (best is None or m.start() < best.start()):
            best = m
    return best


def all_hits(doc: Doc, pats: list[re.Pattern[str]]) -> Iterator[re.Match[str]]:
    seen: set[int] = set()
    hits = []
    for p in pats:
        if not _runs(p, doc.norm):
            continue
        for m in p.finditer(doc.norm):
            if m.start() not in seen:
                seen.add(m.start())
                hits.append(m)
    yield from sorted(hits, key=lambda m: m.start())


def any_hit(text: str, pats: list[re.Pattern[str]]) -> re.Match[str] | None:
    for p in pats:
        if not _runs(p, text):
            continue
        m = p.search(text)
        if m:
            return m
    return None


def term(value: Any, ev: Evidence | None = None, detail: str | None = None) -> Term:
    return Term(value=value, detail=detail, evidence=ev, source="extracted")


def hit_evidence(doc: Doc, m: re.Match[str]) -> Evidence:
    return doc.evidence(m.start(), m.end(), (m.start(), m.end()))
