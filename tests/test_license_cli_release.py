"""``modelclear license`` on releases: README section, GGUF metadata, base model in the HF cache."""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np
import pytest
from conftest import SHARED, make_hf_cache

from modelclear.analyzers.license.analyze import analyze, is_license_file
from modelclear.cli import main
from modelclear.sources import open_release
from modelclear.sources.hfcache import open_cached

CORPUS = SHARED / "corpus" / "licenses"

# A self-made license (not a real one) used as the base model's LICENSE.
BASE_LICENSE = """\
QUOKKA COMMUNITY MODEL LICENSE

You may use, copy, modify and distribute the Quokka weights and any derivative of them,
provided that every derivative is distributed under this same license and keeps this text.
A derivative may not be offered under other terms. There is no warranty of any kind and the
licensor accepts no liability for any use of the weights, their outputs or derivatives.
"""


def _run(capsys: pytest.CaptureFixture[str], target: str) -> dict:
    capsys.readouterr()
    assert main(["license", target, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_license_file_names() -> None:
    for name in (
        "LICENSE",
        "LICENSE.txt",
        "LICENSE-MODEL",
        "LICENSE_weights",
        "MODEL_LICENSE",
        "USE_POLICY.md",
        "NOTICE",
        "COPYING",
        "Tongyi Qianwen LICENSE AGREEMENT",
        "model_licenses/LICENSE-SDXL1.0",
        "LICENCE-SD-Turbo",
    ):
        assert is_license_file(name), name
    for name in ("README.md", "config.json", "model.safetensors", "a/b/c/d/LICENSE", "license.py"):
        assert not is_license_file(name), name


@pytest.mark.parametrize(
    ("license_kv", "shown"),
    [
        ({"general.license": "llama3.1"}, "llama3.1"),
        ({"general.license": "other", "general.license.name": "deepseek"}, "deepseek"),
    ],
)
def test_gguf_license_disagreeing_with_the_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], license_kv: dict, shown: str
) -> None:
    root = tmp_path / "rel"
    root.mkdir()
    w = gguf.GGUFWriter(str(root / "m.gguf"), "llama")
    for key, value in license_kv.items():
        w.add_string(key, value)
    w.add_tensor("token_embd.weight", np.zeros((2, 32), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    (root / "README.md").write_text("---\nlicense: gemma\n---\n# m\n")
    data = _run(capsys, str(root))
    assert data["declared"]["gguf_license"] == shown
    codes = [f["code"] for f in data["findings"]]
    assert "MC211" in codes and "MC200" in codes


def test_readme_license_section_with_a_known_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mit = CORPUS / "mit-deepseek.txt"
    if not mit.is_file():
        pytest.skip("shared corpus not available")
    root = tmp_path / "rel"
    root.mkdir()
    body = mit.read_text()
    (root / "README.md").write_text(
        f"---\nlicense: mit\n---\n# Model\n\nText.\n\n## License\n\n{body}"
    )
    data = _run(capsys, str(root))
    (lic,) = data["licenses"]
    assert lic["id"] == "MIT" and lic["file"] == "README.md" and lic["line_start"] >= 10
    assert "MC202" not in [f["code"] for f in data["findings"]]


def test_base_model_license_from_the_local_cache(
    hf_hub: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lic = CORPUS / "gemma-terms-of-use.txt"
    if not lic.is_file():
        pytest.skip("shared corpus not available")
    # the base model is in the local HF cache under a name no catalog pattern knows
    make_hf_cache(
        hf_hub, "someone/quokka-base", {"LICENSE": lic.read_bytes(), "config.json": b"{}"}, "a" * 40
    )
    root = tmp_path / "quokka-ft"
    root.mkdir()
    (root / "README.md").write_text("---\nlicense: mit\nbase_model: someone/quokka-base\n---\n")
    (root / "LICENSE").write_text(BASE_LICENSE)
    report = analyze(open_release(str(root)), open_base=open_cached)
    mc204 = [f for f in report.findings if f.code == "MC204"]
    assert mc204 and "local Hugging Face cache" in mc204[0].message
    assert mc204[0].extra["base_license"] == "LicenseRef-scancode-gemma-tou-2025-03-24"
