"""GGUF reader and ggml table: agree with the gguf package, fail fast on hostile headers."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelclear.errors import InputError
from modelclear.parsers.ggml import all_types, file_type_name, ggml_type, quantization_name
from modelclear.parsers.gguf import clear_cache, read_gguf
from modelclear.parsers.gguf_split import read_gguf_split
from modelclear.release import stat_file

TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"


def rf(path: Path):
    return stat_file(path, path.name)


def write_model(path: Path, *, vocab: int = 300, endian=gguf.GGUFEndian.LITTLE, **kw) -> Path:
    w = gguf.GGUFWriter(str(path), "llama", endianess=endian, **kw)
    w.add_name("Tiny Llama")
    w.add_file_type(LlamaFileType.MOSTLY_Q4_K_M)
    w.add_license("llama3.1")
    w.add_string("general.license.link", "https://example.com/LICENSE")
    w.add_chat_template(TEMPLATE)
    w.add_context_length(4096)
    w.add_float32("llama.rope.freq_base", 500000.0)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_token_list([f"tok{i}" for i in range(vocab)])
    w.add_token_scores([float(i) for i in range(vocab)])
    w.add_array("test.nested", [[1, 2], [3, 4, 5], [6]])
    w.add_int64("test.i64", -(2**40))
    w.add_uint64("test.u64", 2**63)
    w.add_tensor("token_embd.weight", np.zeros((8, 64), np.float32))
    w.add_tensor("blk.0.attn_norm.weight", np.ones(64, np.float16))
    q4k = GGML_QUANT_SIZES[GGMLQuantizationType.Q4_K][1]
    w.add_tensor("blk.0.ffn_up.weight", np.zeros((4, q4k), np.uint8),
                 raw_dtype=GGMLQuantizationType.Q4_K)
    q8 = GGML_QUANT_SIZES[GGMLQuantizationType.Q8_0][1]
    w.add_tensor("output.weight", np.zeros((2, 2 * q8), np.uint8),
                 raw_dtype=GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture
def model(tmp_path) -> Path:
    return write_model(tmp_path / "tiny.gguf")


def test_matches_gguf_reader(model):
    ours = read_gguf(rf(model))
    ref = gguf.GGUFReader(str(model))
    assert ours.version == 3 and ours.byteorder == "little"
    assert [t.name for t in ours.tensors] == [t.name for t in ref.tensors]
    for mine, theirs in zip(ours.tensors, ref.tensors, strict=True):
        assert mine.dtype == theirs.tensor_type.name
        assert mine.shape == tuple(int(d) for d in reversed(theirs.shape))
        assert mine.offset == theirs.data_offset
        assert mine.nbytes == theirs.n_bytes
        assert mine.numel == theirs.n_elements
    assert ours.kv_count == ref.fields["GGUF.kv_count"].contents()
    user_keys = [k for k in ref.fields if not k.startswith("GGUF.")]
    assert list(ours.metadata) == user_keys
    for key in user_keys:
        want = ref.fields[key].contents()
        got = ours.metadata[key]
        if got.type == "array" and got.item_type == "array":
            # the reference flattens nested arrays
            assert [x for v in got.value for x in v.value] == want
        elif got.type == "array":
            assert got.count == len(want)
            assert list(got.value) == pytest.approx(want[: len(got.value)])
        elif isinstance(want, float):
            assert got.value == pytest.approx(want)
        else:
            assert got.value == want, key


def test_surfaces_the_facts_users_need(model):
    g = read_gguf(rf(model))
    assert g.architecture == "llama"
    assert g.name == "Tiny Llama"
    assert g.license == {
        "general.license": "llama3.1",
        "general.license.link": "https://example.com/LICENSE",
    }
    assert g.chat_template == TEMPLATE
    assert g.file_type == 15
    assert g.file_type_name == "MOSTLY_Q4_K_M"
    assert g.quantization == "Q4_K_M"
    assert g.alignment == 32
    assert g.split is None
    vocab = g.metadata["tokenizer.ggml.tokens"]
    assert vocab.count == 300 and vocab.truncated and len(vocab.value) == 16
    nested = g.metadata["test.nested"].to_json()
    assert [v["values"] for v in nested["values"]] == [[1, 2], [3, 4, 5], [6]]
    assert g.findings == ()
    full = read_gguf(rf(model), full_arrays={"tokenizer.ggml.tokens"})
    assert full.metadata["tokenizer.ggml.tokens"].value[-1] == "tok299"


def test_big_endian_file(tmp_path):
    path = write_model(tmp_path / "be.gguf", endian=gguf.GGUFEndian.BIG)
    g = read_gguf(rf(path))
    assert g.byteorder == "big"
    assert g.name == "Tiny Llama" and g.get("test.i64") == -(2**40)
    ref = gguf.GGUFReader(str(path), "r")
    assert [t.nbytes for t in g.tensors] == [t.n_bytes for t in ref.tensors]


def test_split_set(tmp_path):
    w = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama", split_max_tensors=2)
    w.add_name("split")
    for i in range(5):
        w.add_tensor(f"t{i}", np.full((4, 32), i, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    parts = sorted(tmp_path.glob("m-*-of-*.gguf"))
    assert len(parts) == 3
    s = read_gguf_split([rf(p) for p in reversed(parts)])  # order is recovered from split.no
    assert [p.split.no for p in s.parts] == [0, 1, 2]
    assert [t.name for t in s.tensors] == [f"t{i}" for i in range(5)]
    assert s.first.name == "split" and s.findings == ()
    with pytest.raises(InputError, match="split.count is 3 but the set has 2"):
        read_gguf_split([rf(p) for p in parts[:2]])
    # a wrong split.tensors.count in the first part: the parts hold 5 tensors
    key = "split.tensors.count"
    at = read_gguf(rf(parts[0])).value_offset(key) + 8 + len(key) + 4
    blob = bytearray(parts[0].read_bytes())
    assert struct.unpack_from("<i", blob, at) == (5,)
    struct.pack_into("<i", blob, at, 7)
    parts[0].write_bytes(bytes(blob))
    clear_cache()
    s = read_gguf_split([rf(p) for p in parts])
    assert sorted(f.code for f in s.findings) == ["MC145", "MC145", "MC145"]
    assert "says 7 tensors but the parts hold 5" in s.findings[0].message


def test_ggml_table_matches_gguf_package():
    ours = {t.id: t for t in all_types() if not t.removed}
    for qt, (block, size) in GGML_QUANT_SIZES.items():
        t = ggml_type(int(qt))
        assert t is not None and (t.name, t.block_size, t.type_size) == (qt.name, block, size)
    assert set(ours) == {int(q) for q in GGML_QUANT_SIZES}
    for ft in LlamaFileType:
        assert file_type_name(int(ft)) == ft.name
    assert ggml_type("q4_k").bits_per_weight == 4.5
    assert ggml_type("Q8_0").bits_per_weight == 8.5
    assert ggml_type("bf16").bits_per_weight == 16
    assert ggml_type(31).removed and ggml_type(31).name == "Q4_0_4_4"
    assert ggml_type(4) is None and ggml_type("NOPE") is None
    assert quantization_name(15) == "Q4_K_M" and quantization_name(0) == "F32"


# ----------------------------------------------------------------- hand-made files

def s(text: str | bytes) -> bytes:
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(b)) + b


def kv(key: str, vtype: int, payload: bytes) -> bytes:
    return s(key) + struct.pack("<I", vtype) + payload


def tinfo(name: str, dims: tuple[int, ...], gtype: int, off: int) -> bytes:
    return s(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims) + \
        struct.pack("<IQ", gtype, off)


def build(kvs: list[bytes] = (), tensors: list[bytes] = (), data: bytes = b"", *,
          version: int = 3, n_kv: int | None = None, n_t: int | None = None,
          align: int = 32) -> bytes:
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if n_t is None else n_t,
                                 len(kvs) if n_kv is None else n_kv)
    body = head + b"".join(kvs) + b"".join(tensors)
    if tensors:
        body += b"\0" * (-len(body) % align)
    return body + data


U32, STR, ARR = 4, 8, 9

BAD = {
    "magic": (b"GGML" + b"\0" * 20, "missing 'GGUF' magic"),
    "empty": (b"", "missing 'GGUF' magic"),
    "v1": (build(version=1), "version 1"),
    "v4": (build(version=4), "unsupported GGUF version 4"),
    "tensor-count": (build(n_t=2**60), "declares 1152921504606846976 tensors"),
    "kv-limit": (build(n_kv=200_000) + b"\0" * 13 * 200_000, "limit 100000"),
    "kv-count": (build(n_kv=2**63), "metadata entries"),
    "array-2^60": (build([kv("a", ARR, struct.pack("<IQ", U32, 2**60))]), "declares"),
    "string-array-2^60": (build([kv("a", ARR, struct.pack("<IQ", STR, 2**60))]), "declares"),
    "nested-array-2^60": (build([kv("a", ARR, struct.pack("<IQ", ARR, 2**60))]), "declares"),
    "string-2^62": (build([kv("a", STR, struct.pack("<Q", 2**62))]), "limit"),
    "string-past-end": (build([kv("a", STR, struct.pack("<Q", 100) + b"xy")]), "truncated"),
    "key-length": (build([struct.pack("<Q", 1000) + b"\0" * 16]), "truncated"),
    "value-type": (build([kv("a", 13, b"")]), "unknown value type 13"),
    "array-type": (build([kv("a", ARR, struct.pack("<IQ", 42, 1))]), "unknown element type"),
    "deep-nesting": (build([kv("a", ARR, struct.pack("<IQ", ARR, 1) * 40)]), "deeper"),
    "dims": (build(tensors=[tinfo("t", (1, 1, 1, 1, 1), 0, 0)], data=b"\0" * 4), "5 dimensions"),
    "ggml-type": (build(tensors=[tinfo("t", (1,), 99, 0)], data=b"\0" * 4), "unknown ggml type"),
    "unaligned": (build(tensors=[tinfo("t", (1,), 0, 4)], data=b"\0" * 64), "alignment"),
    "past-end": (build(tensors=[tinfo("t", (64,), 0, 0)], data=b"\0" * 16), "beyond the end"),
    "dup-tensor": (build(tensors=[tinfo("t", (1,), 0, 0), tinfo("t", (1,), 0, 32)],
                         data=b"\0" * 64), "defined twice"),
    "block": (build(tensors=[tinfo("t", (16,), 2, 0)], data=b"\0" * 32), "block size 32"),
    "absurd-dim": (build(tensors=[tinfo("t", (2**63,), 0, 0)]), "absurd"),
    "alignment-3": (build([kv("general.alignment", U32, struct.pack("<I", 3))]), "power of two"),
    "alignment-type": (build([kv("general.alignment", STR, s("32"))]), "must be uint32"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_a_clear_error(tmp_path, case):
    data, words = BAD[case]
    path = tmp_path / "bad.gguf"
    path.write_bytes(data)
    clear_cache()
    start = time.perf_counter()
    with pytest.raises(InputError) as exc:
        read_gguf(rf(path))
    assert time.perf_counter() - start < 0.5
    assert exc.value.file == "bad.gguf"
    assert words in exc.value.problem
    assert "\n" not in exc.value.problem


def test_walked_arrays_are_capped(tmp_path):
    """2^25 empty strings fit in a (sparse) 256 MiB file but would take a minute to walk."""
    path = tmp_path / "many.gguf"
    path.write_bytes(build([kv("a", ARR, struct.pack("<IQ", STR, 1 << 25))]))
    os.truncate(path, path.stat().st_size + (8 << 25))
    start = time.perf_counter()
    with pytest.raises(InputError, match="limit 16777216"):
        read_gguf(rf(path))
    assert time.perf_counter() - start < 0.5


def test_findings(tmp_path):
    kvs = [
        kv("general.name", STR, s("a")),
        kv("general.name", STR, s(b"\xff\xfe")),
        kv("general.file_type", U32, struct.pack("<I", 999)),
    ]
    tensors = [tinfo("a", (8,), 0, 0), tinfo("b", (8,), 0, 64), tinfo("c", (32,), 31, 64)]
    path = tmp_path / "odd.gguf"
    path.write_bytes(build(kvs, tensors, b"\0" * 256, version=2))
    g = read_gguf(rf(path))
    codes = sorted(f.code for f in g.findings)
    # duplicate key, bad UTF-8, overlap (c inside b), removed type, unknown file
    # type, v2, bytes belonging to no tensor (between a and c, after b)
    assert codes == ["MC140", "MC141", "MC142", "MC143", "MC144", "MC146", "MC147"]
    assert g.name == "\ufffd\ufffd"  # the last duplicate wins, shown with replacements
    assert g.quantization == "F32"  # unknown file_type: dominant tensor type


def test_truncated_at_every_cut_point(tmp_path):
    path = write_model(tmp_path / "t.gguf", vocab=20)
    blob = path.read_bytes()
    data_end = max(t.offset + t.nbytes for t in read_gguf(rf(path)).tensors)
    cut = tmp_path / "cut.gguf"
    for n in range(0, len(blob), 3):
        cut.write_bytes(blob[:n])
        clear_cache()
        if n < data_end:
            with pytest.raises(InputError):
                read_gguf(rf(cut))
        else:  # only alignment padding after the last tensor is missing
            read_gguf(rf(cut))


def test_never_reads_tensor_data(tmp_path):
    n = 256 * 1024 * 1024
    path = tmp_path / "big.gguf"
    path.write_bytes(build([kv("general.architecture", STR, s("llama"))],
                           [tinfo("w", (n,), 0, 0)]))
    size = path.stat().st_size
    os.truncate(path, size + 4 * n)
    start = time.perf_counter()
    g = read_gguf(rf(path))
    assert time.perf_counter() - start < 1.0
    assert g.tensors[0].nbytes == 4 * n and g.tensors[0].offset == size


FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid(tmp: Path) -> bytes:
    return write_model(tmp / "v.gguf", vocab=5).read_bytes()


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory) -> bytes:
    return _valid(tmp_path_factory.mktemp("gguf"))


def _parse_or_input_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    clear_cache()  # a cold parse of these bytes every time
    try:
        read_gguf(rf(path))
    except InputError as exc:
        assert exc.problem and "\n" not in exc.problem


@FUZZ
@given(data=st.binary(max_size=512))
def test_fuzz_random_bytes(tmp_path, data):
    _parse_or_input_error(tmp_path / "r.gguf", b"GGUF" + data)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
       cut=st.integers(0, 10**6))
def test_fuzz_mutated_valid_file(tmp_path, valid_bytes, edits, cut):
    data = bytearray(valid_bytes)
    for pos, val in edits:
        data[pos % len(data)] = val
    _parse_or_input_error(tmp_path / "m.gguf", bytes(data[: cut % (len(data) + 1)]))


@FUZZ
@given(
    entries=st.lists(
        st.tuples(st.text(max_size=6), st.integers(0, 14),
                  st.binary(max_size=24) | st.integers(0, 2**64 - 1).map(
                      lambda n: struct.pack("<Q", n))),
        max_size=6,
    ),
    n_t=st.integers(0, 3),
    tail=st.binary(max_size=64),
)
def test_fuzz_structured_metadata(tmp_path, entries, n_t, tail):
    kvs = [kv(k, t, p) for k, t, p in entries]
    _parse_or_input_error(tmp_path / "s.gguf", build(kvs, n_t=n_t) + tail)
