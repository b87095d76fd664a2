"""`modelclear inspect` end to end: real files in, one screen / stable JSON out."""

from __future__ import annotations

import json
import struct

import pytest

from modelclear.cli import main
from modelclear.demo import build_demo


def run_json(capsys, *args: str) -> dict:
    code = main(["inspect", *args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.fixture(scope="module")
def demo_release(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("demo"))


def test_demo_release_json_schema(capsys, demo_release):
    d = run_json(capsys, str(demo_release), "--hash")
    assert d["schema_version"] == 1
    assert d["source"]["kind"] == "local-dir"
    comps = {f["path"]: (f["component"], f["format"]) for f in d["files"]}
    assert comps["model-00001-of-00002.safetensors"] == ("weights", "safetensors")
    assert comps["model.safetensors.index.json"] == ("weights-index", "json")
    assert comps["acme-demo-moe-Q8_0.gguf"] == ("weights", "gguf")
    assert comps["tokenizer_config.json"][0] == "tokenizer"
    assert comps["README.md"][0] == "model-card"
    assert comps["LICENSE"][0] == "license"
    assert all(len(f["sha256"]) == 64 for f in d["files"])
    p = d["parameters"]
    assert p["method"] == "headers"
    # Mixtral-style: 2 layers × (attention + router + 4 experts) + embeddings + lm_head + norms
    h, inter, v = 64, 128, 256
    attn = 64 * 64 + 2 * 32 * 64 + 64 * 64
    per_layer = attn + 4 * 64 + 4 * 3 * h * inter + 2 * h
    assert p["total"] == 2 * per_layer + 2 * v * h + h
    assert p["active"] == p["total"] - 2 * 2 * 3 * h * inter
    assert d["card"]["license"] == "other"
    assert d["card"]["license_name"] == "acme-demo-model-license"
    assert d["architecture"]["model_type"] == "mixtral"
    gguf = [f for f in d["weights"]["files"] if f["format"] == "gguf"][0]
    assert gguf["metadata"]["architecture"] == "llama"
    assert gguf["metadata"]["chat_template"] is True
    assert d["weights"]["indexes"][0]["verified"] is True


def test_terminal_summary(capsys, demo_release):
    assert main(["inspect", str(demo_release)]) == 0
    out = capsys.readouterr().out
    for needle in ("mixtral", "parameters", "acme-demo-model-license", "safetensors",
                   "model-card"):
        assert needle in out


def test_corpus_configs_give_the_exact_counts(capsys, shared):
    facts = [json.loads(x) for x in (shared / "corpus/models/facts.jsonl").read_text().splitlines()
             if x.strip()]
    assert len(facts) >= 12
    for fact in facts:
        folder = shared / "corpus/models" / fact["config"].split("/")[0]
        p = run_json(capsys, str(folder))["parameters"]
        assert p["method"] == "config"
        assert abs(p["total"] - fact["exact_total_params"]) <= 0.005 * fact["exact_total_params"]
        assert abs(p["active"] - fact["exact_active_params"]) <= 0.005 * fact[
            "exact_active_params"]
        assert abs(p["total"] - fact["official_total_params"]) <= 0.02 * fact[
            "official_total_params"], fact["name"]
        official = fact["official_active_params"] or fact["official_total_params"]
        if fact["name"] == "DeepSeek-V2-Lite":
            # DeepSeek's "2.4B activated" leaves out the input embedding (102400 × 2048);
            # our active count, like the facts file's, includes it (issue #2 definition).
            active = p["active_excluding_embedding"]
        else:
            active = p["active"]
        assert abs(active - official) <= 0.05 * official, fact["name"]


def _bad_safetensors(tmp_path, case: str):
    p = tmp_path / "model.safetensors"
    if case == "length-beyond-file":
        p.write_bytes(struct.pack("<Q", 10_000) + b"{}")
    elif case == "length-2^63":
        p.write_bytes(struct.pack("<Q", 2**63) + b"{}")
    elif case == "invalid-utf8":
        raw = b'{"a":"\xff"}'
        p.write_bytes(struct.pack("<Q", len(raw)) + raw)
    elif case == "invalid-json":
        raw = b'{"a": '
        p.write_bytes(struct.pack("<Q", len(raw)) + raw)
    elif case == "overlap":
        hdr = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
               "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
        raw = json.dumps(hdr).encode()
        p.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 12)
    elif case == "unknown-dtype":
        hdr = {"a": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}}
        raw = json.dumps(hdr).encode()
        p.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 4)
    return p


def _bad_gguf(tmp_path, case: str):
    p = tmp_path / "model.gguf"
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    key = b"k"
    if case == "gguf-array-count":
        body = struct.pack("<Q", len(key)) + key + struct.pack("<IIQ", 9, 4, 2**60)
    else:  # gguf-string-length
        body = struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, 2**62)
    p.write_bytes(head + body + b"\0" * 16)
    return p


BAD = ["length-beyond-file", "length-2^63", "invalid-utf8", "invalid-json", "overlap",
       "unknown-dtype", "gguf-array-count", "gguf-string-length", "truncated-gguf",
       "empty-dir", "no-such-path", "symlink-loop", "bad-config"]
# A missing shard is no longer an input error (issue 14): tests/test_absent_weights.py.


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, case):
    import os

    if case.startswith("gguf-"):
        target = _bad_gguf(tmp_path, case)
    elif case == "truncated-gguf":
        target = tmp_path / "m.gguf"
        target.write_bytes(b"GGUF\x03\x00")
    elif case == "empty-dir":
        target = tmp_path / "empty"
        target.mkdir()
    elif case == "no-such-path":
        target = tmp_path / "nope"
    elif case == "symlink-loop":
        os.symlink(tmp_path / "b", tmp_path / "a")
        os.symlink(tmp_path / "a", tmp_path / "b")
        target = tmp_path
    elif case == "bad-config":
        (tmp_path / "config.json").write_text('{"num_hidden_layers": "many"')
        target = tmp_path
    else:
        target = _bad_safetensors(tmp_path, case)
    code = main(["inspect", str(target), "--json"])
    cap = capsys.readouterr()
    assert code == 2, (case, cap.out, cap.err)
    assert cap.out == ""
    err = cap.err.strip()
    assert err.startswith("error:") and "Traceback" not in err
    assert len(err.splitlines()) == 1 or len(" ".join(err.split())) < 400, err


def test_hf_cache_target_reports_revision_and_blob_mismatch(capsys, hf_hub, demo_release):
    from conftest import make_hf_cache

    files = {p.name: p.read_bytes() for p in demo_release.iterdir()}
    commit = "c0ffee" + "0" * 34
    snap = make_hf_cache(hf_hub, "acme/demo-moe", files, commit)
    d = run_json(capsys, "acme/demo-moe", "--hash")
    assert d["source"] == {**d["source"], "kind": "hf-cache", "model_id": "acme/demo-moe",
                           "revision": commit, "refs": ["main"]}
    assert not [f for f in d["findings"] if f["code"] == "MC103"]
    blob = (snap / "acme-demo-moe-Q8_0.gguf").resolve()
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    d = run_json(capsys, "acme/demo-moe@main", "--hash")
    bad = [f for f in d["findings"] if f["code"] == "MC103"]
    assert [f["file"] for f in bad] == ["acme-demo-moe-Q8_0.gguf"]


def test_lfs_pointer_in_place_of_weights_is_named(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "tokenizer.json").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 12\n")
    d = run_json(capsys, str(tmp_path))
    assert [f["file"] for f in d["findings"] if f["code"] == "MC106"] == ["tokenizer.json"]


def test_pytorch_checkpoint_parameters_from_its_pickle(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    sd = {"model.embed_tokens.weight": torch.zeros(10, 4, dtype=torch.bfloat16),
          "model.norm.weight": torch.ones(4), "lm_head.weight": torch.zeros(10, 4)}
    torch.save(sd, tmp_path / "pytorch_model.bin")
    torch.save({"step": 3}, tmp_path / "training_args.bin")
    d = run_json(capsys, str(tmp_path))
    assert d["parameters"]["method"] == "headers"
    assert d["parameters"]["total"] == 84
    assert d["parameters"]["by_dtype"] == {"BF16": 40, "F32": 44}
    single = run_json(capsys, str(tmp_path / "pytorch_model.bin"))
    assert single["parameters"]["total"] == 84
