# ruff: noqa: E501  (test sentences read better unwrapped)
"""Term detectors on synthetic sentences written for these tests (no real license text).

Each case is a small license in wording none of the corpus licenses uses, so
a detector that only knows the corpus phrasings fails here.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.license.extract import extract_terms
from modelclear.analyzers.license.model import TERM_NAMES

GRANT = "The Licensor grants you a worldwide, royalty-free license to use, copy and distribute the Model."


def terms(*sentences: str) -> dict:
    return extract_terms("Sample Model License\n\n" + "\n\n".join(sentences) + "\n", "LICENSE")


def value(name: str, *sentences: str):
    return terms(*sentences)[name].value


def test_every_term_present_and_evidence_quotes_the_text() -> None:
    text = (
        "Sample Model License\n\n"
        + GRANT
        + "\n\nIf your services reach more than 3 million monthly active users, you must\n"
        "obtain a separate license from the Licensor.\n\n"
        "This license is governed by the laws of Freedonia.\n"
    )
    got = extract_terms(text, "LICENSE")
    assert set(got) == set(TERM_NAMES)
    for name, term in got.items():
        assert term.source == "extracted"
        if term.evidence is not None:
            assert term.evidence.file == "LICENSE"
            assert term.evidence.quote in text, name
            lines = text.splitlines()[term.evidence.line_start - 1 : term.evidence.line_end]
            assert term.evidence.quote.split("\n")[0].strip() in lines[0]
    assert got["mau_threshold"].value == 3_000_000
    assert got["mau_threshold"].evidence.line_start == 5
    assert got["mau_threshold"].evidence.line_end in (5, 6)


@pytest.mark.parametrize(
    ("sentences", "expected"),
    [
        ((GRANT,), "yes"),
        (
            (
                "Licensor grants you a license to use the Model for any purpose, including commercial ones.",
            ),
            "yes",
        ),
        (
            (
                "We grant you a license to use and modify the Model solely for non-commercial research.",
            ),
            "no",
        ),
        (("You are granted a license to run the Model for research purposes only.",), "no"),
        ((GRANT, "You may not use the Model for any commercial purpose."), "no"),
        ((GRANT, "Commercial use is prohibited."), "no"),
        (
            (
                GRANT,
                "If your products exceed 5 million monthly active users you must request a license from us.",
            ),
            "conditional",
        ),
        (
            (
                "We grant you a license to use the Model for academic research.",
                "Organisations that register with us on our website may use the Model commercially.",
            ),
            "conditional",
        ),
        (
            (
                GRANT,
                "Companies with annual revenue above USD 10 million must obtain an enterprise license.",
            ),
            "conditional",
        ),
        (("This document describes how the Model was trained.",), None),
    ],
)
def test_commercial_use(sentences: tuple[str, ...], expected: str | None) -> None:
    assert value("commercial_use", *sentences) == expected


@pytest.mark.parametrize(
    ("sentence", "mau", "other"),
    [
        (
            "If your product has more than 100 million monthly active users, you must request a license.",
            100_000_000,
            False,
        ),
        (
            "Licensees above 700,000,000 monthly active users must obtain a license from us first.",
            700_000_000,
            False,
        ),
        (
            "Services exceeding 1 million daily active users need our written permission.",
            None,
            True,
        ),
        (
            "If you earn more than USD 20 million per month you shall request a commercial license.",
            None,
            True,
        ),
        (
            'If your product has more than 100 million monthly active users, you shall display "Made with X".',
            None,
            True,
        ),
        ("The Model has 7 billion parameters and was released in 2024.", None, False),
    ],
)
def test_thresholds(sentence: str, mau: int | None, other: bool) -> None:
    got = terms(GRANT, sentence)
    assert got["mau_threshold"].value == mau
    assert (got["other_scale_threshold"].value is not None) is other


@pytest.mark.parametrize(
    ("sentences", "expected"),
    [
        ((GRANT,), "no"),
        (
            (
                GRANT,
                "Above 2 million monthly active users you must request a license from the Licensor.",
            ),
            "above_threshold",
        ),
        (
            (
                GRANT.replace("use,", "use for non-commercial purposes only,"),
                "To use the Model commercially you must complete our registration form.",
            ),
            "for_commercial",
        ),
        (
            (
                "We grant you a license to use the Model solely for non-commercial purposes.",
                "If you want any other use, you must obtain written authorization from the Licensor.",
            ),
            "for_commercial",
        ),
        (("We grant you a license to use the Model solely for non-commercial purposes.",), "no"),
        ((GRANT, "You must register with us and be approved before downloading the Model."), "yes"),
    ],
)
def test_registration(sentences: tuple[str, ...], expected: str) -> None:
    assert value("requires_registration_or_approval", *sentences) == expected


@pytest.mark.parametrize(
    ("sentences", "expected"),
    [
        (("Licensor grants you a license to use, modify and adapt the Model.",), "yes"),
        ((GRANT, "You may fine-tune the Model on your own data."), "yes"),
        (
            (
                "Licensor grants you a license to run the Model.",
                "You may not modify or fine-tune the Model.",
            ),
            "no",
        ),
        (("Licensor grants you a license to run the Model.",), "unclear"),
        (
            (
                "Licensor grants you a license to run the Model.",
                "You must not copy, modify or distribute the Model for any military or illegal purposes.",
            ),
            "unclear",
        ),
    ],
)
def test_fine_tuning(sentences: tuple[str, ...], expected: str) -> None:
    assert value("fine_tuning_allowed", *sentences) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "You shall not use the Model or its outputs to train, improve or develop any other AI model.",
            "prohibited",
        ),
        ("Outputs of the Model may not be used to train other language models.", "prohibited"),
        (
            "You will never use any output of the Model to improve another foundation model.",
            "prohibited",
        ),
        (
            "You may use outputs of the Model to train other models, provided you name the Model.",
            "allowed",
        ),
        (
            "If you use outputs of the Model to fine-tune a new model, that model must carry our name.",
            "allowed",
        ),
        (
            "Models trained on synthetic data generated by the Model are Derivatives and bound by Section 4.",
            "restricted",
        ),
        ("Outputs are subject to the restrictions in Section 3.", "restricted"),
        (
            "You may not use outputs of the Model to develop models that compete with the Licensor.",
            "restricted",
        ),
        ("The Model produces outputs in JSON.", "unmentioned"),
    ],
)
def test_outputs(sentence: str, expected: str) -> None:
    assert value("use_outputs_to_train_other_models", GRANT, sentence) == expected


def test_attribution_and_exact_notice() -> None:
    got = terms(
        GRANT,
        'If you ship a product using the Model you must prominently display "Powered by Zeta" in its documentation.',
    )
    assert got["attribution_required"].value == "yes"
    assert got["attribution_required"].detail == "Powered by Zeta"
    assert value("attribution_required", GRANT) == "no"
    assert (
        value(
            "attribution_required",
            GRANT,
            "Copies must retain the copyright notices of the Licensor.",
        )
        == "yes"
    )
    publication = "Any publication shall provide appropriate attribution to the Licensor."
    assert value("attribution_required", GRANT, publication) == "yes"


@pytest.mark.parametrize(
    "sentence",
    [
        'If you release a model trained with the Model, you shall include "Zeta" at the beginning of its model name.',
        'Derived models must have a name that starts with "Zeta".',
        'The names of fine-tuned versions shall begin with "Zeta".',
    ],
)
def test_derivative_naming(sentence: str) -> None:
    got = terms(GRANT, sentence)["derivative_naming_requirement"]
    assert got.value is not None and "Zeta" in got.value
    assert got.detail == "Zeta"
    assert value("derivative_naming_requirement", GRANT) is None


@pytest.mark.parametrize(
    ("sentences", "expected"),
    [
        (
            (
                GRANT,
                "Your use must follow our Acceptable Use Policy, incorporated here by reference.",
            ),
            "yes",
        ),
        ((GRANT, "You must comply with the Prohibited Use Policy at example.com/policy."), "yes"),
        (
            (
                GRANT,
                "You agree not to use the Model for military purposes, weapons development or to harass people.",
            ),
            "yes",
        ),
        ((GRANT, "You shall comply with applicable laws."), "no"),
    ],
)
def test_aup(sentences: tuple[str, ...], expected: str) -> None:
    assert value("acceptable_use_policy", *sentences) == expected


def test_policy_document_has_no_grant_terms() -> None:
    got = extract_terms(
        "Zeta Acceptable Use Policy\n\nYou agree you will not use Zeta to:\n\n"
        "1. plan violence or terrorism;\n2. harass or discriminate against people;\n",
        "USE_POLICY.md",
    )
    assert got["acceptable_use_policy"].value == "yes"
    assert got["commercial_use"].value is None
    assert got["fine_tuning_allowed"].value is None
    assert got["attribution_required"].value == "no"


@pytest.mark.parametrize(
    ("sentence", "places"),
    [
        (
            "The Territory means the whole world, excluding the European Union, the United Kingdom and South Korea.",
            ("European Union", "United Kingdom", "South Korea"),
        ),
        (
            "This license is only available to users located outside mainland China.",
            ("mainland China",),
        ),
        (
            "The rights in Section 1 are not granted to you if you are domiciled in the European Union.",
            ("European Union",),
        ),
        ("You may not deploy the Model in Russia or Iran.", ("Russia", "Iran")),
        (None, ()),
    ],
)
def test_territory(sentence: str | None, places: tuple[str, ...]) -> None:
    got = terms(GRANT, sentence) if sentence else terms(GRANT, "We are based in the United States.")
    term = got["territory_restriction"]
    if not places:
        assert term.value is None
    else:
        for p in places:
            assert p in term.value


def test_worldwide_grant_and_law_carveouts_are_not_territory_limits() -> None:
    assert (
        value(
            "territory_restriction",
            GRANT,
            '"Laws" means the laws of the People\'s Republic of China, excluding Hong Kong and Macau.',
            "Licensor means Zeta Ltd if you are located in the EEA and Zeta Inc if you are located outside the EEA.",
        )
        is None
    )


def test_competing_service() -> None:
    assert (
        value(
            "competing_service_restriction",
            GRANT,
            "You must not use the Model to build a service that competes with the Licensor.",
        )
        is not None
    )
    assert (
        value(
            "competing_service_restriction",
            GRANT,
            "Disputes go to a court of competent jurisdiction.",
        )
        is None
    )


@pytest.mark.parametrize(
    ("sentence", "needle"),
    [
        ("This Agreement is governed by the laws of the State of New York.", "New York"),
        ("This license shall be construed in accordance with the laws of Japan.", "Japan"),
        ("The agreement is governed under Swiss law.", "Swiss"),
        ("Governing law: the laws of England and Wales.", "England"),
    ],
)
def test_governing_law(sentence: str, needle: str) -> None:
    got = terms(GRANT, sentence)["governing_law"]
    assert got.value is not None and needle in got.value
    assert value("governing_law", GRANT) is None


def test_venue_is_reported_with_the_law() -> None:
    got = terms(
        GRANT,
        "This Agreement is governed by the laws of Ruritania. The courts of Strelsau shall have exclusive jurisdiction.",
    )
    assert "Strelsau" in got["governing_law"].value


def test_redistribution_conditions() -> None:
    got = terms(
        GRANT,
        "If you distribute the Model you must give recipients a copy of this License and mark any files you modified.",
    )
    assert "copy of the license" in got["redistribution_conditions"].value


def test_markdown_and_wrapping_do_not_change_the_reading() -> None:
    plain = terms(
        GRANT,
        "You shall not use the Model or its outputs to improve any other large language model.",
    )
    md = extract_terms(
        "# Sample Model License\n\n**Grant.** The Licensor grants you a worldwide,\nroyalty-free license to"
        " use, copy and distribute the Model.\n\n- You shall **not** use the Model or its\n  outputs to"
        " improve any other large\n  language model.\n",
        "LICENSE.md",
    )
    for name in TERM_NAMES:
        assert plain[name].value == md[name].value, name
    ev = md["use_outputs_to_train_other_models"].evidence
    assert ev is not None and (ev.line_start, ev.line_end) == (6, 8)


def test_line_range_reads_one_document_and_keeps_file_lines() -> None:
    text = (
        "MIT License\n\nPermission is hereby granted, free of charge, to deal in the Software.\n\n"
        "Zeta Model License\n\nWe grant you a license to use the Model solely for non-commercial research.\n"
    )
    got = extract_terms(text, "LICENSE", lines=(5, 7))
    assert got["commercial_use"].value == "no"
    assert got["commercial_use"].evidence.line_start == 7
    with pytest.raises(ValueError):
        extract_terms(text, "LICENSE", lines=(3, 1))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600))
def test_any_text_gives_all_terms_without_raising(text: str) -> None:
    got = extract_terms(text, "f")
    assert set(got) == set(TERM_NAMES)
    for term in got.values():
        if term.evidence is not None:
            assert term.evidence.quote in text


# Whole small licenses in the shape of real ones outside the corpus (our own wording).
UNSEEN = {
    "daily-users": (
        "Community License for the Model\n"
        "1. You are granted a non-exclusive, worldwide, royalty-free license to use, copy, modify and distribute the Model.\n"
        "2. If you or your affiliates provide services whose daily active users (DAU) exceed 1 million, you must apply to us by email for a commercial license.\n"
        "3. You shall not use the Model for any activities that harm national security, promote terrorism, or violate the law.\n"
        "4. This Agreement is governed by the laws of the People's Republic of China.\n",
        {
            "commercial_use": "conditional",
            "mau_threshold": None,
            "requires_registration_or_approval": "above_threshold",
            "acceptable_use_policy": "yes",
            "fine_tuning_allowed": "yes",
        },
        ("other_scale_threshold", "governing_law"),
    ),
    "revenue": (
        "Open Model License Agreement\n"
        "We grant you a license to use, reproduce, modify and create derivative works of the Model.\n"
        "If your annual revenue is in excess of $50M, you must obtain a commercial license from us before any commercial use.\n"
        "You agree to comply with our Acceptable Use Policy.\n",
        {
            "commercial_use": "conditional",
            "requires_registration_or_approval": "above_threshold",
            "acceptable_use_policy": "yes",
        },
        ("other_scale_threshold",),
    ),
    "non-production": (
        "Non-Production License\n"
        "You may use, copy and modify the Model for Non-Production Purposes only.\n"
        "You shall not use the Model in any production environment.\n"
        "The Agreement is governed by French law.\n",
        {
            "commercial_use": "no",
            "fine_tuning_allowed": "yes",
            # issue 12: a non-commercial (non-production) only grant limits outputs too
            "use_outputs_to_train_other_models": "restricted",
        },
        ("governing_law",),
    ),
    "rail": (
        "Responsible AI License\n"
        "Licensor grants you a perpetual, worldwide, royalty-free license to reproduce, prepare, publicly display and distribute the Model and Derivatives of the Model.\n"
        '"Derivatives of the Model" includes any model trained by distillation or on synthetic data generated by the Model.\n'
        "You agree not to use the Model or Derivatives of the Model: (a) for military purposes; (b) to exploit minors; (c) to generate disinformation.\n",
        {
            "commercial_use": "yes",
            "fine_tuning_allowed": "yes",
            "use_outputs_to_train_other_models": "restricted",
            "acceptable_use_policy": "yes",
            "governing_law": None,
        },
        (),
    ),
    "terms-of-use": (
        "Model Terms of Use\n"
        "Acme grants you a license to use, reproduce, modify and Distribute the Model and Model Derivatives, provided you comply with the Prohibited Use Policy.\n"
        "Model Derivatives include models trained on the Model's outputs.\n"
        'You must include the notice "Model is provided under the Model Terms of Use" with every copy.\n'
        "These terms are governed by the laws of the State of California, and disputes shall be resolved in the courts of Santa Clara County.\n",
        {
            "use_outputs_to_train_other_models": "restricted",
            "attribution_required": "yes",
            "acceptable_use_policy": "yes",
        },
        ("governing_law",),
    ),
}


@pytest.mark.parametrize("name", sorted(UNSEEN))
def test_unseen_licenses(name: str) -> None:
    text, expected, present = UNSEEN[name]
    got = extract_terms(text, "LICENSE")
    for field, want in expected.items():
        assert got[field].value == want, field
    for field in present:
        assert got[field].value is not None, field
        assert got[field].evidence is not None


def test_typos_in_key_words_are_read_through() -> None:
    clean = terms(
        GRANT,
        "You shall not use the Model or its outputs to improve any other large language model.",
    )
    typoed = terms(
        GRANT,
        "You shall not use the Model or its outptus to imrpove any other large language model.",
    )
    assert clean["use_outputs_to_train_other_models"].value == "prohibited"
    assert typoed["use_outputs_to_train_other_models"].value == "prohibited"
    # the quote keeps the file's own spelling
    assert "outptus" in typoed["use_outputs_to_train_other_models"].evidence.quote


def test_speller_leaves_frequent_and_ambiguous_words_alone() -> None:
    from modelclear.analyzers.license.extract import patterns

    sp = patterns().speller
    assert sp.correct("commerical") == "commercial"
    assert sp.correct("zzzzzz") is None
    text = "the modle modle modle is here"
    assert sp.respell(text) == text  # used three times: the author's word


def test_software_license_phrasings_are_not_model_duties() -> None:
    # a non-commercial limit on one way of passing source on is not a non-commercial grant
    assert (
        value(
            "commercial_use",
            GRANT,
            "Option c is allowed only for noncommercial distribution and only if you received an offer.",
        )
        == "yes"
    )
    # forbidding changes to the license or to recipients' rights is not forbidding fine-tuning
    assert (
        value(
            "fine_tuning_allowed",
            GRANT.replace("copy and", "copy, modify and"),
            "You may not attempt to alter or restrict the recipients' rights.",
            "You may not modify this License.",
        )
        == "yes"
    )
    # "competing" in a preamble is not a competing-service clause
    assert (
        value(
            "competing_service_restriction",
            GRANT,
            "Using it gives developers no advantage over competing non-free programs.",
        )
        is None
    )
    # "no-charge" is not a negation
    assert (
        value(
            "fine_tuning_allowed",
            "Each Contributor grants you a no-charge license to reproduce, prepare derivative works of and distribute the Work.",
        )
        == "yes"
    )


def test_competing_product_needing_a_license_is_a_competition_clause() -> None:
    got = terms(
        GRANT,
        "If you offer a service which directly competes with services provided by the Licensor, you must request a license from the Licensor.",
    )
    assert got["competing_service_restriction"].value is not None


def test_only_the_opening_of_a_huge_document_is_read() -> None:
    from modelclear.analyzers.license import extract

    filler = "This line says nothing at all about anything.\n" * (extract.MAX_TEXT_CHARS // 40)
    late = "This Agreement is governed by the laws of Ruritania.\n"
    assert value("governing_law", GRANT, late) is not None
    assert extract_terms(GRANT + "\n" + filler + late, "LICENSE")["governing_law"].value is None


def test_patterns_carry_a_literal_prefilter() -> None:
    from modelclear.analyzers.license.extract import _mandatory_literal

    assert _mandatory_literal(re.compile(r"\bnot\b(?:[^.]){0,60}\boutputs?\b")) == "output"
    assert _mandatory_literal(re.compile(r"(?:a|b)c")) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalized_text_maps_back_to_the_original(text: str) -> None:
    from modelclear.analyzers.license.extract import Doc

    doc = Doc(text, "f")
    assert len(doc.norm) == len(doc.index)
    assert all(0 <= i < len(text) for i in doc.index)
    assert doc.index == sorted(doc.index)


def test_notice_file_wording_is_reported_whole() -> None:
    got = terms(
        GRANT,
        "You must keep the following attribution notice in a Notice file: "
        '"Zeta is licensed under the Zeta License, Copyright (c) Zeta Ltd. All Rights Reserved."',
        'Products built with the Model must prominently display "Built with Zeta".',
    )["attribution_required"]
    assert got.value == "yes"
    assert got.detail is not None
    assert got.detail.startswith('"Built with Zeta"')
    assert "Copyright (c) Zeta Ltd. All Rights Reserved." in got.detail
