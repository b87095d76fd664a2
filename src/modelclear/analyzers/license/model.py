"""Result types of the license analyzer, shared with policy, records and reports.

Term names are the keys of the shared corpus labels, so scores compare like
with like. They are frozen dataclasses, not pydantic models: the analyzer builds them
from its own reading (nothing to validate), and a ``license`` run over a folder of
texts then never imports pydantic, ~100 ms of its start-up (issue 12 times whole
processes). Their JSON is derived from the fields (:class:`~modelclear.jsonout.JsonFields`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...findings import Finding
from ...jsonout import JsonFields

TERM_NAMES: tuple[str, ...] = (
    "commercial_use",  # yes | no | conditional
    "mau_threshold",  # int (monthly active users) or None
    "other_scale_threshold",  # text (revenue, daily users, devices…) or None
    "requires_registration_or_approval",  # no | for_commercial | above_threshold | yes
    "fine_tuning_allowed",  # yes | no | conditional
    "use_outputs_to_train_other_models",  # allowed | restricted | prohibited | unmentioned
    "attribution_required",  # yes | no  (+ detail: the exact notice)
    "derivative_naming_requirement",  # text or None
    "acceptable_use_policy",  # yes | no | None
    "territory_restriction",  # text or None
    "competing_service_restriction",  # text or None
    "redistribution_conditions",  # text or None
    "governing_law",  # text or None
)

MatchKind = Literal["exact", "modified", "partial", "unknown"]


@dataclass(frozen=True)
class Evidence(JsonFields):
    file: str
    line_start: int
    line_end: int
    quote: str


@dataclass(frozen=True)
class Term(JsonFields):
    value: str | int | None = None  # an int only for mau_threshold
    detail: str | None = None  # e.g. the exact attribution notice "Built with Llama"
    evidence: Evidence | None = None
    #: referenced: the license a notice, card or GGUF key names, summarised from the
    #: catalog because its text is not in the file (cited at the naming sentence or key)
    source: Literal["catalog", "extracted", "referenced", "none"] = "none"


@dataclass(frozen=True)
class TermDifference(JsonFields):
    """A term the file states differently from the catalog's version of its license.

    The file's value is the one reported (``LicenseMatch.terms``); this keeps the
    catalog's for the MC213 finding and for ``verify``.
    """

    term: str
    catalog: str | int | None
    file: str | int | None
    why: str
    evidence: Evidence | None = None


@dataclass(frozen=True)
class LanguageDifference(JsonFields):
    """A term the two language versions of a bilingual text read differently (MC214)."""

    term: str
    english: str | int | None
    chinese: str | int | None
    reported: str | int | None  # the stricter reading, or the one only one version states
    english_evidence: Evidence | None = None
    chinese_evidence: Evidence | None = None


@dataclass(frozen=True)
class Incorporated(JsonFields):
    """A document the license pulls in by reference (e.g. an acceptable-use policy)."""

    id: str | None
    title: str
    url: str | None = None
    can_change_without_notice: bool = False


@dataclass(frozen=True)
class LicenseMatch(JsonFields):
    id: str  # SPDX id, LicenseRef-scancode-…, or LicenseRef-modelclear-…
    title: str
    kind: Literal["license", "acceptable-use-policy", "notice", "unknown"]
    match: MatchKind
    confidence: float
    file: str
    line_start: int = 1
    line_end: int = 1
    publisher: str | None = None
    publisher_country: str | None = None
    osi_approved: bool = False
    incorporates: tuple[Incorporated, ...] = ()
    terms: dict[str, Term] = field(default_factory=dict)
    diff: tuple[str, ...] = ()  # for `modified`: sentences new in the file, quoted
    changed_terms: tuple[str, ...] = ()  # terms whose clause changed against the catalog
    missing_sentences: int = 0  # for `modified`/`partial`: sentences of the catalog version absent
    #: terms whose facts (numbers, places, names) in the file differ from the catalog's
    term_differences: tuple[TermDifference, ...] = ()
    #: terms the English and Chinese versions of a bilingual text read differently
    language_differences: tuple[LanguageDifference, ...] = ()
    #: for a text that is not a known license but close to one: the nearest known
    #: license and what differs (a hint, never the identification)
    closest: str | None = None
    #: no text in the release: named by the card only (terms from the catalog, no evidence)
    from_declaration: bool = False
    #: where a declaration was read: "license" (card front matter), "general.license" (GGUF)
    declared_key: str | None = None
    #: the document only names a license (a notice, a one-line license file): a reference
    reference: bool = False
    #: catalog ids of the licenses this document names ("licensed under …")
    references: tuple[str, ...] = ()
    #: the file of the release holding the referenced license's text, when there is one
    resolved_to: str | None = None

    def __post_init__(self) -> None:
        # a confidence computed as exactly 0 or 1 is still a probability in the JSON
        object.__setattr__(self, "confidence", float(self.confidence))


@dataclass(frozen=True)
class Declared(JsonFields):
    """What the release says about itself (card front matter, GGUF metadata)."""

    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    base_model: tuple[str, ...] = ()
    gguf_license: str | None = None
    resolved_ids: tuple[str, ...] = ()  # catalog ids the declaration maps to


@dataclass(frozen=True)
class LicenseReport(JsonFields):
    licenses: tuple[LicenseMatch, ...] = ()
    declared: Declared = field(default_factory=Declared)
    findings: tuple[Finding, ...] = ()

    def primary(self) -> LicenseMatch | None:
        """The model license that governs use (not a code license or an AUP).

        Releases often ship a permissive code license beside a custom model license
        (DeepSeek: LICENSE-CODE MIT + LICENSE-MODEL); the model license is the one
        that binds the weights, so file names and what the card declares decide.
        """
        # a partial match is a fragment of a known text, never the license that governs
        # (a license named by the card alone, with no text, stays: it is the declaration)
        licenses = [
            m
            for m in self.licenses
            if m.kind == "license" and (m.match != "partial" or m.from_declaration or m.reference)
        ]
        if not licenses:
            return None
        declared = set(self.declared.resolved_ids)

        def score(m: LicenseMatch) -> tuple[float, ...]:
            name = m.file.rsplit("/", 1)[-1].upper()
            s = 0.0
            if "MODEL" in name or "WEIGHT" in name:
                s += 3
            if "CODE" in name:
                s -= 3
            if m.id in declared:
                s += 2
            if not m.osi_approved:
                s += 1
            s += {"exact": 1.0, "modified": 0.7, "partial": 0.3, "unknown": 0.0}[m.match]
            return (s, m.confidence)

        return max(licenses, key=score)
