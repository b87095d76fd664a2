"""Metadata pickles of ordinary standard-library values are clean (no high MC305)."""

from __future__ import annotations

import argparse
import array
import collections
import datetime
import decimal
import fractions
import ipaddress
import pathlib
import pickle
import re
import types
import uuid
from pathlib import Path

import pytest

from modelclear.analyzers.security import analyze
from modelclear.sources import open_release

META = {
    "od": collections.OrderedDict(a=1), "dd": collections.defaultdict(int, a=1),
    "counter": collections.Counter("abc"), "deque": collections.deque([1, 2]),
    "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    "day": datetime.date(2024, 1, 1), "tod": datetime.time(1, 2), "dur": datetime.timedelta(1),
    "dec": decimal.Decimal("1.5"), "frac": fractions.Fraction(1, 3), "id": uuid.UUID(int=5),
    "set": {1, 2}, "fs": frozenset({1}), "c": 1 + 2j, "ba": bytearray(b"x"), "r": range(3),
    "sl": slice(1, 2), "path": pathlib.PurePosixPath("/a/b"), "ppath": pathlib.PosixPath("/a"),
    "args": argparse.Namespace(lr=0.1), "ns": types.SimpleNamespace(a=1),
    "ip": ipaddress.IPv4Address("10.0.0.1"), "net": ipaddress.IPv6Network("::/64"),
    "arr": array.array("f", [1.0]), "pat": re.compile("a+"),
}


@pytest.mark.parametrize("proto", range(6))
def test_stdlib_metadata_pickle_is_clean(tmp_path: Path, proto: int) -> None:
    (tmp_path / "meta.pkl").write_bytes(pickle.dumps(META, protocol=proto))
    r = analyze(open_release(str(tmp_path))).files[0]
    assert r.status == "clean", [(f.code, f.extra.get("callable")) for f in r.findings]


def test_joblib_and_torch_metadata_are_clean(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    torch = pytest.importorskip("torch")
    joblib.dump(META, tmp_path / "meta.joblib")
    torch.save({"meta": META, "w": torch.zeros(2)}, tmp_path / "ckpt.pt")
    for r in analyze(open_release(str(tmp_path))).files:
        assert r.status == "clean", (r.path, [(f.code, f.extra.get("callable"))
                                              for f in r.findings])
