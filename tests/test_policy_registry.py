"""The check registry: codes, titles and order come from one place each.

A check is registered with its code and slug; its title and severity come from the
codes TOML only, and ``evaluate`` runs the registry in each check's ``order``. These tests keep
the three in step: a check with no TOML row, a code claimed by two checks, or a
check the order forgot would each be a silent inconsistency in every report.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_policy_checks import HUNYUAN, LLAMA31

from modelclear.analyzers.policy import PolicyInputs, evaluate, load_profile
from modelclear.analyzers.policy.checks import NOT_ANALYSED, Registration, all_checks
from modelclear.analyzers.policy.checks.registry import CheckContext, Outcome, Report, check
from modelclear.analyzers.policy.model import Check, Status
from modelclear.findings import codes

CHECKS_DIR = Path(__file__).parents[1] / "src" / "modelclear" / "analyzers" / "policy" / "checks"


def policy_codes() -> set[str]:
    """MC500–MC579: the policy range of the codes table (probes own MC580–MC599)."""
    return {c for c in codes() if re.fullmatch(r"MC5[0-7]\d", c)}


def test_every_registered_code_has_a_toml_title() -> None:
    table = codes()
    for reg in all_checks():
        for code in (*reg.codes(), NOT_ANALYSED):
            assert code in table, f"{reg.name}: {code} has no row in the codes TOML"
            assert table[code].title.strip(), code


def test_each_policy_code_is_registered_exactly_once() -> None:
    primary = [reg.code for reg in all_checks()]
    assert len(primary) == len(set(primary)), "a code is the primary code of two checks"
    also = [c for reg in all_checks() for c in reg.also]
    assert len(also) == len(set(also)) and not set(also) & set(primary)
    # MC521 is intentionally shared: any check reports "not analysed" under its own slug
    assert NOT_ANALYSED not in primary and NOT_ANALYSED not in also
    assert set(primary) | set(also) | {NOT_ANALYSED} == policy_codes()


def test_every_code_literal_in_the_checks_is_registered() -> None:
    """A code written in a check's source must be one its registration declares."""
    known = {c for reg in all_checks() for c in reg.codes()} | {NOT_ANALYSED}
    for path in CHECKS_DIR.glob("*.py"):
        for code in re.findall(r"\"(MC\d{3})\"", path.read_text(encoding="utf-8")):
            assert code in known, f"{path.name}: {code}"


def test_checklist_order_is_declared_and_unique() -> None:
    regs = all_checks()
    orders = [r.order for r in regs]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    # identification first: every term check rests on the governing license
    assert regs[0].name == "license-identified"


def test_a_taken_order_is_refused() -> None:
    from modelclear.analyzers.policy.checks.registry import check

    with pytest.raises(RuntimeError, match="order 10 is 'license-identified'"):
        check("MC599", "sneaky", order=10)(lambda ctx, out: None)


def _registration_of(c: Check, regs: tuple[Registration, ...]) -> int:
    for i, reg in enumerate(regs):
        if c.name == reg.name or c.name in reg.also.values() or c.name.startswith(
                f"{reg.name}-"):
            return i
    raise AssertionError(f"check {c.name} ({c.code}) belongs to no registration")


@pytest.mark.parametrize("profile", ["customer-saas", "regulated-onprem", "distillation"])
def test_evaluate_follows_the_registry_order(profile: str) -> None:
    prof = load_profile(profile).model_copy(update={"sector": ("defense",)})
    regs = all_checks()
    for rep in (LLAMA31, HUNYUAN):
        res = evaluate(PolicyInputs(
            scope="release", license=rep, model_id="Qwen/Qwen2.5-7B",
            license_texts={"LICENSE": "You shall not use it for military use.\n"},
            files=(("model.bin", "weights", "pytorch-zip"),),
            probe_results={"categories": {"jailbreak": False}}), prof)
        positions = [_registration_of(c, regs) for c in res.checks]
        assert positions == sorted(positions), [c.name for c in res.checks]
        assert len(set(positions)) > 15  # most of the registry ran


def test_titles_come_from_the_toml() -> None:
    res = evaluate(PolicyInputs(scope="release", license=LLAMA31), load_profile("customer-saas"))
    for c in res.checks:
        assert c.title == codes()[c.code].title, c.name


def test_gating_comes_from_the_registration() -> None:
    """Release-only checks do not run on a bare license text; license checks need a license."""
    regs = {r.name: r for r in all_checks()}
    bare = evaluate(PolicyInputs(scope="license", license=LLAMA31), load_profile("customer-saas"))
    names = {c.name for c in bare.checks}
    assert not names & {n for n, r in regs.items() if r.scopes == frozenset({"release"})}
    none = evaluate(PolicyInputs(scope="license", license=None), load_profile("customer-saas"))
    assert not {c.name for c in none.checks} & {n for n, r in regs.items() if r.needs_license}


def test_undeclared_code_is_refused() -> None:
    reg = Registration(code="MC509", name="example", run=lambda ctx, out: None, order=999)
    with pytest.raises(ValueError, match="not declared"):
        Report(reg, Outcome(), {}).add(Status.CLEAR, "x", code="MC510")


def test_a_check_cannot_be_registered_twice() -> None:
    def again(ctx: CheckContext, out: Report) -> None:
        return None

    with pytest.raises(RuntimeError, match="registered twice"):
        check("MC500", "commercial-use", order=50)(again)
