"""Releases without their weights (issue 14, part 1): LFS-pointer clones, metadata-only
folders and partial downloads get verdicts with the gap named, never an exit 2 or a
clean scan; commands that must read the bytes say what to run."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import make_hf_cache, run_cli

from modelclear.parsers.lfs import parse_pointer, pointer_bytes

SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")


def _variant(demo: Path, dest: Path, kind: str) -> Path:
    root = dest / kind
    shutil.copytree(demo, root)
    for f in sorted(root.iterdir()):
        if f.suffix not in (".safetensors", ".gguf"):
            continue
        data = f.read_bytes()
        if kind == "lfs":
            f.write_bytes(pointer_bytes(hashlib.sha256(data).hexdigest(), len(data)))
        elif kind == "meta" or (kind == "partial" and f.name == SHARDS[1]):
            f.unlink()
    return root


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = run_cli(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def _codes(doc: dict, code: str) -> list[str | None]:
    return [f["file"] for f in doc["findings"] if f["code"] == code]


@pytest.mark.parametrize("kind", ["lfs", "meta", "partial"])
def test_every_command_answers_with_the_gap_named(demo, tmp_path, capsys, kind):
    root = str(_variant(demo, tmp_path, kind))
    code, audit = _json(capsys, ["audit", root, "-p", "internal-tool", "-f", "json", "-q"])
    assert code in (0, 1)
    if kind == "lfs":
        # one MC106 per pointer, in the findings list once (inventory and scan agree)
        assert sorted(_codes(audit, "MC106")) == sorted([*SHARDS, "acme-demo-moe-Q8_0.gguf"])
        assert _codes(audit, "MC108") == []
    else:
        missing = SHARDS if kind == "meta" else SHARDS[1:]
        assert len(_codes(audit, "MC108")) == len(missing)
        assert all(f["quote"] in missing for f in audit["findings"] if f["code"] == "MC108")
    mc109 = next(f["message"] for f in audit["findings"] if f["code"] == "MC109")
    # the parameters the index declares, with the method said
    total = json.loads((demo / "model.safetensors.index.json").read_text())["metadata"][
        "total_size"]
    assert f"declared weights {total} bytes (model.safetensors.index.json" in mc109
    assert f"about {total // 2} parameters" in mc109 and "torch_dtype" in mc109
    # never counted from half the shards: the index or the config formula, said so
    assert audit["params"]["method"] in ("index", "config")
    assert audit["params"]["total"] == total // 2
    # coverage is honest: the scan is not clean, so the verdict is not CLEAR
    assert audit["policy"]["verdict"] != "CLEAR"
    sec = next(c for c in audit["policy"]["checks"] if c["code"] == "MC524")
    assert sec["status"] == "REVIEW"
    statuses = {f["path"]: f["status"] for f in audit["security"]["files"]}
    absent = SHARDS if kind != "partial" else SHARDS[1:]
    assert all(statuses[p] == "unsupported" for p in absent)

    code, chk = _json(capsys, ["check", root, "-p", "internal-tool", "--json", "-q"])
    assert code in (0, 1) and chk["verdict"] == audit["policy"]["verdict"]
    for argv in (["inspect", root, "--json"], ["plan", root, "--json"],
                 ["license", root, "--json"], ["scan", root, "--json"],
                 ["export", root, "-f", "cyclonedx", "-q"]):
        assert run_cli(argv) in (0, 1), argv
    code, rec = _json(capsys, ["record", root, "--json", "-q"])
    assert code == 0
    if kind == "lfs":
        by_path = {f["path"]: f for f in rec["files"]}
        data = (demo / SHARDS[0]).read_bytes()
        assert by_path[SHARDS[0]]["content"] == "lfs-pointer"
        assert by_path[SHARDS[0]]["sha256"] == hashlib.sha256(data).hexdigest()
        assert by_path[SHARDS[0]]["size"] == len(data)
        assert "content" not in by_path["config.json"]


@pytest.mark.parametrize("argv", [["verify"], ["inspect", "--hash"]])
def test_commands_that_need_the_bytes_say_what_to_run(demo, tmp_path, capsys, argv):
    root = _variant(demo, tmp_path, "lfs")
    (root / ".git").mkdir()
    assert run_cli(["record", str(root), "-q"]) == 0
    capsys.readouterr()
    assert run_cli([argv[0], str(root), *argv[1:]]) == 2
    err = capsys.readouterr().err
    assert "git lfs pull" in err and "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.strip()]) <= 3  # one (wrapped) line


def test_lfs_pointer_parser():
    sha = "a" * 64
    assert parse_pointer(pointer_bytes(sha, 12)) == parse_pointer(
        b"version https://git-lfs.github.com/spec/v1\noid sha256:" + sha.encode() + b"\nsize 12\n")
    assert parse_pointer(pointer_bytes(sha, 12)).size == 12  # type: ignore[union-attr]
    assert parse_pointer(b"version https://git-lfs.github.com/spec/v1\nsize 3\n") is None
    assert parse_pointer(b"not a pointer") is None


def test_partial_download_in_the_hf_cache(demo, hf_hub, capsys):
    """A cache snapshot whose download stopped after one shard: the missing shard is named
    against the index and the model still gets a verdict."""
    files = {p.name: p.read_bytes() for p in demo.iterdir() if p.name != SHARDS[1]}
    make_hf_cache(hf_hub, "acme/partial", files, "c" * 40)
    code, doc = _json(capsys, ["check", "acme/partial", "-p", "internal-tool", "--json", "-q"])
    assert code in (0, 1) and doc["verdict"] != "CLEAR"
    code, audit = _json(capsys, ["audit", "acme/partial", "-f", "json", "-q"])
    assert [f["quote"] for f in audit["findings"] if f["code"] == "MC108"] == [SHARDS[1]]
    capsys.readouterr()
    assert run_cli(["verify", "acme/partial"]) == 2
    assert f"huggingface-cli download acme/partial --revision {'c' * 40}" in \
        capsys.readouterr().err
