"""Deployment profiles: built-ins validate, bad files fail with file, key path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelclear.analyzers.policy import builtin_names, load_profile, parse_profile
from modelclear.analyzers.policy.profile import builtin_text
from modelclear.cli import main
from modelclear.errors import InputError, UsageError

BUILTINS = ("prototype", "internal-tool", "customer-saas", "distillation", "regulated-onprem")


def test_builtins_present_and_valid() -> None:
    assert set(BUILTINS) <= set(builtin_names())
    for name in builtin_names():
        prof = load_profile(name)
        assert prof.name == name
        assert prof.description


def test_builtin_semantics() -> None:
    assert not load_profile("prototype").is_commercial
    assert load_profile("internal-tool").is_commercial  # internal business use is commercial
    assert not load_profile("internal-tool").third_party
    assert load_profile("customer-saas").third_party
    dist = load_profile("distillation")
    assert dist.trains_on_outputs and dist.distributes
    assert load_profile("regulated-onprem").rules.gpu_budget is not None


def test_regions_normalised() -> None:
    prof = parse_profile(
        "name: x\nuse: [internal-tool]\nregions:\n"
        "  users: [european union, uk, 'South Korea', us]\n",
        "p.yaml",
    )
    assert prof.regions.users == ("EU", "GB", "KR", "US")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nuse: [internal-tool]\nscale:\n  monthly_active_userz: 5\n",
         "line 4: scale.monthly_active_userz: unknown key"),
        ("name: x\nuse: [internal-tool]\nscale:\n  monthly_active_users: lots\n",
         "line 4: scale.monthly_active_users:"),
        ("name: x\nuse: [selling]\n", "line 2: use.0:"),
        ("name: x\nuse: []\n", "line 2: use:"),
        ("name: x\nuse: [research]\nregions:\n  users: [US, Atlantis]\n",
         "line 4: regions.users: Value error, unknown region 'Atlantis'"),
        ("use: [research]\n", "line 1: name: Field required"),
        ("name: x\nuse: [research\n", "not valid YAML"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("name: x\nuse: [research]\nrules:\n  gpu_budget:\n    gpu: H100\n    count: 0\n",
         "line 6: rules.gpu_budget.count:"),
    ],
)
def test_bad_profiles_are_located(text: str, expected: str) -> None:
    with pytest.raises(InputError) as err:
        parse_profile(text, "team.yaml")
    assert err.value.file == "team.yaml"
    assert expected in err.value.problem


def test_scale_must_not_be_negative() -> None:
    with pytest.raises(InputError, match="greater than or equal to 0"):
        parse_profile("name: x\nuse: [research]\nscale:\n  devices: -1\n", "p.yaml")


def test_unknown_builtin_lists_builtins() -> None:
    with pytest.raises(UsageError) as err:
        load_profile("no-such-profile")
    assert "customer-saas" in str(err.value)


def test_profile_file_by_path(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text(builtin_text("customer-saas").replace("2000000", "900000000"), encoding="utf-8")
    assert load_profile(str(p)).scale.monthly_active_users == 900_000_000


def test_cli_profile_show_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "show", "distillation"]) == 0
    out = capsys.readouterr().out
    assert "train_on_outputs: true" in out
    assert main(["profile", "list"]) == 0
    out = capsys.readouterr().out
    for name in BUILTINS:
        assert name in out


def test_cli_profile_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["profile", "show", "customer-saas", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"]
    assert data["profile"]["scale"]["monthly_active_users"] == 2_000_000
    assert data["derived"]["third_party"] is True


def test_cli_profile_init_writes_valid_commented_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "p.yaml"
    assert main(["profile", "init", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.count("#") > 20  # commented
    prof = load_profile(str(target))
    assert prof.name == "my-deployment"
    # refuses to overwrite
    assert main(["profile", "init", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["profile", "init", str(target), "--force"]) == 0


def test_cli_bad_profile_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nuse: [internal-tool]\nneeds:\n  distil: true\n", encoding="utf-8")
    assert main(["profile", "show", str(p)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "needs.distil" in err and "line 4" in err


def test_fuzz_profile_parser_only_raises_input_errors() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    keys = st.sampled_from(["name", "use", "scale", "regions", "rules", "needs", "sector",
                            "monthly_active_users", "users", "gpu_budget", "count", "x"])
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.text(max_size=12),
                     st.sampled_from(["research", "internal-tool", "EU", "US", "H100"]))
    tree = st.recursive(leaf, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                     st.dictionaries(keys, kids, max_size=5)),
                        max_leaves=20)

    @settings(max_examples=200, deadline=None)
    @given(st.one_of(tree, st.text(max_size=200)))
    def run(data: object) -> None:
        import yaml

        text = data if isinstance(data, str) else yaml.safe_dump(data)
        try:
            parse_profile(text, "f.yaml")
        except InputError as exc:
            assert exc.file == "f.yaml" and exc.problem

    run()


def test_unknown_gpu_is_a_located_profile_error() -> None:
    text = "name: x\nuse: [research]\nrules:\n  gpu_budget:\n    gpu: H1000\n    count: 2\n"
    with pytest.raises(InputError) as err:
        parse_profile(text, "p.yaml")
    assert "line 5: rules.gpu_budget.gpu" in err.value.problem and "H1000" in err.value.problem
    ok = parse_profile(text.replace("H1000", "h100"), "p.yaml")
    assert ok.rules.gpu_budget.gpu == "H100"


def test_precision_validated() -> None:
    base = "name: x\nuse: [research]\nrules:\n  gpu_budget:\n    gpu: H100\n    precision: "
    assert parse_profile(base + "INT4\n", "p.yaml").rules.gpu_budget.precision == "int4"
    assert parse_profile(base + "Q4_K_M\n", "p.yaml").rules.gpu_budget.precision == "Q4_K_M"
    with pytest.raises(InputError, match="line 6: rules.gpu_budget.precision"):
        parse_profile(base + "int3\n", "p.yaml")
