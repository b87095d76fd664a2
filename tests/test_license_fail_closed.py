"""Fail closed on the unseen (issue 12): restrictions beat grants, `unclear` is REVIEW.

Hand-made texts in our own words, so these run without ../shared.
"""

from __future__ import annotations

import pytest

from modelclear.analyzers.license.extract import extract_terms
from modelclear.analyzers.license.model import (
    Evidence,
    LicenseMatch,
    LicenseReport,
    Term,
)
from modelclear.analyzers.license.text import analyze_text
from modelclear.analyzers.policy import PolicyInputs, Status, evaluate, load_profile

NONCOMMERCIAL = (
    "ORCHID RESEARCH MODEL LICENSE\n\n"
    "1. Grant. The Licensor grants you a worldwide, royalty-free license to use, reproduce, "
    "modify and distribute the Model and its outputs.\n\n"
    "2. Restrictions. You may use the Model and any output of the Model for non-commercial "
    "research purposes only.\n\n"
    "3. Trade. You agree to comply with all applicable export control and sanctions laws, "
    "and you will not make the Model available in any embargoed country.\n"
)


def test_noncommercial_only_restricts_outputs_and_commercial_use() -> None:
    t = extract_terms(NONCOMMERCIAL, "LICENSE")
    assert t["commercial_use"].value == "no"
    out = t["use_outputs_to_train_other_models"]
    assert out.value == "restricted"
    assert out.evidence is not None and "non-commercial" in out.evidence.quote
    assert "non-commercial" in (out.detail or "")


def test_an_express_output_permission_yields_to_a_noncommercial_limit() -> None:
    text = NONCOMMERCIAL.replace(
        "and its outputs.",
        "and its outputs. You may use outputs of the Model to train other models.",
    )
    out = extract_terms(text, "LICENSE")["use_outputs_to_train_other_models"]
    assert out.value == "restricted"
    # both clauses are quoted: the restriction as evidence, the grant in the detail
    assert out.evidence is not None and "non-commercial" in out.evidence.quote
    assert "train other models" in (out.detail or "")


def test_a_no_competing_models_clause_restricts_outputs() -> None:
    text = (
        "KESTREL MODEL LICENSE\n\nThe Licensor grants you a license to use, copy and modify "
        "the Model. You will not use the Model to develop models that compete with the "
        "Licensor's products.\n"
    )
    out = extract_terms(text, "LICENSE")["use_outputs_to_train_other_models"]
    assert out.value == "restricted"
    assert out.evidence is not None and "compete" in out.evidence.quote


def test_export_control_clause_is_a_sanctions_territory_restriction() -> None:
    t = extract_terms(NONCOMMERCIAL, "LICENSE")["territory_restriction"]
    assert t.value is not None and "sanctions" in str(t.value)
    assert t.detail == "sanctions"
    assert t.evidence is not None and t.evidence.line_start == 7


def _report(value: str) -> LicenseReport:
    ev = Evidence(file="LICENSE", line_start=3, line_end=3, quote="the grant says little")
    terms = {
        "commercial_use": Term(value=value, evidence=ev, source="extracted"),
        "fine_tuning_allowed": Term(value=value, evidence=ev, source="extracted"),
        "use_outputs_to_train_other_models": Term(value=value, evidence=ev, source="extracted"),
        "requires_registration_or_approval": Term(value="no", source="extracted"),
        "attribution_required": Term(value="no", source="extracted"),
        "acceptable_use_policy": Term(value="no", source="extracted"),
    }
    lic = LicenseMatch(id="LicenseRef-modelclear-unknown", title="Unrecognised license text",
                       kind="license", match="unknown", confidence=0.0, file="LICENSE",
                       line_start=1, line_end=9, terms=terms)
    return LicenseReport(licenses=(lic,))


@pytest.mark.parametrize("profile", ["customer-saas", "distillation", "internal-tool"])
def test_unclear_terms_are_review_never_clear(profile: str) -> None:
    prof = load_profile(profile)
    prof = prof.model_copy(update={"needs": prof.needs.model_copy(update={"fine_tune": True})})
    res = evaluate(PolicyInputs(scope="license", license=_report("unclear"),
                                license_texts={"LICENSE": "text"}), prof)
    checks = {c.name: c for c in res.checks}
    if prof.is_commercial:
        assert checks["commercial-use"].status is Status.REVIEW
    assert checks["fine-tuning"].status is Status.REVIEW
    if prof.trains_on_outputs:
        assert checks["output-use"].status is Status.REVIEW
    assert res.verdict is not Status.CLEAR


def test_noncommercial_text_is_never_commercially_clear() -> None:
    """The issue's symptom: "MC500 Commercial use: CLEAR" for a non-commercial license."""
    rep = analyze_text(NONCOMMERCIAL, "LICENSE")
    res = evaluate(PolicyInputs(scope="license", license=rep,
                                license_texts={"LICENSE": NONCOMMERCIAL}),
                   load_profile("distillation"))
    checks = {c.name: c for c in res.checks}
    assert checks["commercial-use"].status is Status.BLOCKED
    assert checks["output-use"].status is Status.REVIEW
