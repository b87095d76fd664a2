"""Shared fixtures: isolated caches, the shared corpus location, an HF cache builder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


def pytest_configure(config):
    """Tests that drive ``modelclear.cli.app`` directly need every command registered
    (``main`` loads only the one it runs)."""
    from modelclear.cli import load_commands

    load_commands([])


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """Hash cache, registry and HF cache never touch the user's real ones."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("MODELCLEAR_CACHE_DIR", str(state / "cache"))
    monkeypatch.setenv("MODELCLEAR_REGISTRY", f"sqlite:///{state / 'registry.sqlite'}")
    monkeypatch.setenv("HF_HUB_CACHE", str(state / "hf-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared corpus not present")
    return SHARED


def make_hf_cache(hub: Path, repo_id: str, files: dict[str, bytes], commit: str,
                  refs: tuple[str, ...] = ("main",)) -> Path:
    """Lay files out exactly as huggingface_hub does: blobs named by hash, snapshot symlinks."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    snap = repo / "snapshots" / commit
    for rel, data in files.items():
        digest = hashlib.sha256(data).hexdigest() if rel.endswith(
            (".safetensors", ".gguf", ".bin")) else hashlib.sha1(data).hexdigest()
        blob = repo / "blobs" / digest
        blob.write_bytes(data)
        link = snap / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(os.path.relpath(blob, link.parent), link)
    for ref in refs:
        (repo / "refs" / ref).write_text(commit)
    return snap


@pytest.fixture
def hf_hub(tmp_path, monkeypatch) -> Path:
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    return hub


def run_cli(argv: list[str]) -> int:
    """The CLI's exit code, whether it returns it or raises SystemExit."""
    from modelclear.cli import main

    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo release (real safetensors shards, MoE config, card, license, GGUF), built
    once per test module; tests that change it build their own."""
    from modelclear.demo import build_demo

    return build_demo(tmp_path_factory.mktemp("demo"))
