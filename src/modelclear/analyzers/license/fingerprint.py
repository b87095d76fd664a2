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
import sys
import zlib
from array import array
from functools import cached_property

from .normalize import Words

K = 5  # shingle length in words
FORMAT = 2


def _h(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def word_hash(word: str) -> int:
    return _h(word)


assert array("I").itemsize == 4, "fingerprints are stored as 32-bit values"

_MULT = 0x9E3779B1  # odd 32-bit constant (golden ratio): mixes positions
_MASK = 0xFFFFFFFF
#: weight of the word leaving a K-word window: _MULT ** (K - 1), mod 2**32
_OUT = pow(_MULT, K - 1, 1 << 32)


def shingles(ws: Words | list[str]) -> list[int]:
    """Hash of every run of K consecutive words, in order.

    Each distinct word is hashed once; a shingle's hash is a position-weighted sum of
    its words' hashes (mod 2**32) with a final avalanche step. The sum is rolled from
    one window to the next (drop the oldest word, weight the rest once more, add the
    newest), so a long file costs a few multiplications per word in plain Python —
    which keeps numpy (~100 ms to import) off the license path.
    """
    seq = ws.words if isinstance(ws, Words) else ws
    if not seq:
        return []
    crc = zlib.crc32
    table = {w: crc(w.encode("utf-8")) for w in set(seq)}  # _h, inlined: ~17k calls per corpus
    wh = list(map(table.__getitem__, seq))
    if len(wh) < K:
        wh += [0] * (K - len(wh))
    mult, mask, leaving, mix = _MULT, _MASK, _OUT, 0x45D9F3B
    acc = 0
    for v in wh[:K]:
        acc = (acc * mult + v) & mask
    x = ((acc ^ (acc >> 16)) * mix) & mask
    out = [x ^ (x >> 16)]
    append = out.append
    for old, new in zip(wh, wh[K:], strict=False):  # the last K words never leave
        acc = ((acc - old * leaving) * mult + new) & mask
        x = ((acc ^ (acc >> 16)) * mix) & mask
        append(x ^ (x >> 16))
    return out


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


def _u32(values: bytes | list[int] | tuple[int, ...] = b"") -> array[int]:
    """An array of 32-bit unsigned integers (C ``unsigned int``: 4 bytes on the
    platforms Python supports in practice; checked at import)."""
    out = array("I")
    if isinstance(values, bytes):
        out.frombytes(values)
        if sys.byteorder == "big":  # stored little-endian
            out.byteswap()
    else:
        out.extend(values)
    return out


def pack(values: list[int] | tuple[int, ...]) -> str:
    """Little-endian 32-bit values, base64: how fingerprints.json stores hash lists."""
    arr = _u32(values)
    if sys.byteorder == "big":
        arr.byteswap()
    return base64.b64encode(arr.tobytes()).decode("ascii")


def unpack(data: str) -> list[int]:
    return _u32(base64.b64decode(data)).tolist()


def _as_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    return int(value)


class Fingerprint:
    """The fingerprint of one known text (a catalog entry may have several variants).

    Immutable, and equal to another when all but the shingle order is. Read from the
    catalog, its hash lists stay packed 32-bit arrays until first used: a verbatim text
    is identified by ``sha256`` alone, so most runs never pay for turning the catalog's
    ~200,000 hashes into Python integers (~8 ms).
    """

    __slots__ = ("license_id", "source", "sha256", "words", "_packed", "__dict__")

    license_id: str
    source: str  # where the text came from when the fingerprint was built
    sha256: str
    words: int
    #: shingles, sentences, vocab: as given, or packed arrays from the catalog file
    _packed: tuple[
        tuple[int, ...] | array[int], frozenset[int] | array[int], frozenset[int] | array[int]
    ]

    def __init__(
        self,
        license_id: str,
        source: str,
        sha256: str,
        words: int,
        shingles: tuple[int, ...] | array[int],
        sentences: frozenset[int] | array[int],
        vocab: frozenset[int] | array[int] = frozenset(),
    ) -> None:
        for name, value in (
            ("license_id", license_id), ("source", source), ("sha256", sha256), ("words", words),
            ("_packed", (shingles, sentences, vocab)),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Fingerprint is immutable: cannot set {name}")

    @cached_property
    def shingles(self) -> tuple[int, ...]:
        """32-bit hashes of every K-word shingle, in text order."""
        return tuple(self._packed[0])

    @cached_property
    def sentences(self) -> frozenset[int]:
        return frozenset(self._packed[1])

    @cached_property
    def vocab(self) -> frozenset[int]:
        """Hashes of the distinct words: tells a misspelling (a word the text never
        uses) from a real edit (a word it does use, like "not", moved elsewhere)."""
        return frozenset(self._packed[2])

    def _key(self) -> tuple[object, ...]:
        return (self.license_id, self.source, self.sha256, self.words, self.sentences, self.vocab)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Fingerprint(license_id={self.license_id!r}, source={self.source!r}, "
                f"sha256={self.sha256!r}, words={self.words!r})")

    @cached_property
    def unique(self) -> frozenset[int]:
        """Distinct shingle hashes, for fast membership tests."""
        return frozenset(self.shingles)

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "words": self.words,
            "shingles": pack(self.shingles),
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
            # decoded and checked now (a bad list is a catalog error at load), made
            # integers on first use
            shingles=_u32(base64.b64decode(str(data["shingles"]))),
            sentences=_u32(base64.b64decode(str(data["sentences"]))),
            vocab=_u32(base64.b64decode(str(data.get("vocab", "")))),
        )


def fingerprint(license_id: str, source: str, ws: Words) -> Fingerprint:
    """Fingerprint a whole known text."""
    return Fingerprint(
        license_id=license_id,
        source=source,
        sha256=text_sha256(ws.words),
        words=len(ws),
        shingles=tuple(shingles(ws)),
        sentences=frozenset(sentence_hashes(ws)),
        vocab=frozenset(word_hash(w) for w in set(ws.words)),
    )
