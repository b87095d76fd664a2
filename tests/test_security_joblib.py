"""joblib files are read the way ``joblib.load`` reads them.

Every compressor joblib registers (zlib, gzip, bz2, lzma, xz, lz4), the ``ZF`` container
of joblib < 0.10 with its array files beside the pickle, and the arrays joblib writes
between pickle opcodes (an object array is a nested pickle the loader runs). Fixtures are
written by joblib itself; the LZ4 decoder is checked against the ``lz4`` package.
"""

from __future__ import annotations

import os
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from modelclear.analyzers.security import analyze
from modelclear.analyzers.security.lz4frame import LZ4Error, decode_frames
from modelclear.analyzers.security.model import FileReport
from modelclear.findings import Severity
from modelclear.sources import open_release

joblib = pytest.importorskip("joblib")
np = pytest.importorskip("numpy")

COMPRESSORS = ["zlib", "gzip", "bz2", "lzma", "xz", "lz4"]


class Payload:
    """Pickles as a call of os.system (never loaded here)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("true",))


def _reports(folder: Path) -> dict[str, FileReport]:
    return {r.path: r for r in analyze(open_release(str(folder))).files}


def _high(r: FileReport) -> bool:
    return any(f.severity.rank >= Severity.HIGH.rank for f in r.findings)


@pytest.mark.parametrize("compress", COMPRESSORS)
def test_every_joblib_compressor_is_opened(tmp_path: Path, compress: str) -> None:
    if compress == "lz4":
        pytest.importorskip("lz4")
    benign = {"w": np.arange(50_000, dtype=np.float32), "labels": np.array(["a", None], object)}
    joblib.dump(benign, tmp_path / "ok.joblib", compress=compress)
    # the payload sits in an object array: joblib writes it as a pickle after the wrapper
    joblib.dump({"w": np.arange(10), "o": np.array([Payload()], object)},
                tmp_path / "bad.joblib", compress=compress)
    r = _reports(tmp_path)
    assert r["ok.joblib"].status == "clean", r["ok.joblib"].findings
    assert r["ok.joblib"].kind == f"{compress}+joblib"
    bad = r["bad.joblib"]
    assert bad.status == "unsafe" and any(f.code == "MC301" for f in bad.findings), bad


def _lz4_frames(data: bytes, **kw: Any) -> bytes:
    lz4frame = pytest.importorskip("lz4.frame")
    return bytes(lz4frame.compress(data, **kw))


@pytest.mark.parametrize("kw", [
    {}, {"block_linked": False}, {"content_checksum": True, "block_checksum": True},
    {"store_size": False, "block_size": 4}, {"compression_level": 12},
])
def test_lz4_decoder_agrees_with_the_lz4_package(kw: dict[str, Any]) -> None:
    rng = random.Random(7)
    words = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(300)]
    data = b"".join(rng.choice(words) for _ in range(40_000)) + bytes(70_000) + b"ab" * 9000
    packed = _lz4_frames(data, **kw) + _lz4_frames(b"second frame " * 100, **kw)
    out: list[bytes] = []
    assert decode_frames(packed, out.append) == 2
    assert b"".join(out) == data + b"second frame " * 100


def test_lz4_truncated_frame_says_how_many_frames_came_before() -> None:
    packed = _lz4_frames(b"x" * 1000) + _lz4_frames(b"y" * 100_000)[:-30]
    out: list[bytes] = []
    with pytest.raises(LZ4Error) as exc:
        decode_frames(packed, out.append)
    assert exc.value.frames == 1 and b"".join(out).startswith(b"x" * 1000)


def test_lz4_hostile_offset_is_an_error_not_a_crash() -> None:
    # frame: FLG (version 1, independent blocks), BD (64 KiB), HC; one block whose
    # match points 0xffff bytes back into nothing
    block = bytes([0x1F, 0x41, 0xFF, 0xFF, 0x00])
    frame = (b"\x04\x22\x4d\x18" + bytes([0x60, 0x40, 0x82]) + len(block).to_bytes(4, "little")
             + block + bytes(4))
    with pytest.raises(LZ4Error):
        decode_frames(frame, lambda b: None)


def test_split_lz4_pickle_is_scanned_across_frames(tmp_path: Path) -> None:
    evil = pickle.dumps([Payload()], protocol=4)
    half = len(evil) // 2
    (tmp_path / "m.joblib").write_bytes(_lz4_frames(evil[:half]) + _lz4_frames(evil[half:]))
    r = _reports(tmp_path)["m.joblib"]
    assert r.status == "unsafe" and r.kind == "lz4+pickle"


def _zfile(path: Path, obj: Any) -> None:
    compat = pytest.importorskip("joblib.numpy_pickle_compat")
    with open(path, "wb") as fh:
        compat.write_zfile(fh, pickle.dumps(obj, protocol=2))


def test_old_zf_container_with_its_array_files(tmp_path: Path) -> None:
    compat = pytest.importorskip("joblib.numpy_pickle_compat")
    np.save(tmp_path / "old.pkl_01.npy", np.arange(5))
    _zfile(tmp_path / "old.pkl", {"a": compat.NDArrayWrapper("old.pkl_01.npy", np.ndarray)})
    np.save(tmp_path / "evil.npy", np.array([Payload()], object), allow_pickle=True)
    _zfile(tmp_path / "uses_evil.pkl", [compat.NDArrayWrapper("evil.npy", np.ndarray)])
    _zfile(tmp_path / "direct.pkl", Payload())
    assert joblib.load(tmp_path / "old.pkl")["a"].tolist() == [0, 1, 2, 3, 4]  # real format
    r = _reports(tmp_path)
    old = r["old.pkl"]
    assert old.status == "clean" and old.kind == "joblib-zf+joblib"
    assert any(f.code == "MC344" for f in old.findings)
    assert r["uses_evil.pkl"].status == "clean"  # its array file is judged on its own:
    assert r["evil.npy"].status == "unsafe"
    assert r["direct.pkl"].status == "unsafe"


@pytest.mark.parametrize("name", ["/etc/x.npy", "../../x.npy", "missing.npy"])
def test_array_file_outside_the_release_is_high(tmp_path: Path, name: str) -> None:
    compat = pytest.importorskip("joblib.numpy_pickle_compat")
    _zfile(tmp_path / "m.pkl", [compat.NDArrayWrapper(name, np.ndarray)])
    r = _reports(tmp_path)["m.pkl"]
    assert _high(r) and any(f.code == "MC345" for f in r.findings), r.findings


def test_zf_length_mismatch_is_malformed(tmp_path: Path) -> None:
    import zlib

    body = pickle.dumps([1, 2], protocol=2)
    (tmp_path / "m.pkl").write_bytes(b"ZF" + b"0x999".ljust(19) + zlib.compress(body))
    r = _reports(tmp_path)["m.pkl"]
    assert r.status == "malformed" and _high(r)
