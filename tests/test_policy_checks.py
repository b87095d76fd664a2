"""Checks and verdicts on hand-built license reports (no license analyzer needed).

The reports mimic what the license analyzer returns for real texts, with the
clause quotes of the real licenses, so each expectation is the one a reviewer
would reach by reading the clause.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from modelclear.analyzers.license.model import (
    Declared,
    Evidence,
    Incorporated,
    LicenseMatch,
    LicenseReport,
    Term,
)
from modelclear.analyzers.policy import PolicyInputs, Status, evaluate, load_profile
from modelclear.analyzers.policy.checks import scale_thresholds
from modelclear.analyzers.policy.profile import Profile
from modelclear.analyzers.policy.regions import read_territory
from modelclear.findings import finding

BUILTINS = ("prototype", "internal-tool", "customer-saas", "distillation", "regulated-onprem")


def T(value: Any, quote: str | None = None, line: int = 1, detail: str | None = None,
      file: str = "LICENSE") -> Term:
    ev = Evidence(file=file, line_start=line, line_end=line, quote=quote) if quote else None
    return Term(value=value, detail=detail, evidence=ev, source="extracted")


def report(id_: str, terms: dict[str, Term], *, match: str = "exact", publisher: str | None = None,
           incorporates: tuple[Incorporated, ...] = (), extra: tuple[LicenseMatch, ...] = (),
           declared: Declared | None = None) -> LicenseReport:
    lic = LicenseMatch(id=id_, title=id_, kind="license", match=match, confidence=1.0,
                       file="LICENSE", line_start=1, line_end=50, publisher=publisher,
                       incorporates=incorporates, terms=terms)
    return LicenseReport(licenses=(lic, *extra), declared=declared or Declared())


MIT = report("MIT", {
    "commercial_use": T("yes", "Permission is hereby granted, free of charge", 5),
    "requires_registration_or_approval": T("no"),
    "fine_tuning_allowed": T("yes", "to use, copy, modify, merge, publish", 6),
    "use_outputs_to_train_other_models": T("unmentioned"),
    "attribution_required": T("yes", "The above copyright notice and this permission notice "
                              "shall be included", 12),
    "acceptable_use_policy": T("no"),
})

LLAMA31 = report("LicenseRef-scancode-llama-3.1-license-2024", {
    "commercial_use": T("conditional", "greater than 700 million monthly active users", 32),
    "mau_threshold": T(700_000_000, "greater than 700 million monthly active users in the "
                       "preceding calendar month, you must request a license from Meta", 32),
    "requires_registration_or_approval": T("above_threshold", "you must request a license from "
                                           "Meta, which Meta may grant to you in its sole "
                                           "discretion", 32),
    "fine_tuning_allowed": T("yes", "create derivative works of, and make modifications", 14),
    "use_outputs_to_train_other_models": T("allowed", "any outputs or results of the Llama "
                                           "Materials to create, train, fine tune", 24),
    "attribution_required": T("yes", "prominently display “Built with Llama” on a related "
                              "website", 24, detail="Built with Llama"),
    "derivative_naming_requirement": T("derived model names must begin with \"Llama\"",
                                       "you shall also include “Llama” at the beginning of any "
                                       "such AI model name", 24, detail="Llama"),
    "acceptable_use_policy": T("yes", "adhere to the Acceptable Use Policy for the Llama "
                               "Materials ... which is hereby incorporated by reference", 30),
}, publisher="Meta", incorporates=(Incorporated(id="llama-3.1-aup", title="Llama 3.1 "
                                                "Acceptable Use Policy",
                                                can_change_without_notice=True),))

QWEN = report("LicenseRef-scancode-tongyi-qianwen-2023", {
    "commercial_use": T("conditional", "more than 100 million monthly active users", 28),
    "mau_threshold": T(100_000_000, "more than 100 million monthly active users, You shall "
                       "request a license from Us", 28),
    "requires_registration_or_approval": T("above_threshold"),
    "fine_tuning_allowed": T("yes", "create derivative works of", 20),
    "use_outputs_to_train_other_models": T("prohibited", "You can not use the Materials or any "
                                           "output therefrom to improve any other large "
                                           "language model", 33),
    "attribution_required": T("yes", "retain in all copies of the Materials that You "
                              "distribute the following attribution notices", 25),
    "acceptable_use_policy": T("no"),
}, publisher="Alibaba Cloud")

HUNYUAN = report("LicenseRef-modelclear-tencent-hunyuan-community-license-a13b", {
    "commercial_use": T("conditional"),
    "mau_threshold": T(100_000_000, "greater than 100 million monthly active users", 30),
    "requires_registration_or_approval": T("above_threshold"),
    "fine_tuning_allowed": T("yes"),
    "use_outputs_to_train_other_models": T("prohibited", "must not use ... to improve any "
                                           "other AI model", 33),
    "attribution_required": T("yes"),
    "territory_restriction": T("rights do not extend to: European Union, United Kingdom, "
                               "South Korea", "“Territory” shall mean the worldwide territory, "
                               "excluding the territory of the European Union, United Kingdom "
                               "and South Korea.", 17),
    "acceptable_use_policy": T("yes", "Acceptable Use Policy ... hereby incorporated by "
                               "reference", 6),
}, publisher="Tencent")

NONCOMMERCIAL = report("CC-BY-NC-4.0", {
    "commercial_use": T("no", "NonCommercial means not primarily intended for or directed "
                        "towards commercial advantage", 40),
    "fine_tuning_allowed": T("yes"),
    "attribution_required": T("yes"),
})

GLM = report("LicenseRef-modelclear-chatglm3-6b-license", {
    "commercial_use": T("conditional", "Registered users may use the models for commercial "
                        "activities free of charge", 9),
    "requires_registration_or_approval": T("for_commercial", "Users who wish to use the models "
                                           "for commercial purposes must register", 9),
    "fine_tuning_allowed": T("unclear"),
    "use_outputs_to_train_other_models": T("unmentioned"),
    "attribution_required": T("yes"),
    "acceptable_use_policy": T("yes", "You are not allowed to use this software to engage in "
                               "any behavior that endangers national security", 14),
})


def run(rep: LicenseReport | None, profile: Profile | str, **kw: Any):
    prof = load_profile(profile) if isinstance(profile, str) else profile
    texts = kw.pop("texts", {"LICENSE": "text"})
    return evaluate(PolicyInputs(scope="license", license=rep, license_texts=texts, **kw), prof)


def with_scale(name: str, **scale: int) -> Profile:
    p = load_profile(name)
    return p.model_copy(update={"scale": p.scale.model_copy(update=scale)})


def with_users(name: str, *regions: str) -> Profile:
    p = load_profile(name)
    return p.model_copy(update={"regions": p.regions.model_copy(update={"users": regions})})


@pytest.mark.parametrize("profile", BUILTINS)
def test_mit_clear_under_every_profile(profile: str) -> None:
    res = run(MIT, profile)
    assert res.verdict is Status.CLEAR, [(c.name, c.reason) for c in res.checks
                                         if c.status is not Status.CLEAR]
    assert all(c.reason for c in res.checks)


def test_llama_800m_mau_blocked_on_mau_clause() -> None:
    res = run(LLAMA31, with_scale("customer-saas", monthly_active_users=800_000_000))
    assert res.verdict is Status.BLOCKED
    blocked = res.by_status(Status.BLOCKED)
    assert [c.code for c in blocked] == ["MC501"]
    assert blocked[0].evidence[0].line == 32
    assert "700 million" in (blocked[0].evidence[0].quote or "")
    assert "800M" in blocked[0].reason and "700M" in blocked[0].reason


def test_llama_below_threshold_is_review_for_aup_only() -> None:
    res = run(LLAMA31, "customer-saas")
    assert res.verdict is Status.REVIEW
    assert [c.code for c in res.by_status(Status.REVIEW)] == ["MC510"]
    assert res.check("user-scale").status is Status.CLEAR


def test_llama_obligations_listed_separately() -> None:
    res = run(LLAMA31, "distillation")
    texts = [o.text for o in res.obligations if o.applies]
    assert any("Built with Llama" in t for t in texts)
    assert any("'Llama-…'" in t for t in texts)  # naming: distillation ships derivatives
    assert all(o.code.startswith("MC5") for o in res.obligations)
    # obligations never block
    assert res.check("attribution").status is Status.CLEAR
    # customer-saas does not distribute models: naming duty listed but not applying
    saas = run(LLAMA31, "customer-saas")
    naming = [o for o in saas.obligations if "Llama-…" in o.text]
    assert naming and not naming[0].applies


def test_qwen_distillation_blocked_on_output_use() -> None:
    res = run(QWEN, "distillation")
    assert res.verdict is Status.BLOCKED
    blocked = res.by_status(Status.BLOCKED)
    assert [c.code for c in blocked] == ["MC505"]
    assert "improve any other large language model" in (blocked[0].evidence[0].quote or "")


def test_qwen_customer_saas_clear_with_output_obligation() -> None:
    res = run(QWEN, "customer-saas")
    assert res.verdict is Status.CLEAR
    assert any("Do not use the model or its outputs" in o.text for o in res.obligations)


def test_hunyuan_eu_users_blocked_on_territory() -> None:
    res = run(HUNYUAN, with_users("internal-tool", "EU"))
    assert res.verdict is Status.BLOCKED
    ter = res.check("territory")
    assert ter is not None and ter.status is Status.BLOCKED and ter.code == "MC508"
    assert "European Union" in ter.reason
    assert ter.evidence[0].line == 17


def test_hunyuan_us_only_territory_clear() -> None:
    p = load_profile("internal-tool")
    p = p.model_copy(update={"regions": p.regions.model_copy(update={"users": ("US", "JP"),
                                                                      "deployment": ("US",)})})
    assert run(HUNYUAN, p).check("territory").status is Status.CLEAR


@pytest.mark.parametrize("region", ["GB", "KR", "DE", "FR", "WORLDWIDE"])
def test_hunyuan_excluded_regions(region: str) -> None:
    assert run(HUNYUAN, with_users("prototype", region)).check("territory").status is \
        Status.BLOCKED


def test_noncommercial_blocks_internal_business_use() -> None:
    assert run(NONCOMMERCIAL, "internal-tool").check("commercial-use").status is Status.BLOCKED
    assert run(NONCOMMERCIAL, "prototype").check("commercial-use").status is Status.CLEAR


def test_registration_review_until_recorded() -> None:
    res = run(GLM, "customer-saas")
    assert res.check("registration").status is Status.REVIEW
    p = load_profile("customer-saas")
    p = p.model_copy(update={"rules": p.rules.model_copy(update={
        "registered": ("LicenseRef-modelclear-chatglm3-6b-license",)})})
    res = run(GLM, p)
    assert res.check("registration").status is Status.CLEAR
    assert any("registration" in o.text for o in res.obligations)
    # fine-tuning 'unclear' is a question for a reader, never CLEAR when needed
    assert res.check("fine-tuning").status is Status.REVIEW


def test_inline_use_restrictions_are_obligations_not_review() -> None:
    res = run(GLM, "prototype")
    assert res.check("acceptable-use").status is Status.CLEAR
    assert any("use restrictions" in o.text for o in res.obligations)


def test_no_license_analysis_is_review_not_crash() -> None:
    res = evaluate(PolicyInputs(scope="release", license=None,
                                missing={"license": "unavailable: not installed"}),
                   load_profile("customer-saas"))
    assert res.verdict is Status.REVIEW
    c = res.check("license-identified")
    assert c.code == "MC521" and "not analysed" in c.reason
    # security and sizing missing too: each a REVIEW, never a crash
    assert res.check("security-scan").code == "MC521"


def test_no_license_at_all_is_blocked() -> None:
    res = run(LicenseReport(), "prototype")
    assert res.verdict is Status.BLOCKED
    assert res.check("license-identified").code == "MC520"


def test_unknown_text_is_review() -> None:
    rep = report("LicenseRef-modelclear-unknown", dict(MIT.licenses[0].terms), match="unknown")
    res = run(rep, "prototype")
    assert res.check("license-identified").status is Status.REVIEW


def test_modified_text_names_changed_terms() -> None:
    lic = replace(MIT.licenses[0], match="modified", changed_terms=("commercial_use",),
                  diff=("You may not sell the Software.",))
    res = run(LicenseReport(licenses=(lic,)), "prototype")
    c = res.check("license-modified")
    assert c.status is Status.REVIEW and "commercial_use" in c.reason
    assert any(e.quote == "You may not sell the Software." for e in c.evidence)


def test_declared_mismatch_review() -> None:
    rep = report("MIT", dict(MIT.licenses[0].terms),
                 declared=Declared(license="apache-2.0", resolved_ids=("Apache-2.0",)))
    assert run(rep, "prototype").check("declared-license").status is Status.REVIEW


def test_allowed_list_and_osi_rule() -> None:
    p = load_profile("customer-saas")
    only_apache = p.model_copy(update={"rules": p.rules.model_copy(update={
        "allowed_licenses": ("Apache-2.0",)})})
    assert run(MIT, only_apache).check("license-allowed").status is Status.BLOCKED
    osi = p.model_copy(update={"rules": p.rules.model_copy(update={"osi_approved_only": True})})
    assert run(LLAMA31, osi).check("license-allowed").status is Status.BLOCKED


def test_ignored_code_shown_not_counted() -> None:
    prof = load_profile("customer-saas")
    res = evaluate(PolicyInputs(scope="license", license=LLAMA31), prof, ignore=("MC510",))
    assert res.verdict is Status.CLEAR
    aup = res.check("acceptable-use")
    assert aup.ignored and aup.status is Status.REVIEW


def test_severity_override() -> None:
    res = evaluate(PolicyInputs(scope="license", license=LLAMA31), load_profile("customer-saas"),
                   severity={"MC510": "critical"})
    assert res.check("acceptable-use").severity == "critical"


def test_publisher_blocked_country() -> None:
    p = load_profile("internal-tool")
    p = p.model_copy(update={"rules": p.rules.model_copy(update={
        "blocked_publisher_countries": ("CN",)})})
    res = evaluate(PolicyInputs(scope="release", license=MIT, model_id="deepseek-ai/DeepSeek-R1"),
                   p)
    c = res.check("publisher-origin")
    assert c.status is Status.BLOCKED and "China" in c.reason
    res = evaluate(PolicyInputs(scope="release", license=MIT, model_id="mistralai/Mistral-7B"), p)
    assert res.check("publisher-origin").status is Status.CLEAR
    res = evaluate(PolicyInputs(scope="release", license=MIT, model_id="someone/unknown"), p)
    assert res.check("publisher-origin").status is Status.REVIEW


def test_sector_notes_are_facts_under_review() -> None:
    p = load_profile("internal-tool").model_copy(update={"sector": ("defense",)})
    res = evaluate(PolicyInputs(scope="release", license=MIT, model_id="Qwen/Qwen2.5-7B"), p)
    notes = [c for c in res.checks if c.code == "MC517"]
    assert len(notes) == 2 and all(c.status is Status.REVIEW for c in notes)
    for c in notes:
        assert "you should" not in c.reason.lower() and "advice" not in c.reason.lower()
    res = evaluate(PolicyInputs(scope="release", license=MIT, model_id="mistralai/x"), p)
    assert [c.name for c in res.checks if c.code == "MC517"] == ["note-dual-use-export"]


def test_sector_clause_quoted() -> None:
    p = load_profile("internal-tool").model_copy(update={"sector": ("defense",)})
    texts = {"LICENSE": "Terms\nYou agree not to use the Model:\n- For military use in any way;\n"}
    res = run(MIT, p, texts=texts)
    c = res.check("sector-use-defense")
    assert c.status is Status.REVIEW and c.evidence[0].line == 3
    assert "military" in (c.evidence[0].quote or "")


def test_release_checks_pickle_and_remote_code() -> None:
    files = (("pytorch_model.bin", "weights", "pytorch-zip"), ("config.json", "config", "json"))
    configs = {"config.json": {"auto_map": {"AutoModel": "modeling_x.XModel"}}}
    res = evaluate(PolicyInputs(scope="release", license=MIT, files=files, configs=configs),
                   load_profile("customer-saas"))
    assert res.check("serialization").status is Status.BLOCKED
    rc = res.check("remote-code")
    assert rc.status is Status.BLOCKED and "modeling_x.XModel" in (rc.evidence[0].quote or "")
    res = evaluate(PolicyInputs(scope="release", license=MIT, files=files, configs=configs),
                   load_profile("prototype"))
    assert res.check("serialization").code == "MC521"
    assert res.check("serialization").status is Status.REVIEW  # no security scan: not analysed


def test_security_report_unsafe_file_blocks() -> None:
    from modelclear.analyzers.security.model import FileReport, SecurityReport

    def F(path: str, status: str) -> FileReport:
        return FileReport(path=path, kind="pickle", status=status,
                          findings=(finding("MC301", "calls os.system", file=path, offset=42,
                                            callable="os.system"),))

    sec = SecurityReport(files=(F("model.bin", "unsafe"), F("ok.safetensors", "clean")),
                         allowlist_version="test")
    res = evaluate(PolicyInputs(scope="release", license=MIT, security=sec),
                   load_profile("prototype"))
    c = res.check("security-scan")
    assert c.status is Status.BLOCKED and c.evidence[0].offset == 42
    assert c.evidence[0].quote == "os.system"


def test_gpu_budget_needs_sizing() -> None:
    res = evaluate(PolicyInputs(scope="release", license=MIT), load_profile("regulated-onprem"))
    assert res.check("hardware").code == "MC521"


def test_other_scale_thresholds() -> None:
    kimi = report("LicenseRef-kimi", {
        "commercial_use": T("yes"),
        "other_scale_threshold": T("monthly active users > 100,000,000 per month; revenue > "
                                   "USD 20,000,000 per month", "more than 100 million monthly "
                                   "active users, or more than 20 million US dollars", 23),
        "attribution_required": T("yes", detail="Kimi K2"),
    })
    assert run(kimi, "prototype").check("other-scale").status is Status.REVIEW  # no revenue given
    derived = run(kimi, "internal-tool").check("other-scale")  # 50M a year → 4.2M a month
    assert derived.status is Status.CLEAR and "annual / 12" in derived.reason
    small = with_scale("customer-saas", monthly_revenue_usd=1_000_000)
    assert run(kimi, small).check("other-scale").status is Status.CLEAR
    big = with_scale("customer-saas", monthly_revenue_usd=30_000_000)
    assert run(kimi, big).check("other-scale").status is Status.REVIEW


def test_scale_threshold_parser() -> None:
    got = scale_thresholds("more than 100 million monthly active users or USD $1,000,000 in "
                           "annual revenue; 2 devices")
    assert ("mau", 100_000_000) in [(d, v) for d, v, _ in got]
    assert ("annual_revenue", 1_000_000) in [(d, v) for d, v, _ in got]
    assert all(d != "devices" for d, _, _ in got)


def test_territory_reader() -> None:
    t = read_territory("the worldwide territory, excluding the territory of the European Union, "
                       "United Kingdom and South Korea")
    assert t.excluded == {"EU", "GB", "KR"} and t.understood
    assert not read_territory("the Territory as defined by us").understood
    # two-letter words are not regions unless written as codes
    assert read_territory("use it in any way, as we like, excluding nothing").excluded == set()


def test_result_json_round_trip() -> None:
    res = run(LLAMA31, "customer-saas")
    data = res.to_json()
    assert data["verdict"] == "REVIEW"
    assert {c["code"] for c in data["checks"]} >= {"MC500", "MC501", "MC510"}


def test_fuzz_clause_readers_never_crash() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(["excluding", "European Union", "UK", "US", "only", "within",
                             "million", "$", "USD", "1,000,000", "monthly active users",
                             "revenue", "per month", "devices", "20", "the", ",", "and"])

    @settings(max_examples=200, deadline=None)
    @given(st.one_of(st.text(max_size=300), st.lists(words, max_size=30).map(" ".join)))
    def run(text: str) -> None:
        t = read_territory(text)
        assert t.understood == bool(t.excluded or t.only)
        for dim, value, _ in scale_thresholds(text):
            assert dim in {"mau", "dau", "devices", "annual_revenue", "monthly_revenue"}
            assert value >= 1000

    run()


def test_deployment_notes_never_change_the_verdict() -> None:
    res = run(MIT, "regulated-onprem")
    assert res.verdict is Status.CLEAR
    ids = [n.id for n in res.notes]
    assert ids == ["eu-ai-act-high-risk", "eu-ai-act-gpai-modification"]
    assert "healthcare" in res.notes[0].basis
    assert not run(MIT, "distillation").notes  # US/CA only


def test_license_declared_only_in_card() -> None:
    lic = replace(LLAMA31.licenses[0], file="README.md", match="partial")
    rep = LicenseReport(licenses=(lic,), declared=Declared(
        license="llama3.1", resolved_ids=(lic.id,)))
    files = (("README.md", "model-card", "markdown"), ("config.json", "config", "json"))
    res = evaluate(PolicyInputs(scope="release", license=rep, files=files),
                   load_profile("customer-saas"))
    ident = res.check("license-identified")
    assert ident.status is Status.REVIEW and "only declared in the model card" in ident.reason
    assert res.check("license-text").status is Status.REVIEW
    assert res.check("user-scale").status is Status.CLEAR  # catalog terms still checked


def test_clause_lines_count_newlines_only() -> None:
    from modelclear.analyzers.policy.checks import find_clause

    text = "first line with a\u2028separator\r\nsecond\nthird: military use\n"
    hit = find_clause({"LICENSE": text}, "military")
    assert hit[0].line == 3 and hit[0].quote == "third: military use"


def test_scale_duty_is_an_obligation_not_a_review() -> None:
    """Kimi K2 only asks large commercial deployments to display its name (issue 17)."""
    clause = ("if the Software is used for any of your commercial products or services that "
              "have more than 100 million monthly active users, or more than 20 million US "
              "dollars in monthly revenue, you shall prominently display \"Kimi K2\" on the "
              "user interface of such product or service")
    kimi = report("LicenseRef-kimi", {
        "commercial_use": T("yes"),
        "other_scale_threshold": T("Commercial products/services with >100 million MAU OR >20 "
                                   "million USD monthly revenue must prominently display "
                                   "\"Kimi K2\" on the user interface", clause, 23),
        "attribution_required": T("yes", clause, 23),
    })
    proto = run(kimi, "prototype")
    assert proto.check("other-scale").status is proto.check("attribution").status is Status.CLEAR
    assert "not commercial" in proto.check("other-scale").reason
    duty = [o for o in proto.obligations if "Kimi K2" in o.text]
    assert len(duty) == 1 and not duty[0].applies and "commercial" in duty[0].condition
    big = run(kimi, with_scale("customer-saas", monthly_revenue_usd=30_000_000))
    assert big.check("other-scale").status is Status.CLEAR
    assert [o.applies for o in big.obligations if "Kimi K2" in o.text] == [True]
    unknown = run(kimi, with_scale("customer-saas", monthly_revenue_usd=None,
                                   annual_revenue_usd=None))
    assert unknown.check("other-scale").status is Status.CLEAR
    assert [o.applies for o in unknown.obligations if "Kimi K2" in o.text] == [True]


def test_mau_reason_says_measured_on_the_release_date() -> None:
    c = run(LLAMA31_RELEASE_DATE, "customer-saas").check("user-scale")
    assert c.status is Status.CLEAR and "release date" in c.reason and "not monthly" in c.reason


LLAMA31_RELEASE_DATE = report("LicenseRef-scancode-llama-3.1-license-2024", {
    "commercial_use": T("conditional"),
    "mau_threshold": T(700_000_000, "If, on the Llama 3.1 version release date, the monthly "
                       "active users of the products or services made available by or for "
                       "Licensee, or Licensee's affiliates, is greater than 700 million monthly "
                       "active users in the preceding calendar month", 32),
})
