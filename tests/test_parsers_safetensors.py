"""safetensors reader: agrees with the real library, refuses every malformed header."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import save_file

from modelclear.errors import InputError
from modelclear.parsers.safetensors import DTYPE_BITS, clear_cache, read_safetensors
from modelclear.release import ReleaseFile, stat_file


def rf(path: Path) -> ReleaseFile:
    return stat_file(path, path.name)


def raw_file(
    path: Path, header: bytes | dict, data: bytes = b"", length: int | None = None
) -> Path:
    hb = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(hb) if length is None else length
    path.write_bytes(struct.pack("<Q", n) + hb + data)
    return path


def entry(dtype: str, shape: list[int], begin: int, end: int) -> dict:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    tensors = {
        "model.embed.weight": torch.randn(16, 8, dtype=torch.bfloat16),
        "model.norm.weight": torch.ones(8, dtype=torch.float32),
        "fp8.weight": torch.zeros(4, 4, dtype=torch.float8_e4m3fn),
        "fp8.weight_scale_inv": torch.ones(1, 1, dtype=torch.float32),
        "ids": torch.arange(5, dtype=torch.int64),
        "mask": torch.tensor([True, False]),
        "half": torch.zeros(3, 2, dtype=torch.float16),
        "scalar": torch.tensor(3.0, dtype=torch.float64),
        "empty": torch.zeros(0, 7, dtype=torch.int32),
    }
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt", "note": "héllo"})
    return path, tensors


def test_matches_reference_library(sample):
    path, tensors = sample
    ours = read_safetensors(rf(path))
    assert ours.findings == ()
    assert ours.metadata == {"format": "pt", "note": "héllo"}
    blob = path.read_bytes()
    with safe_open(str(path), "pt") as ref:
        assert set(ref.keys()) == {t.name for t in ours.tensors}
        assert ref.metadata() == ours.metadata
        for t in ours.tensors:
            sl = ref.get_slice(t.name)
            assert sl.get_dtype() == t.dtype
            assert tuple(sl.get_shape()) == t.shape
            # offsets are absolute: the bytes there are exactly the tensor's bytes
            expected = ref.get_tensor(t.name).reshape(-1).view(torch.uint8).numpy().tobytes()
            assert blob[t.offset : t.offset + t.nbytes] == expected
    assert ours.data_offset + ours.data_size == path.stat().st_size
    assert sum(t.nbytes for t in ours.tensors) == ours.data_size
    offs = [t.offset for t in ours.tensors]
    assert offs == sorted(offs)


def test_every_reference_dtype_is_known(tmp_path):
    # The library's own error message lists the dtypes it accepts: we must know them all.
    path = raw_file(tmp_path / "x.safetensors", {"t": entry("NOPE", [1], 0, 1)}, b"\0")
    with pytest.raises(Exception) as exc:
        safe_open(str(path), "np")
    listed = set(str(exc.value).split("expected one of", 1)[1].replace("`", "").split(" at ")[0]
                 .replace(",", " ").split())
    assert listed and listed <= set(DTYPE_BITS)


def test_sub_byte_dtypes(tmp_path):
    hdr = {"a": entry("F4", [2, 4], 0, 4), "b": entry("F6_E2M3", [4], 4, 7)}
    t = read_safetensors(rf(raw_file(tmp_path / "x.safetensors", hdr, b"\0" * 7)))
    assert [(x.name, x.nbytes) for x in t.tensors] == [("a", 4), ("b", 3)]
    bad = {"a": entry("F4", [3], 0, 2)}
    with pytest.raises(InputError, match="whole byte"):
        read_safetensors(rf(raw_file(tmp_path / "y.safetensors", bad, b"\0" * 2)))


BAD_CASES = {
    "length-beyond-file": (lambda p: raw_file(p, {}, length=1000), "past the end"),
    "length-2^63": (lambda p: raw_file(p, {}, length=2**63), "limit"),
    "length-2^64-1": (lambda p: raw_file(p, {}, length=2**64 - 1), "limit"),
    "tiny": (lambda p: p.write_bytes(b"\x01\x02") and p, "too small"),
    "html": (lambda p: p.write_bytes(b"<!DOCTYPE html><html>Not found</html>") and p,
             "starts with the text '<!DOCTYP'"),
    "utf8": (lambda p: raw_file(p, b'{"\xff\xfe": 1}'), "UTF-8"),
    "json": (lambda p: raw_file(p, b'{"a": [1, 2}'), "not valid JSON"),
    "not-object": (lambda p: raw_file(p, b"[1, 2, 3]"), "JSON object"),
    "deep-json": (lambda p: raw_file(p, b"[" * 100000), "JSON"),
    "unknown-dtype": (lambda p: raw_file(p, {"t": entry("F128", [1], 0, 16)}, b"\0" * 16),
                      "unknown dtype"),
    "negative-shape": (lambda p: raw_file(p, {"t": entry("U8", [-1], 0, 1)}, b"\0"), "shape"),
    "bool-shape": (lambda p: raw_file(p, {"t": entry("U8", [True], 0, 1)}, b"\0"), "shape"),
    "float-shape": (lambda p: raw_file(p, {"t": entry("U8", [1.0], 0, 1)}, b"\0"), "shape"),
    "begin-after-end": (lambda p: raw_file(p, {"t": entry("U8", [0], 4, 2)}, b"\0" * 4),
                        "begin 4 > end 2"),
    "three-offsets": (lambda p: raw_file(p, {"t": {"dtype": "U8", "shape": [1],
                                                   "data_offsets": [0, 1, 2]}}, b"\0"),
                      "data_offsets"),
    "missing-field": (lambda p: raw_file(p, {"t": {"dtype": "U8", "shape": [1]}}, b"\0"),
                      "missing data_offsets"),
    "entry-not-object": (lambda p: raw_file(p, {"t": [1, 2]}), "must be an object"),
    "size-mismatch": (lambda p: raw_file(p, {"t": entry("F32", [2], 0, 4)}, b"\0" * 4),
                      "needs 8 bytes"),
    "overlap": (lambda p: raw_file(p, {"a": entry("U8", [4], 0, 4), "b": entry("U8", [4], 2, 6)},
                                   b"\0" * 6), "overlap"),
    "gap": (lambda p: raw_file(p, {"a": entry("U8", [2], 0, 2), "b": entry("U8", [2], 4, 6)},
                               b"\0" * 6), "contiguous"),
    "leading-gap": (lambda p: raw_file(p, {"a": entry("U8", [2], 2, 4)}, b"\0" * 4),
                    "start of the data section"),
    "beyond-data": (lambda p: raw_file(p, {"a": entry("U8", [8], 0, 8)}, b"\0" * 4),
                    "beyond the data section"),
    "trailing-bytes": (lambda p: raw_file(p, {"a": entry("U8", [2], 0, 2)}, b"\0" * 6),
                       "not covered"),
    "metadata-not-string": (lambda p: raw_file(p, {"__metadata__": {"x": 1}}), "must be a string"),
    "metadata-not-object": (lambda p: raw_file(p, {"__metadata__": [1]}), "object of strings"),
    "giant-shape-list": (lambda p: raw_file(p, b'{"t": {"dtype": "U8", "shape": ['
                                            + b"1," * 5_000_000 + b'1], "data_offsets": [0, 1]}}',
                                            b"\0"), "array of more than"),
    "huge-int": (lambda p: raw_file(p, b'{"t": {"dtype": "U8", "shape": [' + b"9" * 5000
                                    + b'], "data_offsets": [0, 1]}}', b"\0"), "JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_a_clear_error(tmp_path, case):
    make, words = BAD_CASES[case]
    path = tmp_path / "bad.safetensors"
    make(path)
    with pytest.raises(InputError) as exc:
        read_safetensors(rf(path))
    assert exc.value.file == "bad.safetensors"
    assert words in exc.value.problem
    assert "\n" not in exc.value.problem


def test_truncated_at_every_cut_point(sample, tmp_path):
    path, _ = sample
    blob = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for n in range(len(blob)):
        cut.write_bytes(blob[:n])
        clear_cache()
        with pytest.raises(InputError):
            read_safetensors(rf(cut))


def test_findings_for_oddities_the_loader_tolerates(tmp_path):
    dup = b'{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, ' \
          b'"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}'
    dup += b" " * (-len(dup) % 8 + 3)  # valid JSON, deliberately unaligned
    got = read_safetensors(rf(raw_file(tmp_path / "d.safetensors", dup, b"\0\0")))
    codes = {f.code for f in got.findings}
    assert "MC121" in codes  # duplicate key
    assert "MC120" in codes  # 8 + len(dup) is not a multiple of 8
    extra = {"a": {**entry("U8", [1], 0, 1), "hidden": "payload"}}
    got = read_safetensors(rf(raw_file(tmp_path / "e.safetensors", extra, b"\0")))
    assert [f.code for f in got.findings if f.code != "MC120"] == ["MC122"]
    got = read_safetensors(rf(raw_file(tmp_path / "n.safetensors", b"{}      ")))
    assert [f.code for f in got.findings] == ["MC123"]
    assert got.tensors == ()


def test_never_reads_tensor_data(tmp_path, monkeypatch):
    """A 1 GB (sparse) file parses at once and only its header is read."""
    n = 256 * 1024 * 1024
    hdr = json.dumps({"w": entry("F32", [n], 0, 4 * n)}).encode()
    hdr += b" " * (-len(hdr) % 8)
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", len(hdr)) + hdr)
    os.truncate(path, 8 + len(hdr) + 4 * n)
    reads: list[int] = []
    real = ReleaseFile.read_at

    def spy(self, offset, length):
        reads.append(length)
        return real(self, offset, length)

    monkeypatch.setattr(ReleaseFile, "read_at", spy)
    start = time.perf_counter()
    got = read_safetensors(rf(path))
    assert time.perf_counter() - start < 1.0
    assert got.tensors[0].nbytes == 4 * n
    assert sum(reads) <= 8 + len(hdr)


def _valid_bytes() -> bytes:
    import io

    from safetensors.numpy import save

    buf = save({"a": np.zeros((3, 4), np.float32), "b": np.ones(5, np.int8)}, {"k": "v"})
    return bytes(io.BytesIO(buf).getvalue())


VALID = _valid_bytes()
FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parse_or_input_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    clear_cache()  # a cold parse of these bytes every time
    try:
        read_safetensors(rf(path))
    except InputError as exc:
        assert exc.problem and "\n" not in exc.problem


@FUZZ
@given(data=st.binary(max_size=512))
def test_fuzz_random_bytes(tmp_path, data):
    _parse_or_input_error(tmp_path / "f.safetensors", data)


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, len(VALID)),
)
def test_fuzz_mutated_valid_file(tmp_path, edits, cut):
    data = bytearray(VALID)
    for pos, val in edits:
        data[pos] = val
    _parse_or_input_error(tmp_path / "m.safetensors", bytes(data[:cut] if cut else data))


@FUZZ
@given(
    header=st.recursive(
        st.none() | st.booleans() | st.integers(-10, 2**70) | st.text(max_size=8),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids,
                                                                   max_size=4),
        max_leaves=20,
    ),
    tail=st.binary(max_size=64),
)
def test_fuzz_structured_headers(tmp_path, header, tail):
    hb = json.dumps(header).encode()
    _parse_or_input_error(tmp_path / "s.safetensors", struct.pack("<Q", len(hb)) + hb + tail)


def test_duplicate_metadata_key_is_found(tmp_path):
    hdr = b'{"__metadata__": {"format": "pt", "format": "tf"}, ' \
          b'"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}'
    got = read_safetensors(rf(raw_file(tmp_path / "m.safetensors", hdr, b"\0")))
    assert "MC121" in {f.code for f in got.findings} and got.metadata == {"format": "tf"}
