"""The license analyzer: identify every license document, then read its terms with evidence.

For a catalog match the terms are the catalog's (checked against the corpus by
hand) but each one's evidence is found again in the analysed file, so a user can
always read the clause in *their* copy. Where the file departs from the catalog
version (``modified``/``partial``) or matches nothing (``unknown``), the terms
are read from the text itself by the extractor, because a catalog summary of a
clause the file changed would be a confident wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from ...errors import InputError
from ...release import Release, ReleaseFile
from .catalog import Catalog, Entry, load_catalog
from .identify import UNKNOWN_ID, identify
from .model import TERM_NAMES, Declared, Evidence, LicenseMatch, LicenseReport, Term
from .normalize import Words, lines_of, words

if TYPE_CHECKING:
    from ..card import Card

#: files read as license documents (matched on the upper-cased file name)
_LICENSE_FILE = re.compile(
    r"^(?:LICEN[CS]E|COPYING|NOTICE|USE[_\-]?POLICY|MODEL[_\-]LICEN[CS]E|ACCEPTABLE[_\-]USE|"
    r"TERMS[_\-]OF[_\-]USE|PROHIBITED[_\-]USE)|LICEN[CS]E|USE[_\-]POLICY"
)
_TEXT_SUFFIXES = {"", ".txt", ".md", ".markdown", ".rst", ".text", ".html", ".htm"}
#: license files larger than this are not license texts (and would be slow to read)
MAX_LICENSE_BYTES = 2 * 1024 * 1024


#: suffixes of code and data files, never license documents whatever their name
_NOT_TEXT = {
    ".py",
    ".js",
    ".ts",
    ".json",
    ".jsonl",
    ".yaml",
    ".yml",
    ".toml",
    ".sh",
    ".c",
    ".h",
    ".cpp",
    ".cu",
    ".rs",
    ".go",
    ".java",
    ".ipynb",
    ".safetensors",
    ".bin",
    ".gguf",
    ".pt",
    ".pth",
    ".pkl",
    ".onnx",
    ".h5",
    ".msgpack",
    ".model",
    ".tiktoken",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".pdf",
    ".zip",
    ".gz",
    ".csv",
    ".parquet",
    ".arrow",
    ".npy",
    ".npz",
}


def is_license_file(path: str) -> bool:
    """Whether a release path names a license document (LICENSE, LICENSE-MODEL, USE_POLICY.md…)."""
    p = PurePosixPath(path)
    suffix = p.suffix.lower()
    if len(p.parts) > 3 or suffix in _NOT_TEXT:
        return False
    if (
        suffix not in _TEXT_SUFFIXES
        and not p.name.upper().startswith(
            ("LICEN", "COPYING", "NOTICE", "USE_POLICY", "USE-POLICY")
        )
        and "LICEN" not in p.name.upper()
    ):
        return False
    return _LICENSE_FILE.search(p.name.upper()) is not None


def license_files(release: Release) -> list[ReleaseFile]:
    """The release's license documents, shallowest first."""
    found = [f for f in release.files if is_license_file(f.path) and f.size <= MAX_LICENSE_BYTES]
    return sorted(found, key=lambda f: (f.path.count("/"), f.path))


# ---------------------------------------------------------------- evidence location


class _Locator:
    """Finds catalog anchor phrases in one file, inside a line range when given."""

    def __init__(self, text: str, file: str, ws: Words | None = None) -> None:
        self.text = text
        self.file = file
        self.ws = ws if ws is not None else words(text)
        self._pos: dict[str, list[int]] = {}
        for i, w in enumerate(self.ws.words):
            self._pos.setdefault(w, []).append(i)

    def _exact(self, anchor: list[str], lo: int, hi: int) -> int | None:
        if not anchor:
            return None
        n = len(anchor)
        for i in self._pos.get(anchor[0], ()):
            if lo <= i and i + n - 1 <= hi and self.ws.words[i : i + n] == anchor:
                return i
        return None

    def _fuzzy(self, anchor: list[str], lo: int, hi: int) -> int | None:
        """Best window where most anchor words sit in place (misspellings, one-word edits)."""
        n = len(anchor)
        if n < 4:
            return None
        best, best_i = 0, None
        cands: set[int] = set()
        for k, w in enumerate(anchor):
            for i in self._pos.get(w, ()):
                if lo <= i - k and i - k + n - 1 <= hi:
                    cands.add(i - k)
        for i in cands:
            same = sum(1 for a, b in zip(anchor, self.ws.words[i : i + n], strict=False) if a == b)
            if same > best:
                best, best_i = same, i
        return best_i if best >= max(3, int(n * 0.75)) else None

    def find(self, phrase: str, lo: int = 0, hi: int | None = None) -> Evidence | None:
        hi = len(self.ws) - 1 if hi is None else hi
        anchor = words(phrase).words
        i = self._exact(anchor, lo, hi)
        if i is None:
            i = self._fuzzy(anchor, lo, hi)
        if i is None:
            return None
        # quote the whole sentence holding the phrase: a clause, not a fragment
        s, e = self.ws.sentence_of(i)
        end_word = i + len(anchor) - 1
        e = max(e, end_word)
        if self.ws.ends[e] - self.ws.starts[s] > 600:
            s, e = i, end_word  # a run-on paragraph: the phrase itself
        ls, le = self.ws.line_span(s, e)
        return Evidence(file=self.file, line_start=ls, line_end=le, quote=self.ws.quote(s, e, 600))

    def word_range(self, line_start: int, line_end: int) -> tuple[int, int]:
        """Word indices covering lines ``line_start..line_end``."""
        lo = next((i for i, s in enumerate(self.ws.starts) if self.ws.line_of(s) >= line_start), 0)
        hi = lo
        for i in range(lo, len(self.ws)):
            if self.ws.line_of(self.ws.starts[i]) > line_end:
                break
            hi = i
        return lo, hi


def _extract(text: str, file: str, lines: tuple[int, int]) -> dict[str, Term]:
    """The extractor's reading of one document of a file."""
    from .extract import extract_terms

    try:
        return extract_terms(text, file, lines=lines)
    except ValueError:
        return {n: Term() for n in TERM_NAMES}


def _catalog_terms(
    entry: Entry, m: LicenseMatch, loc: _Locator, lines_new: set[int]
) -> tuple[dict[str, Term], list[str]]:
    """Catalog terms with evidence found in the file; names of terms whose clause changed."""
    lo, hi = loc.word_range(m.line_start, m.line_end)
    out: dict[str, Term] = {}
    changed: list[str] = []
    for name in TERM_NAMES:
        ct = entry.terms.get(name)
        if ct is None:
            out[name] = Term()
            continue
        term = ct.as_term()
        if ct.anchor:
            ev = loc.find(ct.anchor, lo, hi)
            if ev is None:
                changed.append(name)
            else:
                term = term.model_copy(update={"evidence": ev})
                if any(line in lines_new for line in range(ev.line_start, ev.line_end + 1)):
                    changed.append(name)
        out[name] = term
    return out, changed


def _terms_for(
    m: LicenseMatch, entry: Entry | None, text: str, loc: _Locator, use_catalog: bool
) -> LicenseMatch:
    lines = (m.line_start, m.line_end)
    if entry is None or not use_catalog or m.match == "unknown":
        terms = _extract(text, m.file, lines)
        return m.model_copy(update={"terms": terms})
    new_lines: set[int] = set()
    for quote in m.diff:
        ev = loc.find(quote, *loc.word_range(*lines))
        if ev is not None:
            new_lines.update(range(ev.line_start, ev.line_end + 1))
    terms, changed = _catalog_terms(entry, m, loc, new_lines)
    if m.match == "exact" and m.confidence >= 1.0:
        return m.model_copy(update={"terms": terms})
    # the file departs from the catalog text: read it, and trust the text where they differ
    extracted = _extract(text, m.file, lines)
    changed_set = set(changed)
    for name in TERM_NAMES:
        ex = extracted.get(name, Term())
        ct = entry.terms.get(name)
        if ct is None:
            # the catalog does not record it: the file is the only source
            if ex.value is not None:
                terms[name] = ex
            continue
        if name in changed_set:
            if ex.evidence is not None and (
                m.match == "modified"
                and any(
                    line in new_lines
                    for line in range(ex.evidence.line_start, ex.evidence.line_end + 1)
                )
                or terms[name].evidence is None
                and m.match != "exact"
            ):
                terms[name] = ex
        elif (
            m.match == "modified"
            and ex.evidence is not None
            and ex.value != ct.value
            and any(
                line in new_lines
                for line in range(ex.evidence.line_start, ex.evidence.line_end + 1)
            )
        ):
            # a new sentence states this term differently: a changed clause
            changed_set.add(name)
            terms[name] = ex
    if m.match == "exact":
        changed_set = set()  # misspellings only: no clause changed
    if m.match == "partial":
        # only part of the text (or only its name) is known: what the file itself says,
        # with a line to show for it, beats a summary we cannot evidence
        for name in TERM_NAMES:
            ex = extracted.get(name, Term())
            if terms[name].evidence is None and ex.evidence is not None:
                terms[name] = ex
    return m.model_copy(
        update={"terms": terms, "changed_terms": tuple(n for n in TERM_NAMES if n in changed_set)}
    )


def analyze_text(
    text: str, file: str, catalog: Catalog | None = None, use_catalog: bool = True
) -> LicenseReport:
    """Identify and read the license documents of one text (a LICENSE file's content).

    ``use_catalog=False`` reads every document with the extractor alone — how an
    unknown license is read, and what the benchmark measures as pure extraction.
    """
    cat = catalog if catalog is not None else load_catalog()
    ws = words(text)
    loc = _Locator(text, file, ws)
    if use_catalog:
        found = identify(text, file, cat)
    else:
        found = _segments_unknown(text, file)
    out = [_terms_for(m, cat.get(m.id), text, loc, use_catalog) for m in found]
    return LicenseReport(licenses=tuple(out))


def _segments_unknown(text: str, file: str) -> list[LicenseMatch]:
    from .segment import segment

    segs = segment(text)
    out: list[LicenseMatch] = []
    for s in segs:
        kind = s.kind if s.kind in ("license", "acceptable-use-policy", "notice") else "unknown"
        out.append(
            LicenseMatch(
                id=UNKNOWN_ID,
                title=s.title or "Unrecognised license text",
                kind=kind,
                match="unknown",
                confidence=0.0,
                file=file,
                line_start=s.line_start,
                line_end=s.line_end,
            )
        )
    if not out and text.strip():
        n = len(lines_of(text)) or 1
        out.append(
            LicenseMatch(
                id=UNKNOWN_ID,
                title="Unrecognised license text",
                kind="unknown",
                match="unknown",
                confidence=0.0,
                file=file,
                line_start=1,
                line_end=n,
            )
        )
    return out


def _declared(release: Release, cat: Catalog,
              card: Card | None) -> tuple[Declared, object | None]:
    gguf_license = _gguf_license(release)
    if card is None:
        resolved = (
            [e.id for e in cat.resolve_declared(gguf_license, gguf_license)] if gguf_license else []
        )
        return Declared(gguf_license=gguf_license, resolved_ids=tuple(resolved)), None
    resolved = [
        e.id for e in cat.resolve_declared(card.license, card.license_name, card.license_link)
    ]
    return (
        Declared(
            license=card.license,
            license_name=card.license_name,
            license_link=card.license_link,
            base_model=tuple(card.base_model),
            gguf_license=gguf_license,
            resolved_ids=tuple(dict.fromkeys(resolved)),
        ),
        card,
    )


def _gguf_license(release: Release) -> str | None:
    """``general.license`` of the first GGUF file."""
    ggufs = [f for f in release.files if f.suffix == ".gguf"]
    if not ggufs:
        return None
    from ...parsers.gguf import read_gguf

    try:
        g = read_gguf(ggufs[0])
    except InputError:
        return None
    value = g.get("general.license")
    name = g.get("general.license.name")
    if isinstance(name, str) and (not isinstance(value, str) or value.lower() == "other"):
        return name  # "other" says nothing; the name is what a catalog lookup can use
    return value if isinstance(value, str) else None


def _readme_section(card: object, cat: Catalog) -> list[LicenseMatch]:
    """A license text pasted into the card's "License" section, when it is a known one."""
    section = getattr(card, "section", None)
    if section is None:
        return []
    hit = section(r"licen[cs]e")
    if hit is None:
        return []
    first_line, body = hit
    file = card.file  # type: ignore[attr-defined]
    report = analyze_text(body, file, cat)
    out = []
    for m in report.licenses:
        if m.match == "unknown":
            continue
        shift = first_line - 1
        terms = {
            n: t.model_copy(
                update={
                    "evidence": t.evidence.model_copy(
                        update={
                            "line_start": t.evidence.line_start + shift,
                            "line_end": t.evidence.line_end + shift,
                        }
                    )
                }
            )
            if t.evidence is not None
            else t
            for n, t in m.terms.items()
        }
        out.append(
            m.model_copy(
                update={
                    "line_start": m.line_start + shift,
                    "line_end": m.line_end + shift,
                    "terms": terms,
                }
            )
        )
    return out


def analyze(release: Release, catalog: Catalog | None = None, *,
            card: Card | None | Literal["read"] = "read") -> LicenseReport:
    """Licenses of a release: its license files, card declaration, README section, GGUF metadata.

    ``card`` is the release's analysed model card when the caller has it (the engine
    does), so the card is read once per run; by default it is read here.
    """
    from ..card import analyze as analyze_card
    from .consistency import check

    cat = catalog if catalog is not None else load_catalog()
    read = analyze_card(release) if isinstance(card, str) else card
    declared, card = _declared(release, cat, read)
    matches: list[LicenseMatch] = []
    unreadable: list[tuple[str, str]] = []
    files = license_files(release)
    for f in files:
        try:
            text = f.read_text(limit=MAX_LICENSE_BYTES)
        except InputError as exc:
            unreadable.append((f.path, exc.problem))
            continue
        matches.extend(analyze_text(text, f.path, cat).licenses)
    if card is not None:
        matches.extend(_readme_section(card, cat))
    report = LicenseReport(licenses=tuple(matches), declared=declared)
    findings = check(
        release,
        report,
        cat,
        card=card,
        license_paths=[f.path for f in files],
        unreadable=unreadable,
    )
    extra = _from_declaration(report, declared, card, cat)
    return report.model_copy(
        update={"findings": tuple(findings), "licenses": report.licenses + extra}
    )


def _from_declaration(
    report: LicenseReport, declared: Declared, card: object | None, cat: Catalog
) -> tuple[LicenseMatch, ...]:
    """When no license text is shipped, the license the card names (low confidence).

    Policy still needs *some* terms to judge a release that only declares
    ``license: llama3.1``; they come from the catalog, flagged ``from_declaration``,
    with no evidence (the text is not there to quote) and a confidence that says so.
    """
    if any(m.kind == "license" and m.match != "unknown" for m in report.licenses):
        return ()
    entries = [e for e in (cat.get(i) for i in declared.resolved_ids) if e is not None]
    entries = [e for e in entries if e.kind == "license"]
    if not entries or len({e.family or e.id for e in entries}) != 1:
        return ()
    entry = max(entries, key=lambda e: e.date or "")  # several versions: the latest
    file = getattr(card, "file", None) or "README.md"
    line = card.line_of("license") if card is not None else None  # type: ignore[attr-defined]
    return (
        LicenseMatch(
            id=entry.id,
            title=entry.title,
            kind=entry.kind,
            match="partial",
            confidence=0.3 if len(entries) == 1 else 0.2,
            file=file,
            line_start=line or 1,
            line_end=line or 1,
            publisher=entry.publisher,
            publisher_country=entry.publisher_country,
            osi_approved=entry.osi_approved,
            incorporates=tuple(i.as_model() for i in entry.incorporates),
            terms=entry.catalog_terms(),
            from_declaration=True,
        ),
    )


def entries_for(ids: Iterable[str], cat: Catalog) -> list[Entry]:
    return [e for i in ids if (e := cat.get(i)) is not None]
