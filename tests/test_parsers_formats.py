"""The format registry is the one place format facts live; these keep it consistent."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.security import analyze_file
from modelclear.parsers.detect import FORMATS, detect_format, extension_format
from modelclear.parsers.formats import REGISTRY, spec, spec_for_name
from modelclear.release import stat_file

DOCS = Path(__file__).resolve().parents[1] / "docs" / "formats.md"


def test_every_suffix_maps_to_one_spec() -> None:
    seen: dict[str, str] = {}
    for f in REGISTRY:
        for sfx in f.suffixes:
            assert sfx == sfx.lower() and sfx.startswith("."), (f.name, sfx)
            assert sfx not in seen, f"{sfx} claimed by {seen.get(sfx)} and {f.name}"
            seen[sfx] = f.name
            assert extension_format("x" + sfx) == f.name
            assert spec_for_name("dir/X" + sfx.upper()) is f


def test_names_are_unique_and_known() -> None:
    names = [f.name for f in REGISTRY]
    assert len(names) == len(set(names))
    for f in REGISTRY:
        assert spec(f.name) is f
        assert f.agrees <= set(names), f.name


def test_every_unpickling_spec_has_a_scanner() -> None:
    for f in REGISTRY:
        if f.unpickles:
            assert f.scanner is not None, f.name


def test_detection_returns_only_registry_names() -> None:
    assert set(FORMATS) == {f.name for f in REGISTRY if f.detected}
    assert FORMATS[-1] == "binary"


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=600), name=st.sampled_from(
    ["x.bin", "x.pt", "x.onnx", "x.pkl", "x.p", "x.npz", "x.keras", "x.json", "x", "x.tar.gz"]))
def test_fuzzed_detection_stays_in_the_registry(data: bytes, name: str) -> None:
    assert detect_format(data, name) in FORMATS


def test_every_registry_name_is_documented() -> None:
    text = DOCS.read_text("utf-8")
    for f in REGISTRY:
        assert re.search(rf"`{re.escape(f.name)}`", text), f"{f.name} missing from docs/formats.md"
    assert "## Adding a format" in text


def test_a_format_no_scanner_reads_is_unsupported(tmp_path: Path) -> None:
    """ONNX has no scanner: the security analyzer must not call it clean."""
    assert spec("onnx").scanner is None
    p = tmp_path / "model.onnx"
    p.write_bytes(b"\x08\x07\x12\x07pytorch\x1a\x032.1" + b"\0" * 64)
    assert detect_format(p.read_bytes(), p.name) == "onnx"
    r = analyze_file(stat_file(p, "model.onnx"))
    assert r.status == "unsupported" and r.kind == "onnx"
    assert any(f.code == "MC341" for f in r.findings)


def test_unread_formats_are_never_clean(tmp_path: Path) -> None:
    for f in REGISTRY:
        if f.scanner is not None or not f.suffixes:
            continue
        p = tmp_path / ("x" + f.suffixes[0])
        p.write_bytes(b"\x00\x01\x02\x03" * 16)
        r = analyze_file(stat_file(p, p.name))
        assert r.status != "clean", f.name
