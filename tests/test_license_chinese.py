"""Chinese and bilingual license texts: numbers, sentences, terms with evidence, MC214.

The small texts here are our own wording (no publisher's text); the real documents
are read from ../shared/corpus (skipped when absent) against the labels in
benchmarks/license_dev_labels.jsonl and the shared corpus manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelclear.analyzers.license.analyze import analyze_text
from modelclear.analyzers.license.bilingual import split_versions
from modelclear.analyzers.license.consistency import document_findings
from modelclear.analyzers.license.doc import Doc
from modelclear.analyzers.license.extract import extract_terms, read_terms
from modelclear.analyzers.license.numbers import find_quantities, parse_number

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------------- numbers

_DIGITS = "零一二三四五六七八九"


def _section(n: int) -> str:
    """0 < n < 10000 in Chinese numerals (our test-side renderer, textbook rules)."""
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
    return out


def chinese(n: int) -> str:
    """n (>= 1) written with 万 and 亿 groups."""
    parts = []
    yi, rest = divmod(n, 10**8)
    wan, low = divmod(rest, 10**4)
    if yi:
        parts.append(_section(yi) + "亿")
    if wan:
        parts.append(("零" if yi and wan < 1000 else "") + _section(wan) + "万")
    if low:
        parts.append(("零" if (yi or wan) and low < 1000 else "") + _section(low))
    return "".join(parts)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1亿", 10**8),
        ("一亿", 10**8),
        ("100万", 10**6),
        ("五千万", 5 * 10**7),
        ("1,000万", 10**7),
        ("1.5亿", 15 * 10**7),
        ("三千五百万", 35 * 10**6),
        ("两亿", 2 * 10**8),
        ("十万", 10**5),
        ("一亿五千万", 15 * 10**7),
        ("月活跃用户超过1亿", 10**8),
        ("100 million", 10**8),
    ],
)
def test_chinese_numbers(text: str, value: int) -> None:
    assert parse_number(text) == value


@given(st.integers(min_value=10, max_value=99_999_999_999))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert parse_number(chinese(n)) == n


@given(st.integers(min_value=1, max_value=99_999), st.sampled_from(["万", "亿"]))
def test_digits_with_a_chinese_unit(n: int, unit: str) -> None:
    scale = 10**4 if unit == "万" else 10**8
    assert parse_number(f"超过{n}{unit}") == n * scale
    assert parse_number(f"超过{n:,}{unit}") == n * scale


def test_a_threshold_in_chinese_has_its_unit() -> None:
    q = find_quantities("如果您的产品月活跃用户数超过一亿，须申请许可")[0]
    assert (q.value, q.unit) == (10**8, "monthly_active_users")
    q = find_quantities("年收入超过1,000万元人民币")[0]
    assert (q.value, q.unit, q.currency, q.period) == (10**7, "currency", "CNY", "year")


def test_a_lone_chinese_digit_is_a_word_not_a_number() -> None:
    assert find_quantities("授予您一个非排他性的许可") == []


# ----------------------------------------------------------------------- sentences


def test_chinese_sentences_end_at_their_own_punctuation() -> None:
    d = Doc("第一条。第二条！第三条？第四条；第五条\n第二部分：许可\n正文一句，未完", "x")
    got = [d.norm[s.start : s.end] for s in d.sentences]
    assert got == [
        "第一条。", "第二条！", "第三条？", "第四条；", "第五条", "第二部分：许可", "正文一句，未完"
    ]


# ------------------------------------------------------------------ our own texts

OURS_ZH = """示例模型许可协议

1. 许可方特此授予您非排他性、不可转让的版权许可。您可以出于非商业用途使用本模型。
2. 如果您计划将本模型用于商业用途，应当事先向许可方登记并获得许可方的书面授权。
3. 您可以对本模型进行修改以得到衍生模型。
4. 您必须向第三方使用者提供本模型的来源以及本协议的副本。
5. 您不得使用本模型的输出训练其他模型。
6. 本协议适用中华人民共和国法律。争议由许可方所在地人民法院管辖。
"""


def test_a_chinese_only_license_is_read_with_evidence() -> None:
    terms = extract_terms(OURS_ZH, "LICENSE")
    want = {
        "commercial_use": ("conditional", 4),
        "requires_registration_or_approval": ("for_commercial", 4),
        "fine_tuning_allowed": ("yes", 5),
        "attribution_required": ("yes", 6),
        "use_outputs_to_train_other_models": ("prohibited", 7),
    }
    for name, (value, line) in want.items():
        t = terms[name]
        assert t.value == value, name
        assert t.evidence is not None and t.evidence.line_start == line, name
    law = terms["governing_law"]
    assert law.value is not None and "中华人民共和国" in law.value
    assert "许可方所在地人民法院" in law.value


def test_a_chinese_only_license_is_identified_as_a_license() -> None:
    (m,) = analyze_text(OURS_ZH, "LICENSE").licenses
    assert m.match == "unknown" and m.title == "示例模型许可协议"
    assert m.terms["commercial_use"].value == "conditional"


def test_a_template_placeholder_is_not_a_governing_law() -> None:
    for text in (
        "You may use the model. This agreement is governed by the laws of [Country/Region].",
        "您可以使用本模型。本协议受到[国家/地区] 的法律管辖。",
    ):
        law = extract_terms(text, "LICENSE")["governing_law"]
        assert law.value == "unclear" and "placeholder" in (law.detail or "")


_EN = (
    "Example Model License\n\n"
    "The Licensor hereby grants you a worldwide, royalty-free license to use, copy, modify "
    "and distribute the Model for any purpose, including commercial purposes. "
    "You may fine-tune the Model and create derivative works of it. "
    "This license is governed by the laws of Singapore. The Licensor provides the Model as "
    "is, without warranty of any kind, and is not liable for any damages arising from its "
    "use. Nothing in this license grants rights in the Licensor's trademarks or logos.\n\n"
    "Termination: this license ends automatically if you break its terms, and you must then "
    "stop using the Model and delete every copy of it that you hold or have given others.\n\n"
)
_ZH = (
    "示例模型许可协议\n\n"
    "许可方特此授予您全球性、免版税的许可，您可以使用、复制、修改和分发本模型。\n"
    "您可以对本模型进行修改以得到衍生模型。\n"
    "您必须在分发时保留本模型的来源及版权声明。\n"
    "本协议适用新加坡法律。许可方按现状提供本模型，不提供任何形式的保证，"
    "也不对因使用本模型而产生的任何损害承担责任。本协议不授予任何商标权利。"
    "如您违反本协议，许可自动终止，您应当停止使用并删除本模型的全部副本。"
    "本协议的条款如有无效，不影响其他条款的效力。\n"
)


def test_a_duty_only_one_version_states_is_reported_and_flagged() -> None:
    text = _EN + _ZH
    versions = split_versions(text)
    assert versions is not None
    terms, diffs = read_terms(text, "LICENSE")
    att = terms["attribution_required"]
    assert att.value == "yes" and att.evidence is not None
    assert "来源及版权声明" in att.evidence.quote
    duty = "您必须在分发时保留本模型的来源及版权声明。"
    assert att.evidence.line_start == text.splitlines().index(duty) + 1
    (diff,) = [d for d in diffs if d.term == "attribution_required"]
    assert (diff.english, diff.chinese, diff.reported) == ("no", "yes", "yes")
    (m,) = analyze_text(text, "LICENSE").licenses
    codes = [f.code for f in document_findings(m)]
    assert "MC214" in codes


def test_the_stricter_version_wins() -> None:
    zh = _ZH.replace(
        "您可以使用、复制、修改和分发本模型。",
        "您仅可出于非商业用途使用本模型，不得用于任何商业目的。",
    )
    terms, diffs = read_terms(_EN + zh, "LICENSE")
    assert terms["commercial_use"].value == "no"
    assert "the other language version says 'yes'" in (terms["commercial_use"].detail or "")
    assert any(d.term == "commercial_use" for d in diffs)


def test_one_language_texts_are_not_split() -> None:
    assert split_versions(_EN * 3) is None
    assert split_versions(OURS_ZH) is None  # too little English to be a version


# ---------------------------------------------------------------- real documents

#: Chinese-only or bilingual documents of the development set, with a labelled
#: quote each term's evidence must contain
DEV_ZH = (
    "index-1.9b-model-license",
    "openbmb-general-model-license-attribution-promotion-commercial-authorization",
    "openbmb-general-model-license-attribution-promotion-noncommercial",
    "funasr-model-open-source-license-1.1",
    "chatglm2-6b-license",
)
SCORED = (
    "commercial_use",
    "requires_registration_or_approval",
    "fine_tuning_allowed",
    "use_outputs_to_train_other_models",
    "attribution_required",
    "acceptable_use_policy",
)


def _dev_labels() -> dict[str, dict[str, object]]:
    rows = (ROOT / "benchmarks" / "license_dev_labels.jsonl").read_text("utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, filter(None, rows))}


@pytest.mark.parametrize("doc_id", DEV_ZH)
def test_real_chinese_and_bilingual_documents(shared: Path, doc_id: str) -> None:
    label = _dev_labels()[doc_id]
    path = shared / "corpus" / "licenses-dev" / str(label["file"])
    if not path.is_file():
        pytest.skip("development set absent")
    report = analyze_text(path.read_text("utf-8"), path.name)
    (m,) = [x for x in report.licenses if x.kind in ("license", "unknown")]
    labels = label["labels"]
    assert isinstance(labels, dict)
    for name in (*SCORED, "governing_law"):
        want = labels[name]["value"]
        got = m.terms[name]
        if name == "governing_law":
            assert (got.value is None) == (want is None), name
            if want == "unclear":
                assert got.value == "unclear"
        else:
            assert got.value == want, name
        if want not in (None, "no", "unmentioned"):
            assert got.evidence is not None, name
            assert got.evidence.quote in path.read_text("utf-8").replace("\n", " ") or (
                got.evidence.quote.split()[0] in path.read_text("utf-8")
            ), name


def test_chinese_evidence_quotes_the_labelled_clause(shared: Path) -> None:
    path = shared / "corpus" / "licenses-dev" / "index-1.9b-model-license.txt"
    if not path.is_file():
        pytest.skip("development set absent")
    text = path.read_text("utf-8")
    (m,) = analyze_text(text, path.name).licenses
    labels = _dev_labels()["index-1.9b-model-license"]["labels"]
    assert isinstance(labels, dict)
    for name in ("commercial_use", "requires_registration_or_approval", "attribution_required"):
        ev = m.terms[name].evidence
        assert ev is not None
        assert labels[name]["evidence"] in ev.quote, name
        line = text.splitlines()[ev.line_start - 1]
        assert labels[name]["evidence"][:10] in line, name


def test_bilingual_corpus_versions_that_differ_are_flagged(shared: Path) -> None:
    """Yi 1.0: the Chinese version asks for registration (登记), the English one for
    written authorisation only; the stricter English reading is reported, with MC214."""
    path = shared / "corpus" / "licenses" / "yi-series-models-license-v1.0.txt"
    if not path.is_file():
        pytest.skip("shared corpus absent")
    (m,) = analyze_text(path.read_text("utf-8"), path.name).licenses
    assert m.terms["commercial_use"].value == "no"
    diffs = {d.term: d for d in m.language_differences}
    assert diffs["commercial_use"].chinese == "conditional"
    assert diffs["commercial_use"].chinese_evidence is not None
    assert "登记" in diffs["commercial_use"].chinese_evidence.quote


# our own wording, CRLF line ends as Windows-edited licenses have them; the duties are
# numbered items with no space after the number, so lines join with a space
NOTICES_ZH = (
    "示例开放模型许可证\r\n"
    "一、条件\r\n"
    "被许可方分发本模型或衍生模型时,应当满足以下条件:\r\n"
    "(1)向接收者提供本许可证副本;\r\n"
    "(2)保留本模型或衍生模型中与之相关的所有著作权、商标及归属声明;\r\n"
    "(3)遵守适用法律,不得将本模型用于任何违法或不当目的,包括但不限于军事目的。\r\n"
)


def test_chinese_notice_duty_and_use_limits_are_read() -> None:
    terms = extract_terms(NOTICES_ZH, "LICENSE")
    att = terms["attribution_required"]
    assert att.value == "yes" and att.evidence is not None
    assert att.evidence.line_start == att.evidence.line_end == 5
    # the quote ends with its own sentence, not with the next item's opening bracket
    assert att.evidence.quote.endswith("归属声明;")
    aup = terms["acceptable_use_policy"]
    assert aup.value == "yes" and aup.evidence is not None and aup.evidence.line_start == 6


def test_reserving_rights_is_not_a_notice_duty() -> None:
    text = "本模型的著作权归许可方所有,许可方保留所有权利。您可以免费使用本模型。\n"
    assert extract_terms(text, "LICENSE")["attribution_required"].value == "no"
