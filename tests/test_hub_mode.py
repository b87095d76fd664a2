"""Hub mode (issue 14, part 2) against a hub on loopback (tests/hubserver.py): audits
without downloading weights, records that pin the commit and the hub's LFS sha256, and
one clear line for everything a hub or a network can get wrong."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from conftest import make_hf_cache, run_cli
from hubserver import TOKEN, HubServer, real, virtual

SHA1, SHA2 = "1" * 40, "2" * 40


@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub.constants as hc

    from modelclear.sources.hub import set_endpoint

    with HubServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
        monkeypatch.setattr(hc, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(hc, "HF_HUB_DISABLE_IMPLICIT_TOKEN", True)
        monkeypatch.setattr("modelclear.sources.hubhttp.MAX_WAIT", 0.05)
        monkeypatch.setattr("modelclear.sources.hubhttp.time.sleep", lambda s: None)
        yield server
        set_endpoint(None)


def demo_files(demo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(demo.iterdir()) if p.is_file()}


def _json(capsys, argv: list[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = run_cli(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert code != 2, captured.err
    return code, json.loads(captured.out) if captured.out.strip() else {}


def _findings(doc: dict, skip: tuple[str, ...] = ()) -> list[tuple[str, str | None, str]]:
    return sorted((f["code"], f["file"], f["message"]) for f in doc["findings"]
                  if f["code"] not in skip)


# ---- a ≥ 10 GB release audited through its headers --------------------------------------


def _safetensors_header(tensors: dict[str, list[int]]) -> tuple[bytes, int]:
    """A real safetensors header (bf16 tensors laid end to end) and the file's full size."""
    meta: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in tensors.items():
        n = 2
        for d in shape:
            n *= d
        meta[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    header = json.dumps(meta, separators=(",", ":")).encode()
    header += b" " * (-(8 + len(header)) % 8)
    return struct.pack("<Q", len(header)) + header, 8 + len(header) + offset


def huge_release(vocab: int = 128256, hidden: int = 8192, layers: int = 4,
                 inter: int = 28672) -> tuple[dict[str, bytes], dict[str, tuple[bytes, int]]]:
    """A Llama-shaped model of ~12 GB: small files as bytes, shards as (header, size)."""
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
           "hidden_size": hidden, "intermediate_size": inter, "num_hidden_layers": layers,
           "num_attention_heads": 64, "num_key_value_heads": 8, "vocab_size": vocab,
           "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "torch_dtype": "bfloat16",
           "tie_word_embeddings": False, "head_dim": 128}
    shards: dict[str, dict[str, list[int]]] = {"model-00001-of-00002.safetensors": {},
                                               "model-00002-of-00002.safetensors": {}}
    first, second = shards.values()
    first["model.embed_tokens.weight"] = [vocab, hidden]
    for i in range(layers):
        part = first if i < layers // 2 else second
        p = f"model.layers.{i}."
        part[p + "self_attn.q_proj.weight"] = [hidden, hidden]
        part[p + "self_attn.k_proj.weight"] = [1024, hidden]
        part[p + "self_attn.v_proj.weight"] = [1024, hidden]
        part[p + "self_attn.o_proj.weight"] = [hidden, hidden]
        part[p + "mlp.gate_proj.weight"] = [inter, hidden]
        part[p + "mlp.up_proj.weight"] = [inter, hidden]
        part[p + "mlp.down_proj.weight"] = [hidden, inter]
        part[p + "input_layernorm.weight"] = [hidden]
        part[p + "post_attention_layernorm.weight"] = [hidden]
    second["model.norm.weight"] = [hidden]
    second["lm_head.weight"] = [vocab, hidden]
    weights = {name: _safetensors_header(t) for name, t in shards.items()}
    total = sum(size - len(head) for head, size in weights.values())
    index = {"metadata": {"total_size": total},
             "weight_map": {t: name for name, ts in shards.items() for t in ts}}
    small = {"config.json": json.dumps(cfg).encode(),
             "model.safetensors.index.json": json.dumps(index).encode(),
             "LICENSE": b"Apache License\nVersion 2.0, January 2004\n"
                        b"http://www.apache.org/licenses/\n",
             "README.md": b"---\nlicense: apache-2.0\n---\n# huge\n"}
    return small, weights


def test_audit_of_10gb_transfers_under_1mb_and_matches_local(hub, tmp_path, capsys):
    """What this proves: for a repository whose API declares > 10 GB of safetensors, hub
    mode asks only for headers (every weights request is a Range request) and moves less
    than 1 MB, and its findings equal those of the same bytes on disk. The shards are
    *virtual* (a real header, then zeros served on demand) and their declared sha256 is a
    stand-in, so this says nothing about hashing them: record/verify is tested on real
    bytes below."""
    small, weights = huge_release()
    declared = sum(size for _, size in weights.values())
    assert declared >= 10 * 10**9
    files: dict[str, object] = dict(small)
    files.update({n: virtual(h, s) for n, (h, s) in weights.items()})
    hub.repo("acme/huge").commit(SHA1, files)  # type: ignore[arg-type]
    code, remote = _json(capsys, ["audit", "hf://acme/huge", "-f", "json", "-q"])
    assert code == 0, remote
    # what crossed the wire: headers and small files only, never tensor data
    assert hub.bytes_served < 1_000_000, hub.bytes_served
    assert all(r.range is not None for r in hub.log if ".safetensors" in r.path
               and "index" not in r.path and r.method == "GET")
    # the same release as a local snapshot (sparse files: the same bytes, zeros mostly)
    local = tmp_path / "huge"
    local.mkdir()
    for name, data in small.items():
        (local / name).write_bytes(data)
    for name, (head, size) in weights.items():
        with open(local / name, "wb") as fh:
            fh.write(head)
            fh.truncate(size)
    code, here = _json(capsys, ["audit", str(local), "-f", "json", "-q"])
    assert code == 0
    coverage = ("MC110",)
    assert _findings(remote, coverage) == _findings(here, coverage)
    assert [f["code"] for f in remote["findings"] if f["code"] in coverage] == ["MC110"]
    assert remote["params"]["total"] == here["params"]["total"] > 5 * 10**9
    assert remote["params"]["method"] == "headers"
    assert remote["source"]["revision"] == SHA1 and remote["source"]["kind"] == "hf-hub"


# ---- record on the hub, verify the download ----------------------------------------------


def test_record_then_verify_download_catches_one_changed_byte(hub, demo, hf_hub, capsys):
    files = demo_files(demo)
    hub.repo("acme/demo").commit(SHA1, files)
    code, rec = _json(capsys, ["record", f"hf://acme/demo@{SHA1}", "--json", "-q"])
    assert code == 0
    assert rec["model"]["revision"] == SHA1 and rec["model"]["id"] == "acme/demo"
    shard = "model-00001-of-00002.safetensors"
    by_path = {f["path"]: f for f in rec["files"]}
    assert by_path[shard]["content"] == "hub"
    assert by_path[shard]["sha256"] == real(files[shard]).sha256
    # weights were read by header only: far less than the shard came over the wire
    assert hub.served(shard) < len(files[shard])
    assert TOKEN not in json.dumps(rec)
    # verify needs the bytes: on the hub it says how to get them
    _one_line_error(capsys, ["verify", f"hf://acme/demo@{SHA1}"],
                    f"huggingface-cli download acme/demo --revision {SHA1}")
    # the user downloads the snapshot (as huggingface-cli download lays it out) …
    make_hf_cache(hf_hub, "acme/demo", files, SHA1)
    assert run_cli(["verify", "acme/demo", "-q"]) == 0
    # … and one byte of one shard changes: caught by the hub's LFS sha256 in the record
    changed = bytearray(files[shard])
    changed[-1] ^= 1
    make_hf_cache(hf_hub, "acme/demo", {**files, shard: bytes(changed)}, SHA1)
    code, drift = _json(capsys, ["verify", "acme/demo", "--json", "-q"])
    assert code == 1
    assert [(f["code"], f["file"]) for f in drift["findings"]] == [("MC180", shard)]


def test_same_findings_for_a_small_repo_as_for_its_files(hub, demo, capsys):
    hub.repo("acme/demo").commit(SHA1, demo_files(demo))
    code, remote = _json(capsys, ["audit", "hf://acme/demo", "-f", "json", "-q"])
    assert code == 0
    code, here = _json(capsys, ["audit", str(demo), "-f", "json", "-q"])
    assert _findings(remote, ("MC110",)) == _findings(here, ("MC110",))
    for argv in (["inspect", "hf://acme/demo", "--json"], ["scan", "hf://acme/demo", "--json"],
                 ["plan", "hf://acme/demo", "--json"], ["license", "hf://acme/demo", "--json"],
                 ["check", "hf://acme/demo", "-p", "internal-tool", "--json"]):
        assert run_cli(argv) in (0, 1), argv


def test_torch_zip_pickle_read_by_range(hub, tmp_path, capsys):
    torch = pytest.importorskip("torch")

    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.zeros(512, 1024), "x": Payload()}, path)
    data = path.read_bytes()
    hub.repo("acme/pickle").commit(SHA1, {"pytorch_model.bin": data,
                                          "config.json": b"{}"})
    code, scan = _json(capsys, ["scan", "hf://acme/pickle", "--json"])
    assert code == 1
    report = next(f for f in scan["files"] if f["path"] == "pytorch_model.bin")
    assert report["status"] == "unsafe", report
    # the 2 MB of tensor data stayed on the hub: central directory and data.pkl only
    assert hub.served("pytorch_model.bin") < len(data) // 4


def test_endpoint_option_anywhere_on_the_line(hub, demo, monkeypatch, capsys):
    hub.repo("acme/demo").commit(SHA1, demo_files(demo))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # wrong: the option must win
    assert run_cli(["inspect", "hf://acme/demo", "--endpoint", hub.url, "--json"]) == 0
    assert run_cli(["--endpoint", hub.url, "inspect", "hf://acme/demo", "--json"]) == 0


# ---- bad input: one line, exit 2 (or a finding), never a traceback -----------------------


def _one_line_error(capsys, argv: list[str], *needles: str) -> str:
    capsys.readouterr()
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error:")
    for n in needles:
        assert n in err, err
    return err


def test_unknown_repo_revision_and_endpoint(hub, demo, monkeypatch, capsys):
    hub.repo("acme/demo").commit(SHA1, demo_files(demo))
    _one_line_error(capsys, ["inspect", "hf://acme/nope"], "repository not found")
    _one_line_error(capsys, ["audit", "hf://acme/demo@v9"], "revision not found")
    _one_line_error(capsys, ["inspect", "hf://not a repo"], "hf://org/name")
    _one_line_error(capsys, ["inspect", "hf://acme/demo", "--endpoint", "ftp://x"],
                    "http(s) URL")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    _one_line_error(capsys, ["check", "hf://acme/demo", "-p", "internal-tool"], "cannot reach")


def test_gated_repo_needs_the_token_and_never_shows_it(hub, demo, monkeypatch, capsys):
    hub.repo("acme/gated", gated=True).commit(SHA1, demo_files(demo))
    _one_line_error(capsys, ["audit", "hf://acme/gated"], "gated")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, doc = _json(capsys, ["record", "hf://acme/gated", "--json", "-q"])
    assert code == 0 and TOKEN not in json.dumps(doc)
    assert [f["file"] for f in doc["findings"] if f["code"] == "MC111"] == [None]
    assert any(r.authorized for r in hub.log)


@pytest.mark.parametrize("status", [403, 404, 500])
def test_hub_errors_are_one_line(hub, demo, capsys, status):
    hub.repo("acme/demo").commit(SHA1, demo_files(demo))
    hub.fail_next = [status] * 12
    _one_line_error(capsys, ["inspect", "hf://acme/demo"], "acme/demo")
    if status == 500:  # retried, bounded
        assert 2 <= len(hub.log) <= 4


def test_429_and_503_are_retried(hub, demo, capsys):
    hub.repo("acme/demo").commit(SHA1, demo_files(demo))
    hub.fail_next = [429, 503]
    assert run_cli(["inspect", "hf://acme/demo", "--json"]) == 0
    assert [r.status for r in hub.log[:3]] == [429, 503, 200]


def test_range_requests_are_retried_too(hub, demo, capsys):
    hub.repo("acme/demo").commit(SHA1, demo_files(demo))
    hub.fail_ranges = [429, 502]
    assert run_cli(["inspect", "hf://acme/demo", "--json"]) == 0
    ranged = [r.status for r in hub.log if r.range is not None]
    assert ranged[:3] == [429, 502, 206]
    hub.fail_ranges = [503] * 10
    _one_line_error(capsys, ["inspect", "hf://acme/demo"], "HTTP 503", "4 times")
    # the scan keeps going: the file it could not read is unsupported (MC341 high), never
    # clean and never "malformed" (we know nothing of bytes we never saw), so the default
    # gate stops it
    hub.fail_ranges = [503] * 4
    code, scan = _json(capsys, ["scan", "hf://acme/demo", "--json"])
    assert code == 1
    [bad] = [r for r in scan["files"] if r["status"] != "clean"]
    assert bad["path"].endswith(".gguf") and bad["status"] == "unsupported"
    top = bad["findings"][0]
    assert top["code"] == "MC341" and top["severity"] == "high" and "HTTP 503" in top["message"]


def test_truncated_range_and_lying_sizes(hub, demo, capsys):
    hub.repo("acme/demo").commit(SHA1, demo_files(demo))
    hub.truncate_ranges = True
    _one_line_error(capsys, ["inspect", "hf://acme/demo"], "truncated range response")
    hub.truncate_ranges = False
    hub.declared_size_bonus = 1000
    _one_line_error(capsys, ["inspect", "hf://acme/demo"], "the hub declares")


def test_pickle_hidden_in_a_storage_member_is_fetched_and_caught(hub, tmp_path, capsys):
    """A member that is not tensor bytes (here a pickle whose import of eval sits 100 KB
    in, past the 4 KB head and the 64 KB probe) is read whole by range, so the hub scan
    sees what a local scan sees."""
    import io
    import pickle
    import zipfile

    torch = pytest.importorskip("torch")
    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.zeros(256, 1024), "b": torch.ones(300_000)}, path)
    src = zipfile.ZipFile(path)
    storage = src.namelist()[0].split("/")[0] + "/extra"  # not data.pkl, not a storage
    class Call:  # pickled only: its reduce names builtins.eval, which nothing runs
        def __reduce__(self):
            return (eval, ("1",))

    # the import of eval sits 100 KB into the member, past any first-bytes probe
    hidden = pickle.dumps([b"A" * 100_000, Call()], protocol=4)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr(storage, hidden)
    path.write_bytes(out.getvalue())
    hub.repo("acme/hidden").commit(SHA1, {"pytorch_model.bin": path.read_bytes()})
    code, remote = _json(capsys, ["scan", "hf://acme/hidden", "--json"])
    code_local, local = _json(capsys, ["scan", str(path), "--json"])
    assert code == code_local == 1

    def found(doc: dict) -> list[tuple[str, str]]:
        return sorted((f["code"], f["message"]) for r in doc["files"] for f in r["findings"])

    assert found(remote) == found(local)
    assert any(storage in m for _, m in found(remote)), found(remote)
    assert hub.served("pytorch_model.bin") < len(path.read_bytes())
