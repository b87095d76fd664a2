"""PyTorch checkpoints read statically: shapes and dtypes match what torch itself loads."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelclear.errors import InputError
from modelclear.parsers.torchzip import (
    clear_cache,
    read_torch_checkpoint,
    read_torch_legacy,
    read_torch_zip,
)
from modelclear.release import stat_file

DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL", torch.float8_e4m3fn: "F8_E4M3",
    torch.float8_e5m2: "F8_E5M2", torch.uint32: "U32", torch.complex64: "C64",
}  # fmt: skip


def rf(path: Path):
    return stat_file(path, path.name)


#: dtypes without a legacy typed-storage class: torch itself cannot load them back
#: from the legacy format, so that fixture leaves them out.
UNTYPED = {torch.float8_e4m3fn, torch.float8_e5m2, torch.uint32}


def state_dict(legacy: bool = False) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    sd: dict[str, torch.Tensor] = {
        f"t.{str(dt).split('.')[1]}": torch.randn(3, 5, generator=g).to(dt)
        for dt in DTYPES
        if not (legacy and dt in UNTYPED)
    }
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd["view.slice"] = base[1:3, 2:5]  # offset + strides into a shared storage
    sd["view.base"] = base
    sd["tied.a"] = sd["t.float32"]
    sd["scalar"] = torch.tensor(7, dtype=torch.int64)
    sd["param"] = torch.nn.Parameter(torch.ones(2, 2))
    return sd


@pytest.fixture(params=["zip", "legacy"])
def checkpoint(request, tmp_path) -> tuple[Path, dict[str, torch.Tensor], str]:
    sd = state_dict(legacy=request.param == "legacy")
    path = tmp_path / "pytorch_model.bin"
    torch.save(sd, path, _use_new_zipfile_serialization=request.param == "zip")
    return path, sd, request.param


def test_matches_torch_load(checkpoint):
    path, sd, kind = checkpoint
    a = read_torch_checkpoint(rf(path))
    assert a.format == ("pytorch-zip" if kind == "zip" else "pytorch-legacy")
    assert a.tensors_known
    loaded = torch.load(path, weights_only=True)  # our own fixture, never a corpus file
    assert [t.name for t in a.tensors] == list(loaded)
    blob = path.read_bytes()
    for t in a.tensors:
        ref = loaded[t.name]
        assert t.dtype == DTYPES[ref.dtype], t.name
        assert t.shape == tuple(ref.shape), t.name
        assert t.nbytes == ref.numel() * ref.element_size()
        if ref.is_contiguous():
            assert blob[t.offset : t.offset + t.nbytes] == ref.reshape(-1).view(
                torch.uint8
            ).numpy().tobytes(), t.name
    codes = {f.code for f in a.findings}
    assert codes == (set() if kind == "zip" else {"MC165"})
    assert a.byteorder == "little"


def test_zip_members_and_layout(tmp_path):
    path = tmp_path / "m.pt"
    torch.save({"w": torch.zeros(2, 2)}, path)
    a = read_torch_zip(rf(path))
    assert a.prefix == "m" and a.pickles == ("m/data.pkl",) and a.version == "3"
    with zipfile.ZipFile(path) as zf:
        assert [m.name for m in a.members] == zf.namelist()
    assert set(a.storages) == {"0"} and a.storages["0"].nbytes == 16


def test_nested_checkpoint_names(tmp_path):
    path = tmp_path / "last.ckpt"
    torch.save({"epoch": 3, "state_dict": {"layer.weight": torch.zeros(2, 3)},
                "optimizer_states": [{"state": {0: {"exp_avg": torch.zeros(2, 3)}}}]}, path)
    names = [t.name for t in read_torch_checkpoint(rf(path)).tensors]
    assert names == ["state_dict.layer.weight", "optimizer_states.0.state.0.exp_avg"]


def rewrite(src: Path, dst: Path, *, drop: str | None = None, extra: dict[str, bytes] = (),
            replace: dict[str, bytes] = (), method: int = zipfile.ZIP_STORED) -> Path:
    extra, replace = dict(extra), dict(replace)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", method) as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in extra.items():
            zout.writestr(name, data)
    return dst


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "small.pt"
    torch.save({"a": torch.zeros(4, 4), "b": torch.ones(3)}, path)
    return path


def test_findings(small, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we want
        dup = rewrite(small, tmp_path / "dup.pt",
                      extra={"small/data.pkl": b"\x80\x02}q\x00.", "small/evil.pkl": b"N.",
                             "small/data/9": b"\0" * 8})
    got = read_torch_zip(rf(dup))
    assert sorted(f.code for f in got.findings) == ["MC160", "MC163", "MC166"]
    assert [t.name for t in got.tensors] == ["a", "b"]  # the first data.pkl, as torch reads
    comp = rewrite(small, tmp_path / "comp.pt", method=zipfile.ZIP_DEFLATED)
    got = read_torch_zip(rf(comp))
    assert [f.code for f in got.findings] == ["MC167"]
    assert all(t.offset == -1 for t in got.tensors) and got.tensors_known
    short = rewrite(small, tmp_path / "short.pt", replace={"small/data/0": b"\0" * 8})
    assert [f.code for f in read_torch_zip(rf(short)).findings] == ["MC162"]
    big = rewrite(small, tmp_path / "big.pt", replace={"small/byteorder": b"big"})
    got = read_torch_zip(rf(big))
    assert got.byteorder == "big" and [f.code for f in got.findings] == ["MC164"]
    odd = rewrite(small, tmp_path / "odd.pt",
                  replace={"small/data.pkl": b"\x80\x02ctorch._utils\n_rebuild_qtensor\n)R."})
    got = read_torch_zip(rf(odd))
    assert not got.tensors_known and got.tensors == ()
    assert [f.code for f in got.findings] == ["MC161"]
    assert "_rebuild_qtensor" in got.findings[0].message


BAD = {
    "no-data-pkl": (lambda s, d: rewrite(s, d, drop="small/data.pkl"), "no data.pkl"),
    "missing-storage": (lambda s, d: rewrite(s, d, drop="small/data/0"), "storage '0'"),
    "bad-pickle": (lambda s, d: rewrite(s, d, replace={"small/data.pkl": b"\x80\x02}q\x00\xff"}),
                   "not a valid pickle"),
    "not-zip-not-legacy": (lambda s, d: d.write_bytes(pickle.dumps({"a": 1}, 2)), "not a PyTorch"),
    "garbage": (lambda s, d: d.write_bytes(b"PK\x03\x04" + b"\0" * 100), "zip"),
    "cd-count": (lambda s, d: d.write_bytes(
        b"PK\x03\x04" + b"\0" * 6 + b"PK\x05\x06"
        + struct.pack("<4H2IH", 0, 0, 0xFFFE, 0xFFFE, 10, 0, 0)), "entries"),
    "cd-size": (lambda s, d: d.write_bytes(
        b"PK\x05\x06" + struct.pack("<4H2IH", 0, 0, 1, 1, 2**31, 0, 0)), "central directory"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_a_clear_error(small, tmp_path, case):
    make, words = BAD[case]
    path = tmp_path / "bad.pt"
    make(small, path)
    with pytest.raises(InputError) as exc:
        read_torch_checkpoint(rf(path))
    assert words in exc.value.problem and exc.value.file == "bad.pt"


@pytest.mark.parametrize("kind", ["zip", "legacy"])
def test_truncated_at_many_cut_points(tmp_path, kind):
    path = tmp_path / "full.pt"
    torch.save({"a": torch.zeros(4, 4), "b": torch.ones(3)}, path,
               _use_new_zipfile_serialization=kind == "zip")
    blob = path.read_bytes()
    cut = tmp_path / "cut.pt"
    for n in range(0, len(blob), 7):
        cut.write_bytes(blob[:n])
        clear_cache()
        with pytest.raises(InputError):
            read_torch_checkpoint(rf(cut))


def test_legacy_reader_rejects_zip(small):
    with pytest.raises(InputError, match="not a PyTorch checkpoint"):
        read_torch_legacy(rf(small))


def _bytes(kind: str) -> bytes:
    buf = io.BytesIO()
    torch.save({"a": torch.zeros(2, 3, dtype=torch.bfloat16), "b": torch.ones(3)}, buf,
               _use_new_zipfile_serialization=kind == "zip")
    return buf.getvalue()


VALID = {"zip": _bytes("zip"), "legacy": _bytes("legacy")}
FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parse_or_input_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    clear_cache()  # a cold parse of these bytes every time
    try:
        read_torch_checkpoint(rf(path))
    except InputError as exc:
        assert exc.problem and "\n" not in exc.problem


@FUZZ
@given(kind=st.sampled_from(["zip", "legacy"]),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 10**6))
def test_fuzz_mutated_valid_file(tmp_path, kind, edits, cut):
    data = bytearray(VALID[kind])
    for pos, val in edits:
        data[pos % len(data)] = val
    _parse_or_input_error(tmp_path / "m.pt", bytes(data[: cut % (len(data) + 1)] or data))


@FUZZ
@given(prefix=st.sampled_from([b"PK\x03\x04", b"\x80\x02", b""]), data=st.binary(max_size=400))
def test_fuzz_random_bytes(tmp_path, prefix, data):
    _parse_or_input_error(tmp_path / "r.pt", prefix + data)


def test_pickled_module_named_like_its_state_dict(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = tmp_path / "full.pt"
    torch.save(model, path)
    a = read_torch_checkpoint(rf(path))
    assert [t.name for t in a.tensors] == list(model.state_dict())
    assert a.tensors_known and a.findings == ()  # every storage accounted for
    bare = tmp_path / "bare.pt"
    torch.save(torch.zeros(3), bare)
    assert [t.name for t in read_torch_checkpoint(rf(bare)).tensors] == ["(root)"]


def test_legacy_pickles_larger_than_the_first_read(tmp_path):
    sd = {f"layer.{i}.weight": torch.zeros(2) for i in range(12_000)}
    path = tmp_path / "big_legacy.bin"
    torch.save(sd, path, _use_new_zipfile_serialization=False)
    a = read_torch_legacy(rf(path))
    assert len(a.tensors) == 12_000 and a.tensors_known
    assert a.tensors[-1].name == "layer.11999.weight"


def test_zip_reader_reads_no_storage(small, monkeypatch):
    opened: list[str] = []
    real = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    clear_cache()
    read_torch_zip(rf(small))
    assert opened and not any("/data/" in n for n in opened)


def test_archive_folder_comes_from_the_first_entry(small, tmp_path):
    """torch.load reads <folder of the first entry>/data.pkl, so we read that one too."""
    path = tmp_path / "first.pt"
    with zipfile.ZipFile(small) as zin, zipfile.ZipFile(path, "w") as zout:
        zout.writestr("other/data.pkl", b"\x80\x02}q\x00.")
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    a = read_torch_zip(rf(path))
    assert a.prefix == "other" and a.tensors == () and a.pickles[0] == "other/data.pkl"
    assert [f.code for f in a.findings] == ["MC166"]  # small/data.pkl is the extra one
