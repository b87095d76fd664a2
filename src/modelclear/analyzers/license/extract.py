"""Read license terms out of a text never seen before, each with the line it came from.

The catalog knows the licenses we have read; this module is what lets modelclear
say something true about the ones we have not (a new version, a derived
license, a publisher's own agreement). Detectors look for the grammatical
constructions licenses use for each duty (a grant narrowed to non-commercial
use, a user threshold followed by "request a license", a prohibition on using
outputs to improve other models…) rather than for any one license's wording.
The phrases live in ``data/license_patterns.toml``.

Matching runs on a normalized copy of the text (lower case, straight quotes,
no markdown, one space for any run of whitespace) that keeps a map back to the
original characters, so every quote is cut from the file as written.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .bilingual import merge, split_versions
from .commercial import commercial, noncommercial_hit, thresholds
from .detectors import (
    attribution,
    aup,
    competition,
    fine_tuning,
    law,
    naming,
    outputs,
    redistribution,
    territory,
)
from .doc import MAX_TEXT_CHARS, Doc
from .model import TERM_NAMES, Evidence, LanguageDifference, Term
from .normalize import lines_of
from .phrases import _mandatory_literal, any_hit, first_hit, patterns, term


def _is_policy_doc(doc: Doc, grant: re.Match[str] | None) -> bool:
    head = doc.norm[:400]
    pt = patterns()
    return grant is None and any_hit(head, pt.list("document", "policy_title")) is not None


def read_terms(
    text: str, file: str, lines: tuple[int, int] | None = None
) -> tuple[dict[str, Term], list[LanguageDifference]]:
    """Terms as :func:`extract_terms` reads them, and where a bilingual text's versions differ.

    A text with an English and a Chinese version is read once per version (the
    other language's lines blanked, so evidence lines stay the file's) and the two
    readings merged: a duty either states is reported, the stricter value wins.
    """
    if lines is not None:
        first, last = lines
        if first < 1 or last < first:
            raise ValueError(f"bad line range {lines}")
        body = "".join(lines_of(text, keepends=True)[first - 1 : last])
        terms, diffs = read_terms(body, file)
        return (
            {name: _shift_term(t, first - 1) for name, t in terms.items()},
            [_shift_difference(d, first - 1) for d in diffs],
        )
    versions = split_versions(text[:MAX_TEXT_CHARS])
    if versions is None:
        return _read_one(text, file), []
    en = _read_one(versions.en, file)
    zh = _read_one(versions.zh, file)
    return merge(en, zh, versions.prevailing)


def _shift_difference(d: LanguageDifference, by: int) -> LanguageDifference:
    if by == 0:
        return d
    return replace(
        d,
        english_evidence=_shift_evidence(d.english_evidence, by),
        chinese_evidence=_shift_evidence(d.chinese_evidence, by),
    )


def _shift_evidence(ev: Evidence | None, by: int) -> Evidence | None:
    if ev is None:
        return None
    return replace(ev, line_start=ev.line_start + by, line_end=ev.line_end + by)


def extract_terms(text: str, file: str, lines: tuple[int, int] | None = None) -> dict[str, Term]:
    """Every term of `model.TERM_NAMES` read from `text` (the content of `file`).

    `lines` (1-based, inclusive) limits the reading to one document of a file
    that holds several (see `segment`); evidence lines stay file lines. A
    bilingual text is read once per language version (see :func:`read_terms`).
    A term the text says nothing about has value None, except where silence has
    a meaning (no attribution duty: "no"; outputs: "unmentioned"; no
    registration: "no").
    """
    return read_terms(text, file, lines)[0]


def _read_one(text: str, file: str) -> dict[str, Term]:
    """One language's reading of a whole text (the detectors, in order)."""
    if len(text) > MAX_TEXT_CHARS:
        # license texts are far shorter; a longer document is read in its opening part
        # so that a hostile file cannot make the reading slow
        cut = text.rfind("\n", 0, MAX_TEXT_CHARS)
        text = text[: cut if cut > 0 else MAX_TEXT_CHARS]
    doc = Doc(text, file)
    pt = patterns()
    grant = first_hit(doc, pt.list("document", "grant"))
    policy = _is_policy_doc(doc, grant)
    terms: dict[str, Term] = {}
    terms.update(commercial(doc, grant, policy, thresholds(doc)))
    terms["fine_tuning_allowed"] = fine_tuning(doc, grant, policy)
    terms["use_outputs_to_train_other_models"] = (
        term("unmentioned") if policy else outputs(doc, noncommercial_hit(doc))
    )
    terms["attribution_required"] = attribution(doc, policy)
    terms["derivative_naming_requirement"] = naming(doc)
    terms["acceptable_use_policy"] = aup(doc, policy)
    terms["territory_restriction"] = territory(doc)
    terms["competing_service_restriction"] = competition(doc)
    terms["redistribution_conditions"] = redistribution(doc, policy)
    terms["governing_law"] = law(doc)
    return {name: terms.get(name, term(None)) for name in TERM_NAMES}


def _shift_term(term: Term, by: int) -> Term:
    if term.evidence is None or by == 0:
        return term
    return replace(term, evidence=_shift_evidence(term.evidence, by))


__all__ = ["MAX_TEXT_CHARS", "Doc", "_mandatory_literal", "extract_terms", "patterns", "read_terms"]
