"""``modelclear license`` on bare files and on releases, with consistency findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED

from modelclear.cli import main

CORPUS = SHARED / "corpus" / "licenses"

# Self-made license text written for these tests (not a real license).
OWN = """\
PINECONE RESEARCH WEIGHTS LICENSE

The licensor grants you a license to use, copy and modify the weights for research purposes
only. Commercial use of the weights or of their outputs is prohibited unless the licensor
agrees to it in writing.

You must not use the outputs of the weights to train any other large language model.

This license is governed by the laws of the Republic of Ruritania.
"""


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_bare_unknown_file_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "LICENSE"
    f.write_text(OWN)
    data = _json(capsys, ["license", str(f), "--json"])
    assert data["schema_version"] == 1
    (lic,) = data["licenses"]
    assert lic["match"] == "unknown" and lic["file"] == "LICENSE"
    assert set(lic["terms"]) >= {
        "commercial_use",
        "governing_law",
        "use_outputs_to_train_other_models",
    }
    law = lic["terms"]["governing_law"]
    assert law["value"] and law["evidence"]["line_start"] == 9
    assert "Ruritania" in law["evidence"]["quote"]
    assert [f["code"] for f in data["findings"]] == ["MC207"]


def test_explain_prints_the_clause(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "LICENSE.txt"
    f.write_text(OWN)
    capsys.readouterr()
    assert main(["license", str(f), "--explain", "governing_law"]) == 0
    out = capsys.readouterr().out
    assert ">    9 | This license is governed by the laws of the Republic of Ruritania." in out


def test_explain_unknown_term_is_a_usage_error(tmp_path: Path) -> None:
    f = tmp_path / "LICENSE"
    f.write_text(OWN)
    assert main(["license", str(f), "--explain", "free_beer"]) == 2


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    f = tmp_path / "LICENSE"
    f.write_bytes(b"\xff\xfe\x00bad")
    assert main(["license", str(f)]) == 2


def _release(tmp_path: Path, card: str | None, files: dict[str, str]) -> Path:
    root = tmp_path / "my-finetune"
    root.mkdir()
    (root / "config.json").write_text("{}")
    if card is not None:
        (root / "README.md").write_text(card)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def _codes(data: dict) -> list[str]:
    return sorted(f["code"] for f in data["findings"])


def test_release_without_license_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _release(tmp_path, "---\nlicense: other\n---\n# Model\n", {})
    data = _json(capsys, ["license", str(root), "--json"])
    assert {"MC200", "MC201"} <= set(_codes(data))
    mc201 = next(f for f in data["findings"] if f["code"] == "MC201")
    assert mc201["file"] == "README.md" and mc201["line"] == 2


def test_declared_license_without_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _release(tmp_path, "---\nlicense: llama3.2\n---\n# m\n", {})
    data = _json(capsys, ["license", str(root), "--json"])
    assert "MC200" in _codes(data)
    (m,) = data["licenses"]
    assert m["from_declaration"] and m["match"] == "partial" and m["confidence"] < 0.5
    assert m["id"] == "LicenseRef-scancode-llama-3.2-license-2024" == data["primary"]
    assert m["terms"]["mau_threshold"]["value"] == 700_000_000
    assert m["terms"]["mau_threshold"]["evidence"] is None
    assert (m["file"], m["line_start"]) == ("README.md", 2)


def test_card_license_is_not_the_unknown_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _release(tmp_path, "---\nlicense: apache-2.0\n---\n# m\n", {"LICENSE": OWN})
    data = _json(capsys, ["license", str(root), "--json"])
    assert {"MC202", "MC207"} <= set(_codes(data))


def test_llama_finetune_relabelled_apache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = "---\nlicense: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B-Instruct\n---\n# Tuned\n"
    root = _release(tmp_path, card, {"LICENSE": OWN})
    data = _json(capsys, ["license", str(root), "--json"])
    codes = _codes(data)
    assert "MC204" in codes  # Llama 3.1 terms bind derivatives; the release says apache-2.0
    assert "MC205" in codes  # "my-finetune" does not start with "Llama"
    mc204 = next(f for f in data["findings"] if f["code"] == "MC204")
    assert mc204["line"] == 3 and mc204["base_license"].startswith("LicenseRef-scancode-llama-3.1")


def _corpus(name: str) -> str:
    p = CORPUS / name
    if not p.is_file():
        pytest.skip("shared corpus not available")
    return p.read_text(encoding="utf-8")


def test_card_disagrees_with_license_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _corpus("llama-3.1-community-license.txt")
    root = _release(tmp_path, "---\nlicense: mit\n---\n# Model\n", {"LICENSE": text})
    data = _json(capsys, ["license", str(root), "--json"])
    assert "MC202" in _codes(data)
    assert data["primary"] == "LicenseRef-scancode-llama-3.1-license-2024"
    assert "MC209" in _codes(data)  # the AUP is incorporated by URL


def test_code_and_model_licenses_do_not_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "LICENSE-CODE": _corpus("mit-deepseek.txt"),
        "LICENSE-MODEL": _corpus("deepseek-license-v1.txt"),
    }
    card = "---\nlicense: other\nlicense_name: deepseek\nlicense_link: LICENSE-MODEL\n---\n# DS\n"
    root = _release(tmp_path, card, files)
    data = _json(capsys, ["license", str(root), "--json"])
    assert data["primary"] == "LicenseRef-scancode-deepseek-la-1.0"
    assert not {"MC202", "MC203", "MC200", "MC201"} & set(_codes(data))


def test_two_model_licenses_conflict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {
        "LICENSE": _corpus("llama-3.2-community-license.txt"),
        "MODEL_LICENSE": _corpus("gemma-terms-of-use.txt"),
    }
    root = _release(tmp_path, "---\nlicense: llama3.2\n---\n", files)
    data = _json(capsys, ["license", str(root), "--json"])
    assert "MC203" in _codes(data)


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in CORPUS.glob("*.txt")) if CORPUS.is_dir() else ["absent"],
)
def test_every_corpus_file_prints_terms_with_lines(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _corpus(name)
    capsys.readouterr()
    assert main(["license", str(CORPUS / name)]) == 0
    out = capsys.readouterr().out
    assert "match exact" in out
    assert f"{name}:" in out  # file:line evidence
