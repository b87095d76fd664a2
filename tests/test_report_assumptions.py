"""Every report shows the profile's assumptions the verdicts rest on (issue 17).

check, audit and compare, each in terminal, Markdown (audit, compare), HTML and JSON,
on the demo release the test builds; and the built-in profiles' descriptions agree
with their data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli as main

from modelclear.analyzers.policy import builtin_names, load_profile
from modelclear.analyzers.policy.assumptions import profile_assumptions
from modelclear.analyzers.policy.regions import display
from modelclear.pipeline import run
from modelclear.reports import compare
from modelclear.reports.audit import render
from modelclear.sources import open_release


@pytest.fixture(scope="module")
def result(demo: Path):
    return run(open_release(str(demo)), load_profile("customer-saas"))


#: what customer-saas assumes, as every report must show it
SAAS = {"Monthly active users": "2M", "Monthly revenue": "$17M", "Annual revenue": "$200M",
        "Users in": "US, EU, GB, CA", "Deployed in": "US, EU", "Commercial use": "yes",
        "Serves outside users over a network": "yes",
        "Distributes the weights or a derivative": "no",
        "Fine-tunes or modifies the model": "yes",
        "Trains other models on its outputs (distillation)": "no"}


def _shown(text: str) -> None:
    flat = " ".join(text.split())
    for label, value in SAAS.items():
        assert label in flat, label
        assert value in flat, (label, value)


def _json_assumptions(rows: list[dict]) -> None:
    got = {a["label"]: a["value"] for a in rows}
    for label, value in SAAS.items():
        assert got[label] == value, label
    assert {a["key"] for a in rows} >= {"monthly_active_users", "monthly_revenue_usd",
                                        "user_regions", "sector", "commercial",
                                        "distributes", "serves_network", "trains_derivative",
                                        "distils"}


def test_audit_every_format_shows_assumptions_first(result) -> None:
    for fmt in ("terminal", "markdown", "html"):
        text = render(result, fmt)
        _shown(text)
        # at the top: before the checklist
        first_check = text.find("MC5")
        assert 0 <= text.find("Monthly active users") < first_check, fmt
    data = json.loads(render(result, "json"))
    _json_assumptions(data["assumptions"])
    _json_assumptions(data["policy"]["assumptions"])
    assert list(data).index("assumptions") < list(data).index("policy")


def test_check_terminal_and_json_show_assumptions(demo: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(demo), "-p", "customer-saas", "-q"])
    out = capsys.readouterr().out
    _shown(out)
    assert out.find("Monthly active users") < out.find("MC5")
    main(["check", str(demo), "-p", "customer-saas", "--json"])
    _json_assumptions(json.loads(capsys.readouterr().out)["assumptions"])


def test_compare_every_format_shows_assumptions(result) -> None:
    comp = compare.build([result], "customer-saas")
    for fmt in ("terminal", "markdown", "html"):
        text = compare.render(comp, fmt)
        _shown(text)
        assert text.find("Monthly active users") < text.find("Target"), fmt
    _json_assumptions(json.loads(compare.render(comp, "json"))["assumptions"])
    assert compare.build([result], None).assumptions == ()


def test_assumptions_state_what_the_profile_leaves_open() -> None:
    proto = {a.key: a for a in profile_assumptions(load_profile("prototype"))}
    assert proto["commercial"].value == "no" and proto["commercial"].basis == "stated"
    assert proto["monthly_revenue_usd"].value == "not stated"
    assert proto["sector"].value == "not stated"
    dist = {a.key: a.value for a in profile_assumptions(load_profile("distillation"))}
    assert dist["distributes"] == dist["distils"] == "yes"
    assert dist["monthly_active_users"] == "100k" and dist["annual_revenue_usd"] == "$20M"


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_descriptions_match_their_regions(name: str) -> None:
    """A description naming "the US and EU" while users include GB and CA misleads."""
    p = load_profile(name)
    for code in p.all_regions():
        assert code in p.description or display(code) in p.description, (name, code)
