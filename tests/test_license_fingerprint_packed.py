"""Catalog fingerprints keep their hash lists packed until used, and lose nothing.

Loading decodes and checks every list (a damaged bundle is still a catalog error at
load, never a traceback mid-analysis); the integers appear on first access and equal
what was stored.
"""

from __future__ import annotations

import pytest

from modelclear.analyzers.license.catalog import CatalogError, _load_fingerprints, load_catalog
from modelclear.analyzers.license.fingerprint import FORMAT, Fingerprint, K, fingerprint
from modelclear.analyzers.license.normalize import words

_TEXT = "Permission is hereby granted, free of charge, to any person obtaining a copy. " * 3


def test_a_stored_fingerprint_reads_back_equal() -> None:
    fp = fingerprint("MIT", "test", words(_TEXT))
    back = Fingerprint.from_json("MIT", fp.to_json())
    assert "shingles" not in back.__dict__  # still packed
    assert back.shingles == fp.shingles and back.unique == fp.unique
    assert back.sentences == fp.sentences and back.vocab == fp.vocab
    assert back == fp and hash(back) == hash(fp)
    assert back.words == fp.words and back.sha256 == fp.sha256


def test_fingerprints_are_immutable() -> None:
    fp = fingerprint("MIT", "test", words(_TEXT))
    with pytest.raises(AttributeError):
        fp.words = 1  # type: ignore[misc]


def test_a_damaged_hash_list_fails_at_load() -> None:
    good = fingerprint("MIT", "test", words(_TEXT)).to_json()
    for bad in ("AAA", "AAAAAAA="):  # broken base64; 5 bytes, not whole 32-bit values
        bundle = {"format": FORMAT, "k": K, "entries": {"MIT": [{**good, "shingles": bad}]}}
        with pytest.raises(CatalogError, match="unreadable fingerprints"):
            _load_fingerprints(bundle, "fingerprints.json")


def test_the_shipped_catalog_decodes_on_use() -> None:
    cat = load_catalog()
    fp = cat.fingerprints[0]
    assert len(fp.shingles) == fp.words - K + 1 or fp.words < K
    assert fp.vocab and fp.sentences
