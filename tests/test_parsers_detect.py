"""Format detection from content, the extension's claim, and when the two agree."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import subprocess
import sys
import tarfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import gguf
import joblib
import numpy as np
import py7zr
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import save as st_save

from modelclear.parsers.detect import (
    FORMATS,
    detect_format,
    extension_format,
    formats_agree,
)

SNIFF = 64 * 1024
LFS = (b"version https://git-lfs.github.com/spec/v1\n"
       b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
       b"size 4976698672\n")


def torch_bytes(legacy: bool = False) -> bytes:
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def gguf_bytes(tmp: Path) -> bytes:
    w = gguf.GGUFWriter(str(tmp / "x.gguf"), "llama")
    w.add_tensor("t", np.zeros(4, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return (tmp / "x.gguf").read_bytes()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros(3), b=np.ones(2))
    return buf.getvalue()


def npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 2)))
    return buf.getvalue()


def joblib_bytes(compress: int) -> bytes:
    buf = io.BytesIO()
    joblib.dump({"coef": np.arange(4.0)}, buf, compress=compress)
    return buf.getvalue()


def seven_zip(tmp: Path) -> bytes:
    (tmp / "in.txt").write_text("hello")
    with py7zr.SevenZipFile(tmp / "a.7z", "w") as z:
        z.write(tmp / "in.txt", "in.txt")
    return (tmp / "a.7z").read_bytes()


def tar_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    return buf.getvalue()


def onnx_bytes() -> bytes:
    # ModelProto: ir_version=8, producer_name="pytorch", producer_version="2.1", graph={...}
    return b"\x08\x08\x12\x07pytorch\x1a\x032.1:\x0a\x0a\x03add\x12\x01x"


def saved_model_bytes() -> bytes:
    # SavedModel: saved_model_schema_version=1, meta_graphs={meta_info_def={...}}
    return b"\x08\x01\x12\x40\x0a\x3e\x0a\x05serve" + b"\x00" * 60


def msgpack_bytes() -> bytes:
    # {"params": {"dense": {}}} as msgpack
    return b"\x81\xa6params\x81\xa5dense\x80" + b"\x00" * 64


CASES = {
    "safetensors": lambda t: (st_save({"a": np.zeros(3, np.float32)}), "model.safetensors"),
    "gguf": lambda t: (gguf_bytes(t), "m.gguf"),
    "pytorch-zip": lambda t: (torch_bytes(), "pytorch_model.bin"),
    "pytorch-legacy": lambda t: (torch_bytes(legacy=True), "model.pt"),
    "pickle-p0": lambda t: (pickle.dumps({"a": [1, 2]}, 0), "x.pkl"),
    "pickle-p1": lambda t: (pickle.dumps({"a": [1, 2]}, 1), "x.pkl"),
    "pickle-p2": lambda t: (pickle.dumps(OrderedDict(a=1), 2), "x.pkl"),
    "pickle-p5": lambda t: (pickle.dumps({"a": b"x" * 100_000}, 5), "x.pkl"),
    "pickle-joblib": lambda t: (joblib_bytes(0), "m.joblib"),
    "pickle-joblib-zlib": lambda t: (joblib_bytes(3), "m.joblib"),
    "numpy": lambda t: (npy_bytes(), "a.npy"),
    "npz": lambda t: (npz_bytes(), "a.npz"),
    "onnx": lambda t: (onnx_bytes(), "model.onnx"),
    "tensorflow": lambda t: (saved_model_bytes(), "saved_model.pb"),
    "keras-h5": lambda t: (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "model.h5"),
    "keras-zip": lambda t: (zip_bytes({"metadata.json": b"{}", "config.json": b"{}",
                                       "model.weights.h5": b"\x89HDF\r\n\x1a\n"}), "m.keras"),
    "flax-msgpack": lambda t: (msgpack_bytes(), "flax_model.msgpack"),
    "zip": lambda t: (zip_bytes({"a.txt": b"hi"}), "a.zip"),
    "7z": lambda t: (seven_zip(t), "a.7z"),
    "tar": lambda t: (tar_bytes(), "a.tar"),
    "gzip": lambda t: (gzip.compress(b"hello"), "a.tar.gz"),
    "json": lambda t: (json.dumps({"model_type": "llama"}).encode(), "config.json"),
    "json-cut": lambda t: (json.dumps({"v": {f"tok{i}": i for i in range(20000)}}).encode(),
                           "tokenizer.json"),
    "yaml": lambda t: (b"license: mit\ntags: [a]\n", "meta.yaml"),
    "python": lambda t: (b"import torch\n\nclass Model:\n    pass\n", "modeling_x.py"),
    "python-shebang": lambda t: (b"#!/usr/bin/env python3\nprint(1)\n", "run"),
    "markdown": lambda t: (b"---\nlicense: apache-2.0\n---\n# Model\n", "README.md"),
    "markdown-unnamed": lambda t: (b"---\nlicense: apache-2.0\n---\n# Model\n", "README"),
    "jinja": lambda t: (b"{% for m in messages %}{{ m.content }}{% endfor %}",
                        "chat_template.jinja"),
    "text": lambda t: (b"Apache License\nVersion 2.0, January 2004\n", "LICENSE"),
    "text-prose-like-pickle": lambda t: (b"No.", "NOTICE"),
    "binary": lambda t: (bytes(range(256)) * 4, "tokenizer.model"),
    "empty": lambda t: (b"", "empty.txt"),
    "lfs-pointer": lambda t: (LFS, "model-00001-of-00002.safetensors"),
    "tensorflow-index": lambda t: (b"\0" * 40 + (0xDB4775248B80FB57).to_bytes(8, "little"),
                                   "model.ckpt.index"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_detects_real_files(tmp_path, case):
    data, name = CASES[case](tmp_path)
    expected = case.split("-")[0] if case not in FORMATS else case
    assert detect_format(data[:SNIFF], name) == expected


def test_content_wins_over_the_name():
    pkl = pickle.dumps({"a": 1}, 2)
    assert detect_format(pkl, "model.safetensors") == "pickle"
    assert detect_format(torch_bytes(), "config.json") == "pytorch-zip"
    assert detect_format(st_save({"a": np.zeros(2, np.float32)}), "weights.bin") == "safetensors"


@pytest.mark.parametrize("name", ["model.safetensors", "model.gguf", "pytorch_model.bin"])
def test_lfs_pointer_gets_a_clear_error(tmp_path, name):
    from modelclear.errors import InputError
    from modelclear.parsers.gguf import read_gguf
    from modelclear.parsers.safetensors import read_safetensors
    from modelclear.parsers.torchzip import read_torch_checkpoint
    from modelclear.release import stat_file

    reader = {"model.safetensors": read_safetensors, "model.gguf": read_gguf,
              "pytorch_model.bin": read_torch_checkpoint}[name]
    path = tmp_path / name
    path.write_bytes(LFS)
    with pytest.raises(InputError, match="Git LFS pointer"):
        reader(stat_file(path, name))
    assert not formats_agree(detect_format(LFS, name), extension_format(name))


@pytest.mark.parametrize(
    "name, claim",
    [
        ("model-00001-of-00002.safetensors", "safetensors"),
        ("pytorch_model.bin", "pytorch"),
        ("consolidated.00.pth", "pytorch"),
        ("last.CKPT", "checkpoint"),
        ("model.gguf", "gguf"),
        ("variables/variables.data-00000-of-00001", "tensorflow"),
        ("variables/variables.index", "tensorflow"),
        ("weights.tar.gz", "gzip"),
        ("tokenizer_config.json", "json"),
        ("chat_template.jinja", "jinja"),
        ("README.md", "markdown"),
        ("LICENSE", None),
        ("tokenizer.model", None),
    ],
)
def test_extension_claims(name, claim):
    assert extension_format(name) == claim


@pytest.mark.parametrize(
    "content, claim, agree",
    [
        ("pickle", "safetensors", False),
        ("pytorch-zip", "safetensors", False),
        ("safetensors", "pytorch", False),
        ("gguf", "safetensors", False),
        ("pytorch-zip", "pytorch", True),
        ("pytorch-legacy", "pytorch", True),
        ("pickle", "pytorch", True),
        ("tensorflow", "checkpoint", True),
        ("pytorch-zip", "checkpoint", True),
        ("pickle", "json", False),
        ("zip", "json", False),
        ("yaml", "markdown", True),
        ("text", "json", True),
        ("binary", "onnx", True),
        ("binary", "safetensors", False),
        ("npz", "zip", True),
        ("empty", "safetensors", True),
        ("pickle", None, True),
    ],
)
def test_formats_agree(content, claim, agree):
    assert formats_agree(content, claim) is agree


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2048), name=st.sampled_from(
    ["x.bin", "x.safetensors", "x.json", "x.pkl", "x.onnx", "x.msgpack", "x", "README.md"]))
def test_fuzz_never_raises(data, name):
    assert detect_format(data, name) in FORMATS


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from([b"PK\x03\x04", b"\x80\x02", b"(dp0\n", b"\x08\x01\x12", b"\x81",
                               b"\x10\x00\x00\x00\x00\x00\x00\x00{", b"\x93NUMPY", b"\x78\x9c"]),
       data=st.binary(max_size=512))
def test_fuzz_magic_prefixes(prefix, data):
    assert detect_format(prefix + data, "x.bin") in FORMATS


def test_security_corpus_is_detected(shared, tmp_path):
    """Every file of the shared security corpus gets a format; benign ones the right one."""
    out = tmp_path / "corpus"
    gen = shared / "corpus" / "security" / "make_corpus.py"
    subprocess.run([sys.executable, str(gen), str(out)], check=True, capture_output=True,
                   timeout=300)
    labels = json.loads((out / "labels.json").read_text())
    same = {"torch-zip": "pytorch-zip", "torch-legacy": "pytorch-legacy", "npy": "numpy",
            "joblib": "pickle", "config-json": "json", "tokenizer-config": "json"}
    for rel, label in labels.items():
        path = out / rel
        got = detect_format(path.read_bytes()[:SNIFF], path.name)
        assert got in FORMATS
        if label["kind"] == "benign":
            assert got == same.get(label["format"], label["format"]), rel


def test_caches_never_serve_a_rewritten_file(tmp_path):
    """Same path, same size, rewritten in place: every parser sees the new content."""
    import os

    from modelclear.parsers.gguf import read_gguf
    from modelclear.parsers.safetensors import read_safetensors
    from modelclear.parsers.torchzip import read_torch_checkpoint
    from modelclear.release import stat_file

    def same_stat_rewrite(path: Path, data: bytes) -> None:
        st = path.stat()
        assert len(data) == st.st_size
        path.write_bytes(data)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even the mtime is kept

    st_path = tmp_path / "m.safetensors"
    st_path.write_bytes(st_save({"a": np.zeros(4, np.uint8)}))
    assert read_safetensors(stat_file(st_path, "m.safetensors")).tensors[0].dtype == "U8"
    same_stat_rewrite(st_path, st_save({"a": np.zeros(4, np.int8)}))
    assert read_safetensors(stat_file(st_path, "m.safetensors")).tensors[0].dtype == "I8"

    gpath = tmp_path / "m.gguf"
    gpath.write_bytes(gguf_bytes(tmp_path).replace(b"llama", b"llamb"))
    assert read_gguf(stat_file(gpath, "m.gguf")).architecture == "llamb"
    same_stat_rewrite(gpath, gguf_bytes(tmp_path))
    assert read_gguf(stat_file(gpath, "m.gguf")).architecture == "llama"

    tpath = tmp_path / "m.pt"
    buf = io.BytesIO()
    torch.save({"a": torch.zeros(3)}, buf)
    tpath.write_bytes(buf.getvalue())
    assert [t.name for t in read_torch_checkpoint(stat_file(tpath, "m.pt")).tensors] == ["a"]
    buf = io.BytesIO()
    torch.save({"b": torch.ones(3)}, buf)
    same_stat_rewrite(tpath, buf.getvalue())
    assert [t.name for t in read_torch_checkpoint(stat_file(tpath, "m.pt")).tensors] == ["b"]
