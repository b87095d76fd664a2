"""The license terms a fine-tune inherits, read from the license analysis (not re-derived).

A fine-tune is a derivative: it carries the base model's naming and attribution
duties, its acceptable-use policy, its limits on using outputs, and its
redistribution conditions. Those terms are the license analyzer's (with the clause
quoted); this module only turns them into the obligations a fine-tuning team must
carry, and fails closed: no license, or a term the analyzer could not settle, is a
REVIEW item, never silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...findings import Finding, finding
from ...jsonout import JsonFields

if TYPE_CHECKING:
    from ..card import Card
    from ..license.model import LicenseMatch, Term

#: status of one inherited item
OBLIGATION, REVIEW, ALLOWED, PROHIBITED = "obligation", "review", "allowed", "prohibited"


@dataclass(frozen=True)
class Obligation(JsonFields):
    """One term the fine-tune inherits, with the clause that says so."""

    term: str
    status: str  # obligation | review | allowed | prohibited
    text: str
    file: str | None = None
    line: int | None = None
    quote: str | None = None


def _item(term: str, status: str, text: str, t: Term | None) -> Obligation:
    ev = t.evidence if t is not None else None
    return Obligation(term, status, text, ev.file if ev else None,
                      ev.line_start if ev else None, ev.quote[:300] if ev else None)


def _value(m: LicenseMatch, name: str) -> tuple[Any, Term | None]:
    t = m.terms.get(name)
    return (t.value if t is not None else None), t


def _rights(m: LicenseMatch) -> list[Obligation]:
    out: list[Obligation] = []
    v, t = _value(m, "fine_tuning_allowed")
    status = {"yes": ALLOWED, "no": PROHIBITED}.get(str(v), REVIEW)
    out.append(_item("fine_tuning_allowed", status,
                     {"yes": "the license allows fine-tuning",
                      "no": "the license does not allow fine-tuning or modification",
                      "conditional": "fine-tuning is allowed only under conditions: review "
                                     "the clause"}.get(str(v), "the license does not settle "
                                                       "whether fine-tuning is allowed"), t))
    v, t = _value(m, "redistribution_conditions")
    if v:
        out.append(_item("redistribution_conditions", OBLIGATION,
                         f"distributing the fine-tune: {v}", t))
    elif status == ALLOWED:
        out.append(_item("redistribution_conditions", REVIEW,
                         "no redistribution conditions were read: check whether derivatives "
                         "may be distributed", t))
    v, t = _value(m, "commercial_use")
    if v in ("no", "conditional"):
        mau, _ = _value(m, "mau_threshold")
        limit = f" (above {mau:,} monthly active users)" if isinstance(mau, int) else ""
        out.append(_item("commercial_use", REVIEW if v == "conditional" else PROHIBITED,
                         "the fine-tune keeps the base model's commercial-use limit" + limit
                         + (f"; {t.detail}" if t is not None and t.detail else ""), t))
    return out


def _duties(m: LicenseMatch) -> list[Obligation]:
    out: list[Obligation] = []
    v, t = _value(m, "derivative_naming_requirement")
    if v:
        out.append(_item("derivative_naming_requirement", OBLIGATION, f"name it: {v}", t))
    v, t = _value(m, "attribution_required")
    if v == "yes":
        detail = t.detail if t is not None and t.detail else "attribution as the license states"
        out.append(_item("attribution_required", OBLIGATION, f"attribute: {detail}", t))
    v, t = _value(m, "acceptable_use_policy")
    if v == "yes":
        aups = ", ".join(i.title for i in m.incorporates) or "the acceptable-use policy"
        out.append(_item("acceptable_use_policy", OBLIGATION,
                         f"the fine-tune and its users stay bound by {aups} (it may change "
                         "without notice)" if any(i.can_change_without_notice
                                                  for i in m.incorporates)
                         else f"the fine-tune and its users stay bound by {aups}", t))
    v, t = _value(m, "use_outputs_to_train_other_models")
    if v in ("restricted", "prohibited"):
        out.append(_item("use_outputs_to_train_other_models",
                         OBLIGATION if v == "restricted" else PROHIBITED,
                         f"output restrictions: using outputs to train other models is {v}",
                         t))
    return out


def _data(card: Card | None) -> list[Obligation]:
    if card is None:
        return [Obligation("training_data", REVIEW, "no model card: training data and its "
                           "IP provenance are undisclosed")]
    if not card.datasets:
        return [Obligation("training_data", REVIEW,
                           "the card lists no training datasets: training-data and IP risk "
                           "undisclosed", card.file, card.line_of("datasets"))]
    return [Obligation("training_data", OBLIGATION,
                       "training datasets named by the card: " + ", ".join(card.datasets[:8]),
                       card.file, card.line_of("datasets"))]


def inherited(license_match: LicenseMatch | None, card: Card | None,
              ) -> tuple[tuple[Obligation, ...], tuple[Finding, ...]]:
    """What a fine-tune inherits, and findings for what needs a human (MC416–MC418)."""
    if license_match is None:
        items = [Obligation("license", REVIEW, "no license identified: the fine-tune inherits "
                            "unknown terms")]
    else:
        items = [Obligation("license", OBLIGATION,
                            f"derivative of {license_match.title} ({license_match.id}): "
                            "keep a copy of it with the fine-tune", license_match.file,
                            license_match.line_start)]
        items += _rights(license_match) + _duties(license_match)
    items += _data(card)
    return tuple(items), tuple(_findings(items))


def _findings(items: Sequence[Obligation]) -> list[Finding]:
    out: list[Finding] = []
    for o in items:
        if o.status == PROHIBITED and o.term == "fine_tuning_allowed":
            out.append(finding("MC417", o.text, file=o.file, line=o.line))
        elif o.status == REVIEW and o.term == "training_data":
            out.append(finding("MC418", o.text, file=o.file, line=o.line))
        elif o.status == REVIEW:
            out.append(finding("MC416", f"{o.term}: {o.text}", file=o.file, line=o.line))
    return out
