"""Fail closed, for every format in the registry (docs/security.md, "What was not fully read").

A truncated, garbled or over-budget file of any format is never ``clean``; where a loader
could still run part of it (pickle-loading formats, containers) the report reaches
``high``, so the default ``--fail-on high`` gate stops it. Every registry row must appear
below, either with a broken sample or with the reason no such sample exists: adding a
format forces that decision.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from modelclear.analyzers.security import analyze, containers, outcome
from modelclear.analyzers.security import compressed as comp
from modelclear.analyzers.security.model import FileReport
from modelclear.findings import Severity
from modelclear.parsers.formats import REGISTRY
from modelclear.sources import open_release

EVIL = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
BENIGN = pickle.dumps({"w": [1.0, 2.0], "n": 3}, protocol=4)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return b.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def _legacy_torch() -> bytes:
    # magic, protocol, sys_info, object, storage keys: five pickles back to back
    parts = [0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, {"w": 1}, []]
    return b"".join(pickle.dumps(p, protocol=2) for p in parts)


_TORCH_ZIP = _zip({"archive/data.pkl": BENIGN, "archive/version": b"3\n"})
_GGUF = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 12) + b"general.name"
_HDF5 = b"\x89HDF\r\n\x1a\n" + b"\x00" * 200

#: format → (file name, broken bytes, must reach high)
BROKEN: dict[str, tuple[str, bytes, bool]] = {
    "lfs-pointer": ("model.bin", b"version https://git-lfs.github.com/spec/v1\noid sha256:"
                    + b"0" * 64 + b"\nsize 123\n", True),
    "gguf": ("model.gguf", _GGUF[:30], False),
    "numpy": ("a.npy", b"\x93NUMPY\x01\x00\xff\x00{'descr': '<f4'", False),
    "keras": ("model.h5", _HDF5, True),
    "pytorch-zip": ("model.pt", _TORCH_ZIP[: len(_TORCH_ZIP) // 2], True),
    "npz": ("a.npz", _zip({"a.npy": b"\x93NUMPY"})[:-30], True),
    "zip": ("a.zip", _zip({"a.pkl": BENIGN})[:-10], True),
    "7z": ("a.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, True),
    "gzip": ("a.pkl.gz", gzip.compress(EVIL)[:-12], True),
    "tar": ("a.tar", _tar({"a.pkl": BENIGN * 10})[:700], True),
    "safetensors": ("model.safetensors", b"\x05\x00\x00", False),
    "pytorch-legacy": ("old.pth", _legacy_torch()[:60], True),
    "pickle": ("a.pkl", BENIGN[:-5], True),
    "json": ("config.json", b'{"auto_map": {"AutoModel": "modeling_x.X"', False),
    "python": ("modeling_x.py", b"def f(:\n", False),
    "jinja": ("chat_template.jinja", b"{% for m in messages %}", False),
    "onnx": ("model.onnx", b"\x08\x07\x12\x07pytorch" + b"\x00" * 40, True),
    "tensorflow": ("saved_model.pb", b"\x08\x01\x12\x05\x0a\x03abc", True),
    "flax-msgpack": ("flax_model.msgpack", b"\x81\xa6params\x80" + b"\x00" * 64, True),
    "pytorch": ("pytorch_model.bin", BENIGN[: len(BENIGN) // 2], True),
    "checkpoint": ("last.ckpt", _TORCH_ZIP[:-40], True),
}

#: formats with no broken form: any bytes are a valid file of that format
NO_BROKEN_FORM = {
    "empty": "zero bytes: nothing to load, nothing to truncate",
    "yaml": "text; no loader the scan follows executes YAML",
    "markdown": "text, read by people",
    "text": "text, read by people",
    "binary": "unrecognised bytes under a name no loader claims: nothing loads them",
}


def _report(tmp_path: Path, name: str, data: bytes) -> FileReport:
    p = tmp_path / name
    p.write_bytes(data)
    return analyze(open_release(str(tmp_path))).files[0]


def _high(r: FileReport) -> bool:
    return any(f.severity.rank >= Severity.HIGH.rank for f in r.findings)


def test_every_registry_format_is_covered() -> None:
    names = {f.name for f in REGISTRY}
    assert names == set(BROKEN) | set(NO_BROKEN_FORM), names ^ (set(BROKEN) | set(NO_BROKEN_FORM))
    assert not set(BROKEN) & set(NO_BROKEN_FORM)


@pytest.mark.parametrize("fmt", sorted(BROKEN))
def test_broken_file_is_never_clean(tmp_path: Path, fmt: str) -> None:
    name, data, high = BROKEN[fmt]
    r = _report(tmp_path, name, data)
    assert r.status != "clean", (fmt, r)
    if high:
        assert _high(r), (fmt, r.status, r.findings)
    if r.status == "unsupported":
        assert any(f.code in ("MC341", "MC106") and f.severity.rank >= Severity.HIGH.rank
                   for f in r.findings), r.findings


def test_malformed_pickle_is_high_but_safetensors_is_medium(tmp_path: Path) -> None:
    r = _report(tmp_path, "a.pkl", BENIGN[:-5])
    assert r.status == "malformed" and {f.severity for f in r.findings
                                        if f.code == "MC107"} == {Severity.HIGH}
    (tmp_path / "b").mkdir()
    r = _report(tmp_path / "b", "b.safetensors", b"\x05\x00\x00")
    assert r.status == "malformed"
    assert {f.severity for f in r.findings if f.code == "MC107"} == {Severity.MEDIUM}


def test_gzip_members_are_all_decoded(tmp_path: Path) -> None:
    half = len(EVIL) // 2
    r = _report(tmp_path, "split.pkl.gz", gzip.compress(EVIL[:half]) + gzip.compress(EVIL[half:]))
    assert r.status == "unsafe" and "MC301" in {f.code for f in r.findings}


def test_truncated_gzip_still_scans_what_decoded(tmp_path: Path) -> None:
    body = gzip.compress(EVIL + bytes(range(256)) * 16)
    r = _report(tmp_path, "t.pkl.gz", body[: len(body) - 30])
    assert r.status == "unsafe" and "MC301" in {f.code for f in r.findings}


@pytest.mark.parametrize("compress", ["bz2", "xz", "lzma", "zlib"])
def test_joblib_compressors_are_opened(tmp_path: Path, compress: str) -> None:
    import bz2
    import lzma
    import zlib

    data = {
        "bz2": lambda: bz2.compress(EVIL),
        "xz": lambda: lzma.compress(EVIL),
        "lzma": lambda: lzma.compress(EVIL, format=lzma.FORMAT_ALONE),
        "zlib": lambda: zlib.compress(EVIL),
    }[compress]()
    r = _report(tmp_path, "model.joblib", data)
    assert r.status == "unsafe" and r.kind == f"{compress}+pickle", r


def test_broken_lz4_frame_is_malformed_high(tmp_path: Path) -> None:
    r = _report(tmp_path, "model.joblib", b"\x04\x22\x4d\x18" + b"\x00" * 32)
    assert r.status == "malformed" and _high(r)


def test_gzip_over_budget_is_unsupported(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(comp, "MAX_UNPACKED", 1000)
    monkeypatch.setattr(comp, "SPILL", 100)  # the spill file is used too
    r = _report(tmp_path, "big.pkl.gz", gzip.compress(b"\x80\x04N" + b"N" * 5000))
    assert r.status == "unsupported" and any(f.code == "MC341" for f in r.findings)


def test_gzip_spills_to_disk_and_still_scans(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(comp, "SPILL", 64)
    monkeypatch.setattr(comp, "CHUNK", 16)
    payload = pickle.dumps(["x" * 500, 1], protocol=4)[:-1] + b"0" + EVIL[2:]
    r = _report(tmp_path, "m.pkl.gz", gzip.compress(payload))
    assert r.status == "unsafe", r.findings


def test_torch_zip_pickle_over_limit_is_unsupported_mc341(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(containers, "MAX_PICKLE_BYTES", 16)
    r = _report(tmp_path, "model.pt", _zip({"archive/data.pkl": BENIGN,
                                            "archive/version": b"3\n"}, zipfile.ZIP_DEFLATED))
    assert r.status == "unsupported"
    assert any(f.code == "MC341" and f.severity is Severity.HIGH for f in r.findings)


def test_zip_nested_past_depth_is_unsupported(tmp_path: Path) -> None:
    data = _zip({"p.pkl": EVIL})
    for i in range(outcome.MAX_DEPTH + 2):
        data = _zip({f"l{i}.zip": data})
    r = _report(tmp_path, "deep.zip", data)
    assert r.status == "unsupported" and _high(r)


def test_zip_member_compressed_pickle_is_opened(tmp_path: Path) -> None:
    r = _report(tmp_path, "bundle.zip", _zip({"model.joblib": gzip.compress(EVIL)}))
    assert r.status == "unsafe"


def test_medium_worst_finding_is_a_warning(tmp_path: Path) -> None:
    # a zip whose member is flagged encrypted (MC320, medium) holding plain text
    z = bytearray(_zip({"notes.txt": b"hello"}))
    z[6] |= 1  # local header flag
    cen = z.find(b"PK\x01\x02")
    z[cen + 8] |= 1
    r = _report(tmp_path, "notes.zip", bytes(z))
    assert r.status == "warning" and r.max_severity is Severity.MEDIUM


def test_lfs_pointer_is_mc106_high_whatever_the_name(tmp_path: Path) -> None:
    ptr = BROKEN["lfs-pointer"][1]
    for name in ("model.safetensors", "config.json", "weights.bin"):
        d = tmp_path / name.replace(".", "_")
        d.mkdir()
        r = _report(d, name, ptr)
        assert r.status == "unsupported" and any(
            f.code == "MC106" and f.severity is Severity.HIGH for f in r.findings
        ), (name, r)


def test_json_escape_does_not_hide_auto_map(tmp_path: Path) -> None:
    cfg = b'{"auto\\u005fmap": {"AutoModel": "other/repo--modeling_x.X"}}'
    r = _report(tmp_path, "config.json", cfg)
    assert r.status == "unsafe", json.dumps([f.to_json() for f in r.findings])
