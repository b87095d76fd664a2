"""Copyleft judged against what the profile does (issue 17, check MC527).

The license reports are built by the test with the ids the catalog gives these
licenses; the texts are short excerpts of the standard texts, enough to quote.
"""

from __future__ import annotations

import pytest

from modelclear.analyzers.license.model import Evidence, LicenseMatch, LicenseReport, Term
from modelclear.analyzers.policy import PolicyInputs, Status, evaluate, load_profile
from modelclear.analyzers.policy.copyleft import kind_of, kinds
from modelclear.analyzers.policy.profile import Profile

GPL_TEXT = """GNU GENERAL PUBLIC LICENSE
Version 3, 29 June 2007

You may convey a work based on the Program, or the modifications to produce it
from the Program, in the form of source code under the terms of section 4,
provided that you also meet all of these conditions:
c) You must license the entire work, as a whole, under this License to anyone
who comes into possession of a copy.
"""
AGPL_TEXT = GPL_TEXT.replace("GNU GENERAL", "GNU AFFERO GENERAL") + """
13. Remote Network Interaction; Use with the GNU General Public License.
Notwithstanding any other provision of this License, if you modify the Program, your
modified version must prominently offer all users interacting with it remotely through a
computer network an opportunity to receive the Corresponding Source of your version.
"""
BYSA_TEXT = """Attribution-ShareAlike 4.0 International Public License
b. ShareAlike. In addition to the conditions in Section 3(a), if You Share Adapted
Material You produce, the following conditions also apply.
1. The Adapter's License You apply must be a Creative Commons license with the same
License Elements, this version or later, or a BY-SA Compatible License.
"""
RAIL_TEXT = """BigScience Open RAIL-M License
"Derivatives of the Model" means all modifications to the Model, works based on the Model,
or any other model which is created or initialized by transfer of patterns of the weights,
parameters, activations or output of the Model, including distillation methods.
Use-based restrictions as referenced in paragraph 5 MUST be included as an enforceable
provision by You in any type of legal agreement governing the use and/or distribution.
"""


def T(value: object, quote: str | None = None) -> Term:
    ev = Evidence(file="LICENSE", line_start=1, line_end=1, quote=quote) if quote else None
    return Term(value=value, evidence=ev, source="extracted")  # type: ignore[arg-type]


def permissive_terms() -> dict[str, Term]:
    return {"commercial_use": T("yes"), "requires_registration_or_approval": T("no"),
            "fine_tuning_allowed": T("yes"), "use_outputs_to_train_other_models":
            T("unmentioned"), "attribution_required": T("yes", "keep intact all notices"),
            "acceptable_use_policy": T("no"),
            "redistribution_conditions": T("derivative works under the same license")}


def run(license_id: str, text: str, profile: Profile | str):
    lic = LicenseMatch(id=license_id, title=license_id, kind="license", match="exact",
                       confidence=1.0, file="LICENSE", line_start=1, line_end=20,
                       terms=permissive_terms())
    prof = load_profile(profile) if isinstance(profile, str) else profile
    inputs = PolicyInputs(scope="license", license=LicenseReport(licenses=(lic,)),
                          license_texts={"LICENSE": text})
    return evaluate(inputs, prof)


def test_gpl_distillation_is_not_clear() -> None:
    pol = run("GPL-3.0-only", GPL_TEXT, "distillation")
    c = pol.check("copyleft")
    assert c is not None and c.code == "MC527" and c.status is Status.REVIEW
    assert pol.verdict is not Status.CLEAR
    assert "distilled" in c.reason and "open" in c.reason
    assert c.evidence[0].file == "LICENSE" and c.evidence[0].line
    assert "work based on the Program" in (c.evidence[0].quote or "")
    assert any("GPL" in o.text and o.applies for o in pol.obligations)


@pytest.mark.parametrize(("profile", "status"), [
    ("prototype", Status.CLEAR), ("internal-tool", Status.CLEAR),
    ("customer-saas", Status.CLEAR), ("distillation", Status.REVIEW),
    ("regulated-onprem", Status.CLEAR)])
def test_gpl_by_profile_action(profile: str, status: Status) -> None:
    """GPL conditions attach to conveying: serving and internal use convey nothing."""
    assert run("GPL-3.0-only", GPL_TEXT, profile).check("copyleft").status is status


@pytest.mark.parametrize(("profile", "status"), [
    ("prototype", Status.CLEAR), ("internal-tool", Status.CLEAR),
    ("customer-saas", Status.REVIEW), ("distillation", Status.REVIEW)])
def test_agpl_network_use(profile: str, status: Status) -> None:
    c = run("AGPL-3.0-only", AGPL_TEXT, profile).check("copyleft")
    assert c.status is status
    if profile == "customer-saas":  # serves a fine-tuned model over a network: section 13
        assert "section 13" in c.reason
        assert "remotely through a" in " ".join(e.quote or "" for e in c.evidence)


@pytest.mark.parametrize(("profile", "status"), [
    ("prototype", Status.CLEAR), ("customer-saas", Status.REVIEW),
    ("distillation", Status.REVIEW)])
def test_cc_by_sa_share_alike(profile: str, status: Status) -> None:
    c = run("CC-BY-SA-4.0", BYSA_TEXT, profile).check("copyleft")
    assert c.status is status and "Adapted Material" in c.reason


def test_rail_use_restrictions_flow_down() -> None:
    lid = "LicenseRef-scancode-bigscience-open-rail-m"
    pol = run(lid, RAIL_TEXT, "distillation")
    assert pol.check("copyleft").status is Status.REVIEW
    assert any("enforceable provision" in o.text and o.applies for o in pol.obligations)
    saas = run(lid, RAIL_TEXT, "customer-saas")
    assert saas.check("copyleft").status is Status.CLEAR
    assert any("terms that govern outside users" in o.text and o.applies
               for o in saas.obligations)


def test_permissive_licenses_have_no_copyleft_check() -> None:
    assert run("MIT", "Permission is hereby granted", "distillation").check("copyleft") is None
    assert kind_of("Apache-2.0", "apache") is None
    assert kind_of("LGPL-2.1-only", None).key == "lgpl"
    assert kind_of("CC-BY-NC-SA-4.0", "creative-commons").key == "share-alike"


def test_every_kind_has_a_fallback_rule() -> None:
    for k in kinds():
        assert k.rules[-1].when == (), k.key
