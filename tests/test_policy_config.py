"""Configuration discovery: modelclear.toml, [tool.modelclear], errors with the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelclear.config import find_config, load_config
from modelclear.errors import InputError


def test_defaults_without_files(tmp_path: Path) -> None:
    cfg = find_config(tmp_path)
    assert cfg.profile is None and cfg.ignore == () and cfg.file is None


def test_modelclear_toml_wins_and_is_found_from_subfolder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.modelclear]\nprofile = "prototype"\n')
    (tmp_path / "modelclear.toml").write_text(
        'profile = "customer-saas"\nignore = ["mc510"]\n[severity]\nMC502 = "high"\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    cfg = find_config(sub)
    assert cfg.profile == "customer-saas"
    assert cfg.ignore == ("MC510",)
    assert str(cfg.severity["MC502"]) == "high"
    assert cfg.ignored_codes() == ("MC510",)


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.modelclear]\nprofile = "profiles/team.yaml"\n'
        'ignore = ["MC51"]\n')
    cfg = find_config(tmp_path)
    assert cfg.profile == str((tmp_path / "profiles" / "team.yaml").resolve())
    assert "MC510" in cfg.ignored_codes() and "MC500" not in cfg.ignored_codes()


def test_pyproject_without_table_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "modelclear.toml").write_text('profile = "prototype"\n')
    inner = tmp_path / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(inner).profile == "prototype"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ignore = ["MC999"]\n', "ignore: Value error, unknown finding code 'MC999'"),
        ('profil = "x"\n', "profil: unknown key"),
        ('[severity]\nMC510 = "huge"\n', "severity.MC510"),
        ("profile = [\n", "not valid TOML"),
    ],
)
def test_bad_config_errors(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "modelclear.toml").write_text(text)
    with pytest.raises(InputError) as err:
        find_config(tmp_path)
    assert err.value.file.endswith("modelclear.toml")
    assert expected in err.value.problem


def test_pyproject_error_names_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.modelclear]\nignored = ["MC510"]\n')
    with pytest.raises(InputError, match=r"tool\.modelclear\.ignored: unknown key"):
        find_config(tmp_path)


def test_explicit_config_file(tmp_path: Path) -> None:
    p = tmp_path / "ci.toml"
    p.write_text('profile = "distillation"\n')
    assert load_config(str(p)).profile == "distillation"
    with pytest.raises(InputError, match="not found"):
        load_config(str(tmp_path / "missing.toml"))
