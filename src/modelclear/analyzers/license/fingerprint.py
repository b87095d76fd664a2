"""Fingerprints: how the catalog recognises a license text without holding it.

Three hashes per known text (design.md "License catalog without license texts"):

- ``sha256`` of the normalised word stream — an exact match, immune to layout;
- the ordered 32-bit hashes of every K-word shingle — similarity, containment
  (partial texts), version discrimination (Llama 3.2 vs 3.3 differ in a handful
  of shingles) and, because they are ordered, where a known text has gaps;
- the 32-bit hashes of each sentence — which sentences of a file are new
  against the catalog version and how many of the version's are missing.

32-bit CRCs are enough: a few hundred thousand catalog shingles against a few
thousand file shingles gives a chance collision far below one word per file.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .normalize import Words

K = 5  # shingle length in words
FORMAT = 2


def _h(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def word_hash(word: str) -> int:
    return _h(word)


_MULT = np.uint64(0x9E3779B1)  # odd 32-bit constant (golden ratio): mixes positions
_MASK = np.uint64(0xFFFFFFFF)


def shingles(ws: Words | list[str]) -> np.ndarray:
    """Hash of every run of K consecutive words, in order.

    Each distinct word is hashed once; a shingle's hash is a position-weighted sum of
    its words' hashes (mod 2**32) with a final avalanche step — vectorised, so a long
    file costs a few hundred microseconds instead of one string hash per position.
    """
    seq = ws.words if isinstance(ws, Words) else ws
    if not seq:
        return np.zeros(0, dtype=np.uint32)
    table: dict[str, int] = {}
    wh = np.fromiter(
        (table[w] if w in table else table.setdefault(w, _h(w)) for w in seq),
        dtype=np.uint64,
        count=len(seq),
    )
    if len(seq) < K:
        wh = np.concatenate((wh, np.zeros(K - len(seq), dtype=np.uint64)))
    n = len(wh) - K + 1
    acc = np.zeros(n, dtype=np.uint64)
    for k in range(K):
        acc = ((acc * _MULT) + wh[k : k + n]) & _MASK
    acc ^= acc >> np.uint64(16)
    acc = (acc * np.uint64(0x45D9F3B)) & _MASK
    acc ^= acc >> np.uint64(16)
    return acc.astype(np.uint32)


def sentence_hashes(ws: Words, first: int = 0, last: int | None = None) -> list[int]:
    """Hash of each sentence of at least three words within words ``first..last``."""
    last = len(ws) - 1 if last is None else last
    out: list[int] = []
    for a, b in ws.sentences():
        if b < first or a > last:
            continue
        a, b = max(a, first), min(b, last)
        if b - a >= 2:
            out.append(_h(" ".join(ws.words[a : b + 1])))
    return out


def text_sha256(word_list: list[str]) -> str:
    return hashlib.sha256(" ".join(word_list).encode("utf-8")).hexdigest()


def pack(values: list[int]) -> str:
    return base64.b64encode(np.asarray(values, dtype="<u4").tobytes()).decode("ascii")


def unpack(data: str) -> list[int]:
    return [int(v) for v in np.frombuffer(base64.b64decode(data), dtype="<u4")]


def _as_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    return int(value)


@dataclass(frozen=True)
class Fingerprint:
    """The fingerprint of one known text (a catalog entry may have several variants)."""

    license_id: str
    source: str  # where the text came from when the fingerprint was built
    sha256: str
    words: int
    shingles: np.ndarray = field(compare=False)  # uint32, in text order
    sentences: frozenset[int]
    #: hashes of the distinct words: tells a misspelling (a word the text never
    #: uses) from a real edit (a word it does use, like "not", moved elsewhere)
    vocab: frozenset[int] = frozenset()

    @cached_property
    def unique(self) -> np.ndarray:
        """Sorted distinct shingle hashes, for fast membership tests."""
        out: np.ndarray = np.unique(self.shingles)
        return out

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``values`` are shingles of this text."""
        u = self.unique
        if len(u) == 0 or len(values) == 0:
            return np.zeros(len(values), dtype=bool)
        idx = np.searchsorted(u, values)
        idx[idx == len(u)] = 0
        mask: np.ndarray = u[idx] == values
        return mask

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "words": self.words,
            "shingles": pack(self.shingles.tolist()),
            "sentences": pack(sorted(self.sentences)),
            "vocab": pack(sorted(self.vocab)),
        }

    @classmethod
    def from_json(cls, license_id: str, data: dict[str, object]) -> Fingerprint:
        return cls(
            license_id=license_id,
            source=str(data["source"]),
            sha256=str(data["sha256"]),
            words=_as_int(data["words"]),
            shingles=np.frombuffer(base64.b64decode(str(data["shingles"])), dtype="<u4"),
            sentences=frozenset(unpack(str(data["sentences"]))),
            vocab=frozenset(unpack(str(data.get("vocab", "")))),
        )


def fingerprint(license_id: str, source: str, ws: Words) -> Fingerprint:
    """Fingerprint a whole known text."""
    return Fingerprint(
        license_id=license_id,
        source=source,
        sha256=text_sha256(ws.words),
        words=len(ws),
        shingles=np.asarray(shingles(ws), dtype=np.uint32),
        sentences=frozenset(sentence_hashes(ws)),
        vocab=frozenset(word_hash(w) for w in set(ws.words)),
    )
