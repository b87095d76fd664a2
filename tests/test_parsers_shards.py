"""Shard indexes checked against the shards, with real shards written by huggingface_hub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import save_torch_state_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from modelclear.errors import InputError
from modelclear.parsers.shards import read_index
from modelclear.sources import open_release

INDEX = "model.safetensors.index.json"


def state_dict() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    sd = {f"model.layers.{i}.mlp.weight": torch.randn(64, 32, generator=g) for i in range(4)}
    sd["model.embed_tokens.weight"] = torch.randn(100, 32, generator=g).to(torch.bfloat16)
    sd["model.norm.weight"] = torch.ones(32)
    return sd


def write(folder: Path, *, safe: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    save_torch_state_dict(state_dict(), folder, max_shard_size=12_000, safe_serialization=safe)
    return folder


def index(folder: Path, name: str = INDEX):
    release = open_release(str(folder))
    return read_index(release, release.get(name))


def edit_index(folder: Path, fn, name: str = INDEX) -> None:
    p = folder / name
    data = json.loads(p.read_text())
    fn(data)
    p.write_text(json.dumps(data, indent=2))


def test_real_sharded_checkpoint(tmp_path):
    folder = write(tmp_path)
    idx = index(folder)
    assert len(idx.shards) >= 3
    assert idx.format == "safetensors" and idx.verified
    sd = state_dict()
    assert {t.name for t in idx.tensors} == set(sd)
    assert idx.tensor_bytes == sum(t.numel() * t.element_size() for t in sd.values())
    assert idx.total_size == idx.tensor_bytes
    assert idx.findings == ()
    for t in idx.tensors:
        assert idx.weight_map[t.name] == t.file


def test_pytorch_bin_index(tmp_path):
    folder = write(tmp_path, safe=False)
    idx = index(folder, "pytorch_model.bin.index.json")
    assert idx.format == "pytorch" and idx.verified
    assert {t.name for t in idx.tensors} == set(state_dict())
    assert idx.total_size == idx.tensor_bytes and idx.findings == ()


def test_missing_shard_names_it(tmp_path):
    """A missing shard is a gap the inventory names (MC108), not an input error: the
    index is read, checked against the shards that are here, and marked unverified."""
    from modelclear.analyzers.inventory import analyze

    folder = write(tmp_path)
    victim = sorted(folder.glob("*.safetensors"))[1]
    victim.unlink()
    idx = index(folder)
    assert not idx.verified and idx.tensor_bytes is None
    inv = analyze(open_release(str(folder)))
    hits = [f for f in inv.findings if f.code == "MC108"]
    assert [(f.file, f.quote) for f in hits] == [(INDEX, victim.name)]


def test_tensor_not_in_its_shard(tmp_path):
    folder = write(tmp_path)
    shards = sorted(p.name for p in folder.glob("*.safetensors"))

    def move(d):
        name, shard = next(iter(d["weight_map"].items()))
        d["weight_map"][name] = next(s for s in shards if s != shard)

    edit_index(folder, move)
    with pytest.raises(InputError, match="does not hold it"):
        index(folder)


def test_total_size_mismatch_quotes_both_numbers(tmp_path):
    folder = write(tmp_path)
    edit_index(folder, lambda d: d["metadata"].update(total_size=d["metadata"]["total_size"] + 10))
    idx = index(folder)
    [f] = idx.findings
    assert f.code == "MC130" and str(idx.tensor_bytes) in f.message
    assert str(idx.tensor_bytes + 10) in f.message and f.line is not None
    assert f.extra == {"declared": idx.tensor_bytes + 10, "actual": idx.tensor_bytes}


def test_unlisted_tensor_stray_shard_duplicate_and_no_total(tmp_path):
    folder = write(tmp_path / "a")

    def drop(d):
        d["weight_map"].pop("model.norm.weight")
        d["metadata"].pop("total_size")

    edit_index(folder, drop)
    first = sorted(folder.glob("*.safetensors"))[0]
    count = first.name.rsplit("-of-", 1)[1]
    save_file({"model.layers.0.mlp.weight": torch.zeros(1)},
              folder / f"model-00099-of-{count}")
    idx = index(folder)
    codes = sorted(f.code for f in idx.findings)
    assert codes == ["MC131", "MC132", "MC134"]
    assert "model.norm.weight" in next(f for f in idx.findings if f.code == "MC131").message
    # the same tensor in two listed shards
    folder2 = write(tmp_path / "b")
    shards = sorted(folder2.glob("*.safetensors"))
    extra = {"model.norm.weight": torch.ones(32), "dup.x": torch.ones(2)}
    save_file(extra, shards[0])

    def relist(d):
        for k in list(d["weight_map"]):
            if d["weight_map"][k] == shards[0].name:
                del d["weight_map"][k]
        d["weight_map"]["dup.x"] = shards[0].name

    edit_index(folder2, relist)
    codes = sorted(f.code for f in index(folder2).findings)
    assert "MC133" in codes


@pytest.mark.parametrize(
    "content, words",
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"metadata": {}}', "no weight_map"),
        ('{"weight_map": {"a": "../outside.safetensors"}}', "outside the release"),
        ('{"weight_map": {"a": "/etc/passwd"}}', "outside the release"),
        ('{"weight_map": {"a": 3}}', "not a file name"),
        ('{"metadata": {"total_size": "big"}, "weight_map": {"a": "x.safetensors"}}',
         "total_size must be an integer"),
    ],
)
def test_bad_index(tmp_path, content, words):
    (tmp_path / INDEX).write_text(content)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InputError) as exc:
        index(tmp_path)
    assert words in exc.value.problem


@pytest.fixture(scope="module")
def sharded(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("sharded"))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**70) | st.floats(allow_nan=False)
    | st.sampled_from(["model-00001-of-00005.safetensors", "model-00005-of-00005.safetensors",
                     "../x", "/abs", "", "nope"]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["metadata", "weight_map", "total_size", "model.norm.weight", "x"]),
        kids, max_size=4),
    max_leaves=16,
)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=JSONISH)
def test_fuzz_index(sharded, doc):
    (sharded / INDEX).write_text(json.dumps(doc))
    try:
        index(sharded)
    except InputError as exc:
        assert exc.problem and "\n" not in exc.problem
