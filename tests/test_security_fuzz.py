"""Fuzzing the readers the scan relies on: hostile bytes give findings, never tracebacks."""

from __future__ import annotations

import io
import pickle
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.security.files import examine_buffer
from modelclear.analyzers.security.remote_code import review_python
from modelclear.analyzers.security.templates import review_template
from modelclear.analyzers.security.ziparchive import ZipError, open_zip


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
        z.writestr("archive/version", b"3\n")
        z.writestr("archive/data/0", b"\x00" * 32)
    return buf.getvalue()


ZIP = _zip()


@settings(max_examples=200, deadline=None)
@given(pos=st.integers(0, len(ZIP) - 1), value=st.integers(0, 255), cut=st.integers(0, len(ZIP)))
def test_mutated_zip_never_raises_unexpectedly(pos: int, value: int, cut: int) -> None:
    data = bytearray(ZIP)
    data[pos] = value
    data = data[: max(cut, 22)]
    try:
        za = open_zip(bytes(data))
    except ZipError:
        return
    for m in za.members:
        za.head(m, 16)
    out = examine_buffer(bytes(data), path="x.pt", name="x.pt")
    if data[:4] == b"PK\x03\x04":  # torch only treats files starting so as archives
        assert out.kind in ("zip", "torch-zip", "npz")
    else:
        assert out.malformed or out.findings or out.kind == "other"


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=600),
    name=st.sampled_from(
        ["x.pkl", "x.pt", "x.bin", "x.npy", "x.npz", "x.joblib", "x", "x.7z", "x.tar", "x.gz"]
    ),
)
def test_random_bytes_never_raise(data: bytes, name: str) -> None:
    out = examine_buffer(data, path=name, name=name)
    assert out.kind


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(
        [
            b"\x93NUMPY\x01\x00",
            b"7z\xbc\xaf\x27\x1c",
            b"\x1f\x8b",
            b"PK\x03\x04",
            b"\x80\x04",
            b"\x80\x02\x8a\x0a",
        ]
    ),
    rest=st.binary(max_size=300),
)
def test_magic_prefixed_garbage_never_raises(prefix: bytes, rest: bytes) -> None:
    out = examine_buffer(prefix + rest, path="f", name="f")
    assert out.kind


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_templates_and_python_never_raise(text: str) -> None:
    review_template(text, file="t.jinja")
    review_template("{{ " + text + " }}", file="t.jinja")
    review_python(text.encode("utf-8", "surrogatepass"), file="m.py")


def test_absurd_nesting_is_malformed_not_a_crash() -> None:
    py = review_python(b"x = " + b"(" * 100_000 + b")" * 100_000, file="deep.py")
    assert [f.code for f in py] == ["MC342"]
    tpl = review_template("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", file="t.jinja")
    assert [f.code for f in tpl] == ["MC353"]
