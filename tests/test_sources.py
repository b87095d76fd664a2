from __future__ import annotations

import os

import pytest
from conftest import make_hf_cache

from modelclear.errors import InputError
from modelclear.sources import open_release


def test_local_dir_lists_files_recursively_and_skips_git(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.py").write_text("print(1)")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    rel = open_release(str(tmp_path))
    assert rel.source.kind == "local-dir"
    assert [f.path for f in rel.files] == ["config.json", "sub/x.py"]
    assert rel.get("sub/x.py").size == 8


def test_hf_cache_resolves_main_ref_and_explicit_revision(hf_hub):
    old, new = "a" * 40, "b" * 40
    make_hf_cache(hf_hub, "acme/demo", {"config.json": b'{"v": 1}'}, old, refs=("v1",))
    snap = make_hf_cache(hf_hub, "acme/demo", {"config.json": b'{"v": 2}',
                                                "model.safetensors": b"x" * 10}, new)
    rel = open_release("acme/demo")
    assert rel.source.kind == "hf-cache"
    assert rel.source.revision == new
    assert rel.source.refs == ("main",)
    assert rel.source.other_revisions == (old,)
    assert rel.root == snap
    weights = rel.get("model.safetensors")
    assert weights.claimed_sha256 is not None and weights.abspath.parent.name == "blobs"
    assert open_release("acme/demo@v1").source.revision == old
    assert open_release("acme/demo@aaaa").source.revision == old
    with pytest.raises(InputError, match="revision 'nope' is not in the cache"):
        open_release("acme/demo@nope")
    with pytest.raises(InputError, match="not in the Hugging Face cache"):
        open_release("acme/other")


def test_single_file_and_split_gguf(tmp_path):
    one = tmp_path / "m.safetensors"
    one.write_bytes(b"\0" * 8)
    rel = open_release(str(one))
    assert rel.source.kind == "weights-file" and [f.path for f in rel.files] == ["m.safetensors"]
    for i in (1, 2, 3):
        (tmp_path / f"q-{i:05d}-of-00003.gguf").write_bytes(b"GGUF")
    rel = open_release(str(tmp_path / "q-00002-of-00003.gguf"))
    assert rel.source.kind == "gguf" and len(rel.files) == 3
    (tmp_path / "q-00003-of-00003.gguf").unlink()
    with pytest.raises(InputError, match="missing 1 part"):
        open_release(str(tmp_path / "q-00001-of-00003.gguf"))


@pytest.mark.parametrize("case", ["missing", "empty", "loop", "broken"])
def test_bad_targets_are_input_errors(tmp_path, case):
    target = tmp_path / "t"
    if case == "empty":
        target.mkdir()
    elif case == "loop":
        target.mkdir()
        os.symlink(target / "b", target / "a")
        os.symlink(target / "a", target / "b")
    elif case == "broken":
        target.mkdir()
        os.symlink(tmp_path / "nowhere", target / "model.safetensors")
    with pytest.raises(InputError) as exc:
        open_release(str(target))
    msg = str(exc.value)
    assert "\n" not in msg
    expected = {"missing": "does not exist", "empty": "empty directory",
                "loop": "symlink loop", "broken": "missing"}[case]
    assert expected in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    f = tmp_path / "config.json"
    f.write_text("{}")
    f.chmod(0)
    with pytest.raises(InputError, match="not readable"):
        open_release(str(tmp_path))
