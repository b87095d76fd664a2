"""Which license governs the weights: decided from evidence, and said when unsure.

Releases ship a code license beside a model license (``LICENSE`` Apache-2.0 for the
code, ``MODEL_LICENSE`` for the weights). The signals, strongest first: what the
README says ("the model weights are licensed under …", "the code is licensed under
…"), the file name (MODEL / WEIGHT vs CODE), and the card's ``license:``. Without a
signal that sets one license apart, the choice is REVIEW, never a default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...license.model import LicenseMatch, LicenseReport
from ..model import EvidenceRef, Status
from .registry import CheckContext, Report, check

_LICENSED = r"(?:is|are)\s+(?:licensed|released|distributed|made available|governed)\s+(?:under|by)"
_MODEL_SAYS = re.compile(rf"\b(?:model\s+)?weights?\b[^.\n]{{0,40}}?{_LICENSED}\s+([^\n]{{3,160}})"
                         rf"|\bthe model\b[^.\n]{{0,20}}?{_LICENSED}\s+([^\n]{{3,160}})", re.I)
_CODE_SAYS = re.compile(rf"\bcode\b[^.\n]{{0,40}}?{_LICENSED}\s+([^\n]{{3,160}})", re.I)
_QUALITY = {"exact": 1.0, "modified": 0.7, "partial": 0.3, "unknown": 0.0}


@dataclass(frozen=True)
class Governing:
    """The license taken to govern the weights, why, and whether the evidence settles it."""

    match: LicenseMatch | None
    sure: bool
    basis: str
    evidence: tuple[EvidenceRef, ...] = ()
    candidates: int = 0


def _names(phrase: str, m: LicenseMatch) -> bool:
    """Whether a README phrase names this license: by file name, id or title."""
    base = m.file.rsplit("/", 1)[-1]
    low = phrase.lower()
    if not m.from_declaration and re.search(rf"(?<![\w-]){re.escape(base)}(?![\w-])", phrase,
                                            re.I):
        return True
    if m.match != "unknown" and m.id.lower() in low:
        return True
    title = re.sub(r"\s*\(.*?\)|\blicen[cs]e\b|\bagreement\b", "", m.title, flags=re.I).strip()
    return m.match != "unknown" and len(title) >= 3 and title.lower() in low


def _statements(card_text: str, rx: re.Pattern[str]) -> list[tuple[int, str, str]]:
    """(line, phrase, whole line) of each README sentence matching a pattern."""
    out = []
    for no, line in enumerate(card_text.split("\n"), 1):
        for m in rx.finditer(line):
            phrase = next(g for g in m.groups() if g)
            out.append((no, phrase, " ".join(line.split())))
    return out


def _score(m: LicenseMatch, report: LicenseReport, says: dict[str, list[tuple[int, str, str]]],
           card: str | None) -> tuple[float, list[str], list[EvidenceRef]]:
    words = set(re.split(r"[^A-Z0-9]+", m.file.rsplit("/", 1)[-1].upper()))
    score = 0.0
    why: list[str] = []
    ev: list[EvidenceRef] = []
    if words & {"MODEL", "WEIGHT", "WEIGHTS"} and not m.from_declaration:
        score, why = score + 3, [*why, f"its file is named {m.file}"]
    if "CODE" in words:
        score, why = score - 3, [*why, f"its file {m.file} is named for code"]
    for sign, key, what in ((4, "model", "the weights"), (-4, "code", "the code")):
        for line, phrase, full in says[key]:
            if _names(phrase, m):
                score += sign
                why.append(f"the README says {what} are under it")
                ev.append(EvidenceRef(source="card", file=card, line=line, quote=full))
    if m.id in report.declared.resolved_ids and m.match != "unknown":
        score, why = score + 1, [*why, "the card's license: names it"]
    return score, why, ev


def governing(report: LicenseReport, card_text: str | None = None,
              card_file: str | None = None) -> Governing:
    """The governing license of the weights, with the basis and whether it is settled."""
    cands = [m for m in report.licenses if m.kind in ("license", "unknown")]
    if not cands:
        return Governing(None, True, "no license found")
    says = {"model": _statements(card_text or "", _MODEL_SAYS),
            "code": _statements(card_text or "", _CODE_SAYS)}
    scored = sorted(((*_score(m, report, says, card_file), m) for m in cands),
                    key=lambda t: (t[0], _QUALITY[t[3].match], t[3].confidence), reverse=True)
    score, why, ev, best = scored[0]
    if len(cands) == 1:
        sure = score >= 0
        basis = "the only license text in the release" + (
            f"; {'; '.join(why)}" if sure and why else f"; but {'; '.join(why)}" if why else "")
        return Governing(best, sure, basis, tuple(ev), 1)
    runner = scored[1][0]
    sure = score > 0 and score - runner >= 2
    unnamed = [p for _, p, _ in says["model"] if not any(_names(p, m) for m in cands)]
    if unnamed and score < 4:
        sure = False
        why.append(f"the README names '{unnamed[0][:80]}' for the weights, matching no "
                   "license found")
    basis = "; ".join(why) or "nothing in the release says which license covers the weights"
    return Governing(best, sure, basis, tuple(ev), len(cands))


def primary_license(report: LicenseReport, card_text: str | None = None) -> LicenseMatch | None:
    """The license that governs use of the weights (``governing``)."""
    return governing(report, card_text).match


@check("MC528", "governing-license", order=25, needs_license=True, release_only=True)
def governing_license(ctx: CheckContext, out: Report) -> None:
    """Which of several licenses governs the weights, and on what evidence."""
    rep, card = ctx.inputs.license, ctx.inputs.card
    if rep is None:
        return
    g = governing(rep, card.text if card is not None else None,
                  card.file if card is not None else None)
    declared_other = bool(set(rep.declared.resolved_ids) - {g.match.id}) if g.match else False
    if g.match is None or (g.candidates <= 1 and g.sure and not g.evidence
                           and not declared_other):
        return
    lic = g.match
    where = EvidenceRef(source="license", file=lic.file, line=lic.line_start,
                        line_end=lic.line_end, note=f"{lic.id} ({lic.match} match)")
    if g.sure:
        out.add(Status.CLEAR, f"{lic.id} in {lic.file} governs the weights: {g.basis}",
                (where, *g.evidence))
    else:
        out.add(Status.REVIEW, f"unsure which license governs the weights ({g.candidates} "
                f"found); taken: {lic.id} in {lic.file} ({g.basis}); confirm which one covers "
                "the model and which the code", (where, *g.evidence))
