"""The license comparison table: one row per release or license file, one column per term.

Every cell is a short value in our words plus the clause it rests on, numbered
so Markdown and the terminal can point at it ([3]) and HTML can link to it.
A value the text does not support is never written: a term the license is
silent on says so ("not restricted", "none"), with the license's location.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..analyzers.license.model import LicenseMatch, LicenseReport, Term
from ..analyzers.policy import regions
from ..analyzers.policy.checks import display_phrases, primary_license
from ..analyzers.policy.checks.scale import on_release_date
from ..analyzers.policy.model import Assumption, Status
from ..pipeline import AuditResult
from ..schemas import VERSIONS
from .style import STATUS_ICON, STATUS_STYLE, TONE_STYLE, round_count
from .templates import render_template

COLUMNS: tuple[tuple[str, str], ...] = (
    ("license", "License"),
    ("commercial", "Commercial use"),
    ("scale", "User-scale limit"),
    ("fine_tuning", "Fine-tuning"),
    ("outputs", "Distillation / output use"),
    ("attribution", "Attribution and naming"),
    ("territory", "Territory"),
    ("aup", "Acceptable-use policy"),
    ("law", "Governing law"),
    ("verdict", "Verdict"),
)

#: cell tone: good / caution / bad / none (for colour only; the text carries the meaning)
_TONE = {Status.CLEAR: "good", Status.REVIEW: "caution", Status.BLOCKED: "bad"}


@dataclass(frozen=True)
class Clause:
    n: int
    file: str | None
    line: int | None
    line_end: int | None
    quote: str | None
    note: str | None

    def where(self) -> str:
        if self.file is None:
            return self.note or ""
        if self.line is None:
            return self.file
        end = f"-{self.line_end}" if self.line_end and self.line_end != self.line else ""
        return f"{self.file}:{self.line}{end}"


@dataclass(frozen=True)
class Cell:
    text: str
    value: Any
    tone: str
    clause: int | None  # Clause.n


@dataclass(frozen=True)
class Row:
    target: str
    license_id: str | None
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Comparison:
    profile: str | None
    rows: tuple[Row, ...]
    clauses: tuple[Clause, ...]
    #: the profile's assumptions the verdict column rests on (empty without a profile)
    assumptions: tuple[Assumption, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": VERSIONS["compare"],
            "profile": self.profile,
            "assumptions": [a.model_dump(mode="json") for a in self.assumptions],
            "columns": [{"key": k, "title": t} for k, t in COLUMNS if k != "verdict" or
                        self.profile],
            "rows": [
                {"target": r.target, "license_id": r.license_id,
                 "cells": {k: {"text": c.text, "value": c.value, "tone": c.tone,
                               "clause": c.clause} for k, c in r.cells.items()}}
                for r in self.rows
            ],
            "clauses": [{"n": c.n, "where": c.where(), "file": c.file, "line": c.line,
                         "line_end": c.line_end, "quote": c.quote, "note": c.note}
                        for c in self.clauses],
        }


class _Builder:
    def __init__(self) -> None:
        self.clauses: list[Clause] = []

    def clause(self, term: Term | None, lic: LicenseMatch) -> int:
        if term is not None and term.evidence is not None:
            e = term.evidence
            c = Clause(0, e.file, e.line_start, e.line_end, e.quote, None)
        else:
            c = Clause(0, lic.file, None, None, None,
                       f"{lic.title}: the text says nothing on this")
        for old in self.clauses:
            if (old.file, old.line, old.quote, old.note) == (c.file, c.line, c.quote, c.note):
                return old.n
        c = Clause(len(self.clauses) + 1, c.file, c.line, c.line_end, c.quote, c.note)
        self.clauses.append(c)
        return c.n

    def note(self, file: str | None, note: str) -> int:
        for old in self.clauses:
            if (old.file, old.note) == (file, note) and old.quote is None and old.line is None:
                return old.n
        c = Clause(len(self.clauses) + 1, file, None, None, None, note)
        self.clauses.append(c)
        return c.n


def _v(term: Term | None) -> Any:
    if term is None:
        return None
    return term.value.strip().lower() if isinstance(term.value, str) else term.value


def _naming(term: Term | None) -> str | None:
    if _v(term) in (None, "no", "none"):
        return None
    assert term is not None
    if term.detail and len(term.detail.split()) <= 3:
        return term.detail
    text = " ".join(filter(None, [str(term.value), term.evidence.quote if term.evidence else ""]))
    m = re.search(r"[\"“']([A-Za-z][\w.\- ]{1,30})[\"”']\s*(?:at|to) the beginning", text) or \
        re.search(r"(?:begin|start)s? with [\"“']([\w.\- ]{1,30})[\"”']", text)
    return m.group(1) if m else "as the license says"


def _row(result: AuditResult, b: _Builder, with_verdict: bool) -> Row:
    target = Path(result.target).name if result.source.kind == "license-file" else result.target
    rep = result.license
    card_text = result.card.text if result.card is not None else None
    lic = primary_license(rep, card_text) if rep is not None else None
    cells: dict[str, Cell] = {}
    if lic is None:
        why = "not analysed" if rep is None else "no license found"
        for key, _ in COLUMNS:
            if key != "verdict":
                cells[key] = Cell(why, None, "bad" if rep is not None else "caution", None)
    else:
        assert rep is not None  # the primary license came from it
        # Cells in column order: clause numbers are handed out in the order asked for.
        t = lic.terms
        cells["license"] = Cell(
            f"{lic.title}" + ("" if lic.match == "exact" else f" ({lic.match} match)"),
            lic.id, "good" if lic.match == "exact" else "caution",
            b.note(lic.file, f"{lic.id}, {lic.match} match, lines {lic.line_start}-"
                   f"{lic.line_end}"),
        )
        cells["commercial"] = _commercial_cell(lic, b)
        cells["scale"] = _scale_cell(lic, b)
        ft = _v(t.get("fine_tuning_allowed"))
        cells["fine_tuning"] = Cell(
            {"yes": "Yes", "no": "No"}.get(ft, str(ft).capitalize() if ft else "Not stated"), ft,
            {"yes": "good", "no": "bad"}.get(ft, "caution"),
            b.clause(t.get("fine_tuning_allowed"), lic))
        cells["outputs"] = _outputs_cell(lic, b)
        cells["attribution"] = _attribution_cell(lic, b)
        cells["territory"] = _territory_cell(rep, lic, b)
        cells["aup"] = _aup_cell(rep, lic, b)
        cells["law"] = _law_cell(lic, b)
    if with_verdict:
        cells["verdict"] = _verdict_cell(result, b)
    return Row(target, lic.id if lic else None, cells)


def _commercial_cell(lic: LicenseMatch, b: _Builder) -> Cell:
    t = lic.terms
    cu, mau = _v(t.get("commercial_use")), t.get("mau_threshold")
    reg = _v(t.get("requires_registration_or_approval"))
    if cu == "yes":
        text, tone = "Yes", "good"
    elif cu == "no":
        text, tone = "No (non-commercial only)", "bad"
    elif cu == "conditional":
        if isinstance(_v(mau), int):
            text = f"Yes, up to {round_count(_v(mau))} MAU"
        elif reg == "for_commercial":
            text = "Yes, after registration"
        else:
            text = "Conditional"
        tone = "caution"
    else:
        text, tone = (str(cu).capitalize() if cu else "Not stated"), "caution"
    return Cell(text, cu, tone, b.clause(t.get("commercial_use"), lic))


def _scale_cell(lic: LicenseMatch, b: _Builder) -> Cell:
    t = lic.terms
    mau, other = t.get("mau_threshold"), t.get("other_scale_threshold")
    reg = _v(t.get("requires_registration_or_approval"))
    if isinstance(_v(mau), int):
        then = {"above_threshold": "then a separate license at the licensor's discretion"}.get(
            reg or "", "then other terms")
        when = " on the release date" if on_release_date(mau) else ""
        return Cell(f"{round_count(_v(mau))} MAU{when}; {then}", _v(mau), "caution",
                    b.clause(mau, lic))
    if other is not None and _v(other) not in (None, "no", "none"):
        return Cell(str(other.value), other.value, "caution", b.clause(other, lic))
    if reg == "for_commercial":
        return Cell("None; registration required for commercial use", None, "caution",
                    b.clause(t.get("requires_registration_or_approval"), lic))
    return Cell("None", None, "good", b.clause(mau, lic))


def _outputs_cell(lic: LicenseMatch, b: _Builder) -> Cell:
    t = lic.terms
    ou = _v(t.get("use_outputs_to_train_other_models"))
    ou_text = {"allowed": "Allowed", "prohibited": "Prohibited", "restricted": "Restricted",
               "unmentioned": "Not restricted"}.get(ou, str(ou).capitalize() if ou else
                                                     "Not restricted")
    if ou == "allowed" and _naming(t.get("derivative_naming_requirement")):
        ou_text = "Allowed, with naming and attribution duties"
    return Cell(ou_text, ou, {"allowed": "good", "unmentioned": "good",
                              None: "good", "prohibited": "bad"}.get(ou, "caution"),
                b.clause(t.get("use_outputs_to_train_other_models"), lic))


def _attribution_cell(lic: LicenseMatch, b: _Builder) -> Cell:
    t = lic.terms
    at = t.get("attribution_required")
    parts = [f"Display “{p}”" for p in display_phrases(at)]
    name = _naming(t.get("derivative_naming_requirement"))
    if name:
        parts.append(f"derivative names start “{name}”")
    if _v(at) == "yes" and not parts:
        parts.append("Keep copyright and license notices")
    text = "; ".join(parts) if parts else "None"
    return Cell(text, _v(at), "caution" if len(parts) > 1 or name else "good", b.clause(at, lic))


def _territory_cell(rep: LicenseReport, lic: LicenseMatch, b: _Builder) -> Cell:
    """Any license of the release restricting territory counts, not only the primary one."""
    terr_terms = [
        (m, x) for m in rep.licenses
        if (x := m.terms.get("territory_restriction")) is not None
        and _v(x) not in (None, "no", "none")
    ]
    if not terr_terms:
        return Cell("None", None, "good", b.clause(lic.terms.get("territory_restriction"), lic))
    m, x = terr_terms[0]
    ter = regions.read_territory(str(x.value or ""), x.evidence.quote if x.evidence else "")
    text = "Excludes " + ", ".join(sorted(ter.excluded)) if ter.excluded else str(x.value)
    return Cell(text, x.value, "bad", b.clause(x, m))


def _aup_cell(rep: LicenseReport, lic: LicenseMatch, b: _Builder) -> Cell:
    """Whether use must follow an acceptable-use policy: the governing license's term, or
    a policy document shipped in the release (incorporated even when the term misses it)."""
    term = lic.terms.get("acceptable_use_policy")
    aup = _v(term)
    doc = next((m for m in rep.licenses if m.kind == "acceptable-use-policy"), None)
    if aup == "yes":
        text = "Yes" + (f" ({doc.file})" if doc is not None else "")
        return Cell(text, aup, "caution", b.clause(term, lic))
    if doc is not None:
        return Cell(f"Yes ({doc.file})", "yes", "caution",
                    b.note(doc.file, f"{doc.title}: acceptable-use policy in the release"))
    return Cell("None", aup, "good", b.clause(term, lic))


def _law_cell(lic: LicenseMatch, b: _Builder) -> Cell:
    """The law and courts the governing license names; a reviewer's first question for a
    foreign licensor. Silence is stated, not guessed."""
    term = lic.terms.get("governing_law")
    law = _v(term)
    if law in (None, "no", "none"):
        return Cell("Not stated", None, "none", b.clause(term, lic))
    assert term is not None
    return Cell(str(term.value), term.value, "none", b.clause(term, lic))


def _verdict_cell(result: AuditResult, b: _Builder) -> Cell:
    pol = result.policy
    if pol is None:
        return Cell("—", None, "none", None)
    worst = [c for c in pol.counted() if c.status is pol.verdict]
    if pol.verdict is Status.CLEAR:
        text = "CLEAR"
    else:
        text = f"{pol.verdict.value}: " + "; ".join(
            dict.fromkeys(c.title.lower() for c in worst))
    ev = next((e for c in worst for e in c.evidence if e.file), None)
    n = None
    if ev is not None and pol.verdict is not Status.CLEAR:
        n = b.note(ev.file, ev.note or "") if ev.quote is None and ev.line is None else \
            _clause_from_ref(b, ev)
    return Cell(text, pol.verdict.value, _TONE[pol.verdict], n)


def _clause_from_ref(b: _Builder, e: Any) -> int:
    for old in b.clauses:
        if (old.file, old.line, old.quote) == (e.file, e.line, e.quote):
            return old.n
    c = Clause(len(b.clauses) + 1, e.file, e.line, e.line_end, e.quote, None)
    b.clauses.append(c)
    return c.n


def build(results: list[AuditResult], profile: str | None) -> Comparison:
    b = _Builder()
    rows = tuple(_row(r, b, profile is not None) for r in results)
    assumed = next((r.policy.assumptions for r in results if r.policy is not None), ())
    return Comparison(profile, rows, tuple(b.clauses), assumed if profile else ())


def _columns(comp: Comparison) -> list[tuple[str, str]]:
    return [(k, t) for k, t in COLUMNS if k != "verdict" or comp.profile]


_PAREN = re.compile(r"\s*\((?!\w+ match\))[^()]*\)")


def print_terminal(comp: Comparison, console: Console) -> None:
    t = Table(title="License comparison" + (f" — profile {comp.profile}" if comp.profile else ""),
              show_lines=True)
    if comp.assumptions:
        console.print(f"Profile {escape(comp.profile or '')} assumes: " + "; ".join(
            f"{escape(a.label)}: {escape(a.value)}" for a in comp.assumptions))
    t.add_column("Target", overflow="fold")
    for _, title in _columns(comp):
        t.add_column(title, overflow="fold")
    for r in comp.rows:
        cells = []
        for key, _ in _columns(comp):
            c = r.cells[key]
            ref = f" [dim][{c.clause}][/]" if c.clause else ""
            style = TONE_STYLE[c.tone]
            # Titles carry release dates in parentheses; the id beside says which version.
            text = _PAREN.sub("", c.text) if key == "license" else c.text
            cells.append(f"[{style}]{escape(text)}[/]{ref}" if style else escape(text) + ref)
        t.add_row(escape(r.target), *cells)
    console.print(t)
    for cl in comp.clauses:
        quote = f' "{escape(cl.quote)}"' if cl.quote else (
            f" {escape(cl.note)}" if cl.note else "")
        console.print(f"[dim][{cl.n}][/] [cyan]{escape(cl.where())}[/]{quote}")


def render(comp: Comparison, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(comp.to_json(), indent=2, ensure_ascii=False) + "\n"
    data = {"profile": comp.profile, "assumptions": comp.assumptions, "columns": _columns(comp),
            "rows": comp.rows, "clauses": comp.clauses, "icons": STATUS_ICON}
    if fmt == "markdown":
        return render_template("compare.md.j2", **data)
    if fmt == "html":
        return render_template("compare.html.j2", **data)
    if fmt == "terminal":
        buf = io.StringIO()
        print_terminal(comp, Console(file=buf, width=160, color_system=None))
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}")


__all__ = ["COLUMNS", "Comparison", "build", "print_terminal", "render", "STATUS_STYLE"]
