"""Identification engine on self-made license texts (no shared corpus needed).

A small catalog is built in the test from synthetic texts written here, so every
verdict — exact, misspelt-exact, modified, partial, unknown, close versions,
several documents in one file — is checked against texts we control.
"""

from __future__ import annotations

import random
import re
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelclear.analyzers.license.analyze import analyze_text
from modelclear.analyzers.license.catalog import Catalog, CatalogTerm, Entry
from modelclear.analyzers.license.fingerprint import Fingerprint, fingerprint
from modelclear.analyzers.license.identify import UNKNOWN_ID, identify
from modelclear.analyzers.license.normalize import words

V1 = """\
ACME OPEN WEIGHTS LICENSE, VERSION 1.0

1. Definitions. "Model" means the trained parameters released by Acme Robotics Ltd under this
license, together with the inference code and the documentation that accompany them. "You"
means the person or the organisation exercising the permissions granted here.

2. Grant. Subject to the conditions below, Acme grants you a worldwide, royalty-free,
non-exclusive license to use, copy, modify, fine-tune and distribute the Model and any
derivative of it, for any purpose including commercial purposes.

3. Scale. If the services you offer had more than 40 million monthly active users in the
preceding calendar month, you must request a separate license from Acme, which Acme may
grant to you in its sole discretion.

4. Outputs. You must not use the Model or its outputs to train or improve another large
language model that competes with the Model.

5. Attribution. Every copy you distribute must carry a Notice file stating "Powered by Acme
Open Weights" and a copy of this license.

6. Acceptable use. Your use of the Model must follow the Acme Acceptable Use Policy, which
Acme may update from time to time and which is incorporated here by reference.

7. Law. This license is governed by the laws of the Grand Duchy of Fenwick, and the courts of
its capital city have exclusive jurisdiction over any dispute arising from it.

8. Disclaimer. The Model is provided as is, without warranties of any kind, and Acme shall not
be liable for any damages arising from its use, to the extent permitted by law.
"""

# a close version: a different threshold and a different law clause
V2 = (
    V1.replace("VERSION 1.0", "VERSION 2.0")
    .replace("40 million", "90 million")
    .replace("Grand Duchy of Fenwick", "Republic of Freedonia")
)

POLICY = """\
ACME ACCEPTABLE USE POLICY

You agree that you will not use the Model, or allow others to use it, to do any of the
following things: to plan or carry out violence against any person or group; to produce
material that sexually exploits children; to operate critical infrastructure without the
supervision of a qualified human; to impersonate a person in order to deceive others; to
generate spam or malware at scale; or to make automated decisions that deny people housing,
credit, employment or insurance without a human review of each decision.
"""


def _entry(
    eid: str, title: str, kind: str = "license", **terms: tuple[object, str | None]
) -> Entry:
    return Entry(
        id=eid,
        title=title,
        kind=kind,  # type: ignore[arg-type]
        terms={n: CatalogTerm(value=v, anchor=a) for n, (v, a) in terms.items()},
    )


def _fp(eid: str, text: str) -> Fingerprint:
    return fingerprint(eid, "test", words(text))


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return _acme_catalog()


def _acme_catalog() -> Catalog:
    e1 = _entry(
        "LicenseRef-modelclear-acme-1.0",
        "Acme Open Weights License 1.0",
        commercial_use=("conditional", "more than 40 million monthly active users"),
        mau_threshold=(40_000_000, "more than 40 million monthly active users"),
        governing_law=("Fenwick", "governed by the laws of the grand duchy of fenwick"),
        use_outputs_to_train_other_models=("prohibited", "must not use the model or its outputs"),
        territory_restriction=(None, None),
    )
    e2 = _entry(
        "LicenseRef-modelclear-acme-2.0",
        "Acme Open Weights License 2.0",
        mau_threshold=(90_000_000, "more than 90 million monthly active users"),
    )
    pol = _entry(
        "LicenseRef-modelclear-acme-aup", "Acme Acceptable Use Policy", "acceptable-use-policy"
    )
    return Catalog(
        [e1, e2, pol],
        [_fp(e1.id, V1), _fp(e2.id, V2), _fp(pol.id, POLICY)],
    )


def _one(cat: Catalog, text: str):
    found = [m for m in identify(text, "LICENSE", cat) if m.id != UNKNOWN_ID]
    assert len(found) == 1, found
    return found[0]


def test_exact_text(cat: Catalog) -> None:
    m = _one(cat, V1)
    assert (m.id, m.match, m.confidence) == ("LicenseRef-modelclear-acme-1.0", "exact", 1.0)
    assert (m.line_start, m.line_end) == (1, len(V1.splitlines()))


def test_close_versions_are_told_apart(cat: Catalog) -> None:
    assert _one(cat, V1).id.endswith("acme-1.0")
    assert _one(cat, V2).id.endswith("acme-2.0")
    assert _one(cat, V2).match == "exact"


def _rewrap(text: str, width: int) -> str:
    return "\n\n".join(textwrap.fill(" ".join(p.split()), width) for p in text.split("\n\n"))


def _markdown(text: str) -> str:
    out = []
    for i, line in enumerate(text.splitlines()):
        if i == 0:
            line = "# " + line
        line = re.sub(r"^(\d+)\. (\w+)\.", r"## \1. **\2**.", line)
        out.append(line.replace('"', "\u201c", 1).replace("'", "\u2019"))
    return "\n".join(out) + "\n\nCopyright (c) 2031 Some Fine-Tuner\n"


@pytest.mark.parametrize("width", [40, 72, 200])
def test_layout_does_not_matter(cat: Catalog, width: int) -> None:
    for text, eid in ((V1, "acme-1.0"), (V2, "acme-2.0")):
        m = _one(cat, _rewrap(text, width))
        assert m.id.endswith(eid) and m.match == "exact" and m.confidence == 1.0
        m = _one(cat, _markdown(text))
        assert m.id.endswith(eid) and m.match == "exact" and m.confidence == 1.0


def _typos(text: str, share: float, seed: int) -> str:
    rnd = random.Random(seed)
    toks = list(re.finditer(r"[A-Za-z]{5,}", text))
    n = max(1, int(len(text.split()) * share))
    out, last = [], 0
    for i in sorted(rnd.sample(range(len(toks)), n)):
        m = toks[i]
        w = m.group()
        j = rnd.randrange(1, len(w) - 2)
        out += [text[last : m.start()], w[:j] + w[j + 1] + w[j] + w[j + 2 :]]
        last = m.end()
    return "".join(out + [text[last:]])


@pytest.mark.parametrize("seed", range(5))
def test_misspellings_keep_the_identity(cat: Catalog, seed: int) -> None:
    m = _one(cat, _typos(V2, 0.01, seed))
    assert m.id.endswith("acme-2.0")
    assert m.match in ("exact", "modified")
    assert m.confidence >= 0.85


def test_one_word_edit_is_modified_not_exact(cat: Catalog) -> None:
    edited = V1.replace("You must not use the Model", "You must use the Model")
    m = _one(cat, edited)
    assert m.id.endswith("acme-1.0")
    assert m.match == "modified"
    assert any("You must use the Model" in d for d in m.diff)


def test_added_clause_is_modified_and_quoted(cat: Catalog) -> None:
    clause = (
        "\n9. Territory. You may not use the Model in the Kingdom of Elbonia or in any territory "
        "that Acme lists on its website from time to time.\n"
    )
    m = _one(cat, V1 + clause)
    assert m.match == "modified" and m.id.endswith("acme-1.0")
    assert any("Kingdom of Elbonia" in d for d in m.diff)


def test_changed_number_is_never_a_typo(cat: Catalog) -> None:
    m = _one(cat, V1.replace("40 million", "45 million"))
    assert m.match == "modified"


def test_first_third_is_partial(cat: Catalog) -> None:
    m = _one(cat, V1[: len(V1) // 3])
    assert m.match in ("partial", "modified")
    assert m.confidence < 0.9


def test_unrelated_text_is_not_identified(cat: Catalog) -> None:
    prose = (
        "This repository holds a small recipe collection. Bake the bread at a high temperature "
        "for forty minutes, then let it cool on a rack before slicing it. Soup keeps for three "
        "days in a cold room and the herbs go in at the end. "
    ) * 3
    assert identify(prose, "README", cat) == []


def test_unknown_license_text_is_reported_as_unknown(cat: Catalog) -> None:
    text = (
        "ZEPHYR MODEL LICENSE. The licensor grants the licensee a license to use the weights for "
        "research only. Commercial use is prohibited without a separate written agreement with the "
        "licensor. Redistribution must include this license. There is no warranty of any kind, "
        "and the licensor accepts no liability for any use of the weights or their outputs."
    )
    found = identify(text, "LICENSE", cat)
    assert [m.match for m in found] == ["unknown"]
    assert found[0].id == UNKNOWN_ID


def test_several_documents_in_one_file(cat: Catalog) -> None:
    text = V2 + "\n\n-----\n\n" + POLICY
    found = identify(text, "LICENSE", cat)
    assert [m.id.rsplit("-", 1)[-1] for m in found] == ["2.0", "aup"]
    lic, pol = found
    assert lic.match == pol.match == "exact"
    assert lic.line_end < pol.line_start
    assert pol.kind == "acceptable-use-policy"
    assert text.splitlines()[pol.line_start - 1].startswith("ACME ACCEPTABLE USE POLICY")


def test_a_version_missing_from_the_catalog_is_not_exact(cat: Catalog) -> None:
    v3 = (
        V1.replace("VERSION 1.0", "VERSION 3.0")
        .replace("40 million", "10 million")
        .replace(
            "4. Outputs. You must not use the Model or its outputs to train or improve another "
            "large\nlanguage model that competes with the Model.",
            "4. Outputs. You may use outputs of the Model to train any other model.",
        )
    )
    m = _one(cat, v3)
    assert m.match == "modified"
    assert m.confidence < 0.95


def test_terms_carry_evidence_in_the_analysed_file(cat: Catalog) -> None:
    text = _rewrap(V1, 50)
    report = analyze_text(text, "LICENSE.md", cat)
    (m,) = report.licenses
    mau = m.terms["mau_threshold"]
    assert mau.value == 40_000_000 and mau.source == "catalog"
    assert mau.evidence is not None and mau.evidence.file == "LICENSE.md"
    lines = text.splitlines()[mau.evidence.line_start - 1 : mau.evidence.line_end]
    assert "40 million" in " ".join(lines)
    assert "40 million" in mau.evidence.quote
    assert m.terms["territory_restriction"].value is None


def test_modified_text_rereads_the_changed_clause(cat: Catalog) -> None:
    text = V1.replace(
        "more than 40 million monthly active users", "more than 5 million monthly active users"
    )
    report = analyze_text(text, "LICENSE", cat)
    (m,) = report.licenses
    assert m.match == "modified"
    assert "mau_threshold" in m.changed_terms
    assert m.terms["mau_threshold"].value != 40_000_000
    ev = m.terms["mau_threshold"].evidence
    assert ev is None or "5 million" in ev.quote


def test_empty_text() -> None:
    assert identify("", "LICENSE") == []
    assert identify("   \n\n", "LICENSE") == []


def test_license_known_only_by_name_is_partial_never_exact() -> None:
    from modelclear.analyzers.license.catalog import load_catalog

    text = (
        "JAMBA OPEN MODEL LICENSE AGREEMENT\n\nThis agreement sets the terms under which the "
        "licensor permits the licensee to use, copy and distribute the model and derivatives. "
        "Organisations whose revenue is high must obtain a commercial license from the licensor. "
        "There is no warranty, and no liability is accepted for any use of the model.\n"
    )
    (m,) = identify(text, "LICENSE", load_catalog())
    assert m.id == "LicenseRef-modelclear-jamba-open-model-license"
    assert m.match == "partial" and m.confidence < 0.5
    generic = text.replace("JAMBA OPEN MODEL LICENSE AGREEMENT", "MODEL TERMS").replace(
        "use, copy", "hosting use, copy"
    )
    (m,) = identify(generic, "LICENSE", load_catalog())
    assert m.match == "unknown"


_ALPHABET = st.sampled_from(
    list("abcdefghij klmnop.;:\n\n#*-_[]()<>\"'\u201c\u2019\u00a9")
    + ["Copyright (c) 2020 ", "\u4e2d", "\u00c5"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=400).map("".join))
def test_identify_never_breaks_on_arbitrary_text(text: str) -> None:
    from modelclear.analyzers.license.catalog import load_catalog

    n_lines = max(1, len(text.splitlines()))
    for m in identify(text, "F", load_catalog()):
        assert 1 <= m.line_start <= m.line_end <= n_lines
        assert 0.0 <= m.confidence <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(V1)), st.integers(0, len(V1)), st.text(max_size=40))
def test_spliced_text_is_never_the_other_version(a: int, b: int, junk: str) -> None:
    """Cut and pasted Acme 1.0 text is 1.0 (or unknown); never exact 2.0, whose numbers differ."""
    cat = _acme_catalog()
    text = V1[: min(a, b)] + junk + V1[max(a, b) :]
    n_lines = max(1, len(text.splitlines()))
    for m in identify(text, "F", cat):
        assert 1 <= m.line_start <= m.line_end <= n_lines
        if m.id.endswith("acme-2.0"):
            assert m.match != "exact" and m.confidence < 0.9, m
