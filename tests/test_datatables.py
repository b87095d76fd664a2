"""The JSON copies of the TOML tables can only make a run faster, never change its data;
and the lean scan's memory of a plain pyproject.toml never hides a configuration."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modelclear import datatables
from modelclear.datatables import DATA, cache_folder, load_toml
from modelclear.reports import scan_lean


def _tables() -> list[tuple[str, ...]]:
    return [("codes", p.name) for p in sorted((DATA / "codes").glob("*.toml"))] + [
        ("safe_globals.toml",)
    ]


def test_copies_equal_the_toml_first_and_later_runs() -> None:
    for parts in _tables():
        want = tomllib.loads(DATA.joinpath(*parts).read_text(encoding="utf-8"))
        assert load_toml(*parts) == want  # parsed, copy written
        assert load_toml(*parts) == want  # read from the copy
    assert len(list(cache_folder().glob("*.json"))) == len(_tables())


def test_damaged_copy_is_parsed_again_and_repaired() -> None:
    want = load_toml("safe_globals.toml")
    (copy,) = cache_folder().glob("safe_globals*.json")
    copy.write_text('{"version": "forged"', encoding="utf-8")
    assert load_toml("safe_globals.toml") == want
    assert load_toml("safe_globals.toml")["version"] != "forged"


def test_edited_table_is_never_answered_from_the_old_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datatables, "DATA", tmp_path)
    (tmp_path / "t.toml").write_text('a = "one"\n', encoding="utf-8")
    assert load_toml("t.toml") == {"a": "one"}
    (tmp_path / "t.toml").write_text('a = "two"\n', encoding="utf-8")  # same length
    assert load_toml("t.toml") == {"a": "two"}


def test_dates_are_not_copied_and_an_unwritable_cache_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datatables, "DATA", tmp_path)
    (tmp_path / "d.toml").write_text("when = 2026-01-02\n", encoding="utf-8")
    got = load_toml("d.toml")
    assert str(got["when"]) == "2026-01-02"
    assert not list(cache_folder().glob("d.toml*"))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MODELCLEAR_CACHE_DIR", str(blocker))
    (tmp_path / "e.toml").write_text("v = 1\n", encoding="utf-8")
    assert load_toml("e.toml") == {"v": 1}


def test_pyproject_memory_never_hides_a_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    py = tmp_path / "pyproject.toml"
    py.write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert not scan_lean.config_applies()
    assert list(cache_folder().glob("pyproject-*.plain"))  # remembered
    assert not scan_lean.config_applies()  # answered from the marker
    py.write_text('[project]\nname = "x"\n[tool.modelclear]\nignore = []\n', encoding="utf-8")
    assert scan_lean.config_applies()
    py.write_text('[project\nname = "x"\n', encoding="utf-8")  # broken: the full CLI says so
    assert scan_lean.config_applies()
    py.write_bytes(b'[project]\nname = "\xff"\n')  # not UTF-8
    assert scan_lean.config_applies()
